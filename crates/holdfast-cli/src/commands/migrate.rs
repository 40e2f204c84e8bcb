//! `holdfast migrate …`.

use super::{code, fail, CommandResult, Info};
use crate::cli::{GlobalArgs, MigrateArgs, MigrateCommand};
use crate::output;
use crate::settings::{self, UsageError};
use holdfast_core::exit::Outcome;
use holdfast_core::migration::{self, load_dir, MigrationSet, SourceError, Version};
use holdfast_report::migrate::check_outcome;
use holdfast_report::Command as ReportCommand;
use holdfast_report::{Command, Envelope};
use holdfast_sql::runner::{self, Event, RunOptions};
use holdfast_sql::MigrateRequest;
use holdfast_sql::{connect, Access, Backend};

impl MigrateCommand {
    /// Which report it prints, and how (`new` prints the file's path only).
    pub(super) fn info(&self) -> Info {
        use ReportCommand as R;
        match self {
            MigrateCommand::Status(a) => Info::new(R::MigrateStatus, a.output),
            MigrateCommand::Validate(a) => Info::new(R::MigrateValidate, a.output),
            MigrateCommand::Plan(a) => Info::new(R::MigratePlan, a.output),
            MigrateCommand::Up(a) => Info::new(R::MigrateUp, a.common.output),
            MigrateCommand::Baseline(a) => Info::new(R::MigrateBaseline, a.common.output),
            MigrateCommand::Repair(a) => Info::new(R::MigrateRepair, a.common.output),
            MigrateCommand::New(_) => Info::text_only(),
            MigrateCommand::Fingerprint(a) => Info::new(R::MigrateFingerprint, a.output),
        }
    }
}

pub async fn run(global: &GlobalArgs, command: &MigrateCommand) -> CommandResult {
    match command {
        MigrateCommand::Status(args) => status(global, args, false).await,
        MigrateCommand::Validate(args) => status(global, args, true).await,
        MigrateCommand::Plan(args) => plan(global, args).await,
        MigrateCommand::Up(args) => {
            let target = args
                .target
                .as_deref()
                .map(|t| {
                    Version::parse(t).ok_or_else(|| {
                        fail(UsageError(format!(
                            "--target `{t}` is not a version (digits, optionally dotted like 1.2)"
                        )))
                    })
                })
                .transpose()?;
            up(global, &args.common, target, args.resume).await
        }
        MigrateCommand::Baseline(args) => {
            let version = Version::parse(&args.version).ok_or_else(|| {
                fail(UsageError(format!(
                    "--version `{}` is not a version",
                    args.version
                )))
            })?;
            baseline(global, &args.common, version).await
        }
        MigrateCommand::Repair(args) => {
            if !args.yes {
                return Err(fail(UsageError(
                    "repair changes the history table: run it again with --yes after checking `holdfast migrate status`".into(),
                )));
            }
            repair(global, &args.common).await
        }
        MigrateCommand::New(args) => new(global, args),
        MigrateCommand::Fingerprint(args) => fingerprint(global, args),
    }
}

type Started = (MigrateRequest, MigrationSet, Box<dyn Backend>);

/// Validated settings, the migrations folder and a session.
///
/// The folder is read while the connection is being made (they are independent), except where
/// opening would create the database (a new SQLite file): there the input is checked first, so
/// that bad input creates nothing. Bad input is reported ahead of a connection error.
async fn start(
    global: &GlobalArgs,
    args: &MigrateArgs,
    access: Access,
    adjust: impl FnOnce(&mut RunOptions),
) -> Result<Started, Box<dyn super::Failure>> {
    let mut req = settings::migrate_request(global, args).map_err(fail)?;
    adjust(&mut req.run);
    // A folder that cannot be loaded is bad input (SourceError says so itself).
    let load_error = |e: SourceError| fail(e);
    if access == Access::ReadWrite && req.url.would_create() {
        let source = load_dir(&req.dir, req.url.dialect()).map_err(load_error)?;
        let mut empty = open(&req, Access::ReadOnly).await?;
        let preview = runner::plan_run(empty.as_mut(), &source, &req.run)
            .await
            .map_err(fail)?;
        if let Some(error) = preview.errors.first() {
            let more = match preview.errors.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            return Err(fail(UsageError(format!("{error}{more}"))));
        }
        let backend = open(&req, access).await?;
        return Ok((req, source, backend));
    }
    let (dir, dialect) = (req.dir.clone(), req.url.dialect());
    let loading = tokio::task::spawn_blocking(move || load_dir(&dir, dialect));
    let opened = open(&req, access).await;
    let source = loading
        .await
        .map_err(|e| {
            fail(UsageError(format!(
                "reading the migrations folder failed: {e}"
            )))
        })?
        .map_err(load_error)?;
    Ok((req, source, opened?))
}

