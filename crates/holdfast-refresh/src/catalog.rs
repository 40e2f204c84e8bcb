//! The columns of every table, read from the catalog of PostgreSQL (`pg_catalog`) or MySQL
//! (`information_schema`), with what decides their classification: the kind of their type
//! (a domain's base type), whether they are generated, and the partitioned table a
//! partition belongs to.

use crate::db::{quote, Conn, DbUrl, Engine};
use crate::RefreshError;
use sqlx::Row;

/// What a column's type can hold, as far as personal data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    /// Characters: text, varchar, char, citext, …
    Text,
    /// JSON documents (json, jsonb) and XML.
    Document,
    /// Bytes (bytea, blob, binary).
    Binary,
    /// Network addresses (inet, cidr, macaddr).
    Network,
    /// Arrays, sets and composite values.
    Compound,
    /// Numbers, dates, booleans, enums, UUIDs, …: kept unless a rule says otherwise.
    Scalar,
}

impl TypeKind {
    /// Whether a column of this kind needs a rule (a rule or `keep` with a reason).
    #[must_use]
    pub fn needs_rule(self) -> bool {
        self != TypeKind::Scalar
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// The type as the server prints it (`character varying(200)`, `varchar(200)`).
    pub data_type: String,
    pub kind: TypeKind,
    /// Computed by the server: never written, so never sanitized.
    pub generated: bool,
    /// The partitioned table (`schema`, `table`) this table is a partition of: its rules apply.
    pub partition_of: Option<(String, String)>,
    /// The most characters a value may have (`varchar(n)`, `char(n)`).
    pub max_chars: Option<usize>,
    /// The table is itself partitioned (PostgreSQL): its rows are in its partitions.
    pub partitioned: bool,
    /// A unique key of its own (a unique index on this column alone, not partial).
    pub unique: bool,
}

impl Column {
    /// `schema.table.column`.
    #[must_use]
    pub fn path(&self) -> String {
        format!("{}.{}.{}", self.schema, self.table, self.name)
    }
}

const POSTGRES_COLUMNS: &str = r"
SELECT n.nspname AS schema_name, c.relname AS table_name, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       COALESCE(bt.typname, t.typname)::text AS base_type,
       COALESCE(bt.typcategory, t.typcategory)::text AS category,
       a.attgenerated::text <> '' AS generated,
       pn.nspname AS parent_schema, p.relname AS parent_table, c.relkind = 'p' AS partitioned,
       EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisunique
               AND x.indnkeyatts = 1 AND x.indkey[0] = a.attnum AND x.indpred IS NULL) AS is_unique,
       CASE WHEN COALESCE(bt.typname, t.typname) IN ('varchar', 'bpchar')
            THEN COALESCE(NULLIF(a.atttypmod, -1), NULLIF(t.typtypmod, -1)) - 4 END AS max_chars
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
LEFT JOIN pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
LEFT JOIN pg_class p ON p.oid = i.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname <> 'holdfast_refresh'
ORDER BY n.nspname, c.relname, a.attnum";

const MYSQL_COLUMNS: &str = r"
SELECT c.TABLE_SCHEMA AS schema_name, c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name,
       CAST(c.COLUMN_TYPE AS CHAR) AS data_type, CAST(c.DATA_TYPE AS CHAR) AS base_type,
       CAST(c.EXTRA AS CHAR) AS extra,
       CAST(EXISTS (SELECT 1 FROM information_schema.STATISTICS s
               WHERE s.TABLE_SCHEMA = c.TABLE_SCHEMA AND s.TABLE_NAME = c.TABLE_NAME
                 AND s.COLUMN_NAME = c.COLUMN_NAME AND s.NON_UNIQUE = 0
                 AND (SELECT COUNT(*) FROM information_schema.STATISTICS s2
                      WHERE s2.TABLE_SCHEMA = s.TABLE_SCHEMA AND s2.TABLE_NAME = s.TABLE_NAME
                        AND s2.INDEX_NAME = s.INDEX_NAME) = 1) AS SIGNED) AS is_unique,
       CASE WHEN c.DATA_TYPE IN ('char', 'varchar') THEN CAST(c.CHARACTER_MAXIMUM_LENGTH AS SIGNED) END AS max_chars
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
  AND c.TABLE_NAME NOT LIKE 'holdfast\\_refresh\\_%' AND c.COLUMN_NAME <> 'holdfast_refresh_rowid'
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION";

/// The kind of a PostgreSQL type, from its category (`pg_type.typcategory`) and name.
fn postgres_kind(base_type: &str, category: &str) -> TypeKind {
    match (category, base_type) {
        (_, "json" | "jsonb" | "xml") => TypeKind::Document,
        (_, "bytea") => TypeKind::Binary,
        ("S", _) => TypeKind::Text,
        ("I", _) | (_, "macaddr" | "macaddr8") => TypeKind::Network,
        ("A" | "C", _) => TypeKind::Compound,
        _ => TypeKind::Scalar,
    }
}

