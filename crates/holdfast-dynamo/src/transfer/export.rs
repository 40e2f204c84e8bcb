//! `holdfast dynamo export TABLE DIR`: one worker per scan segment, each streaming its pages
//! into the segment's data file; the manifests are written last (a folder without
//! `manifest-summary.json` is not a complete export).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use aws_sdk_dynamodb::Client;
use holdfast_report::dynamo::TransferReport;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{key_attributes, report, ExportRequest, TransferError};
use crate::describe::describe_key;
use crate::export_files::{
    rfc3339_utc, write_manifests, DataFileSummary, DataFileWriter, HoldfastExportInfo,
    ManifestSummary,
};
use crate::rate::RateLimiter;
use crate::scanner::{Scanner, Segment};
use crate::sdk_item::item_from_sdk;
use crate::stop::Stop;
use crate::writer::WriteCounters;

/// Exports `table` into the new or empty folder `dir`.
///
/// # Errors
/// [`TransferError`].
pub async fn export(
    client: &Client,
    request: &ExportRequest,
    stop: Arc<Stop>,
) -> Result<TransferReport, TransferError> {
    let (table, dir, segments) = (
        request.table.as_str(),
        request.dir.as_path(),
        request.segments,
    );
    let started = Instant::now();
    let start_time = rfc3339_utc(SystemTime::now());
    if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(TransferError::NotEmpty(dir.display().to_string()));
    }
    let (key, _) = describe_key(client, table).await?;
    let scanner = Scanner::new(client.clone(), table, Arc::new(RateLimiter::new(None)));
    let segments = segments.max(1);
    let mut tasks = JoinSet::new();
    for segment in 0..segments {
        let scanner = scanner.clone();
        let stop = Arc::clone(&stop);
        let dir: PathBuf = dir.to_owned();
        tasks.spawn(async move { export_segment(&scanner, segment, segments, &dir, &stop).await });
    }
    let mut files = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        files.push(joined.map_err(|e| TransferError::Failed(format!("export worker: {e}")))??);
    }
    files.sort_by(|a, b| a.key.cmp(&b.key));
    let items: u64 = files.iter().map(|f| f.item_count).sum();
    let summary = ManifestSummary::holdfast(
        HoldfastExportInfo {
            table: table.to_owned(),
            key_schema: key_attributes(&key),
            segments,
        },
        items,
        start_time,
        rfc3339_utc(SystemTime::now()),
    );
    write_manifests(dir, &summary, &files)?;
    Ok(report(
        holdfast_report::Command::DynamoExport,
        table,
        dir,
        files.len(),
        items,
        &WriteCounters::default(),
        started,
    ))
}

/// Streams one segment into its data file: the pages go over a bounded channel (two pages) to
/// a thread that gzips them, so memory does not grow with the table.
async fn export_segment(
    scanner: &Scanner,
    segment: u32,
    segments: u32,
    dir: &Path,
    stop: &Stop,
) -> Result<DataFileSummary, TransferError> {
    let dir = dir.to_owned();
    let (tx, mut rx) = mpsc::channel::<Vec<crate::sdk_item::SdkItem>>(2);
    let name = format!("segment-{segment:05}");
    let writer = tokio::task::spawn_blocking(move || -> Result<DataFileSummary, TransferError> {
        let mut file = DataFileWriter::create(&dir, &name)?;
        while let Some(page) = rx.blocking_recv() {
            for item in &page {
                let item = item_from_sdk(item)
                    .map_err(|e| TransferError::Failed(format!("{name}: {e}")))?;
                file.write_item(&item)?;
            }
        }
        Ok(file.finish()?)
    });
    let seg = Segment {
        segment,
        total: segments,
    };
    let mut start = None;
    let scanned: Result<(), TransferError> = async {
        loop {
            let page = scanner
                .page(Some(seg), start, stop)
                .await
                .map_err(|e| TransferError::Failed(e.to_string()))?;
            if tx.send(page.items).await.is_err() {
                return Ok(()); // the writer failed: its error is reported below
            }
            match page.next {
                Some(next) => start = Some(next),
                None => return Ok(()),
            }
        }
    }
    .await;
    drop(tx);
    let written = writer
        .await
        .map_err(|e| TransferError::Failed(format!("export writer: {e}")))?;
    scanned?;
    written
}
