//! One sanitized value: the rule applied to it (with the row's entity value for a date shift
//! `by` another column), the fake checked against the column's length, a non-JSON fake in a
//! JSON column written as a JSON string, and never a fake that is itself one of the data's
//! originals (it is drawn again, [`crate::transform::Transform::apply_avoiding`]). `copy` and
//! `sanitize` both rewrite through here.

use crate::catalog::TypeKind;
use crate::config::Rule;
use crate::copy_text;
use crate::leak::Originals;
use crate::tables::{Table, TableColumn};
use crate::transform::{Key, RowContext};

/// What new values are drawn with: the key, and the data's originals (sealed), which no fake
/// may be.
#[derive(Debug)]
pub struct Fakes {
    pub key: Key,
    pub originals: std::sync::Arc<Originals>,
}

/// The new value of column `column` of `table` for the original `value`. `entity` is the
/// value of the column a date shift is keyed by. A column without a rule keeps its value.
///
/// # Errors
/// The transform cannot make a value, or its fake does not fit the column: the message names
/// the table and column, never the value.
pub fn new_value(
    table: &Table,
    column: &TableColumn,
    value: Option<&str>,
    entity: Option<&str>,
    fakes: &Fakes,
) -> Result<Option<String>, String> {
    let Fakes { key, originals } = fakes;
    let Some(Rule::Transform(transform)) = &column.rule else {
        return Ok(value.map(str::to_string));
    };
    let new = transform
        .apply_avoiding(key, value, RowContext { entity }, &|fake| {
            originals.hit(key, fake, false)
        })
        .map_err(|e| format!("{}.{}: {e}", table.path(), column.name))?;
    if let (Some(max), Some(v)) = (column.max_chars, new.as_deref()) {
        let len = v.chars().count();
        if len > max {
            return Err(format!(
                "{}.{}: a {} fake of {len} characters does not fit the column's {max}; widen the column or choose a shorter transform (nothing is truncated)",
                table.path(),
                column.name,
                transform.name()
            ));
        }
    }
    Ok(
        if column.kind == TypeKind::Document && transform.name() != "json" {
            // A non-JSON fake in a JSON column: written as a JSON string.
            new.map(|v| serde_json::Value::String(v).to_string())
        } else {
            new
        },
    )
}

/// [`new_value`] for a field in `COPY` text form (`entity`: the field of the column a date
/// shift is keyed by), appended to `out` in the same form.
///
/// # Errors
/// As [`new_value`].
pub fn rewrite_copy_field(
    table: &Table,
    column: &TableColumn,
    field: Option<&[u8]>,
    entity: Option<&[u8]>,
    fakes: &Fakes,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let value = field.and_then(copy_text::decode);
    let entity = entity.and_then(copy_text::decode);
    let new = new_value(table, column, value.as_deref(), entity.as_deref(), fakes)?;
    copy_text::encode(new.as_deref(), out);
    Ok(())
}
