//! Unique columns stay unique. Before any row is written, the fakes of every sanitized column
//! that is a unique key on its own are drawn and compared — kept as 64-bit hashes, 8 bytes a
//! row, and a repeated hash confirmed on the fakes themselves — so two originals that would
//! become one fake stop the run naming the table and column, with nothing changed. MySQL
//! compares as its default collations do (case and trailing spaces ignored). A unique key over
//! several columns is left to the database when the rows are written: a collision there names
//! the constraint, and its batch is rolled back.

use crate::config::Rule;
use crate::db::{Conn, DbUrl, Engine};
use crate::rewrite::{new_value, Fakes};
use crate::tables::Table;
use crate::verify::each_value;
use crate::RefreshError;
use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

/// The form two values of a unique key are compared in.
fn compared(engine: Engine, fake: &str) -> String {
    match engine {
        Engine::Postgres => fake.to_string(),
        Engine::MySql => fake.trim_end_matches(' ').to_lowercase(),
    }
}

fn hash(form: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(form)
}

/// Calls `f` with the compared form of the fake of each non-null value of `column`.
async fn each_fake(
    url: &DbUrl,
    conn: &mut Conn,
    table: &Table,
    column: usize,
    fakes: &Fakes,
    mut f: impl FnMut(String),
) -> Result<(), RefreshError> {
    let col = &table.columns[column];
    let mut failure = None;
    each_value(url, conn, table, &[column], |_, v| {
        match new_value(table, col, Some(v), None, fakes) {
            Ok(Some(fake)) => f(compared(url.engine, &fake)),
            Ok(None) => {}
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    })
    .await?;
    failure.map_or(Ok(()), |e| Err(RefreshError::Rules(e)))
}

/// Fails when two originals of a unique sanitized column of `work` would become one fake.
///
/// # Errors
/// Such a pair (a rules error naming the table and column), a rule that cannot make a value,
/// or the database fails.
pub async fn check(
    url: &DbUrl,
    conn: &mut Conn,
    work: &[Table],
    fakes: &Fakes,
) -> Result<(), RefreshError> {
    for table in work {
        for (column, c) in table.columns.iter().enumerate() {
            if !c.unique || c.entity.is_some() {
                continue;
            }
            let Some(Rule::Transform(transform)) = &c.rule else {
                continue;
            };
            let mut hashes = Vec::new();
            each_fake(url, conn, table, column, fakes, |form| {
                hashes.push(hash(&form));
            })
            .await?;
            hashes.sort_unstable();
            let repeated: HashSet<u64> = hashes
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect();
            drop(hashes);
            if repeated.is_empty() {
                continue;
            }
            // A repeated hash: confirmed on the fakes that have it.
            let (mut seen, mut collided) = (HashSet::new(), false);
            each_fake(url, conn, table, column, fakes, |form| {
                if repeated.contains(&hash(&form)) && !seen.insert(form) {
                    collided = true;
                }
            })
            .await?;
            if collided {
                return Err(RefreshError::Rules(format!(
                    "{}.{}: two different originals would become the same {} fake, and the column is a unique key; give it a uniqueness-preserving rule (hash, or email) — nothing was changed",
                    table.path(),
                    c.name,
                    transform.name()
                )));
            }
        }
    }
    Ok(())
}
