//! `dynamo` reports as text.

use super::table;

/// `dynamo verify`: one line per check (`ok`, `FAIL`, or `info` for a check that is not
/// required), then the verdict.
pub fn dynamo_verify_text(r: &holdfast_report::dynamo::VerifyReport) -> String {
    let mut out = format!("Table {} (at {}, {}):\n", r.table, r.endpoint, r.region);
    let rows: Vec<Vec<String>> = r
        .checks
        .iter()
        .map(|c| {
            let verdict = match (c.ok, c.required) {
                (false, _) => "FAIL",
                (true, true) => "ok",
                (true, false) => "info",
            };
            vec![verdict.to_string(), c.name.clone(), c.detail.clone()]
        })
        .collect();
    out.push_str(&table(&rows));
    let failed = r.checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        out.push_str("\nEvery required check passed.\n");
    } else {
        out.push_str(&format!("\n{failed} required check(s) failed.\n"));
    }
    out
}

/// `dynamo compare`: counts, the verdict, a sample of differing keys and where the rest are.
pub fn dynamo_compare_text(r: &holdfast_report::dynamo::CompareReport) -> String {
    let side = if r.transformed { " (transformed)" } else { "" };
    let mut out = format!(
        "Compared {}{side} ({} items) with {} ({} items) in {:.1} s.\n",
        r.source,
        r.source_items,
        r.target,
        r.target_items,
        r.elapsed_ms as f64 / 1000.0
    );
    if r.equal {
        out.push_str("Equal: every item matches.\n");
        return out;
    }
    out.push_str(&format!(
        "DIFFERENT: {} only in {}, {} only in {}, {} with different content.\n",
        r.only_in_source, r.source, r.only_in_target, r.target, r.different
    ));
    for d in &r.sample {
        out.push_str(&format!("  {:<15} {}\n", d.difference, d.key));
    }
    if let Some(file) = &r.keys_file {
        out.push_str(&format!("Every differing key is in {file} (JSON lines).\n"));
    }
    out
}

/// `dynamo copy`: what was copied, how often DynamoDB pushed back, and the verification.
pub fn dynamo_copy_text(r: &holdfast_report::dynamo::CopyReport) -> String {
    let mut out = format!(
        "Copied {} → {}: {} items read, {} written in {:.1} s ({} items/s); segments {}/{} done.\n",
        r.source,
        r.target,
        r.items_read,
        r.items_written,
        r.elapsed_ms as f64 / 1000.0,
        r.items_per_second,
        r.segments_done,
        r.total_segments
    );
    if r.items_dropped + r.items_split + r.duplicates_merged > 0 {
        out.push_str(&format!(
            "Transform: {} items dropped, {} extra from splits, {} outputs merged (same key in one batch, last wins).\n",
            r.items_dropped, r.items_split, r.duplicates_merged
        ));
    }
    if r.source == r.target {
        out.push_str(&format!(
            "In place: {} items changed, {} left as they were.\n",
            r.items_written, r.items_unchanged
        ));
    }
    if r.items_deleted + r.keys_kept > 0 {
        out.push_str(&format!(
            "Only in the target: {} deleted, {} kept.\n",
            r.items_deleted, r.keys_kept
        ));
    }
    if r.unprocessed_retried + r.calls_retried > 0 {
        out.push_str(&format!(
            "Retried: {} unprocessed items, {} failed calls (throttling, errors, dropped connections); none lost.\n",
            r.unprocessed_retried, r.calls_retried
        ));
    }
    out.push_str(&format!("Checkpoint: {}\n", r.checkpoint));
    if let Some(reason) = &r.stopped {
        out.push_str(&format!("STOPPED ({reason}).\n"));
    }
    if let Some(resume) = &r.resume {
        out.push_str(&format!("{}\n", resume.render(&crate::remedies::Flags)));
    }
    if let Some(v) = &r.verification {
        out.push_str(&dynamo_compare_text(v));
    }
    out
}

/// `dynamo migrate`: each data migration's state, what ran, and any drift.
pub fn dynamo_migrate_text(r: &holdfast_report::dynamo::DataMigrateReport) -> String {
    let mut out = format!(
        "Data migrations in {} (history table {}):\n",
        r.dir, r.history_table
    );
    if r.migrations.is_empty() {
        out.push_str("  none\n");
    }
    for m in &r.migrations {
        let tables = if m.in_place {
            format!("{} in place", m.source)
        } else if m.source.is_empty() {
            String::new()
        } else {
            format!("{} → {}", m.source, m.target)
        };
        out.push_str(&format!(
            "  V{:<10} {:<9} {:<40} {}\n",
            m.version, m.state, m.description, tables
        ));
        if let Some(c) = &m.copy {
            out.push_str(&format!(
                "             {} read, {} written, {} unchanged, {} dropped in {:.1} s\n",
                c.items_read,
                c.items_written,
                c.items_unchanged,
                c.items_dropped,
                c.elapsed_ms as f64 / 1000.0
            ));
        }
    }
    for p in &r.problems {
        out.push_str(&format!("DRIFT: {p}\n"));
    }
    if !r.problems.is_empty() {
        out.push_str("Nothing was run.\n");
    } else if r.dry_run {
        out.push_str(&format!(
            "Dry run: {} to run, nothing changed.\n",
            r.pending
        ));
    } else {
        out.push_str(&format!(
            "Applied {} now; {} left.\n",
            r.applied_now, r.pending
        ));
    }
    if let Some(resume) = &r.resume {
        out.push_str(&format!("{}\n", resume.render(&crate::remedies::Flags)));
    }
    out
}
