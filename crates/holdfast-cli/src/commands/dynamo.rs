//! `holdfast dynamo …`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{code, fail, CommandResult};
use crate::cli::{
    AwsArgs, DynamoCommand, DynamoCompareArgs, DynamoCopyArgs, DynamoMigrateArgs, GlobalArgs,
};
use crate::output;
use crate::settings::{aws_options, UsageError};
use holdfast_core::Resume;
use holdfast_dynamo::checkpoint::Location;
use holdfast_dynamo::client::Dynamo;
use holdfast_dynamo::compare::{compare_tables, CompareRequest};
use holdfast_dynamo::copy::{
    copy, default_checkpoint_file, default_keys_file, CopyProgress, CopyRequest, TransformSpec,
};
use holdfast_dynamo::key_schema::KeySpec;
use holdfast_dynamo::keys_from::{copy_keys, KeysCopyRequest};
use holdfast_dynamo::migrate::{migrate, MigrateRequest};
use holdfast_dynamo::stop::Stop;
use holdfast_dynamo::transfer::{self, ExportRequest, ImportRequest};
use holdfast_dynamo::verify::VerifyRequest;

impl DynamoCommand {
    /// Which report it prints, and how.
    pub(super) fn info(&self) -> super::Info {
        use holdfast_report::Command as R;
        let (command, output) = match self {
            DynamoCommand::Verify(a) => (R::DynamoVerify, a.output),
            DynamoCommand::Copy(a) => (R::DynamoCopy, a.output),
            DynamoCommand::Compare(a) => (R::DynamoCompare, a.output),
            DynamoCommand::Export(a) => (R::DynamoExport, a.output),
            DynamoCommand::Import(a) => (R::DynamoImport, a.output),
            DynamoCommand::Migrate(a) => (R::DynamoMigrate, a.output),
        };
        super::Info::new(command, output).without_config()
    }

    /// Copy and compare use every core (transforms, hashing, encoding).
    pub fn wants_threads(&self) -> bool {
        !matches!(self, DynamoCommand::Verify(_))
    }
}

pub async fn run(_global: &GlobalArgs, command: &DynamoCommand) -> CommandResult {
    match command {
        DynamoCommand::Verify(args) => {
            // Flags first, before any call.
            let require_key = args
                .require_key
                .as_deref()
                .map(str::parse::<KeySpec>)
                .transpose()
                .map_err(fail)?;
            let request = VerifyRequest {
                table: args.table.clone(),
                require_key,
                require_pitr: args.require_pitr,
                wait: args.wait,
            };
            let dynamo = Dynamo::connect(&aws_options(&args.aws))
                .await
                .map_err(fail)?;
            let report = dynamo.verify(&request).await.map_err(fail)?;
            if args.output.json {
                output::print_json(&report);
            } else {
                output::print(&output::dynamo_verify_text(&report));
            }
            Ok(code(report.outcome()))
        }
        DynamoCommand::Copy(args) => run_copy(args).await,
        DynamoCommand::Compare(args) => run_compare(args).await,
        DynamoCommand::Migrate(args) => run_migrate(args).await,
        DynamoCommand::Export(args) => {
            let client = data_client(&args.aws).await?;
            let stop = Arc::new(Stop::new(None));
            super::stop_on_ctrl_c(&stop);
            let mut request = ExportRequest::new(&args.table, args.dir.clone());
            request.segments = args.segments;
            let report = transfer::export(&client, &request, stop)
                .await
                .map_err(fail)?;
            print_transfer(&report, args.output.json);
            Ok(code(report.outcome()))
        }
        DynamoCommand::Import(args) => {
            let mut request = ImportRequest::new(args.dir.clone(), &args.table);
            request.transform = load_transform(args.transform.as_deref()).map_err(fail)?;
            request.workers = args.workers;
            request.allow_nonempty_target = args.allow_nonempty_target;
            let client = data_client(&args.aws).await?;
            let stop = Arc::new(Stop::new(None));
            super::stop_on_ctrl_c(&stop);
            let report = transfer::import(&client, &request, stop)
                .await
                .map_err(fail)?;
            print_transfer(&report, args.output.json);
            Ok(code(report.outcome()))
        }
    }
}

