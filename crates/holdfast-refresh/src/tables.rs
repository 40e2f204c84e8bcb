//! The tables a copy or a scan works on: the catalog's columns grouped per table, each with the
//! rule that applies to it (a partition's from its partitioned table).

use crate::catalog::{Column, TypeKind};
use crate::config::{RefreshConfig, Rule};
use crate::transform::Transform;

/// One column of a table to copy.
#[derive(Debug, Clone)]
pub struct TableColumn {
    pub name: String,
    pub kind: TypeKind,
    /// The rule, when it rewrites values (a `keep` is `None`).
    pub rule: Option<Rule>,
    /// The most characters a value may have.
    pub max_chars: Option<usize>,
    /// For a date shift `by` another column: that column's position in the table's columns.
    pub entity: Option<usize>,
    /// A unique key on its own: its fakes must differ too.
    pub unique: bool,
}

/// A table with rows of its own (not a partitioned parent), and its written columns (not the
/// generated ones), in catalog order.
#[derive(Debug, Clone)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub columns: Vec<TableColumn>,
}

impl Table {
    /// `schema.table`.
    #[must_use]
    pub fn path(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// Whether a rule rewrites any of its columns.
    #[must_use]
    pub fn is_sanitized(&self) -> bool {
        self.columns.iter().any(|c| c.rule.is_some())
    }

    /// The names of the columns a rule rewrites.
    #[must_use]
    pub fn sanitized_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.rule.is_some())
            .map(|c| c.name.clone())
            .collect()
    }
}

/// The tables of `columns` under `rules`.
#[must_use]
pub fn tables(columns: &[Column], rules: &RefreshConfig) -> Vec<Table> {
    let mut out: Vec<Table> = Vec::new();
    for c in columns.iter().filter(|c| !c.partitioned && !c.generated) {
        if out
            .last()
            .is_none_or(|t| t.schema != c.schema || t.name != c.table)
        {
            out.push(Table {
                schema: c.schema.clone(),
                name: c.table.clone(),
                columns: Vec::new(),
            });
        }
        let (schema, table) = c
            .partition_of
            .clone()
            .unwrap_or_else(|| (c.schema.clone(), c.table.clone()));
        let rule = rules
            .rule(&schema, &table, &c.name)
            .filter(|r| matches!(r, Rule::Transform(_)))
            .cloned();
        if let Some(t) = out.last_mut() {
            t.columns.push(TableColumn {
                name: c.name.clone(),
                kind: c.kind,
                rule,
                max_chars: c.max_chars,
                entity: None,
                unique: c.unique,
            });
        }
    }
    for t in &mut out {
        let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        for c in &mut t.columns {
            if let Some(Rule::Transform(Transform::DateShift { by: Some(by), .. })) = &c.rule {
                c.entity = names.iter().position(|n| n == by);
            }
        }
    }
    out
}
