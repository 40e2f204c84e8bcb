//! Printing: human text or JSON on stdout, errors on stderr, everything through the redactor.
//! A closed stdout (`holdfast … | head`) ends the process with exit code 0.

use crate::cli::OutputArgs;
use holdfast_core::exit;
use holdfast_core::redact::Redactor;
use holdfast_core::remedy::{Remedy, Setting};
use holdfast_report::migrate::{
    Entry, EntryState, PlanReport, Problem, RepairReport, StatusReport, UpReport,
};
use holdfast_report::Report;
use std::io::Write;

/// Writes redacted text to stdout.
pub fn print(text: &str) {
    let text = Redactor::global().redact(text);
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(exit::SUCCESS);
        }
    }
}

/// A report: as pretty JSON with `--json`, else as `text` renders it.
pub fn report<R: Report>(output: OutputArgs, report: &R, text: fn(&R) -> String) {
    if output.json {
        print_json(report);
    } else {
        print(&text(report));
    }
}

/// Writes a report as pretty JSON on stdout.
pub fn print_json<R: Report>(value: &R) {
    match serde_json::to_string_pretty(value) {
        Ok(json) => print(&format!("{json}\n")),
        Err(e) => error_line(&format!("cannot encode the report as JSON: {e}")),
    }
}

/// One redacted line on stderr.
pub fn error_line(message: &str) {
    eprintln!("error: {}", Redactor::global().redact(message));
}

/// A progress line on stderr.
pub fn progress(message: &str) {
    eprintln!("{}", Redactor::global().redact(message));
}

fn state_text(e: &Entry) -> String {
    let at = |e: &Entry| {
        format!(
            "{} of {}",
            e.statements_applied.unwrap_or(0) + 1,
            e.statements_total.unwrap_or(0)
        )
    };
    match e.state {
        EntryState::Applied => "applied".into(),
        EntryState::Pending => "pending".into(),
        EntryState::Outdated => "changed, will re-apply".into(),
        EntryState::Drift => "DRIFT (file changed)".into(),
        EntryState::Missing => "MISSING file".into(),
        EntryState::Future => "applied, newer than files".into(),
        EntryState::Failed => format!("FAILED at statement {}", at(e)),
        EntryState::Interrupted => format!("INTERRUPTED at statement {}", at(e)),
        EntryState::Running => format!("RUNNING or interrupted at statement {}", at(e)),
        EntryState::OutOfOrder => "pending, OUT OF ORDER".into(),
        EntryState::BelowBaseline => "below baseline".into(),
        EntryState::Baseline => "baseline".into(),
    }
}

fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn problems_and_warnings(problems: &[Problem], errors: &[String], warnings: &[String]) -> String {
    let mut out = String::new();
    if !errors.is_empty() {
        out.push_str("\nErrors:\n");
        for e in errors {
            out.push_str(&format!("  {e}\n"));
        }
    }
    if !problems.is_empty() {
        out.push_str("\nProblems:\n");
        for p in problems {
            out.push_str(&format!(
                "  {}: {}\n",
                p.migration,
                crate::remedies::with_remedy(&p.message, p.remedy.as_ref())
            ));
        }
    }
    if !warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for w in warnings {
            out.push_str(&format!("  {w}\n"));
        }
    }
    out
}