async fn open(
    req: &MigrateRequest,
    access: Access,
) -> Result<Box<dyn Backend>, Box<dyn super::Failure>> {
    connect(&req.url, access, &req.connect).await.map_err(fail)
}

async fn status(global: &GlobalArgs, args: &MigrateArgs, validate: bool) -> CommandResult {
    let (req, source, mut backend) = start(global, args, Access::ReadOnly, |_| {}).await?;
    let mut report = runner::status(backend.as_mut(), &source, &req.run)
        .await
        .map_err(fail)?;
    let outcome = if validate {
        check_outcome(&report.errors, &report.problems)
    } else {
        Outcome::Success
    };
    if validate {
        report.envelope = Envelope::new(Command::MigrateValidate, outcome);
    }
    output::report(args.output, &report, output::status_text);
    if validate && !args.output.json {
        match outcome {
            Outcome::Success => {
                output::progress("Valid: no drift, missing, failed or out-of-order migrations.")
            }
            _ => output::error_line(&validation_summary(
                report.errors.len(),
                report.problems.len(),
            )),
        }
    }
    Ok(code(outcome))
}

/// The one line `validate` ends with when it fails: what each count means, and which list
/// above holds the details.
fn validation_summary(errors: usize, problems: usize) -> String {
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(format!(
            "{} in the migration files, which stop `up` before it starts (Errors above)",
            count(errors, "error", "errors")
        ));
    }
    if problems > 0 {
        parts.push(format!(
            "{} between the files and the history: drift, missing, failed, interrupted or out-of-order migrations (Problems above)",
            count(problems, "problem", "problems")
        ));
    }
    format!("validation failed: {}", parts.join("; and "))
}

async fn plan(global: &GlobalArgs, args: &MigrateArgs) -> CommandResult {
    let (req, source, mut backend) = start(global, args, Access::ReadOnly, |_| {}).await?;
    let report = runner::plan_run(backend.as_mut(), &source, &req.run)
        .await
        .map_err(fail)?;
    output::report(args.output, &report, output::plan_text);
    Ok(code(report.outcome()))
}

async fn up(
    global: &GlobalArgs,
    args: &MigrateArgs,
    target: Option<Version>,
    resume: bool,
) -> CommandResult {
    let (req, source, mut backend) = start(global, args, Access::ReadWrite, |run| {
        run.target = target;
        run.resume = holdfast_core::Resume::from_flag(resume);
    })
    .await?;
    let quiet = global.quiet;
    let mut on_event = |event: Event<'_>| {
        if quiet {
            return;
        }
        match event {
            Event::Applying {
                script,
                resumed_from,
            } if resumed_from > 0 => output::progress(&format!(
                "Resuming {script} at statement {}",
                resumed_from + 1
            )),
            Event::Applying { .. } => {}
            Event::Applied(step) => output::progress(&format!(
                "Applied {} ({} statement(s), {} ms)",
                step.script, step.statements, step.execution_ms
            )),
        }
    };
    let report = runner::up(backend.as_mut(), &source, &req.run, &mut on_event)
        .await
        .map_err(fail)?;
    if args.output.json {
        output::print_json(&report);
    } else {
        output::print(&output::up_text(&report));
        if report.outcome() == Outcome::Success && !report.applied.is_empty() {
            let status = runner::status(backend.as_mut(), &source, &req.run)
                .await
                .map_err(fail)?;
            output::print(&format!("\n{}", output::status_text(&status)));
        }
    }
    Ok(code(report.outcome()))
}

