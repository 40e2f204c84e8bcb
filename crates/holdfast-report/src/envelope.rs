//! The envelope every report carries, and the commands that print reports.

use crate::outcome::Outcome;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of the JSON output format. 3: every report carries the whole [`Envelope`]
/// (`command` now names the front-end command in full, e.g. `guard diff`).
pub const FORMAT_VERSION: u32 = 3;

/// Declares [`Command`] from one table: each group of commands (the first word, as typed),
/// whether `holdfast.toml` has a section of that name (`[group]` and `[stages.NAME.group]`,
/// read by the group's crate), and each command's variant and name. The serde names,
/// [`Command::as_str`], [`Command::group`], [`Command::ALL`] and [`Command::config_sections`] all come
/// from it.
macro_rules! commands {
    ($( $group:literal (section: $section:literal) {
        $( $variant:ident => $name:literal ),+ $(,)?
    } )+) => {
        /// A command (or Lambda operation) that produces a report, as the user types it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum Command {
            $( $( #[serde(rename = $name)] $variant, )+ )+
        }

        impl Command {
            /// Every command, in the order of `holdfast --help`.
            pub const ALL: &'static [Command] = &[ $( $( Command::$variant, )+ )+ ];

            /// As typed: `migrate status`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $( Command::$variant => $name, )+ )+
                }
            }

            /// Its group, the first word: `migrate`.
            pub fn group(self) -> &'static str {
                match self {
                    $( $( Command::$variant => $group, )+ )+
                }
            }

            /// The groups whose settings have a section of `holdfast.toml`: each may appear at
            /// the top (`[guard]`) and in a stage (`[stages.prod.guard]`), and is read by that
            /// group's crate through `holdfast_core::config::Config::view`.
            pub fn config_sections() -> impl Iterator<Item = &'static str> {
                [ $( ($group, $section), )+ ]
                    .into_iter()
                    .filter_map(|(group, section)| section.then_some(group))
            }
        }
    };
}

commands! {
    "migrate" (section: true) {
        MigrateStatus => "migrate status",
        MigrateValidate => "migrate validate",
        MigratePlan => "migrate plan",
        MigrateUp => "migrate up",
        MigrateBaseline => "migrate baseline",
        MigrateRepair => "migrate repair",
        MigrateFingerprint => "migrate fingerprint",
    }
    "guard" (section: true) {
        GuardDiff => "guard diff",
        GuardCheck => "guard check",
        GuardChangeset => "guard changeset",
    }
    "dynamo" (section: false) {
        DynamoVerify => "dynamo verify",
        DynamoCompare => "dynamo compare",
        DynamoCopy => "dynamo copy",
        DynamoExport => "dynamo export",
        DynamoImport => "dynamo import",
        DynamoMigrate => "dynamo migrate",
    }
    "env" (section: true) {
        EnvCheck => "env check",
        EnvInit => "env init",
        EnvVerify => "env verify",
    }
    "refresh" (section: true) {
        RefreshPlan => "refresh plan",
        RefreshCopy => "refresh copy",
        RefreshSanitize => "refresh sanitize",
        RefreshVerify => "refresh verify",
    }
}
impl Command {
    /// The name of its schema file, `schemas/<slug>.schema.json`: `migrate-status`.
    pub fn slug(self) -> String {
        self.as_str().replace(' ', "-")
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every report starts with: which format, which command, how it ended and the exit code
/// that ending has (always `outcome`'s code: the two are set together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Envelope {
    /// [`FORMAT_VERSION`] of the program that wrote it.
    format_version: u32,
    /// The command that wrote the report.
    command: Command,
    /// How it ended; decides `exit_code`.
    outcome: Outcome,
    /// The process exit code (the Lambda function's `ExitCode`): see the exit-code table.
    exit_code: i32,
}

impl Envelope {
    /// The envelope of a report of `command` that ended with `outcome`.
    pub fn new(command: Command, outcome: Outcome) -> Envelope {
        Envelope {
            format_version: FORMAT_VERSION,
            command,
            outcome,
            exit_code: outcome.code(),
        }
    }

    /// The format version it was written with.
    pub fn format_version(&self) -> u32 {
        self.format_version
    }

    /// The command that wrote it.
    pub fn command(&self) -> Command {
        self.command
    }

    /// How it ended.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The exit code of [`Envelope::outcome`].
    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }

    /// Sets the outcome, and with it the exit code.
    pub fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = outcome;
        self.exit_code = outcome.code();
    }

    /// Says the report is `command`'s (`migrate validate` prints the report `status` builds).
    pub fn set_command(&mut self, command: Command) {
        self.command = command;
    }
}

/// A top-level report: it carries an [`Envelope`].
pub trait Report: Serialize {
    /// The report's envelope.
    fn envelope(&self) -> &Envelope;
    /// The report's envelope, to change its command or outcome.
    fn envelope_mut(&mut self) -> &mut Envelope;
}

/// Implements [`Report`] for types with an `envelope` field, and gives them `outcome()`.
macro_rules! reports {
    ($($ty:ty),* $(,)?) => {$(
        impl $ty {
            /// How it ended (its envelope's outcome).
            pub fn outcome(&self) -> $crate::outcome::Outcome {
                self.envelope.outcome()
            }
        }

        impl $crate::envelope::Report for $ty {
            fn envelope(&self) -> &$crate::envelope::Envelope {
                &self.envelope
            }
            fn envelope_mut(&mut self) -> &mut $crate::envelope::Envelope {
                &mut self.envelope
            }
        }
    )*};
}
pub(crate) use reports;

/// Any command that ended with an error (the CLI with `--json`; a Lambda job's error message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// One line: what went wrong and, when there is something to do, what to do (in the words
    /// of the front end that printed it).
    pub error: String,
    /// What to do next, typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<crate::remedy::Remedy>,
}

reports!(ErrorReport);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_follows_the_outcome() {
        let mut e = Envelope::new(Command::DynamoCopy, Outcome::Success);
        assert_eq!(e.exit_code(), 0);
        e.set_outcome(Outcome::StoppedResumable);
        assert_eq!((e.outcome(), e.exit_code()), (Outcome::StoppedResumable, 4));
        let json = serde_json::to_value(e).unwrap();
        assert_eq!(json["command"], "dynamo copy");
        assert_eq!(json["outcome"], "stopped_resumable");
        assert_eq!(json["format_version"], FORMAT_VERSION);
    }

    #[test]
    fn every_command_round_trips_through_its_name() {
        for &command in Command::ALL {
            assert!(command
                .as_str()
                .starts_with(&format!("{} ", command.group())));
            let json = serde_json::to_value(command).unwrap();
            assert_eq!(json, command.as_str());
            assert_eq!(serde_json::from_value::<Command>(json).unwrap(), command);
            assert!(!command.slug().contains(' '));
        }
    }

    #[test]
    fn the_config_sections_are_the_groups_that_have_settings() {
        let sections: Vec<_> = Command::config_sections().collect();
        assert_eq!(sections, ["migrate", "guard", "env", "refresh"]);
    }
}
