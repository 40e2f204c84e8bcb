//! Refresh reports as text. A report holds no value, so neither does its text.

use holdfast_report::refresh::{ColumnClass, RefreshPlanReport};

/// A plan as text: the unclassified columns first (each with its suggestion), then the rules
/// that match nothing, then every table's columns and the counts.
pub fn refresh_plan_text(r: &RefreshPlanReport) -> String {
    let mut out = format!("Refresh plan — {} ({})\n", r.database, r.engine);
    let unclassified: Vec<_> = r
        .columns
        .iter()
        .filter(|c| c.class == ColumnClass::Unclassified)
        .collect();
    if !unclassified.is_empty() {
        out.push_str(
            "\nUNCLASSIFIED (add a rule or { keep = \"reason\" } in [refresh.tables.TABLE]):\n",
        );
        let rows: Vec<Vec<String>> = unclassified
            .iter()
            .map(|c| {
                vec![
                    format!("{}.{}", c.table, c.column),
                    c.data_type.clone(),
                    c.suggestion
                        .as_deref()
                        .map(|s| format!("suggested: {s}"))
                        .unwrap_or_default(),
                ]
            })
            .collect();
        out.push_str(&super::table(&rows));
    }
    if !r.unmatched_rules.is_empty() {
        out.push_str("\nRULES THAT MATCH NO COLUMN (renamed or dropped?):\n");
        for rule in &r.unmatched_rules {
            out.push_str(&format!("  {rule}\n"));
        }
    }
    out.push_str("\nColumns:\n");
    let rows: Vec<Vec<String>> = r
        .columns
        .iter()
        .filter(|c| c.class != ColumnClass::Unclassified)
        .map(|c| {
            let how = match c.class {
                ColumnClass::Sanitize => c.rule.clone().unwrap_or_default(),
                ColumnClass::Keep => format!("keep: {}", c.reason.as_deref().unwrap_or("")),
                ColumnClass::DefaultKeep => "keep (default for its type)".into(),
                ColumnClass::Generated => "generated".into(),
                ColumnClass::Unclassified => String::new(),
            };
            vec![
                format!("{}.{}", c.table, c.column),
                c.data_type.clone(),
                how,
            ]
        })
        .collect();
    out.push_str(&super::table(&rows));
    let s = &r.summary;
    out.push_str(&format!(
        "\n{} tables, {} columns: {} sanitized, {} kept, {} kept by default, {} generated, {} unclassified, {} unmatched rules\n",
        s.tables, s.columns, s.sanitized, s.kept, s.default_kept, s.generated, s.unclassified, s.unmatched_rules
    ));
    out
}

/// The leak proof as text.
fn proof_text(p: &holdfast_report::refresh::LeakProof) -> String {
    let mut out = format!(
        "\nLeak proof: {} originals looked for in {} values of {} text and JSON columns: ",
        p.originals, p.values_scanned, p.columns_scanned
    );
    if p.hits.is_empty() {
        out.push_str("none found\n");
    } else {
        out.push_str("ORIGINALS FOUND\n");
        for h in &p.hits {
            out.push_str(&format!(
                "  {}.{}: {} values\n",
                h.table, h.column, h.values
            ));
        }
    }
    if !p.dictionary_columns.is_empty() {
        out.push_str(&format!(
            "  checked by their rule only (names, cities, constants): {}\n",
            p.dictionary_columns.join(", ")
        ));
    }
    out
}

/// A copy as text: refused (with the unclassified columns), or the tables, counts and proof.
pub fn refresh_copy_text(r: &holdfast_report::refresh::RefreshCopyReport) -> String {
    let mut out = format!("Refresh copy — {} → {}\n", r.source, r.target);
    if !r.unclassified.is_empty() || !r.unmatched_rules.is_empty() {
        out.push_str("\nNothing copied: every column needs a rule first (see refresh plan).\n");
        out.push_str(&refused_columns(&r.unclassified, &r.unmatched_rules));
        return out;
    }
    if r.summary.restarted {
        out.push_str("The unfinished copy of an earlier run was dropped first.\n");
    }
    out.push_str(&tables_text(&r.tables));
    let s = &r.summary;
    out.push_str(&format!(
        "\n{} tables, {} rows, {} sanitized columns, {} sequences set in {:.1} s\n",
        s.tables,
        s.rows,
        s.sanitized_columns,
        s.sequences,
        s.elapsed_ms as f64 / 1000.0
    ));
    if let Some(p) = &r.verify {
        out.push_str(&proof_text(p));
    }
    out
}

/// A verification as text.
pub fn refresh_verify_text(r: &holdfast_report::refresh::RefreshVerifyReport) -> String {
    format!(
        "Refresh verify — {} against {}\n{}",
        r.target,
        r.source,
        proof_text(&r.proof)
    )
}

/// A sanitize as text: refused (with the unclassified columns), stopped (with how to go on),
/// or the tables, counts and proof.
pub fn refresh_sanitize_text(r: &holdfast_report::refresh::RefreshSanitizeReport) -> String {
    let mut out = format!("Refresh sanitize — {} (in place)\n", r.database);
    if !r.unclassified.is_empty() || !r.unmatched_rules.is_empty() {
        out.push_str("\nNothing changed: every column needs a rule first (see refresh plan).\n");
        out.push_str(&refused_columns(&r.unclassified, &r.unmatched_rules));
        return out;
    }
    let s = &r.summary;
    if s.finished_before {
        out.push_str("\nAlready sanitized and proven by an earlier run with this key and these rules: nothing to do.\n");
        return out;
    }
    out.push_str(&tables_text(&r.tables));
    out.push_str(&format!(
        "\n{} tables ({} done by an earlier run{}), {} rows rewritten, {} sanitized columns in {:.1} s\n",
        s.tables,
        s.tables_already_done,
        if s.resumed { ", resumed" } else { "" },
        s.rows,
        s.sanitized_columns,
        s.elapsed_ms as f64 / 1000.0
    ));
    if let Some(stopped) = &r.stopped {
        out.push_str(&format!("\nStopped ({stopped}).\n"));
    }
    if let Some(resume) = &r.resume {
        out.push_str(&format!("{}\n", resume.render(&crate::remedies::Flags)));
    }
    if let Some(p) = &r.verify {
        out.push_str(&proof_text(p));
    }
    if let Some(file) = &r.originals_file {
        out.push_str(&format!("Originals' keyed hashes written to {file}\n"));
    }
    out
}

/// The columns and rules that make a copy or a sanitize refuse to start.
fn refused_columns(
    unclassified: &[holdfast_report::refresh::ColumnPlan],
    unmatched_rules: &[String],
) -> String {
    let mut out = String::new();
    for c in unclassified {
        out.push_str(&format!(
            "  unclassified {}.{} ({}){}\n",
            c.table,
            c.column,
            c.data_type,
            c.suggestion
                .as_deref()
                .map(|s| format!(" suggested: {s}"))
                .unwrap_or_default()
        ));
    }
    for rule in unmatched_rules {
        out.push_str(&format!("  rule matches no column: {rule}\n"));
    }
    out
}

/// The tables a copy or sanitize wrote: rows and sanitized columns.
fn tables_text(tables: &[holdfast_report::refresh::TableCopy]) -> String {
    let rows: Vec<Vec<String>> = tables
        .iter()
        .map(|t| {
            vec![
                t.table.clone(),
                format!("{} rows", t.rows),
                t.sanitized_columns.join(", "),
            ]
        })
        .collect();
    super::table(&rows)
}
