//! The operation an event asks for, with its settings typed. CloudFormation sends every property
//! as a string (`"8"`, `"true"`); Step Functions may send real numbers and booleans: both are
//! accepted. An unknown property is an error naming it (a typo must not silently fall back to a
//! default), as is a missing or malformed one.

use std::path::PathBuf;
use std::time::Duration;

use holdfast_core::config::MigrateSettings;
use holdfast_core::migration::Version;
use holdfast_core::Resume;
use holdfast_dynamo::copy;
use holdfast_dynamo::migrate as data_migrate;
use serde_json::{Map, Value};

/// Where `SqlMigrate` finds its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An RDS secret (JSON with username and password, and host, port, dbname, engine unless
    /// RDS manages it); the `Host`/`Port`/`DatabaseName`/`Engine` properties complete or
    /// override it.
    Secret {
        arn: String,
        host: Option<String>,
        port: Option<u16>,
        database: Option<String>,
        engine: Option<String>,
    },
    /// A database URL (tests, set-ups without secrets).
    Url(String),
    /// The Aurora Data API.
    DataApi {
        resource_arn: String,
        secret_arn: String,
        database: String,
        /// `postgres` (default) or `mysql`: the cluster's engine.
        engine: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlMigrate {
    pub database: Database,
    /// `MigrationsPath`; unset: `holdfast.toml`'s `migrate.dir`, else
    /// [`DEFAULT_MIGRATIONS_PATH`].
    pub migrations_path: Option<PathBuf>,
    /// `ConfigPath`: the `holdfast.toml` deployed with the migrations; unset: the one beside
    /// the migrations folder, if there is one.
    pub config_path: Option<PathBuf>,
    /// `Stage`: selects `[stages.NAME]` of that file.
    pub stage: Option<String>,
    /// The settings given as properties (`HistoryTable`, `HistorySchema`, `LockWait`,
    /// `StatementTimeout`, `LockTimeout`, `AllowOutOfOrder`); they win over the file's.
    pub settings: MigrateSettings,
    /// `Target`: stop after this version.
    pub target: Option<Version>,
    /// The migration set's hash (`holdfast migrate fingerprint`): changing it is what makes
    /// CloudFormation send an Update.
    pub fingerprint: Option<String>,
    /// Continue a failed or interrupted non-transactional migration at the statement where it
    /// stopped (after fixing that statement), as `migrate up --resume` does.
    pub resume: Resume,
}

/// Where the migrations are when neither `MigrationsPath` nor `holdfast.toml` says.
pub const DEFAULT_MIGRATIONS_PATH: &str = "/var/task/migrations";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoVerify {
    pub table: String,
    pub require_key: Option<String>,
    pub require_pitr: bool,
    /// `Wait`: how long to wait for the table to become ACTIVE (capped by the time left);
    /// unset: the time left.
    pub wait: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoCopy {
    pub source: String,
    pub target: String,
    /// A jq file in the deployment package (or a layer).
    pub transform_file: Option<PathBuf>,
    /// Or the filter itself.
    pub transform: Option<String>,
    pub total_segments: u32,
    /// The segments this worker is pinned to (`SegmentRange: "0..8"`).
    pub segment_range: Option<std::ops::Range<u32>>,
    pub checkpoint_table: String,
    pub page_size: i32,
    pub max_wcu: Option<u32>,
    pub max_rcu: Option<u32>,
    pub lease: Duration,
    /// `Resume`; unset: a custom resource continues its own checkpoint if there is one, a
    /// direct job starts.
    pub resume: Option<Resume>,
    pub prepare: bool,
    pub no_verify: bool,
    pub allow_nonempty_target: bool,
    pub pages_in_flight: usize,
    /// `Deadline`: stop after this long (capped by the time left).
    pub deadline: Option<Duration>,
    /// `KeysFile`: where the verification writes differing keys (default: a file in the
    /// temporary folder).
    pub keys_file: Option<PathBuf>,
    /// `KeysFrom`: copy again only the keys of this keys file (no checkpoint).
    pub keys_from: Option<PathBuf>,
    /// `DeleteOnlyInTarget`: with `KeysFrom`, delete target items without a source item.
    pub delete_only_in_target: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoMigrate {
    pub migrations_path: PathBuf,
    pub history_table: String,
    pub lease: Duration,
    pub lock_wait: Duration,
    pub dry_run: bool,
    /// `Deadline`: stop after this long (capped by the time left).
    pub deadline: Option<Duration>,
}

/// Where data migrations are when `MigrationsPath` does not say.
pub const DEFAULT_DATA_MIGRATIONS_PATH: &str = "/var/task/data-migrations";

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    SqlMigrate(Box<SqlMigrate>),
    DynamoVerify(DynamoVerify),
    DynamoCopy(Box<DynamoCopy>),
    DynamoMigrate(DynamoMigrate),
    EnvVerify(crate::run::env::EnvVerify),
    RefreshSanitize(Box<crate::run::refresh::RefreshSanitize>),
}

/// A property that is missing, malformed or unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("property {key}: {problem}")]
pub struct PropertyError {
    pub key: String,
    pub problem: String,
}

impl holdfast_core::exit::Classify for PropertyError {
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        holdfast_core::exit::Outcome::Usage
    }
}

/// The properties, read once each; whatever is left unread at the end is unknown.
pub(crate) struct Props {
    map: Map<String, Value>,
}

impl Props {
    pub(crate) fn error(key: &str, problem: impl Into<String>) -> PropertyError {
        PropertyError {
            key: key.to_owned(),
            problem: problem.into(),
        }
    }

    pub(crate) fn take_text(&mut self, key: &str) -> Result<Option<String>, PropertyError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(Self::error(key, "is empty")),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(Self::error(key, "must be a string")),
        }
    }

    /// A list of names: a JSON array of strings, or one string of names separated by commas
    /// (what a CloudFormation `!Join` or a single value gives); absent: empty.
    pub(crate) fn list(&mut self, key: &str) -> Result<Vec<String>, PropertyError> {
        let split = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(split(&s)),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                    _ => Err(Self::error(key, "must be a list of non-empty strings")),
                })
                .collect(),
            Some(_) => Err(Self::error(key, "must be a list of names")),
        }
    }

    pub(crate) fn text(&mut self, key: &str) -> Result<String, PropertyError> {
        self.take_text(key)?
            .ok_or_else(|| Self::error(key, "is required"))
    }

    pub(crate) fn flag(&mut self, key: &str) -> Result<bool, PropertyError> {
        match self.take_text(key)?.as_deref() {
            None => Ok(false),
            Some("true" | "True" | "TRUE") => Ok(true),
            Some("false" | "False" | "FALSE") => Ok(false),
            Some(other) => Err(Self::error(key, format!("`{other}` is not true or false"))),
        }
    }

    pub(crate) fn number<T>(
        &mut self,
        key: &str,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<Option<T>, PropertyError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display,
    {
        let Some(text) = self.take_text(key)? else {
            return Ok(None);
        };
        let value: T = text
            .trim()
            .parse()
            .map_err(|_| Self::error(key, format!("`{text}` is not a whole number")))?;
        if !range.contains(&value) {
            return Err(Self::error(
                key,
                format!(
                    "{value} is out of range ({} to {})",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(Some(value))
    }

    fn duration(&mut self, key: &str, default: Duration) -> Result<Duration, PropertyError> {
        match self.take_text(key)? {
            None => Ok(default),
            Some(text) => humantime::parse_duration(text.trim())
                .map_err(|e| Self::error(key, format!("`{text}`: {e} (e.g. 2m, 90s)"))),
        }
    }

    pub(crate) fn optional_duration(
        &mut self,
        key: &str,
    ) -> Result<Option<Duration>, PropertyError> {
        self.take_text(key)?
            .map(|text| {
                humantime::parse_duration(text.trim())
                    .map_err(|e| Self::error(key, format!("`{text}`: {e} (e.g. 2m, 90s)")))
            })
            .transpose()
    }

    /// `true`/`false` as a flag, or `never`, `if-present`, `required`.
    fn resume(&mut self, key: &str) -> Result<Option<Resume>, PropertyError> {
        let Some(text) = self.take_text(key)? else {
            return Ok(None);
        };
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "required" => Ok(Some(Resume::Required)),
            "false" | "never" => Ok(Some(Resume::Never)),
            "if-present" => Ok(Some(Resume::IfPresent)),
            _ => Err(Self::error(
                key,
                format!("`{text}` is not true or false (nor never, if-present or required)"),
            )),
        }
    }

    fn finish(self) -> Result<(), PropertyError> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(key) => Err(Self::error(key, "is not a property of this operation")),
        }
    }
}

impl Operation {
    /// Reads the operation from a resource's properties (or a job's event).
    ///
    /// # Errors
    /// [`PropertyError`] naming the property.
    pub fn from_properties(properties: &Map<String, Value>) -> Result<Operation, PropertyError> {
        let mut p = Props {
            map: properties.clone(),
        };
        // CloudFormation adds the function's ARN to every request.
        p.map.remove("ServiceToken");
        let operation = p.text("Operation")?;
        let op = match operation.as_str() {
            "SqlMigrate" => Operation::SqlMigrate(Box::new(sql_migrate(&mut p)?)),
            "DynamoVerify" => Operation::DynamoVerify(DynamoVerify {
                table: p.text("TableName")?,
                require_key: p.take_text("RequireKey")?,
                require_pitr: p.flag("RequirePitr")?,
                wait: p.optional_duration("Wait")?,
            }),
            "DynamoCopy" => Operation::DynamoCopy(Box::new(dynamo_copy(&mut p)?)),
            "DynamoMigrate" => Operation::DynamoMigrate(DynamoMigrate {
                migrations_path: p.take_text("MigrationsPath")?.map_or_else(
                    || PathBuf::from(DEFAULT_DATA_MIGRATIONS_PATH),
                    PathBuf::from,
                ),
                history_table: p
                    .take_text("HistoryTable")?
                    .unwrap_or_else(|| data_migrate::DEFAULT_HISTORY_TABLE.into()),
                lease: p.duration("Lease", data_migrate::DEFAULT_LEASE)?,
                lock_wait: p.duration("LockWait", data_migrate::DEFAULT_LOCK_WAIT)?,
                dry_run: p.flag("DryRun")?,
                deadline: p.optional_duration("Deadline")?,
            }),
            "EnvVerify" => {
                Operation::EnvVerify(crate::run::env::EnvVerify::from_properties(&mut p)?)
            }
            "RefreshSanitize" => Operation::RefreshSanitize(Box::new(
                crate::run::refresh::RefreshSanitize::from_properties(&mut p)?,
            )),
            other => {
                return Err(Props::error(
                    "Operation",
                    format!(
                    "`{other}` is not one of SqlMigrate, DynamoVerify, DynamoCopy, DynamoMigrate, EnvVerify, RefreshSanitize"
                ),
                ))
            }
        };
        p.finish()?;
        Ok(op)
    }
}

/// The database the properties name: exactly one of `DatabaseSecretArn` (with `Host`, `Port`,
/// `DatabaseName`, `Engine` for what the secret lacks), `DatabaseUrl` or `DataApi`.
pub(crate) fn database(p: &mut Props) -> Result<Database, PropertyError> {
    let secret = p.take_text("DatabaseSecretArn")?;
    let url = p.take_text("DatabaseUrl")?;
    let data_api = match p.map.remove("DataApi") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => {
            let mut inner = Props { map: m };
            let api = Database::DataApi {
                resource_arn: inner
                    .text("ResourceArn")
                    .map_err(|e| nested("DataApi", e))?,
                secret_arn: inner.text("SecretArn").map_err(|e| nested("DataApi", e))?,
                database: inner.text("Database").map_err(|e| nested("DataApi", e))?,
                engine: inner
                    .take_text("Engine")
                    .map_err(|e| nested("DataApi", e))?,
            };
            inner.finish().map_err(|e| nested("DataApi", e))?;
            Some(api)
        }
        Some(_) => {
            return Err(Props::error(
                "DataApi",
                "must be an object {ResourceArn, SecretArn, Database[, Engine]}",
            ))
        }
    };
    let (host, port, database, engine) = (
        p.take_text("Host")?,
        p.number::<u16>("Port", 1..=65535)?,
        p.take_text("DatabaseName")?,
        p.take_text("Engine")?,
    );
    let database = match (secret, url, data_api) {
        (Some(arn), None, None) => Database::Secret {
            arn,
            host,
            port,
            database,
            engine,
        },
        (None, Some(url), None) => Database::Url(url),
        (None, None, Some(api)) => api,
        (None, None, None) => {
            return Err(Props::error(
                "DatabaseSecretArn",
                "one of DatabaseSecretArn, DatabaseUrl or DataApi is required",
            ))
        }
        _ => {
            return Err(Props::error(
                "DatabaseSecretArn",
                "give only one of DatabaseSecretArn, DatabaseUrl or DataApi",
            ))
        }
    };
    Ok(database)
}

