//! The command surface: clap definitions only.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Keep a serverless application's data safe through deploys and migrations.
#[derive(Debug, Parser)]
#[command(name = "holdfast", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: ./holdfast.toml if present).
    #[arg(long, global = true, env = "HOLDFAST_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Stage whose settings in holdfast.toml apply ([stages.NAME]).
    #[arg(long, global = true, env = "HOLDFAST_STAGE")]
    pub stage: Option<String>,
    /// More log output on stderr (-v, -vv); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// How a command prints its report; flattened into every command that has one.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct OutputArgs {
    /// Print machine-readable JSON on stdout (the report's schema: schemas/ in the repository).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// SQL schema migrations.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Deploy guard: fail when a deploy would delete or replace a resource that holds data.
    #[command(subcommand)]
    Guard(GuardCommand),
    /// DynamoDB data safety: verify, copy and compare tables.
    #[command(subcommand)]
    Dynamo(DynamoCommand),
    /// Environment and secrets: check functions' environments against a per-stage schema.
    #[command(subcommand)]
    Env(crate::commands::env::EnvCommand),
    /// Staging refresh: every column classified, PII replaced by deterministic fakes, and
    /// proof that no original remains.
    #[command(subcommand)]
    Refresh(crate::commands::refresh::RefreshCommand),
}

#[derive(Debug, Subcommand)]
pub enum DynamoCommand {
    /// Check that a table exists and is ACTIVE, its key schema, PITR, deletion protection,
    /// stream and GSIs (read-only). Exit 3 when a required check fails.
    Verify(DynamoVerifyArgs),
    /// Copy a table into another (parallel scan, optional jq transform, batched writes that
    /// never drop an item, checkpoint and resume, rate limits), then compare the two.
    Copy(DynamoCopyArgs),
    /// Compare two tables item for item (exact, order-independent); exit 3 when they differ.
    Compare(DynamoCompareArgs),
    /// Export a table to a folder in the format of DynamoDB's S3 exports (gzip DynamoDB-JSON lines).
    Export(DynamoExportArgs),
    /// Import an export folder (Holdfast's or a downloaded S3 export) into a table; the whole
    /// export is validated before anything is written.
    Import(DynamoImportArgs),
    /// Run the pending data migrations of a folder (V<version>__<name>.toml: a copy to a new
    /// table or an in-place transform each), exactly once and in order, with their history,
    /// lock and checkpoints in a DynamoDB table.
    Migrate(DynamoMigrateArgs),
}

