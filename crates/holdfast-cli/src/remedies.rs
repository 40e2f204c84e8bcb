//! The CLI's words for remedies: settings are flags, "again" is the same command.

use holdfast_core::remedy::{Remedy, Setting, Vocabulary};

/// Renders remedies as the CLI's flags.
pub struct Flags;

impl Vocabulary for Flags {
    fn setting(&self, setting: &Setting) -> String {
        match setting {
            Setting::Resume => "`--resume`".into(),
            Setting::AllowNonemptyTarget => "`--allow-nonempty-target`".into(),
            Setting::AllowOutOfOrder => "`--allow-out-of-order`".into(),
            Setting::Repair => "`holdfast migrate repair --yes`".into(),
            Setting::WaitUntilActive => "`--wait` to wait for it".into(),
            Setting::CheckpointTable => "`--checkpoint-table` to share a copy".into(),
            Setting::DeleteOnlyInTarget => "`--delete-only-in-target` to delete them".into(),
            Setting::Transform => "`--transform FILE.jq`".into(),
            Setting::Region => "`--region`, or set AWS_REGION or a region in the profile".into(),
            Setting::Parameter(name) => format!("`--parameters` with a value for {name}"),
            Setting::AcceptFinding(id) => format!("`--allow {id}=REASON` to accept it"),
        }
    }

    fn again(&self) -> &'static str {
        "run the same command"
    }
}

/// `remedy` in the CLI's words.
pub fn render(remedy: &Remedy) -> String {
    remedy.render(&Flags)
}

/// `message; remedy` in the CLI's words.
pub fn with_remedy(message: &str, remedy: Option<&Remedy>) -> String {
    holdfast_core::remedy::with_remedy(message, remedy, &Flags)
}
