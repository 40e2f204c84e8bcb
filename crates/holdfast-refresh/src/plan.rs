//! `refresh plan`: every column of every table classified against the rules, nothing copied.
//!
//! A column is sanitized (a rule), kept (`keep` with a reason), kept by default (numbers,
//! dates, booleans, enums, UUIDs), generated (computed by the server), or *unclassified*: a
//! text, JSON, binary, address or array column without a rule. Any unclassified column, and
//! any rule that names nothing in the database, fails the plan (exit 3) — and with it `copy`
//! and `sanitize`, before they touch anything. Each unclassified column gets a suggestion from
//! its name, else from the shapes of a sample of its values; the sample is never shown.

use crate::catalog::{self, Column};
use crate::config::{RefreshConfig, Rule};
use crate::db::{DbUrl, Engine};
use crate::detect;
use crate::RefreshError;
use holdfast_report::refresh::{ColumnClass, ColumnPlan, RefreshPlanReport, RefreshPlanSummary};
use holdfast_report::{Command, Envelope, Outcome};
use std::collections::BTreeSet;

/// Values read from an unclassified column for its suggestion.
const SAMPLE_SIZE: u32 = 200;

/// The classification of `columns` under `rules`: one entry per column, in catalog order, and
/// the rules that match no column.
#[must_use]
pub fn classify(columns: &[Column], rules: &RefreshConfig) -> (Vec<ColumnPlan>, Vec<String>) {
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    let plans = columns
        .iter()
        .map(|c| {
            // A partition follows the rules of the table it is a partition of.
            let (schema, table) = c
                .partition_of
                .clone()
                .unwrap_or_else(|| (c.schema.clone(), c.table.clone()));
            let rule = rules.rule(&schema, &table, &c.name);
            if rule.is_some() {
                let key = if rules.tables.contains_key(&format!("{schema}.{table}")) {
                    format!("{schema}.{table}")
                } else {
                    table.clone()
                };
                used.insert((key, c.name.clone()));
            }
            let (class, label, reason) = match (rule, c.generated) {
                (_, true) => (ColumnClass::Generated, rule.map(Rule::label), None),
                (Some(Rule::Keep { reason }), _) => {
                    (ColumnClass::Keep, Some("keep"), Some(reason.clone()))
                }
                (Some(r @ Rule::Transform(_)), _) => (ColumnClass::Sanitize, Some(r.label()), None),
                (None, _) if c.kind.needs_rule() => (ColumnClass::Unclassified, None, None),
                (None, _) => (ColumnClass::DefaultKeep, None, None),
            };
            ColumnPlan {
                table: format!("{}.{}", c.schema, c.table),
                column: c.name.clone(),
                data_type: c.data_type.clone(),
                class,
                rule: label.map(str::to_string),
                reason,
                suggestion: None,
                partition_of: c.partition_of.as_ref().map(|(s, t)| format!("{s}.{t}")),
            }
        })
        .collect();
    let unmatched = rules
        .tables
        .iter()
        .flat_map(|(table, cols)| cols.keys().map(move |c| (table.clone(), c.clone())))
        .filter(|k| !used.contains(k))
        .map(|(t, c)| format!("{t}.{c}"))
        .collect();
    (plans, unmatched)
}

/// What stops a copy or a sanitize before it touches anything: the unclassified columns and
/// the rules that match nothing (both empty: it may go on).
#[must_use]
pub fn gate(columns: &[Column], rules: &RefreshConfig) -> (Vec<ColumnPlan>, Vec<String>) {
    let (plans, unmatched) = classify(columns, rules);
    (
        plans
            .into_iter()
            .filter(|p| p.class == ColumnClass::Unclassified)
            .collect(),
        unmatched,
    )
}

