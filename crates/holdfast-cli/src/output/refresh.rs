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