async fn data_client(aws: &AwsArgs) -> Result<aws_sdk_dynamodb::Client, Box<dyn super::Failure>> {
    let dynamo = Dynamo::connect(&aws_options(aws)).await.map_err(fail)?;
    Ok(dynamo.data_client())
}

fn print_transfer(report: &holdfast_report::dynamo::TransferReport, json: bool) {
    if json {
        output::print_json(report);
    } else {
        let verb = if report.envelope.command() == holdfast_report::Command::DynamoExport {
            "Exported"
        } else {
            "Imported"
        };
        output::print(&format!(
            "{verb} {} items ({} data files) in {:.1} s: table {}, folder {}.\n",
            report.items,
            report.files,
            report.elapsed_ms as f64 / 1000.0,
            report.table,
            report.dir
        ));
    }
}

fn load_transform(path: Option<&Path>) -> Result<Option<TransformSpec>, UsageError> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("--transform {}: cannot read: {e}", path.display())))?;
    TransformSpec::new(&path.display().to_string(), &text)
        .map(Some)
        .map_err(|e| UsageError(e.to_string()))
}

fn parse_range(text: &str, total: u32) -> Result<std::ops::Range<u32>, UsageError> {
    holdfast_dynamo::checkpoint::parse_segment_range(text, total)
        .map_err(|why| UsageError(format!("--segment-range {text}: {why}")))
}

/// `dynamo copy`'s flags as the library's request.
fn copy_request(args: &DynamoCopyArgs) -> Result<CopyRequest, UsageError> {
    let checkpoint = match (&args.checkpoint, &args.checkpoint_table) {
        (_, Some(table)) => Location::Table(table.clone()),
        (Some(path), None) => Location::File(path.clone()),
        (None, None) => Location::File(default_checkpoint_file(&args.source, &args.target)),
    };
    let mut request = CopyRequest::new(&args.source, &args.target, checkpoint);
    request.transform = load_transform(args.transform.as_deref())?;
    request.segments = args.segments;
    request.segment_range = args
        .segment_range
        .as_deref()
        .map(|r| parse_range(r, args.segments))
        .transpose()?;
    request.page_limit = args.page_size;
    request.pages_in_flight = args.pages_in_flight as usize;
    request.max_wcu = args.max_wcu;
    request.max_rcu = args.max_rcu;
    request.resume = Resume::from_flag(args.resume);
    request.deadline = args.deadline;
    request.allow_nonempty_target = args.allow_nonempty_target;
    request.verify = !args.no_verify;
    request.lease = args.lease;
    request.prepare_only = args.prepare;
    request.keys_file = Some(
        args.keys_file
            .clone()
            .unwrap_or_else(|| default_keys_file(&args.source, &args.target)),
    );
    Ok(request)
}

async fn run_copy(args: &DynamoCopyArgs) -> CommandResult {
    let request = copy_request(args).map_err(fail)?;
    let client = data_client(&args.aws).await?;
    let stop = Arc::new(Stop::new(args.deadline));
    super::stop_on_ctrl_c(&stop);
    if let Some(keys_from) = &args.keys_from {
        let keys_request =
            KeysCopyRequest::from_copy(&request, keys_from.clone(), args.delete_only_in_target);
        let report = copy_keys(&client, keys_request, stop).await.map_err(fail)?;
        print_copy(&report, args.output.json);
        return Ok(code(report.outcome()));
    }
    let progress = Arc::new(CopyProgress::default());
    let bar = crate::progress::CopyBar::start(Arc::clone(&progress));
    let result = copy(&client, request, stop, progress).await;
    bar.finish();
    let report = result.map_err(fail)?;
    print_copy(&report, args.output.json);
    Ok(code(report.outcome()))
}

fn print_copy(report: &holdfast_report::dynamo::CopyReport, json: bool) {
    if json {
        output::print_json(report);
    } else {
        output::print(&output::dynamo_copy_text(report));
    }
}