/// The kind of a MySQL type, from `DATA_TYPE`.
fn mysql_kind(data_type: &str) -> TypeKind {
    match data_type.to_ascii_lowercase().as_str() {
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => TypeKind::Text,
        "json" => TypeKind::Document,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            TypeKind::Binary
        }
        "set" => TypeKind::Compound,
        _ => TypeKind::Scalar,
    }
}

/// Every column of every table of the database (PostgreSQL: every schema but the system's).
///
/// # Errors
/// The catalog cannot be read.
pub async fn columns(url: &DbUrl, conn: &mut Conn) -> Result<Vec<Column>, RefreshError> {
    let err = |e: sqlx::Error| RefreshError::database(&url.to_string(), &e);
    match conn {
        Conn::Postgres(c) => {
            let rows = sqlx::query(POSTGRES_COLUMNS)
                .fetch_all(&mut *c)
                .await
                .map_err(err)?;
            rows.iter()
                .map(|r| {
                    let parent_schema: Option<String> = r.try_get("parent_schema")?;
                    let parent_table: Option<String> = r.try_get("parent_table")?;
                    let base: String = r.try_get("base_type")?;
                    let category: String = r.try_get("category")?;
                    Ok(Column {
                        schema: r.try_get("schema_name")?,
                        table: r.try_get("table_name")?,
                        name: r.try_get("column_name")?,
                        data_type: r.try_get("data_type")?,
                        kind: postgres_kind(&base, &category),
                        generated: r.try_get("generated")?,
                        partition_of: parent_schema.zip(parent_table),
                        partitioned: r.try_get("partitioned")?,
                        unique: r.try_get("is_unique")?,
                        max_chars: r
                            .try_get::<Option<i32>, _>("max_chars")?
                            .and_then(|n| usize::try_from(n).ok()),
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(err)
        }
        Conn::MySql(c) => {
            let rows = sqlx::query(MYSQL_COLUMNS)
                .fetch_all(&mut *c)
                .await
                .map_err(err)?;
            rows.iter()
                .map(|r| {
                    let base: String = r.try_get("base_type")?;
                    let extra: String = r.try_get("extra")?;
                    Ok(Column {
                        schema: r.try_get("schema_name")?,
                        table: r.try_get("table_name")?,
                        name: r.try_get("column_name")?,
                        data_type: r.try_get("data_type")?,
                        kind: mysql_kind(&base),
                        generated: extra.to_ascii_uppercase().contains("GENERATED"),
                        partition_of: None,
                        partitioned: false,
                        unique: r.try_get::<i64, _>("is_unique")? != 0,
                        max_chars: r
                            .try_get::<Option<i64>, _>("max_chars")?
                            .and_then(|n| usize::try_from(n).ok()),
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(err)
        }
    }
}

/// Up to `limit` non-null values of a column, as text (for suggestions; never printed).
///
/// # Errors
/// The table cannot be read.
pub async fn sample(
    url: &DbUrl,
    conn: &mut Conn,
    column: &Column,
    limit: u32,
) -> Result<Vec<String>, RefreshError> {
    let err = |e: sqlx::Error| RefreshError::database(&url.to_string(), &e);
    let engine = match conn {
        Conn::Postgres(_) => Engine::Postgres,
        Conn::MySql(_) => Engine::MySql,
    };
    let (col, table) = (
        quote(engine, &column.name),
        format!(
            "{}.{}",
            quote(engine, &column.schema),
            quote(engine, &column.table)
        ),
    );
    match conn {
        Conn::Postgres(c) => {
            let sql =
                format!("SELECT {col}::text FROM {table} WHERE {col} IS NOT NULL LIMIT {limit}");
            sqlx::query_scalar(&sql)
                .fetch_all(&mut *c)
                .await
                .map_err(err)
        }
        Conn::MySql(c) => {
            let sql = format!(
                "SELECT CAST({col} AS CHAR) FROM {table} WHERE {col} IS NOT NULL LIMIT {limit}"
            );
            let values: Vec<Option<String>> = sqlx::query_scalar(&sql)
                .fetch_all(&mut *c)
                .await
                .map_err(err)?;
            Ok(values.into_iter().flatten().collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_type() {
        assert_eq!(postgres_kind("varchar", "S"), TypeKind::Text);
        assert_eq!(postgres_kind("jsonb", "U"), TypeKind::Document);
        assert_eq!(postgres_kind("uuid", "U"), TypeKind::Scalar);
        assert_eq!(postgres_kind("inet", "I"), TypeKind::Network);
        assert_eq!(postgres_kind("_text", "A"), TypeKind::Compound);
        assert_eq!(postgres_kind("mood", "E"), TypeKind::Scalar);
        assert_eq!(mysql_kind("LONGTEXT"), TypeKind::Text);
        assert_eq!(mysql_kind("enum"), TypeKind::Scalar);
        assert_eq!(mysql_kind("json"), TypeKind::Document);
    }
}
