//! Reading a report back: any report, by its `command` (and, for a command that ended with an
//! error, by its `error` field).

use crate::envelope::{Command, ErrorReport};
use crate::{dynamo, env, guard, migrate, refresh};
use serde::Serialize;
use serde_json::Value;

/// Any report Holdfast prints.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AnyReport {
    Status(migrate::StatusReport),
    Plan(migrate::PlanReport),
    Up(migrate::UpReport),
    Repair(migrate::RepairReport),
    Fingerprint(migrate::FingerprintReport),
    Guard(guard::GuardReport),
    Verify(dynamo::VerifyReport),
    Compare(dynamo::CompareReport),
    Copy(dynamo::CopyReport),
    Transfer(dynamo::TransferReport),
    DataMigrate(dynamo::DataMigrateReport),
    Env(env::EnvReport),
    EnvInit(env::EnvInitReport),
    RefreshPlan(refresh::RefreshPlanReport),
    RefreshCopy(refresh::RefreshCopyReport),
    RefreshVerify(refresh::RefreshVerifyReport),
    RefreshSanitize(refresh::RefreshSanitizeReport),
    Error(ErrorReport),
}

impl AnyReport {
    /// The report in `value`, read as the type its `command` names.
    ///
    /// # Errors
    /// The value is not a report of this format: the message says which field.
    pub fn from_value(value: Value) -> Result<AnyReport, serde_json::Error> {
        use serde::de::Error as _;
        if value.get("error").is_some() {
            return serde_json::from_value(value).map(AnyReport::Error);
        }
        let command: Command = serde_json::from_value(
            value
                .get("command")
                .cloned()
                .ok_or_else(|| serde_json::Error::custom("missing field `command`"))?,
        )?;
        Ok(match command {
            Command::MigrateStatus | Command::MigrateValidate | Command::MigrateBaseline => {
                AnyReport::Status(serde_json::from_value(value)?)
            }
            Command::MigratePlan => AnyReport::Plan(serde_json::from_value(value)?),
            Command::MigrateUp => AnyReport::Up(serde_json::from_value(value)?),
            Command::MigrateRepair => AnyReport::Repair(serde_json::from_value(value)?),
            Command::MigrateFingerprint => AnyReport::Fingerprint(serde_json::from_value(value)?),
            Command::GuardDiff | Command::GuardCheck | Command::GuardChangeset => {
                AnyReport::Guard(serde_json::from_value(value)?)
            }
            Command::DynamoVerify => AnyReport::Verify(serde_json::from_value(value)?),
            Command::DynamoCompare => AnyReport::Compare(serde_json::from_value(value)?),
            Command::DynamoCopy => AnyReport::Copy(serde_json::from_value(value)?),
            Command::DynamoExport | Command::DynamoImport => {
                AnyReport::Transfer(serde_json::from_value(value)?)
            }
            Command::DynamoMigrate => AnyReport::DataMigrate(serde_json::from_value(value)?),
            Command::EnvCheck | Command::EnvVerify => {
                AnyReport::Env(serde_json::from_value(value)?)
            }
            Command::EnvInit => AnyReport::EnvInit(serde_json::from_value(value)?),
            Command::RefreshPlan => AnyReport::RefreshPlan(serde_json::from_value(value)?),
            Command::RefreshCopy => AnyReport::RefreshCopy(serde_json::from_value(value)?),
            Command::RefreshVerify => AnyReport::RefreshVerify(serde_json::from_value(value)?),
            Command::RefreshSanitize => AnyReport::RefreshSanitize(serde_json::from_value(value)?),
        })
    }

    /// The schema file's name for this report (`migrate-status`, `error`).
    pub fn schema_name(&self) -> String {
        let envelope = match self {
            AnyReport::Status(r) => r.envelope,
            AnyReport::Plan(r) => r.envelope,
            AnyReport::Up(r) => r.envelope,
            AnyReport::Repair(r) => r.envelope,
            AnyReport::Fingerprint(r) => r.envelope,
            AnyReport::Guard(r) => r.envelope,
            AnyReport::Verify(r) => r.envelope,
            AnyReport::Compare(r) => r.envelope,
            AnyReport::Copy(r) => r.envelope,
            AnyReport::Transfer(r) => r.envelope,
            AnyReport::DataMigrate(r) => r.envelope,
            AnyReport::Env(r) => r.envelope,
            AnyReport::EnvInit(r) => r.envelope,
            AnyReport::RefreshPlan(r) => r.envelope,
            AnyReport::RefreshCopy(r) => r.envelope,
            AnyReport::RefreshVerify(r) => r.envelope,
            AnyReport::RefreshSanitize(r) => r.envelope,
            AnyReport::Error(_) => return "error".into(),
        };
        envelope.command().slug()
    }
}
