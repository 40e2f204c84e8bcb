//! The function's words for remedies: settings are the custom resource's properties, "again"
//! is another deploy (or invocation).

use holdfast_core::remedy::{Remedy, Setting, Vocabulary};

/// Renders remedies as properties.
pub struct Properties;

impl Vocabulary for Properties {
    fn setting(&self, setting: &Setting) -> String {
        match setting {
            Setting::Resume => "`Resume: true`".into(),
            Setting::AllowNonemptyTarget => "`AllowNonemptyTarget: true`".into(),
            Setting::AllowOutOfOrder => "`AllowOutOfOrder: true`".into(),
            Setting::Repair => {
                "a repair of the history (`holdfast migrate repair --yes` against the database)"
                    .into()
            }
            Setting::WaitUntilActive => "a deploy once the table is ACTIVE".into(),
            Setting::CheckpointTable => "`CheckpointTable` to share a copy".into(),
            Setting::DeleteOnlyInTarget => {
                "`holdfast dynamo copy --keys-from … --delete-only-in-target`".into()
            }
            Setting::Transform => "`Transform` or `TransformFile`".into(),
            Setting::Region => "AWS_REGION in the function's environment".into(),
            Setting::Parameter(name) => format!("a value for the template parameter {name}"),
            Setting::AcceptFinding(id) => format!("an accepted finding {id}"),
        }
    }

    fn again(&self) -> &'static str {
        "deploy again"
    }
}

/// `remedy` in the function's words.
pub fn render(remedy: &Remedy) -> String {
    remedy.render(&Properties)
}

/// `message; remedy` in the function's words.
pub fn with_remedy(message: &str, remedy: Option<&Remedy>) -> String {
    holdfast_core::remedy::with_remedy(message, remedy, &Properties)
}