/// `status` / `validate` as text.
pub fn status_text(r: &StatusReport) -> String {
    let mut out = format!(
        "Database  {}\nHistory   {}{}\nVersion   {}  ({} pending)\n\n",
        r.database,
        r.history_table,
        if r.history_exists {
            ""
        } else {
            " (not created yet)"
        },
        r.current_version.as_deref().unwrap_or("none"),
        r.pending
    );
    if r.entries.is_empty() {
        out.push_str("  no migrations\n");
    } else {
        let mut rows = vec![vec![
            "VERSION".to_string(),
            "DESCRIPTION".to_string(),
            "STATE".to_string(),
            "APPLIED AT".to_string(),
        ]];
        for e in &r.entries {
            rows.push(vec![
                e.version.clone().unwrap_or_else(|| "R".into()),
                e.description.clone(),
                state_text(e),
                e.applied_at.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&table(&rows));
    }
    out.push_str(&problems_and_warnings(&r.problems, &r.errors, &r.warnings));
    out
}

/// `up` as text (the applied lines were shown as progress on stderr).
pub fn up_text(r: &UpReport) -> String {
    let mut out = String::new();
    match (&r.failed, r.applied.len()) {
        (Some(_), n) => out.push_str(&format!("Applied {n} migration(s) before the failure.\n")),
        (None, 0) if r.problems.is_empty() && r.errors.is_empty() => {
            out.push_str("Nothing to apply: the database is up to date.\n")
        }
        (None, 0) => {}
        (None, n) => out.push_str(&format!("Applied {n} migration(s).\n")),
    }
    out.push_str(&format!(
        "Database is at version {}.\n",
        r.current_version.as_deref().unwrap_or("none")
    ));
    if let Some(f) = &r.failed {
        out.push_str(&format!(
            "\nFailed: {} statement {} of {} (line {}): {}\n  {}\n",
            f.script,
            f.statement,
            f.statements_total,
            f.line,
            f.error,
            crate::remedies::render(&f.remedy)
        ));
    }
    out.push_str(&problems_and_warnings(&r.problems, &r.errors, &r.warnings));
    out
}

/// `plan` as SQL text with comments.
pub fn plan_text(r: &PlanReport) -> String {
    let mut out = format!("-- Plan for {}\n", r.database);
    if r.creates_history_table {
        out.push_str("-- The history table does not exist yet: `up` creates it first.\n");
    }
    if r.steps.is_empty() {
        out.push_str("-- Nothing to apply.\n");
    }
    for step in &r.steps {
        out.push_str(&format!(
            "\n-- {} ({}{})\n",
            step.script,
            if step.transactional {
                "in one transaction with its history row"
            } else {
                "statement by statement, progress recorded"
            },
            if step.resumed_from > 0 {
                format!(", resuming at statement {}", step.resumed_from + 1)
            } else {
                String::new()
            }
        ));
        for sql in &step.statements {
            out.push_str(sql);
            out.push_str(";\n");
        }
    }
    let notes = problems_and_warnings(&r.problems, &r.errors, &r.warnings);
    for line in notes.lines() {
        out.push_str(&format!("-- {line}\n"));
    }
    out
}

/// `repair` as text.
pub fn repair_text(r: &RepairReport) -> String {
    let mut out = String::new();
    if r.removed.is_empty() && r.realigned.is_empty() {
        out.push_str("Nothing to repair.\n");
    }
    for removed in &r.removed {
        out.push_str(&format!("Removed history row: {removed}\n"));
    }
    for realigned in &r.realigned {
        out.push_str(&format!("Accepted the changed checksum of {realigned}\n"));
    }
    out.push_str(&problems_and_warnings(&[], &[], &r.warnings));
    out
}

/// A guard report as text: findings grouped by severity, each with its reason and fix, then
/// the resource changes.
pub fn guard_text(r: &holdfast_report::guard::GuardReport) -> String {
    use holdfast_report::guard::{Action, Severity};
    let mut out = format!(
        "Guard {} — policy: {}{}\n",
        r.envelope.command().as_str().trim_start_matches("guard "),
        r.policy,
        r.stage
            .as_deref()
            .map(|s| format!(" (stage {s})"))
            .unwrap_or_default()
    );
    for (severity, title) in [
        (Severity::Block, "BLOCKING"),
        (Severity::Warn, "Warnings"),
        (Severity::Info, "Notes"),
    ] {
        let group: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{title}:\n"));
        for f in group {
            let at = f
                .location
                .as_ref()
                .map(|l| format!(" ({}:{})", l.file, l.line))
                .unwrap_or_default();
            let who = if f.logical_id.is_empty() {
                f.stack.clone()
            } else {
                format!("{}/{}", f.stack, f.logical_id)
            };
            out.push_str(&format!(
                "  [{}] {who}{at}\n    {}\n    fix: {}\n",
                f.rule, f.message, f.fix
            ));
            match &f.allowed {
                Some(reason) => out.push_str(&format!("    accepted: {reason}\n")),
                None if f.severity == Severity::Block && !f.logical_id.is_empty() => {
                    out.push_str(&format!(
                        "    or, if it is intended: {}\n",
                        crate::remedies::render(&Remedy::using(Setting::AcceptFinding(
                            f.logical_id.clone()
                        )))
                    ));
                }
                None => {}
            }
        }
    }
    let changes: Vec<_> = r
        .changes
        .iter()
        .filter(|c| c.action != Action::None)
        .collect();
    if !changes.is_empty() {
        out.push_str("\nChanges:\n");
        let mut rows = vec![vec![
            "ACTION".to_string(),
            "RESOURCE".to_string(),
            "TYPE".to_string(),
            "WHY".to_string(),
        ]];
        for c in changes {
            let action = serde_json::to_value(c.action)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            rows.push(vec![
                action,
                format!("{}/{}", c.stack, c.logical_id),
                c.resource_type.clone(),
                c.reasons.join("; "),
            ]);
        }
        out.push_str(&table(&rows));
    }
    out.push_str(&format!(
        "\n{} blocking, {} warning(s), {} accepted — {}\n",
        r.summary.blocking,
        r.summary.warnings,
        r.summary.allowed,
        if r.summary.blocking > 0 {
            "NOT safe to deploy"
        } else {
            "safe to deploy as far as the templates show; the change set is the authoritative last check"
        }
    ));
    out
}

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
