//! Which columns a table's rewrite reads and writes: its key, the sanitized columns, and the
//! columns a date shift is keyed by; and where each sits in a row read for the rewrite.

use crate::tables::Table;

/// The columns of one table's rewrite, as positions in `table.columns`.
#[derive(Debug, Clone)]
pub struct RewriteColumns {
    /// The sanitized columns (rewritten), in table order.
    pub sanitized: Vec<usize>,
    /// The columns read after the key: the sanitized ones, then entity columns not among them.
    pub read: Vec<usize>,
}

impl RewriteColumns {
    /// The columns of `table`'s rewrite.
    #[must_use]
    pub fn of(table: &Table) -> RewriteColumns {
        let sanitized: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].rule.is_some())
            .collect();
        let mut read = sanitized.clone();
        for &i in &sanitized {
            if let Some(e) = table.columns[i].entity {
                if !read.contains(&e) {
                    read.push(e);
                }
            }
        }
        RewriteColumns { sanitized, read }
    }

    /// Where column `column` (a position in `table.columns`) is among the fields read after
    /// `key_len` key fields.
    #[must_use]
    pub fn field_of(&self, key_len: usize, column: usize) -> Option<usize> {
        self.read
            .iter()
            .position(|&c| c == column)
            .map(|p| key_len + p)
    }
}
