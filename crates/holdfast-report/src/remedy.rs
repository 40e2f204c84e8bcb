//! What a user can do next, named independently of the front end.
//!
//! Libraries never name a CLI flag: a report or an error carries a typed [`Remedy`], and each
//! front end renders it in its own words through a [`Vocabulary`] — the CLI as flags
//! (`--resume`), the Lambda function as properties (`Resume: true`). The sentences are written
//! once, here; a front end only says how its settings are spelt.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A setting a remedy asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Setting {
    /// Continue recorded progress.
    Resume,
    /// Write into a target that already holds items.
    AllowNonemptyTarget,
    /// Apply pending versions lower than the newest applied one.
    AllowOutOfOrder,
    /// Accept the change in the history (`migrate repair`).
    Repair,
    /// Wait for the table to become ACTIVE.
    WaitUntilActive,
    /// Share one copy's progress through a checkpoint table.
    CheckpointTable,
    /// Delete the keys found in the target only.
    DeleteOnlyInTarget,
    /// Give a transform (a jq filter).
    Transform,
    /// Give the AWS region.
    Region,
    /// Give a template parameter's value.
    Parameter(String),
    /// Accept a guard finding with a reason.
    AcceptFinding(String),
}

/// Where a stopped or failed operation stands, and what to do next: `state` says what is
/// recorded ("checkpoint table t records 3 of 8 segments done"), `remedy` how to go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NextStep {
    pub state: String,
    pub remedy: Remedy,
}

impl NextStep {
    /// `state` and `remedy`.
    pub fn new(state: impl Into<String>, remedy: Remedy) -> NextStep {
        NextStep {
            state: state.into(),
            remedy,
        }
    }

    /// `state: remedy` in `words`.
    pub fn render(&self, words: &dyn Vocabulary) -> String {
        if self.state.is_empty() {
            self.remedy.render(words)
        } else {
            format!("{}: {}", self.state, self.remedy.render(words))
        }
    }
}

/// What to do about a stopped or failed operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Remedy {
    /// Run the operation again with [`Setting::Resume`]: it continues where it stopped.
    Resume,
    /// Run the operation again as it was: it is safe to repeat.
    RunAgain,
    /// Nothing for this run: the other workers of a shared copy finish the rest.
    OtherWorkersFinish,
    /// Resume the recorded progress `what`, or remove it to start over.
    ResumeOrStartOver { what: String },
    /// There is nothing to resume: run the operation again without resuming.
    StartWithoutResume,
    /// Fix the file and run the operation again (nothing of it was applied).
    FixAndRunAgain { file: String },
    /// Fix statement `statement` of `file`, keep the `applied` statements before it unchanged,
    /// and resume after them; or undo the applied ones by hand and repair.
    FixAndResume {
        file: String,
        statement: usize,
        applied: usize,
    },
    /// Restore the file, or accept its change with a repair.
    RestoreOrRepair,
    /// Clean up by hand, then repair.
    CleanUpAndRepair,
    /// Run the operation again, allowing a target that holds items.
    AllowNonemptyTarget,
    /// Use a setting.
    Use { setting: Setting },
}

/// How a front end spells its settings and its "again".
pub trait Vocabulary {
    /// How to set `setting` (`--resume`, `Resume: true`).
    fn setting(&self, setting: &Setting) -> String;
    /// How to run the same operation again ("run the same command", "deploy again").
    fn again(&self) -> &'static str;
}

impl Remedy {
    /// Resuming the recorded progress `what`, or removing it.
    pub fn resume_or_start_over(what: impl Into<String>) -> Remedy {
        Remedy::ResumeOrStartOver { what: what.into() }
    }

    /// Using `setting`.
    pub fn using(setting: Setting) -> Remedy {
        Remedy::Use { setting }
    }

    /// The remedy in `words`.
    pub fn render(&self, words: &dyn Vocabulary) -> String {
        let again = words.again();
        let set = |s: Setting| words.setting(&s);
        match self {
            Remedy::Resume => format!("{again} with {} to continue", set(Setting::Resume)),
            Remedy::RunAgain => again.to_string(),
            Remedy::OtherWorkersFinish => "the other workers finish the rest".to_string(),
            Remedy::ResumeOrStartOver { what } => format!(
                "{again} with {} to continue, or remove {what} to start over",
                set(Setting::Resume)
            ),
            Remedy::StartWithoutResume => {
                format!("{again} without {} to start", set(Setting::Resume))
            }
            Remedy::FixAndRunAgain { file } => format!("fix {file} and {again}"),
            Remedy::FixAndResume {
                file,
                statement,
                applied,
            } => {
                let kept = match applied {
                    0 => String::new(),
                    n => format!(" (keep statements 1..{n}, which are applied, unchanged)"),
                };
                format!(
                    "fix statement {statement} of {file}{kept} and {again} with {} to continue, or undo what was applied by hand and use {}",
                    set(Setting::Resume),
                    set(Setting::Repair)
                )
            }
            Remedy::RestoreOrRepair => format!(
                "restore the file, or accept the change with {}",
                set(Setting::Repair)
            ),
            Remedy::CleanUpAndRepair => {
                format!("clean up by hand and use {}", set(Setting::Repair))
            }
            Remedy::AllowNonemptyTarget => format!(
                "{again} with {} to write into it anyway (items with the same key are overwritten)",
                set(Setting::AllowNonemptyTarget)
            ),
            Remedy::Use { setting } => format!("use {}", words.setting(setting)),
        }
    }
}

/// A message and, if there is one, its remedy: `message; remedy`.
pub fn with_remedy(message: &str, remedy: Option<&Remedy>, words: &dyn Vocabulary) -> String {
    match remedy {
        Some(r) => format!("{message}; {}", r.render(words)),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Flags;
    impl Vocabulary for Flags {
        fn setting(&self, s: &Setting) -> String {
            match s {
                Setting::Resume => "`--resume`".into(),
                Setting::Repair => "`repair --yes`".into(),
                other => format!("{other:?}"),
            }
        }
        fn again(&self) -> &'static str {
            "run the same command"
        }
    }

    #[test]
    fn sentences_are_written_once_and_spelt_by_the_front_end() {
        assert_eq!(
            Remedy::Resume.render(&Flags),
            "run the same command with `--resume` to continue"
        );
        assert_eq!(
            Remedy::FixAndResume {
                file: "V2__a.sql".into(),
                statement: 3,
                applied: 2
            }
            .render(&Flags),
            "fix statement 3 of V2__a.sql (keep statements 1..2, which are applied, unchanged) and run the same command with `--resume` to continue, or undo what was applied by hand and use `repair --yes`"
        );
        let json = serde_json::to_value(Remedy::resume_or_start_over("checkpoint t")).unwrap();
        assert_eq!(json["action"], "resume-or-start-over");
    }
}