/// The report of a classification.
#[must_use]
pub fn report(
    database: &DbUrl,
    columns: Vec<ColumnPlan>,
    unmatched_rules: Vec<String>,
) -> RefreshPlanReport {
    let count = |class| columns.iter().filter(|c| c.class == class).count();
    let summary = RefreshPlanSummary {
        tables: columns
            .iter()
            .map(|c| c.table.as_str())
            .collect::<BTreeSet<_>>()
            .len(),
        columns: columns.len(),
        sanitized: count(ColumnClass::Sanitize),
        kept: count(ColumnClass::Keep),
        default_kept: count(ColumnClass::DefaultKeep),
        generated: count(ColumnClass::Generated),
        unclassified: count(ColumnClass::Unclassified),
        unmatched_rules: unmatched_rules.len(),
    };
    let outcome = if summary.unclassified + summary.unmatched_rules > 0 {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    };
    RefreshPlanReport {
        envelope: Envelope::new(Command::RefreshPlan, outcome),
        database: database.to_string(),
        engine: match database.engine {
            Engine::Postgres => "postgres",
            Engine::MySql => "mysql",
        }
        .into(),
        summary,
        columns,
        unmatched_rules,
    }
}

/// Reads the catalog of `source` and classifies every column; samples each unclassified
/// column for its suggestion. Reads only.
///
/// # Errors
/// The database cannot be reached or read.
pub async fn plan(
    source: &DbUrl,
    rules: &RefreshConfig,
) -> Result<RefreshPlanReport, RefreshError> {
    let mut conn = source.connect().await?;
    let columns = catalog::columns(source, &mut conn).await?;
    let (mut plans, unmatched) = classify(&columns, rules);
    for (plan, column) in plans.iter_mut().zip(&columns) {
        if plan.class != ColumnClass::Unclassified {
            continue;
        }
        plan.suggestion = match detect::suggest_from_name(&column.name) {
            Some(s) => Some(s.to_string()),
            None => {
                let sample = catalog::sample(source, &mut conn, column, SAMPLE_SIZE).await?;
                Some(
                    detect::suggest_from_values(sample.iter().map(String::as_str))
                        .unwrap_or("keep")
                        .to_string(),
                )
            }
        };
    }
    Ok(report(source, plans, unmatched))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::TypeKind;

    fn col(table: &str, name: &str, kind: TypeKind) -> Column {
        Column {
            schema: "public".into(),
            table: table.into(),
            name: name.into(),
            data_type: "text".into(),
            kind,
            generated: false,
            partition_of: None,
            partitioned: false,
            max_chars: None,
            unique: false,
        }
    }

    #[test]
    fn every_column_gets_a_class_and_stale_rules_are_named() {
        let rules = RefreshConfig::parse(
            "[refresh.tables.users]\nemail = \"email\"\nnotes = { keep = \"reviewed\" }\nnickname = \"first_name\"\n[refresh.tables.events]\npayload = { transform = \"json\", paths = { \"$.email\" = \"email\" } }\n",
        )
        .unwrap();
        let mut part = col("events_2024", "payload", TypeKind::Document);
        part.partition_of = Some(("public".into(), "events".into()));
        let mut generated = col("users", "email_domain", TypeKind::Text);
        generated.generated = true;
        let columns = [
            col("users", "id", TypeKind::Scalar),
            col("users", "email", TypeKind::Text),
            col("users", "notes", TypeKind::Text),
            col("users", "phone", TypeKind::Text),
            generated,
            part,
        ];
        let (plans, unmatched) = classify(&columns, &rules);
        let classes: Vec<ColumnClass> = plans.iter().map(|p| p.class).collect();
        assert_eq!(
            classes,
            [
                ColumnClass::DefaultKeep,
                ColumnClass::Sanitize,
                ColumnClass::Keep,
                ColumnClass::Unclassified,
                ColumnClass::Generated,
                ColumnClass::Sanitize,
            ]
        );
        assert_eq!(unmatched, ["users.nickname"]);
        let url = DbUrl::parse("--source", "postgres://localhost/app").unwrap();
        let r = report(&url, plans, unmatched);
        assert_eq!(r.outcome(), Outcome::CheckFailed);
        assert_eq!((r.summary.unclassified, r.summary.tables), (1, 2));
    }
}