async fn baseline(global: &GlobalArgs, args: &MigrateArgs, version: Version) -> CommandResult {
    let (req, source, mut backend) = start(global, args, Access::ReadWrite, |_| {}).await?;
    runner::baseline(backend.as_mut(), &version, &req.run)
        .await
        .map_err(fail)?;
    let mut report = runner::status(backend.as_mut(), &source, &req.run)
        .await
        .map_err(fail)?;
    report.envelope.set_command(Command::MigrateBaseline);
    if args.output.json {
        output::print_json(&report);
    } else {
        output::print(&format!(
            "Baselined at version {version}.\n\n{}",
            output::status_text(&report)
        ));
    }
    Ok(code(Outcome::Success))
}

async fn repair(global: &GlobalArgs, args: &MigrateArgs) -> CommandResult {
    let (req, source, mut backend) = start(global, args, Access::ReadWrite, |_| {}).await?;
    let report = runner::repair(backend.as_mut(), &source, &req.run)
        .await
        .map_err(fail)?;
    output::report(args.output, &report, output::repair_text);
    Ok(code(Outcome::Success))
}

fn new(global: &GlobalArgs, args: &crate::cli::NewArgs) -> CommandResult {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => settings::file_settings(global)
            .map_err(fail)?
            .dir
            .ok_or_else(|| {
                fail(UsageError(
                    "no migrations folder: pass --dir DIR or set migrate.dir in holdfast.toml"
                        .into(),
                ))
            })?,
    };
    let mut versions = Vec::new();
    if dir.exists() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| fail(UsageError(format!("{}: cannot read: {e}", dir.display()))))?;
        for entry in entries.flatten() {
            if let Ok(Some(name)) = migration::parse_file_name(&entry.file_name().to_string_lossy())
            {
                versions.extend(name.version);
            }
        }
    }
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let name = migration::new_file_name(&versions, &args.description, args.repeatable, &now)
        .map_err(|e| fail(UsageError(e)))?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| fail(UsageError(format!("{}: cannot create: {e}", dir.display()))))?;
    let path = dir.join(&name);
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    match created {
        Ok(mut file) => {
            use std::io::Write;
            let _ = writeln!(file, "-- {}", args.description.trim());
            output::print(&format!("{}\n", path.display()));
            Ok(code(Outcome::Success))
        }
        Err(e) => Err(fail(UsageError(format!(
            "{}: cannot create: {e}",
            path.display()
        )))),
    }
}

/// `migrate fingerprint`: the digest of the history a database has once every migration of the
/// folder is applied ([`holdfast_core::plan::applied_digest`]), so it changes exactly when a
/// migration is added, removed or edited (line endings and trailing blanks aside).
fn fingerprint(global: &GlobalArgs, args: &crate::cli::FingerprintArgs) -> CommandResult {
    let file = settings::file_settings(global).map_err(fail)?;
    let dir = args.dir.clone().or(file.dir).ok_or_else(|| {
        fail(UsageError(
            "no migrations folder: pass --dir DIR, set HOLDFAST_MIGRATIONS_DIR, or set migrate.dir in holdfast.toml".into(),
        ))
    })?;
    let dialect = match args.database.clone().or(file.database) {
        Some(url) => holdfast_sql::DatabaseUrl::parse(&url)
            .map_err(|e| fail(UsageError(e.to_string())))?
            .dialect(),
        None => holdfast_core::split::Dialect::Postgres,
    };
    let source = load_dir(&dir, dialect).map_err(|e| fail(UsageError(e.to_string())))?;
    let fingerprint = holdfast_core::plan::applied_digest(&source);
    if args.output.json {
        output::print_json(&holdfast_report::migrate::FingerprintReport {
            envelope: Envelope::new(Command::MigrateFingerprint, Outcome::Success),
            dir: dir.display().to_string(),
            migrations: source.iter().count(),
            latest_version: source.latest_version().map(ToString::to_string),
            fingerprint,
        });
    } else {
        output::print(&format!("{fingerprint}\n"));
    }
    Ok(code(Outcome::Success))
}
