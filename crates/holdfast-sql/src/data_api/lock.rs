//! The migration lock without sessions: one row per history table in a lock table
//! (`SCHEMA.holdfast_lock`, next to the history table), holding the owner, a fencing token and
//! a lease expiry. Every change is one conditional statement, so runners racing for it cannot
//! both win:
//!
//! - take: `UPDATE … SET owner = me, token = token + 1, expires_at = now() + lease WHERE
//!   lock_name = … AND (expires_at < now() OR owner = me)`: one row updated = taken (a crashed
//!   holder's lease simply expires);
//! - renew: `UPDATE … SET expires_at = now() + lease WHERE lock_name = … AND owner = me AND
//!   token = mine`: no row updated = the lease was lost (another runner took over);
//! - release: the same condition, setting the expiry in the past.
//!
//! Times are the database server's (`now()` / `UTC_TIMESTAMP(6)`), so runners' clocks do not
//! matter. The row is created once (`ON CONFLICT DO NOTHING` / `INSERT IGNORE`) with an expiry
//! in the past.

use super::target::DataApiEngine;
use std::time::Duration;

/// The lock table's name; it lives in the history table's schema.
pub const LOCK_TABLE: &str = "holdfast_lock";

/// How long a taken lock lasts without renewal, by default (`ConnectOptions::lock_lease`). A
/// holder renews it between calls once a third
/// of it has passed; one call lasts at most the Data API's 45 s (the SDK gives up at 60 s), so a
/// live holder always renews in time and a crashed one's lease runs out within this.
pub const LEASE: Duration = Duration::from_secs(120);

/// `CREATE TABLE IF NOT EXISTS` for the lock table `table` (qualified and quoted).
pub fn create_table(engine: DataApiEngine, table: &str) -> String {
    match engine {
        DataApiEngine::Postgres => format!(
            "CREATE TABLE IF NOT EXISTS {table} (lock_name TEXT PRIMARY KEY, owner TEXT NOT NULL, \
             token BIGINT NOT NULL, acquired_at TIMESTAMPTZ, expires_at TIMESTAMPTZ NOT NULL)"
        ),
        DataApiEngine::MySql => format!(
            "CREATE TABLE IF NOT EXISTS {table} (lock_name VARCHAR(191) NOT NULL PRIMARY KEY, \
             owner VARCHAR(500) NOT NULL, token BIGINT NOT NULL, acquired_at DATETIME(6) NULL, \
             expires_at DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        ),
    }
}

/// Creates the row of `:name` if missing, expired. Parameter: `name`.
pub fn ensure_row(engine: DataApiEngine, table: &str) -> String {
    match engine {
        DataApiEngine::Postgres => format!(
            "INSERT INTO {table} (lock_name, owner, token, expires_at) \
             VALUES (:name, '', 0, TIMESTAMPTZ '1970-01-01 00:00:00+00') ON CONFLICT (lock_name) DO NOTHING"
        ),
        DataApiEngine::MySql => format!(
            "INSERT IGNORE INTO {table} (lock_name, owner, token, expires_at) \
             VALUES (:name, '', 0, '1970-01-01 00:00:00')"
        ),
    }
}

fn now(engine: DataApiEngine) -> &'static str {
    match engine {
        DataApiEngine::Postgres => "now()",
        DataApiEngine::MySql => "UTC_TIMESTAMP(6)",
    }
}

/// The expiry `:lease_ms` from now.
fn lease_end(engine: DataApiEngine) -> &'static str {
    match engine {
        DataApiEngine::Postgres => "now() + CAST(:lease_ms AS BIGINT) * INTERVAL '1 millisecond'",
        DataApiEngine::MySql => "DATE_ADD(UTC_TIMESTAMP(6), INTERVAL :lease_ms * 1000 MICROSECOND)",
    }
}

/// Takes the lock if it is free, expired or already `:owner`'s. Parameters: `name`, `owner`,
/// `lease_ms`. PostgreSQL returns the new token (one record = taken); on MySQL one updated row
/// means taken and [`token`] reads it.
pub fn take(engine: DataApiEngine, table: &str) -> String {
    let returning = match engine {
        DataApiEngine::Postgres => " RETURNING token",
        DataApiEngine::MySql => "",
    };
    format!(
        "UPDATE {table} SET owner = :owner, token = token + 1, acquired_at = {now}, \
         expires_at = {end} WHERE lock_name = :name AND (expires_at < {now} OR owner = :owner){returning}",
        now = now(engine),
        end = lease_end(engine),
    )
}

/// The token of `:owner`'s lock. Parameters: `name`, `owner`.
pub fn token(table: &str) -> String {
    format!("SELECT token FROM {table} WHERE lock_name = :name AND owner = :owner")
}

/// Extends `:owner`'s lease if it still holds token `:token`. Parameters: `name`, `owner`,
/// `token`, `lease_ms`. One updated row = renewed.
pub fn renew(engine: DataApiEngine, table: &str) -> String {
    format!(
        "UPDATE {table} SET expires_at = {end} WHERE lock_name = :name AND owner = :owner AND token = :token",
        end = lease_end(engine)
    )
}

/// Releases `:owner`'s lock (token `:token`). Parameters: `name`, `owner`, `token`.
pub fn release(engine: DataApiEngine, table: &str) -> String {
    let past = match engine {
        DataApiEngine::Postgres => "TIMESTAMPTZ '1970-01-01 00:00:00+00'",
        DataApiEngine::MySql => "'1970-01-01 00:00:00'",
    };
    format!(
        "UPDATE {table} SET owner = '', expires_at = {past} \
         WHERE lock_name = :name AND owner = :owner AND token = :token"
    )
}

/// The holder: owner, token and the milliseconds its lease has left (negative: expired).
/// Parameter: `name`.
pub fn holder(engine: DataApiEngine, table: &str) -> String {
    let left = match engine {
        DataApiEngine::Postgres => {
            "CAST(EXTRACT(EPOCH FROM (expires_at - now())) * 1000 AS BIGINT)"
        }
        DataApiEngine::MySql => {
            "CAST(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), expires_at) DIV 1000 AS SIGNED)"
        }
    };
    format!("SELECT owner, token, {left} FROM {table} WHERE lock_name = :name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taking_is_one_conditional_statement() {
        let sql = take(DataApiEngine::Postgres, "\"public\".\"holdfast_lock\"");
        assert!(sql.contains("WHERE lock_name = :name AND (expires_at < now() OR owner = :owner)"));
        assert!(sql.ends_with("RETURNING token"));
        let sql = take(DataApiEngine::MySql, "`db`.`holdfast_lock`");
        assert!(sql.contains("expires_at < UTC_TIMESTAMP(6)"));
    }

    #[test]
    fn renewal_and_release_are_fenced() {
        for engine in [DataApiEngine::Postgres, DataApiEngine::MySql] {
            assert!(renew(engine, "t").ends_with("AND owner = :owner AND token = :token"));
            assert!(release(engine, "t").ends_with("AND owner = :owner AND token = :token"));
        }
    }
}