fn sql_migrate(p: &mut Props) -> Result<SqlMigrate, PropertyError> {
    let database = database(p)?;
    let settings = MigrateSettings {
        history_table: p.take_text("HistoryTable")?,
        history_schema: p.take_text("HistorySchema")?,
        lock_wait: p.optional_duration("LockWait")?,
        statement_timeout: p.optional_duration("StatementTimeout")?,
        lock_timeout: p.optional_duration("LockTimeout")?,
        allow_out_of_order: p.flag("AllowOutOfOrder")?.then_some(true),
        ..MigrateSettings::default()
    };
    let target = match p.take_text("Target")? {
        None => None,
        Some(text) => Some(
            Version::parse(text.trim())
                .ok_or_else(|| Props::error("Target", format!("`{text}` is not a version")))?,
        ),
    };
    let resume = match p.take_text("Resume")? {
        None => Resume::Never,
        Some(text) => Resume::parse(&text).ok_or_else(|| {
            Props::error(
                "Resume",
                format!("`{text}` is not true, false, never, if-present or required"),
            )
        })?,
    };
    Ok(SqlMigrate {
        database,
        migrations_path: p.take_text("MigrationsPath")?.map(PathBuf::from),
        config_path: p.take_text("ConfigPath")?.map(PathBuf::from),
        stage: p.take_text("Stage")?,
        settings,
        target,
        fingerprint: p.take_text("Fingerprint")?,
        resume,
    })
}

