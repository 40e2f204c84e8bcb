//! Reading the Data API's typed records (`Field` unions) into Holdfast's values: text,
//! integers and history rows. NULL is `isNull`; an integer may arrive as `longValue` or, for
//! types the Data API renders as text (NUMERIC, unsigned BIGINT), as `stringValue` digits.
//! Anything else is an error naming the column, never a guess.

use aws_sdk_rdsdata::types::Field;
use holdfast_core::history::{HistoryRow, RowState};
use holdfast_core::migration::Kind;
use std::time::{Duration, UNIX_EPOCH};

/// A column that does not hold what Holdfast expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column `{column}`: {problem}")]
pub struct FieldError {
    pub column: &'static str,
    pub problem: String,
}

impl holdfast_core::exit::Classify for FieldError {
    /// The database answered with something Holdfast's own query did not expect: the operation
    /// failed (the input may be fine).
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        holdfast_core::exit::Outcome::Failed
    }
}

fn kind_of(field: &Field) -> &'static str {
    match field {
        Field::StringValue(_) => "stringValue",
        Field::LongValue(_) => "longValue",
        Field::DoubleValue(_) => "doubleValue",
        Field::BooleanValue(_) => "booleanValue",
        Field::BlobValue(_) => "blobValue",
        Field::ArrayValue(_) => "arrayValue",
        Field::IsNull(_) => "isNull",
        _ => "an unknown field type",
    }
}

/// Text or NULL.
pub fn opt_text(column: &'static str, field: Option<&Field>) -> Result<Option<String>, FieldError> {
    match field {
        Some(Field::StringValue(s)) => Ok(Some(s.clone())),
        Some(Field::IsNull(true)) => Ok(None),
        Some(other) => Err(FieldError {
            column,
            problem: format!("expected text, got {}", kind_of(other)),
        }),
        None => Err(FieldError {
            column,
            problem: "missing from the record".into(),
        }),
    }
}

/// Text, not NULL.
pub fn text(column: &'static str, field: Option<&Field>) -> Result<String, FieldError> {
    opt_text(column, field)?.ok_or_else(|| FieldError {
        column,
        problem: "is NULL".into(),
    })
}

/// An integer or NULL.
pub fn opt_long(column: &'static str, field: Option<&Field>) -> Result<Option<i64>, FieldError> {
    let bad = |problem: String| FieldError { column, problem };
    match field {
        Some(Field::LongValue(n)) => Ok(Some(*n)),
        Some(Field::StringValue(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(format!("expected an integer, got text `{s}`"))),
        Some(Field::DoubleValue(d)) if d.fract() == 0.0 && d.abs() < 9.0e15 => Ok(Some(*d as i64)),
        Some(Field::IsNull(true)) => Ok(None),
        Some(other) => Err(bad(format!("expected an integer, got {}", kind_of(other)))),
        None => Err(bad("missing from the record".into())),
    }
}

/// An integer, not NULL.
pub fn long(column: &'static str, field: Option<&Field>) -> Result<i64, FieldError> {
    opt_long(column, field)?.ok_or_else(|| FieldError {
        column,
        problem: "is NULL".into(),
    })
}

/// One row of `dialect::select_history` (its column order).
pub fn history_row(record: &[Field]) -> Result<HistoryRow, FieldError> {
    let at = |i: usize| record.get(i);
    let kind = text("kind", at(3))?;
    let state = text("state", at(9))?;
    Ok(HistoryRow {
        id: long("id", at(0))?,
        version: opt_text("version", at(1))?,
        description: text("description", at(2))?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Versioned),
        script: text("script", at(4))?,
        checksum: text("checksum", at(5))?,
        applied_at: opt_long("applied_at", at(6))?
            .and_then(|secs| u64::try_from(secs).ok())
            .map(|secs| {
                humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs))
                    .to_string()
            })
            .unwrap_or_default(),
        applied_by: text("applied_by", at(7))?,
        execution_ms: long("execution_ms", at(8))?,
        // An unknown state is treated as failed: never silently as applied.
        state: RowState::parse(&state).unwrap_or(RowState::Failed),
        statements_applied: long("statements_applied", at(10))?,
        statements_total: long("statements_total", at(11))?,
        prefix_checksum: opt_text("prefix_checksum", at(12))?,
        error: opt_text("error", at(13))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Field {
        Field::StringValue(v.into())
    }

    #[test]
    fn reads_a_history_row_with_nulls_and_bigints() {
        let record = vec![
            Field::LongValue(7),
            Field::IsNull(true),
            s("views"),
            s("repeatable"),
            s("R__views.sql"),
            s("abc"),
            Field::LongValue(1_700_000_000),
            s("me@host"),
            s("9007199254740993"),
            s("applied"),
            Field::LongValue(2),
            Field::LongValue(2),
            Field::IsNull(true),
            Field::IsNull(true),
        ];
        let row = history_row(&record).unwrap();
        assert_eq!(row.id, 7);
        assert_eq!(row.version, None);
        assert_eq!(row.kind, Kind::Repeatable);
        assert_eq!(row.applied_at, "2023-11-14T22:13:20Z");
        assert_eq!(row.execution_ms, 9_007_199_254_740_993);
        assert_eq!(row.state, RowState::Applied);
        assert_eq!(row.prefix_checksum, None);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(long("id", Some(&Field::IsNull(true))).is_err());
        assert!(long("id", Some(&Field::BooleanValue(true))).is_err());
        assert!(long("id", Some(&s("12x"))).is_err());
        assert!(text("kind", None).is_err());
        assert_eq!(opt_long("n", Some(&Field::DoubleValue(3.0))), Ok(Some(3)));
        assert!(history_row(&[Field::LongValue(1)]).is_err());
    }

    #[test]
    fn an_unexpected_column_fails_the_operation() {
        use holdfast_core::exit::Classify as _;
        let error = long("id", Some(&s("x"))).expect_err("not a number");
        assert_eq!(error.outcome().code(), 1, "{error}");
    }
}