async fn run_compare(args: &DynamoCompareArgs) -> CommandResult {
    let mut request = CompareRequest::new(&args.source, &args.target);
    request.transform = load_transform(args.transform.as_deref()).map_err(fail)?;
    request.segments = args.segments;
    request.keys_file = Some(
        args.keys_file
            .clone()
            .unwrap_or_else(|| default_keys_file(&args.source, &args.target)),
    );
    let client = data_client(&args.aws).await?;
    let stop = Arc::new(Stop::new(None));
    super::stop_on_ctrl_c(&stop);
    let report = compare_tables(&client, &request, stop)
        .await
        .map_err(fail)?;
    if args.output.json {
        output::print_json(&report);
    } else {
        output::print(&output::dynamo_compare_text(&report));
    }
    Ok(code(report.outcome()))
}

async fn run_migrate(args: &DynamoMigrateArgs) -> CommandResult {
    let mut request = MigrateRequest::new(args.dir.clone());
    request.history_table.clone_from(&args.history_table);
    request.dry_run = args.dry_run;
    request.lock_wait = args.lock_wait;
    request.lease = args.lease;
    request.keys_dir = Some(PathBuf::from(holdfast_dynamo::copy::LOCAL_DIR));
    let client = data_client(&args.aws).await?;
    let stop = Arc::new(Stop::new(args.deadline));
    super::stop_on_ctrl_c(&stop);
    let report = migrate(&client, &request, stop).await.map_err(fail)?;
    if args.output.json {
        output::print_json(&report);
    } else {
        output::print(&output::dynamo_migrate_text(&report));
    }
    Ok(code(report.outcome()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser as _;

    fn dynamo(args: &[&str]) -> DynamoCommand {
        let cli = Cli::try_parse_from(["holdfast", "dynamo"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Dynamo(d) => d,
            _ => unreachable!(),
        }
    }

    /// The flags' defaults are the library's: a command line without them builds the request
    /// the library's constructor does.
    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let DynamoCommand::Copy(args) = dynamo(&["copy", "a", "b"]) else {
            unreachable!()
        };
        let built = copy_request(&args).unwrap();
        let library = CopyRequest::new("a", "b", Location::File("x".into()));
        assert_eq!(
            (
                built.segments,
                built.page_limit,
                built.pages_in_flight,
                built.lease,
                built.resume,
                built.verify,
                built.prepare_only,
                built.allow_nonempty_target,
            ),
            (
                library.segments,
                library.page_limit,
                library.pages_in_flight,
                library.lease,
                library.resume,
                library.verify,
                library.prepare_only,
                library.allow_nonempty_target,
            )
        );
        assert_eq!(
            built.checkpoint,
            Location::File(default_checkpoint_file("a", "b"))
        );

        let DynamoCommand::Migrate(args) = dynamo(&["migrate", "--dir", "d"]) else {
            unreachable!()
        };
        let library = MigrateRequest::new("d".into());
        assert_eq!(
            (&args.history_table, args.lock_wait, args.lease),
            (&library.history_table, library.lock_wait, library.lease)
        );

        let DynamoCommand::Export(args) = dynamo(&["export", "t", "d"]) else {
            unreachable!()
        };
        assert_eq!(args.segments, ExportRequest::new("t", "d".into()).segments);
        let DynamoCommand::Import(args) = dynamo(&["import", "d", "t"]) else {
            unreachable!()
        };
        assert_eq!(args.workers, ImportRequest::new("d".into(), "t").workers);
        let DynamoCommand::Compare(args) = dynamo(&["compare", "a", "b"]) else {
            unreachable!()
        };
        assert_eq!(args.segments, CompareRequest::new("a", "b").segments);
    }

    #[test]
    fn resume_and_prepare_map_onto_the_request() {
        let DynamoCommand::Copy(args) =
            dynamo(&["copy", "a", "b", "--resume", "--checkpoint-table", "c"])
        else {
            unreachable!()
        };
        let built = copy_request(&args).unwrap();
        assert_eq!(built.resume, Resume::Required);
        assert_eq!(built.checkpoint, Location::Table("c".into()));
        let DynamoCommand::Copy(args) = dynamo(&["copy", "a", "b", "--prepare"]) else {
            unreachable!()
        };
        let built = copy_request(&args).unwrap();
        assert_eq!((built.resume, built.prepare_only), (Resume::Never, true));
    }
}