fn nested(outer: &str, e: PropertyError) -> PropertyError {
    PropertyError {
        key: format!("{outer}.{}", e.key),
        problem: e.problem,
    }
}

fn dynamo_copy(p: &mut Props) -> Result<DynamoCopy, PropertyError> {
    let mut copy = DynamoCopy {
        source: p.text("Source")?,
        target: p.text("Target")?,
        transform_file: p.take_text("TransformFile")?.map(PathBuf::from),
        transform: p.take_text("Transform")?,
        total_segments: p
            .number("TotalSegments", 1..=1_000_000)?
            .unwrap_or(copy::DEFAULT_TOTAL_SEGMENTS),
        segment_range: None,
        checkpoint_table: p
            .take_text("CheckpointTable")?
            .unwrap_or_else(|| copy::DEFAULT_CHECKPOINT_TABLE.into()),
        page_size: p
            .number("PageSize", 1..=10_000)?
            .unwrap_or(copy::DEFAULT_PAGE_SIZE),
        max_wcu: p.number("MaxWcu", 1..=u32::MAX)?,
        max_rcu: p.number("MaxRcu", 1..=u32::MAX)?,
        lease: p.duration("Lease", copy::DEFAULT_LEASE)?,
        resume: p.resume("Resume")?,
        prepare: p.flag("Prepare")?,
        no_verify: p.flag("NoVerify")?,
        allow_nonempty_target: p.flag("AllowNonemptyTarget")?,
        pages_in_flight: p
            .number("PagesInFlight", 1..=64)?
            .unwrap_or(copy::DEFAULT_PAGES_IN_FLIGHT),
        deadline: p.optional_duration("Deadline")?,
        keys_file: p.take_text("KeysFile")?.map(PathBuf::from),
        keys_from: p.take_text("KeysFrom")?.map(PathBuf::from),
        delete_only_in_target: p.flag("DeleteOnlyInTarget")?,
    };
    if let Some(text) = p.take_text("SegmentRange")? {
        copy.segment_range = Some(
            holdfast_dynamo::checkpoint::parse_segment_range(&text, copy.total_segments)
                .map_err(|why| Props::error("SegmentRange", format!("`{text}`: {why}")))?,
        );
    }
    if copy.transform.is_some() && copy.transform_file.is_some() {
        return Err(Props::error(
            "Transform",
            "give Transform (the filter) or TransformFile (a path), not both",
        ));
    }
    if copy.delete_only_in_target && copy.keys_from.is_none() {
        return Err(Props::error(
            "DeleteOnlyInTarget",
            "applies to KeysFrom only: give KeysFrom too",
        ));
    }
    if copy.keys_from.is_some() && (copy.resume.is_some() || copy.segment_range.is_some()) {
        return Err(Props::error(
            "KeysFrom",
            "copies the listed keys without a checkpoint: not with Resume or SegmentRange",
        ));
    }
    if copy.prepare && copy.resume.is_some_and(|r| r != Resume::Never) {
        return Err(Props::error(
            "Prepare",
            "Prepare creates the copy; Resume joins it: not both",
        ));
    }
    Ok(copy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Operation, PropertyError> {
        let Value::Object(m) = v else { unreachable!() };
        Operation::from_properties(&m)
    }

    #[test]
    fn strings_from_cloudformation_are_typed() {
        let op = parse(json!({
            "ServiceToken": "arn:aws:lambda:eu-west-1:1:function:holdfast",
            "Operation": "DynamoCopy", "Source": "a", "Target": "b",
            "TotalSegments": "64", "SegmentRange": "0..8", "Resume": "true",
            "NoVerify": true, "MaxWcu": 500, "Lease": "90s"
        }))
        .unwrap();
        let Operation::DynamoCopy(c) = op else {
            panic!()
        };
        assert_eq!(c.total_segments, 64);
        assert_eq!(c.segment_range, Some(0..8));
        assert!(c.resume == Some(Resume::Required) && c.no_verify && !c.prepare);
        assert_eq!(c.max_wcu, Some(500));
        assert_eq!(c.lease, Duration::from_secs(90));
        assert_eq!(c.checkpoint_table, "holdfast_copy_checkpoints");
    }

    #[test]
    fn every_cli_setting_of_the_dynamo_operations_is_a_property() {
        let Operation::DynamoCopy(c) = parse(json!({
            "Operation": "DynamoCopy", "Source": "a", "Target": "b",
            "PagesInFlight": "5", "Deadline": "10m", "KeysFile": "/tmp/k.jsonl",
            "KeysFrom": "/var/task/keys.jsonl", "DeleteOnlyInTarget": "true"
        }))
        .unwrap() else {
            panic!()
        };
        assert_eq!(c.pages_in_flight, 5);
        assert_eq!(c.deadline, Some(Duration::from_secs(600)));
        assert_eq!(c.keys_file, Some(PathBuf::from("/tmp/k.jsonl")));
        assert_eq!(c.keys_from, Some(PathBuf::from("/var/task/keys.jsonl")));
        assert!(c.delete_only_in_target);
        assert_eq!(c.resume, None);
        // The library's defaults.
        let Operation::DynamoCopy(d) =
            parse(json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b"})).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (d.total_segments, d.page_size, d.pages_in_flight, d.lease),
            (
                copy::DEFAULT_TOTAL_SEGMENTS,
                copy::DEFAULT_PAGE_SIZE,
                copy::DEFAULT_PAGES_IN_FLIGHT,
                copy::DEFAULT_LEASE
            )
        );
        for (text, want) in [
            ("if-present", Resume::IfPresent),
            ("required", Resume::Required),
            ("never", Resume::Never),
            ("false", Resume::Never),
        ] {
            let Operation::DynamoCopy(r) = parse(json!({
                "Operation": "DynamoCopy", "Source": "a", "Target": "b", "Resume": text
            }))
            .unwrap() else {
                panic!()
            };
            assert_eq!(r.resume, Some(want), "{text}");
        }
        let Operation::DynamoMigrate(m) = parse(json!({
            "Operation": "DynamoMigrate", "LockWait": "30s", "DryRun": "true", "Deadline": "5m"
        }))
        .unwrap() else {
            panic!()
        };
        assert_eq!(m.lock_wait, Duration::from_secs(30));
        assert!(m.dry_run);
        assert_eq!(m.deadline, Some(Duration::from_secs(300)));
        assert_eq!(m.history_table, data_migrate::DEFAULT_HISTORY_TABLE);
        assert_eq!(m.lease, data_migrate::DEFAULT_LEASE);
        let Operation::DynamoVerify(v) =
            parse(json!({"Operation": "DynamoVerify", "TableName": "t", "Wait": "2m"})).unwrap()
        else {
            panic!()
        };
        assert_eq!(v.wait, Some(Duration::from_secs(120)));
    }

    #[test]
    fn sql_migrate_takes_exactly_one_database_source() {
        let op = parse(json!({"Operation": "SqlMigrate", "DatabaseSecretArn": "arn:s", "Host": "db", "Port": "5432", "Fingerprint": "f"})).unwrap();
        assert_eq!(
            op,
            Operation::SqlMigrate(Box::new(SqlMigrate {
                database: Database::Secret {
                    arn: "arn:s".into(),
                    host: Some("db".into()),
                    port: Some(5432),
                    database: None,
                    engine: None
                },
                migrations_path: None,
                config_path: None,
                stage: None,
                settings: MigrateSettings::default(),
                target: None,
                fingerprint: Some("f".into()),
                resume: Resume::Never,
            }))
        );
        let api = parse(json!({"Operation": "SqlMigrate", "DataApi": {"ResourceArn": "c", "SecretArn": "s", "Database": "app"}})).unwrap();
        assert!(matches!(
            api,
            Operation::SqlMigrate(ref op) if matches!(op.database, Database::DataApi { .. })
        ));
    }

    #[test]
    fn bad_properties_are_named() {
        let cases = [
            (json!({"Source": "a"}), "property Operation: is required"),
            (
                json!({"Operation": "Drop"}),
                "property Operation: `Drop` is not one of",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a"}),
                "property Target: is required",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b", "Segments": "4"}),
                "property Segments: is not a property",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b", "TotalSegments": "many"}),
                "property TotalSegments: `many` is not a whole number",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b", "TotalSegments": "0"}),
                "out of range",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b", "TotalSegments": "8", "SegmentRange": "4..9"}),
                "property SegmentRange: `4..9`: B is beyond the 8 segments",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b", "Resume": "yes"}),
                "property Resume: `yes` is not true or false",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b", "Lease": "soon"}),
                "property Lease:",
            ),
            (
                json!({"Operation": "SqlMigrate"}),
                "one of DatabaseSecretArn, DatabaseUrl or DataApi is required",
            ),
            (
                json!({"Operation": "SqlMigrate", "DatabaseUrl": "u", "DatabaseSecretArn": "s"}),
                "give only one",
            ),
            (
                json!({"Operation": "SqlMigrate", "DataApi": {"ResourceArn": "c", "SecretArn": "s"}}),
                "property DataApi.Database: is required",
            ),
            (
                json!({"Operation": "DynamoVerify", "TableName": ""}),
                "property TableName: is empty",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b", "DeleteOnlyInTarget": "true"}),
                "property DeleteOnlyInTarget: applies to KeysFrom only",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b", "KeysFrom": "k", "Resume": "true"}),
                "property KeysFrom:",
            ),
            (
                json!({"Operation": "DynamoCopy", "Source": "a", "Target": "b", "PagesInFlight": "65"}),
                "property PagesInFlight: 65 is out of range",
            ),
        ];
        for (props, expected) in cases {
            let e = parse(props.clone()).unwrap_err().to_string();
            assert!(e.contains(expected), "{props}: {e}");
        }
    }
}
