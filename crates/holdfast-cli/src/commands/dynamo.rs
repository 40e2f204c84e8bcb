//! `holdfast dynamo …`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{code, fail, CommandResult};
use crate::cli::{
    AwsArgs, DynamoCommand, DynamoCompareArgs, DynamoCopyArgs, DynamoMigrateArgs, GlobalArgs,
};
use crate::output;
use crate::settings::aws_options;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_dynamo::checkpoint::Location;
use holdfast_dynamo::compare::{compare, CompareRequest};
use holdfast_dynamo::copy::{copy, describe_key, CopyProgress, CopyRequest, TransformSpec};
use holdfast_dynamo::keys_from::{copy_keys, KeysCopyRequest};
use holdfast_dynamo::migrate::{migrate, MigrateRequest};
use holdfast_dynamo::stop::Stop;
use holdfast_dynamo::transfer;
use holdfast_dynamo::verify::{Dynamo, KeySpec, VerifyRequest};

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

/// Bad flags or input files, found before any call.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

impl Classify for Usage {
    fn outcome(&self) -> Outcome {
        Outcome::Usage
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
            stop_on_ctrl_c(&stop);
            let report = transfer::export(&client, &args.table, &args.dir, args.segments, stop)
                .await
                .map_err(fail)?;
            print_transfer(&report, args.output.json);
            Ok(code(report.outcome()))
        }
        DynamoCommand::Import(args) => {
            let transform = load_transform(args.transform.as_deref()).map_err(fail)?;
            let client = data_client(&args.aws).await?;
            let stop = Arc::new(Stop::new(None));
            stop_on_ctrl_c(&stop);
            let report = transfer::import(
                &client,
                &args.dir,
                &args.table,
                args.workers,
                args.allow_nonempty_target,
                transform.as_ref(),
                stop,
            )
            .await
            .map_err(fail)?;
            print_transfer(&report, args.output.json);
            Ok(code(report.outcome()))
        }
    }
}

async fn data_client(aws: &AwsArgs) -> Result<aws_sdk_dynamodb::Client, Box<dyn super::Failure>> {
    let dynamo = Dynamo::connect(&aws_options(aws)).await.map_err(fail)?;
    Ok(holdfast_dynamo::client::data_client(dynamo.client()))
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

/// A table name fit for a file name (ARNs hold `:` and `/`).
fn file_safe(table: &str) -> String {
    let name = table.rsplit('/').next().unwrap_or(table);
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn default_keys_file(source: &str, target: &str) -> PathBuf {
    Path::new(".holdfast").join(format!(
        "compare-{}-{}.keys.jsonl",
        file_safe(source),
        file_safe(target)
    ))
}

fn load_transform(path: Option<&Path>) -> Result<Option<TransformSpec>, Usage> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Usage(format!("--transform {}: cannot read: {e}", path.display())))?;
    TransformSpec::new(&path.display().to_string(), &text)
        .map(Some)
        .map_err(|e| Usage(e.to_string()))
}

fn parse_range(text: &str, total: u32) -> Result<std::ops::Range<u32>, Usage> {
    holdfast_dynamo::checkpoint::parse_segment_range(text, total)
        .map_err(|why| Usage(format!("--segment-range {text}: {why}")))
}

/// Ctrl-C stops the run at the next page, with the checkpoint saved.
fn stop_on_ctrl_c(stop: &Arc<Stop>) {
    let stop = Arc::clone(stop);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            output::progress("interrupted: finishing the pages in flight and saving the checkpoint (Ctrl-C again to kill)");
            stop.interrupt();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(holdfast_core::exit::STOPPED_RESUMABLE);
            }
        }
    });
}

async fn run_copy(args: &DynamoCopyArgs) -> CommandResult {
    let transform = load_transform(args.transform.as_deref()).map_err(fail)?;
    let segment_range = args
        .segment_range
        .as_deref()
        .map(|r| parse_range(r, args.segments))
        .transpose()
        .map_err(fail)?;
    let checkpoint = match (&args.checkpoint, &args.checkpoint_table) {
        (_, Some(table)) => Location::Table(table.clone()),
        (Some(path), None) => Location::File(path.clone()),
        (None, None) => Location::File(Path::new(".holdfast").join(format!(
            "copy-{}-{}.checkpoint.json",
            file_safe(&args.source),
            file_safe(&args.target)
        ))),
    };
    let mut request = CopyRequest::new(&args.source, &args.target, checkpoint);
    request.transform = transform;
    request.segments = args.segments;
    request.page_limit = args.page_size;
    request.pages_in_flight = args.pages_in_flight as usize;
    request.max_wcu = args.max_wcu;
    request.max_rcu = args.max_rcu;
    request.resume = args.resume;
    request.deadline = args.deadline;
    request.segment_range = segment_range;
    request.allow_nonempty_target = args.allow_nonempty_target;
    request.verify = !args.no_verify;
    request.lease = args.lease;
    request.prepare_only = args.prepare;
    request.keys_file = Some(
        args.keys_file
            .clone()
            .unwrap_or_else(|| default_keys_file(&args.source, &args.target)),
    );

    let dynamo = Dynamo::connect(&aws_options(&args.aws))
        .await
        .map_err(fail)?;
    let client = holdfast_dynamo::client::data_client(dynamo.client());
    let stop = Arc::new(Stop::new(args.deadline));
    stop_on_ctrl_c(&stop);
    if let Some(keys_from) = &args.keys_from {
        let keys_request = KeysCopyRequest {
            source: request.source,
            target: request.target,
            transform: request.transform,
            keys_from: keys_from.clone(),
            delete_only_in_target: args.delete_only_in_target,
            verify: request.verify,
            segments: request.segments,
            keys_file: request.keys_file,
            max_wcu: request.max_wcu,
        };
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
    let transform = load_transform(args.transform.as_deref()).map_err(fail)?;
    let dynamo = Dynamo::connect(&aws_options(&args.aws))
        .await
        .map_err(fail)?;
    let client = holdfast_dynamo::client::data_client(dynamo.client());
    let (source_key, _) = describe_key(&client, &args.source).await.map_err(fail)?;
    let (target_key, _) = describe_key(&client, &args.target).await.map_err(fail)?;
    let transform = match transform {
        Some(spec) => Some(
            spec.compile(&source_key)
                .map_err(|e| fail(Usage(e.to_string())))?,
        ),
        None => None,
    };
    let request = CompareRequest {
        source: args.source.clone(),
        target: args.target.clone(),
        source_key,
        target_key,
        transform,
        segments: args.segments,
        keys_file: Some(
            args.keys_file
                .clone()
                .unwrap_or_else(|| default_keys_file(&args.source, &args.target)),
        ),
    };
    let stop = Arc::new(Stop::new(None));
    stop_on_ctrl_c(&stop);
    let report = compare(&client, &request, stop).await.map_err(fail)?;
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
    request.keys_dir = Some(PathBuf::from(".holdfast"));
    let client = data_client(&args.aws).await?;
    let stop = Arc::new(Stop::new(args.deadline));
    stop_on_ctrl_c(&stop);
    let report = migrate(&client, &request, stop).await.map_err(fail)?;
    if args.output.json {
        output::print_json(&report);
    } else {
        output::print(&output::dynamo_migrate_text(&report));
    }
    Ok(code(report.outcome()))
}
