//! The JSON Schema of every report, by command: what `schemas/<command>.schema.json` holds.

use crate::envelope::{Command, ErrorReport};
use crate::{dynamo, env, guard, migrate, refresh};
use schemars::JsonSchema;

/// One published schema.
#[derive(Debug, Clone)]
pub struct ReportSchema {
    /// The file's name without `.schema.json`: the command's slug (`migrate-status`), or
    /// `error` for the report of a command that ended with an error.
    pub name: String,
    /// The JSON Schema (draft 2020-12).
    pub schema: serde_json::Value,
}

fn schema_of<T: JsonSchema>(name: String, command: Option<Command>) -> ReportSchema {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(T)).expect("a generated schema is JSON");
    if let Some(command) = command {
        // The command this file is for: the rest of the envelope is shared.
        schema["title"] = format!("holdfast {command} --json").into();
        schema["properties"]["command"] = serde_json::json!({
            "const": command.as_str(),
            "description": "The command that wrote the report.",
        });
    }
    ReportSchema { name, schema }
}

/// Every report's schema: one per command, and the error report's.
pub fn schemas() -> Vec<ReportSchema> {
    let mut all: Vec<ReportSchema> = Command::ALL
        .iter()
        .map(|&command| {
            let name = command.slug();
            let c = Some(command);
            match command {
                Command::MigrateStatus | Command::MigrateValidate | Command::MigrateBaseline => {
                    schema_of::<migrate::StatusReport>(name, c)
                }
                Command::MigratePlan => schema_of::<migrate::PlanReport>(name, c),
                Command::MigrateUp => schema_of::<migrate::UpReport>(name, c),
                Command::MigrateRepair => schema_of::<migrate::RepairReport>(name, c),
                Command::MigrateFingerprint => schema_of::<migrate::FingerprintReport>(name, c),
                Command::GuardDiff | Command::GuardCheck | Command::GuardChangeset => {
                    schema_of::<guard::GuardReport>(name, c)
                }
                Command::DynamoVerify => schema_of::<dynamo::VerifyReport>(name, c),
                Command::DynamoCompare => schema_of::<dynamo::CompareReport>(name, c),
                Command::DynamoCopy => schema_of::<dynamo::CopyReport>(name, c),
                Command::DynamoExport | Command::DynamoImport => {
                    schema_of::<dynamo::TransferReport>(name, c)
                }
                Command::DynamoMigrate => schema_of::<dynamo::DataMigrateReport>(name, c),
                Command::EnvCheck | Command::EnvVerify => schema_of::<env::EnvReport>(name, c),
                Command::EnvInit => schema_of::<env::EnvInitReport>(name, c),
                Command::RefreshPlan => schema_of::<refresh::RefreshPlanReport>(name, c),
                Command::RefreshCopy => schema_of::<refresh::RefreshCopyReport>(name, c),
                Command::RefreshVerify => schema_of::<refresh::RefreshVerifyReport>(name, c),
                Command::RefreshSanitize => schema_of::<refresh::RefreshSanitizeReport>(name, c),
            }
        })
        .collect();
    let mut error = schema_of::<ErrorReport>("error".into(), None);
    error.schema["title"] = "holdfast … --json, when the command ends with an error".into();
    all.push(error);
    all
}