#[derive(Debug, Args)]
pub struct DynamoMigrateArgs {
    /// The folder of data migration files.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The history table (created if missing): history rows, the lock, each migration's checkpoint.
    #[arg(long, value_name = "TABLE", default_value = holdfast_dynamo::migrate::DEFAULT_HISTORY_TABLE)]
    pub history_table: String,
    /// Show what would run; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How long to wait for another runner's lock.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "10m")]
    pub lock_wait: std::time::Duration,
    /// The lock's lease (and each segment's): a crashed runner's lock is taken over after it.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "2m")]
    pub lease: std::time::Duration,
    /// Stop after this long (e.g. 14m), with the checkpoint saved; exit 4. The next run resumes.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub deadline: Option<std::time::Duration>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DynamoExportArgs {
    /// The table to export.
    pub table: String,
    /// A new or empty folder.
    pub dir: PathBuf,
    /// Scan segments (one data file each).
    #[arg(long, value_name = "N", default_value_t = holdfast_dynamo::copy::DEFAULT_TOTAL_SEGMENTS,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub segments: u32,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DynamoImportArgs {
    /// The export folder (with manifest-summary.json, or holding AWSDynamoDB/<id>/).
    pub dir: PathBuf,
    /// The table to write (must exist; must be empty unless --allow-nonempty-target).
    pub table: String,
    /// Data files read and written in parallel.
    #[arg(long, value_name = "N", default_value_t = holdfast_dynamo::transfer::DEFAULT_IMPORT_WORKERS,
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub workers: u32,
    /// Import into a table that already holds items (same keys are overwritten).
    #[arg(long)]
    pub allow_nonempty_target: bool,
    /// A jq filter applied to each exported item before it is written (as for copy; the key
    /// may change, e.g. to import into a table with a new key schema).
    #[arg(long, value_name = "FILE.jq")]
    pub transform: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DynamoCopyArgs {
    /// The table to read.
    pub source: String,
    /// The table to write (must exist; must be empty unless --allow-nonempty-target).
    pub target: String,
    /// A jq filter applied to each item (see the README for the item's JSON view).
    #[arg(long, value_name = "FILE.jq")]
    pub transform: Option<PathBuf>,
    /// Scan segments (one worker each); also the total with --segment-range.
    #[arg(long, visible_alias = "total-segments", value_name = "N", default_value_t = holdfast_dynamo::copy::DEFAULT_TOTAL_SEGMENTS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub segments: u32,
    /// Work only on segments a..b (a included, b not) of --total-segments N, e.g. 0..4.
    #[arg(long, value_name = "A..B")]
    pub segment_range: Option<String>,
    /// Items per scan page.
    #[arg(long, value_name = "N", default_value_t = holdfast_dynamo::copy::DEFAULT_PAGE_SIZE,
          value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub page_size: i32,
    /// Pages of a segment written at once (the checkpoint still moves page by page, in order).
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub pages_in_flight: u32,
    /// Write capacity units per second this process may consume (per process).
    #[arg(long, value_name = "N")]
    pub max_wcu: Option<u32>,
    /// Read capacity units per second this process may consume (per process).
    #[arg(long, value_name = "N")]
    pub max_rcu: Option<u32>,
    /// The checkpoint file [default: .holdfast/copy-SOURCE-TARGET.checkpoint.json].
    #[arg(long, value_name = "PATH", conflicts_with = "checkpoint_table")]
    pub checkpoint: Option<PathBuf>,
    /// Keep the checkpoint in this DynamoDB table (created if missing), shared by several
    /// processes or Lambdas working on one copy.
    #[arg(long, value_name = "TABLE")]
    pub checkpoint_table: Option<String>,
    /// Continue the copy recorded in the checkpoint (or join it, with --checkpoint-table).
    #[arg(long)]
    pub resume: bool,
    /// Check everything and create the checkpoint, copy nothing: then start the workers
    /// (processes, Lambdas) with --resume, each with its --segment-range or claiming by lease.
    #[arg(long, conflicts_with = "resume")]
    pub prepare: bool,
    /// Stop after this long (e.g. 14m), with the checkpoint saved; exit 4.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub deadline: Option<std::time::Duration>,
    /// A segment's lease in a checkpoint table: a crashed worker's segments are taken over after it.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "2m")]
    pub lease: std::time::Duration,
    /// Copy into a target that already holds items.
    #[arg(long)]
    pub allow_nonempty_target: bool,
    /// Skip the comparison after the copy.
    #[arg(long)]
    pub no_verify: bool,
    /// Where the comparison writes differing keys [default: .holdfast/compare-SOURCE-TARGET.keys.jsonl].
    #[arg(long, value_name = "PATH")]
    pub keys_file: Option<PathBuf>,
    /// Copy again only the keys listed by `dynamo compare` in this keys file (no checkpoint:
    /// puts and deletes are idempotent, run it again if it stops).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["checkpoint", "checkpoint_table", "resume", "segment_range"])]
    pub keys_from: Option<PathBuf>,
    /// With --keys-from: delete target items that have no source item (by default they are kept and counted).
    #[arg(long, requires = "keys_from")]
    pub delete_only_in_target: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DynamoCompareArgs {
    /// The source table (transformed, with --transform).
    pub source: String,
    /// The target table.
    pub target: String,
    /// Compare the source as this jq filter transforms it.
    #[arg(long, value_name = "FILE.jq")]
    pub transform: Option<PathBuf>,
    /// Scan segments per table.
    #[arg(long, value_name = "N", default_value_t = holdfast_dynamo::copy::DEFAULT_TOTAL_SEGMENTS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub segments: u32,
    /// Where to write every differing key [default: .holdfast/compare-SOURCE-TARGET.keys.jsonl].
    #[arg(long, value_name = "PATH")]
    pub keys_file: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DynamoVerifyArgs {
    /// The table name (or ARN).
    pub table: String,
    /// Require this key schema: the partition key, then the sort key if any; types S, N or B.
    #[arg(long, value_name = "PK:TYPE[,SK:TYPE]")]
    pub require_key: Option<String>,
    /// Require point-in-time recovery to be enabled.
    #[arg(long)]
    pub require_pitr: bool,
    /// Wait up to this long (e.g. 5m) for the table and every GSI to become ACTIVE.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub wait: Option<std::time::Duration>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Compare the deployed template (OLD) with the one about to be deployed (NEW).
    Diff(GuardDiffArgs),
    /// Check one template's retention and protection settings.
    Check(GuardCheckArgs),
    /// Judge a saved `aws cloudformation describe-change-set` output.
    Changeset(GuardChangesetArgs),
}

#[derive(Debug, Args, Clone)]
pub struct GuardOutputArgs {
    /// Accept blocking findings on a resource, with the reason (repeatable).
    #[arg(long, value_name = "LOGICAL_ID=REASON")]
    pub allow: Vec<String>,
    #[command(flatten)]
    pub format: OutputArgs,
    /// Also write the findings as SARIF 2.1.0 to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GuardDiffArgs {
    /// The deployed side: a template (JSON/YAML), a cdk.out folder, a .serverless folder, or
    /// stack:NAME — the deployed stack's template, read through the CloudFormation API, with its
    /// deployed parameter values.
    pub old: String,
    /// The side about to be deployed (the same forms; its parameters from --parameters and the
    /// template's defaults).
    pub new: String,
    /// Pair stacks whose names differ between the sides (repeatable).
    #[arg(long = "stack", value_name = "OLD=NEW")]
    pub stacks: Vec<String>,
    /// Parameter values: a JSON file (`[{"ParameterKey","ParameterValue"}]` or `{"Key": "value"}`).
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: GuardOutputArgs,
}

/// Where and as whom to call AWS (DynamoDB, CloudFormation for a `stack:NAME` side, or the RDS
/// Data API for a `data-api://` database). Each defaults to the AWS SDK's usual sources.
#[derive(Debug, Args, Clone)]
pub struct AwsArgs {
    /// Service endpoint, e.g. DynamoDB Local or a moto server [default:
    /// AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's endpoint_url, or AWS's].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region [default: AWS_REGION, AWS_DEFAULT_REGION or the profile's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS profile [default: AWS_PROFILE, else `default`].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct GuardCheckArgs {
    /// A template (JSON/YAML), a cdk.out folder or a .serverless folder.
    pub template: String,
    /// Parameter values, as for `diff`.
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    #[command(flatten)]
    pub output: GuardOutputArgs,
}

#[derive(Debug, Args)]
pub struct GuardChangesetArgs {
    /// The JSON printed by `aws cloudformation describe-change-set`.
    pub changeset: PathBuf,
    #[command(flatten)]
    pub output: GuardOutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Show every migration's state. Changes nothing.
    Status(MigrateArgs),
    /// Print the exact SQL `up` would run. Changes nothing.
    Plan(MigrateArgs),
    /// Apply pending migrations.
    Up(UpArgs),
    /// Check for drift, missing files, failed or interrupted migrations and versions out of
    /// order; exit 3 on any. Changes nothing.
    Validate(MigrateArgs),
    /// Mark an existing database without history as being at VERSION.
    Baseline(BaselineArgs),
    /// Remove failed/interrupted rows and accept changed checksums.
    Repair(RepairArgs),
    /// Create a new migration file with the next version.
    New(NewArgs),
    /// Print the migration set's fingerprint (a hash of every file's version, kind and
    /// checksum): pass it to the deploy-time custom resource so that CloudFormation runs it
    /// exactly when the migrations change.
    Fingerprint(FingerprintArgs),
}

#[derive(Debug, Args)]
pub struct FingerprintArgs {
    /// Folder of migration files.
    #[arg(long, env = "HOLDFAST_MIGRATIONS_DIR", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The database URL, for its dialect (how files are split and checked); only its scheme is
    /// used, nothing connects [default: migrate.database in holdfast.toml, else PostgreSQL].
    #[arg(
        long,
        env = "HOLDFAST_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct MigrateArgs {
    /// Database URL: postgres://…, mysql://… (or mariadb://…), sqlite://PATH, or Aurora through
    /// the RDS Data API: data-api://CLUSTER_ARN?secret=SECRET_ARN&database=NAME[&engine=mysql].
    #[arg(
        long,
        env = "HOLDFAST_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// Folder of migration files.
    #[arg(long, env = "HOLDFAST_MIGRATIONS_DIR", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// AWS endpoint, region and profile, for data-api:// URLs (the region defaults to the
    /// cluster ARN's).
    #[command(flatten)]
    pub aws: AwsArgs,
    /// History table name [default: holdfast_schema_history].
    #[arg(long, env = "HOLDFAST_HISTORY_TABLE", value_name = "NAME")]
    pub history_table: Option<String>,
    /// History table schema (PostgreSQL) [default: the connection's current schema].
    #[arg(long, env = "HOLDFAST_HISTORY_SCHEMA", value_name = "NAME")]
    pub history_schema: Option<String>,
    /// How long to wait for the migration lock [default: 10m].
    #[arg(long, env = "HOLDFAST_LOCK_WAIT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub lock_wait: Option<std::time::Duration>,
    /// Per-statement time limit [default: 10m].
    #[arg(long, env = "HOLDFAST_STATEMENT_TIMEOUT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub statement_timeout: Option<std::time::Duration>,
    /// Limit on waiting for a table lock inside a migration [default: 30s].
    #[arg(long, env = "HOLDFAST_LOCK_TIMEOUT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub lock_timeout: Option<std::time::Duration>,
    /// Accept pending versions lower than the newest applied one.
    #[arg(long, env = "HOLDFAST_ALLOW_OUT_OF_ORDER")]
    pub allow_out_of_order: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub common: MigrateArgs,
    /// Apply versioned migrations up to and including this version only.
    #[arg(long, env = "HOLDFAST_TARGET", value_name = "VERSION")]
    pub target: Option<String>,
    /// Continue failed or interrupted migrations at the statement where they stopped.
    #[arg(long)]
    pub resume: bool,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub common: MigrateArgs,
    /// The version the existing database is at.
    #[arg(long, value_name = "VERSION")]
    pub version: String,
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    #[command(flatten)]
    pub common: MigrateArgs,
    /// Confirm: repair changes the history table.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Folder of migration files.
    #[arg(long, env = "HOLDFAST_MIGRATIONS_DIR", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Create a repeatable migration (R__…) instead of a versioned one.
    #[arg(long)]
    pub repeatable: bool,
    /// What the migration does, e.g. "add users email index".
    pub description: String,
}
