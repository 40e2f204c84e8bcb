//! [`DataApiSession`]: the [`Backend`] over the RDS Data API.
//!
//! The Data API has no sessions: each call may run on another database connection, so nothing
//! a call sets (`SET search_path`, advisory locks, session variables) can be relied on in the
//! next. Hence:
//!
//! - the lock is a leased row in a lock table ([`super::lock`]), renewed between calls once a
//!   third of the lease has passed, always outside any transaction;
//! - `reset_session` does nothing (there is no session state of Holdfast's to restore);
//! - timeouts: inside a transaction, `statement_timeout` and `lock_timeout` are set with
//!   `set_config(…, true)` (`SET LOCAL`) on PostgreSQL; a statement outside a transaction, and
//!   any statement on MySQL, is bounded only by the Data API's 45 s per call;
//! - read-only commands send only `SELECT`s (the Data API cannot make a call read-only) and
//!   probe the lock by reading its row, creating nothing.
//!
//! MySQL (`engine=mysql`): the history's `applied_at` is written and read in the server's time
//! zone (Aurora's default is UTC; no `SET time_zone` can carry over between calls), and the id
//! of a new history row comes back in `generatedFields`. The MySQL path is checked against the
//! lock SQL on MariaDB, not through a Data API endpoint (the test kit's speaks PostgreSQL only).

use super::client::{long, text, DataApi};
use super::lock;
use super::records::{self, FieldError};
use super::target::{DataApiEngine, DataApiTarget};
use crate::backend::{Backend, DbError};
use crate::connect::{Access, ConnectOptions};
use crate::dialect;
use crate::error::SqlError;
use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput;
use aws_sdk_rdsdata::types::{Field, SqlParameter};
use holdfast_core::history::{HistoryRow, NewRow, Progress};
use holdfast_core::Dialect;
use std::time::{Duration, Instant};

pub(crate) struct DataApiSession {
    api: DataApi,
    engine: DataApiEngine,
    access: Access,
    url: String,
    /// Qualified, quoted history table.
    table: String,
    table_display: String,
    table_name: String,
    /// PostgreSQL schema or MySQL database of the history and lock tables.
    schema: String,
    /// Qualified, quoted lock table.
    lock_table: String,
    /// Who this runner is in the lock row: `user@host pid N #nonce`.
    owner: String,
    server_version: Option<u32>,
    /// The open transaction.
    transaction: Option<String>,
    /// The held lock's fencing token and when its lease was last extended.
    held: Option<(i64, Instant)>,
    timeouts: Option<(Duration, Duration)>,
    history_seen: bool,
    /// How long a taken lock lasts without renewal.
    lease: Duration,
    /// The lease ran out and another runner took the lock: nothing more is sent but rollbacks.
    lease_lost: bool,
}

fn field_error(context: &str) -> impl FnOnce(FieldError) -> SqlError + '_ {
    move |e| {
        SqlError::internal(
            context,
            DbError {
                code: None,
                message: e.to_string(),
            },
        )
    }
}

fn first_record(out: &ExecuteStatementOutput) -> Option<&[Field]> {
    out.records().first().map(Vec::as_slice)
}

fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else if secs > 0 {
        format!("{secs}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl DataApiSession {
    pub(crate) async fn open(
        target: &DataApiTarget,
        access: Access,
        options: &ConnectOptions,
    ) -> Result<DataApiSession, SqlError> {
        let url = target.to_string();
        let connect_error = |message: String| SqlError::Connect {
            url: url.clone(),
            message,
        };
        let mut aws = options.aws.clone();
        // The Data API answers in the cluster's region.
        if aws.region.is_none() {
            aws.region = Some(target.region().to_string());
        }
        // No region or no credentials: a configuration problem (exit 2), as for DynamoDB.
        let config = holdfast_aws::sdk_config(&aws)
            .await
            .map_err(|e| SqlError::Usage(format!("{url}: {e}")))?;
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut session = DataApiSession {
            api: DataApi::new(&config, target.clone()),
            engine: target.engine,
            access,
            url: url.clone(),
            table: String::new(),
            table_display: String::new(),
            table_name: options.history_table.clone(),
            schema: String::new(),
            lock_table: String::new(),
            owner: format!(
                "{} pid {} #{nonce:08x}",
                crate::runner::applied_by(),
                std::process::id()
            ),
            server_version: None,
            transaction: None,
            held: None,
            timeouts: None,
            history_seen: false,
            lease: options.lock_lease,
            lease_lost: false,
        };
        let probe = match target.engine {
            DataApiEngine::Postgres => {
                "SELECT current_setting('server_version_num'), CAST(current_schema() AS TEXT)"
            }
            DataApiEngine::MySql => "SELECT VERSION(), DATABASE()",
        };
        let out = session
            .api
            .execute(probe, Vec::new(), None)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        let record = first_record(&out).unwrap_or_default();
        let version = records::opt_text("version", record.first())
            .map_err(|e| connect_error(e.to_string()))?;
        let current =
            records::opt_text("schema", record.get(1)).map_err(|e| connect_error(e.to_string()))?;
        if target.engine == DataApiEngine::Postgres {
            session.server_version = version.and_then(|v| v.parse().ok());
        }
        session.schema =
            match (&options.history_schema, current) {
                (Some(s), _) => s.clone(),
                (None, Some(s)) => s,
                (None, None) => return Err(SqlError::Usage(
                    "the Data API connection has no current schema or database: set history_schema"
                        .into(),
                )),
            };
        let d = session.dialect();
        let schema = dialect::quote(d, &session.schema);
        session.table = format!("{schema}.{}", dialect::quote(d, &session.table_name));
        session.lock_table = format!("{schema}.{}", dialect::quote(d, lock::LOCK_TABLE));
        session.table_display = format!("{}.{}", session.schema, session.table_name);
        Ok(session)
    }

    /// One of Holdfast's own statements, in the open transaction if any.
    async fn own(
        &mut self,
        sql: &str,
        parameters: Vec<SqlParameter>,
        context: &str,
    ) -> Result<ExecuteStatementOutput, SqlError> {
        self.keep_lease()
            .await
            .map_err(|e| SqlError::internal(context, e))?;
        self.api
            .execute(sql, parameters, self.transaction.as_deref())
            .await
            .map_err(|e| SqlError::internal(context, e))
    }

    /// A lock statement: always outside any transaction (autocommit).
    async fn lock_call(
        &self,
        sql: &str,
        parameters: Vec<SqlParameter>,
    ) -> Result<ExecuteStatementOutput, DbError> {
        self.api.execute(sql, parameters, None).await
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX)
    }

    fn name_param(&self) -> SqlParameter {
        text("name", Some(&self.table_display))
    }

    fn lost_error(&self) -> DbError {
        DbError {
            code: None,
            message: format!(
                "the migration lock's lease on {} was lost (it ran out and another runner took the lock over); stopping without further changes",
                self.table_display
            ),
        }
    }

    /// Extends the lease once a third of it has passed; an error if it was lost (then and for
    /// every later call: no change is sent without the lock).
    async fn keep_lease(&mut self) -> Result<(), DbError> {
        if self.lease_lost {
            return Err(self.lost_error());
        }
        let Some((token, renewed)) = self.held else {
            return Ok(());
        };
        if renewed.elapsed() < self.lease / 3 {
            return Ok(());
        }
        let started = Instant::now();
        let out = self
            .lock_call(
                &lock::renew(self.engine, &self.lock_table),
                vec![
                    self.name_param(),
                    text("owner", Some(&self.owner)),
                    long("token", token),
                    long("lease_ms", self.lease_ms()),
                ],
            )
            .await?;
        if out.number_of_records_updated() != 1 {
            self.held = None;
            self.lease_lost = true;
            return Err(self.lost_error());
        }
        self.held = Some((token, started));
        Ok(())
    }

    /// Creates the lock table and this history table's row, if missing.
    async fn prepare_lock(&self) -> Result<(), DbError> {
        // Concurrent `CREATE TABLE IF NOT EXISTS` can fail on PostgreSQL's catalog (23505):
        // the table exists then; try again.
        let mut attempt = 0;
        loop {
            let created = self
                .lock_call(
                    &lock::create_table(self.engine, &self.lock_table),
                    Vec::new(),
                )
                .await;
            match created {
                Err(e)
                    if attempt < 3
                        && matches!(e.code.as_deref(), Some("23505") | Some("42P07")) =>
                {
                    attempt += 1;
                }
                other => {
                    other?;
                    break;
                }
            }
        }
        self.lock_call(
            &lock::ensure_row(self.engine, &self.lock_table),
            vec![self.name_param()],
        )
        .await?;
        Ok(())
    }

    /// One attempt; the token when taken.
    async fn try_take(&self) -> Result<Option<i64>, DbError> {
        let params = || {
            vec![
                self.name_param(),
                text("owner", Some(&self.owner)),
                long("lease_ms", self.lease_ms()),
            ]
        };
        let out = self
            .lock_call(&lock::take(self.engine, &self.lock_table), params())
            .await?;
        let bad = |e: FieldError| DbError {
            code: None,
            message: e.to_string(),
        };
        match self.engine {
            DataApiEngine::Postgres => first_record(&out)
                .map(|r| records::long("token", r.first()).map_err(bad))
                .transpose(),
            DataApiEngine::MySql => {
                if out.number_of_records_updated() != 1 {
                    return Ok(None);
                }
                let out = self
                    .lock_call(
                        &lock::token(&self.lock_table),
                        vec![self.name_param(), text("owner", Some(&self.owner))],
                    )
                    .await?;
                first_record(&out)
                    .map(|r| records::long("token", r.first()).map_err(bad))
                    .transpose()
            }
        }
    }

    /// Who holds the lock, if its lease is running: a description.
    async fn holder(&self) -> Result<Option<String>, DbError> {
        let out = self
            .lock_call(
                &lock::holder(self.engine, &self.lock_table),
                vec![self.name_param()],
            )
            .await;
        let out = match out {
            Ok(out) => out,
            // No lock table: nobody holds the lock.
            Err(e) if matches!(e.code.as_deref(), Some("42P01") | Some("42S02")) => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let Some(record) = first_record(&out) else {
            return Ok(None);
        };
        let bad = |e: FieldError| DbError {
            code: None,
            message: e.to_string(),
        };
        let owner = records::text("owner", record.first()).map_err(bad)?;
        let token = records::long("token", record.get(1)).map_err(bad)?;
        let left_ms = records::opt_long("lease", record.get(2))
            .map_err(bad)?
            .unwrap_or(0);
        if owner.is_empty() || left_ms <= 0 {
            return Ok(None);
        }
        Ok(Some(format!(
            "`{owner}` (fencing token {token}, lease ends in {} s unless renewed)",
            (left_ms + 999) / 1000
        )))
    }

    fn busy(&self, holder: String, wait: Duration) -> SqlError {
        SqlError::Busy {
            target: self.table_display.clone(),
            holder,
            waited: humanize(wait),
        }
    }

    fn dialect_of(engine: DataApiEngine) -> Dialect {
        match engine {
            DataApiEngine::Postgres => Dialect::Postgres,
            DataApiEngine::MySql => Dialect::MySql,
        }
    }
}

#[async_trait::async_trait]
impl Backend for DataApiSession {
    fn dialect(&self) -> Dialect {
        Self::dialect_of(self.engine)
    }

    fn server_version(&self) -> Option<u32> {
        self.server_version
    }

    fn display_url(&self) -> String {
        self.url.clone()
    }

    fn history_table(&self) -> String {
        self.table_display.clone()
    }

    async fn lock(&mut self, wait: Duration) -> Result<(), SqlError> {
        let context = "taking the migration lock";
        if self.access == Access::ReadOnly {
            // A look only: is the lock held? Nothing is created or changed.
            return match self
                .holder()
                .await
                .map_err(|e| SqlError::internal(context, e))?
            {
                Some(holder) => Err(self.busy(holder, wait)),
                None => Ok(()),
            };
        }
        self.prepare_lock()
            .await
            .map_err(|e| SqlError::internal(context, e))?;
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(200);
        let mut announced = false;
        loop {
            let started = Instant::now();
            if let Some(token) = self
                .try_take()
                .await
                .map_err(|e| SqlError::internal(context, e))?
            {
                self.held = Some((token, started));
                self.lease_lost = false;
                return Ok(());
            }
            let holder = self
                .holder()
                .await
                .map_err(|e| SqlError::internal(context, e))?
                // Released or expired between the two calls: try again at once.
                .unwrap_or_default();
            let now = Instant::now();
            if now >= deadline {
                let holder = if holder.is_empty() {
                    "another runner".to_string()
                } else {
                    holder
                };
                return Err(self.busy(holder, wait));
            }
            if holder.is_empty() {
                tokio::time::sleep(Duration::from_millis(50).min(deadline - now)).await;
                continue;
            }
            if !announced {
                tracing::info!(%holder, "waiting up to {} for the migration lock", humanize(wait));
                announced = true;
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    async fn unlock(&mut self) -> Result<(), SqlError> {
        let Some((token, _)) = self.held.take() else {
            return Ok(());
        };
        self.lock_call(
            &lock::release(self.engine, &self.lock_table),
            vec![
                self.name_param(),
                text("owner", Some(&self.owner)),
                long("token", token),
            ],
        )
        .await
        .map_err(|e| SqlError::internal("releasing the migration lock", e))?;
        Ok(())
    }

    async fn history_exists(&mut self) -> Result<bool, SqlError> {
        if self.history_seen {
            return Ok(true);
        }
        let sql = match self.engine {
            DataApiEngine::Postgres => {
                "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = :schema AND tablename = :table"
            }
            DataApiEngine::MySql => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = :schema AND table_name = :table"
            }
        };
        let params = vec![
            text("schema", Some(&self.schema)),
            text("table", Some(&self.table_name)),
        ];
        let context = "looking for the history table";
        let out = self.own(sql, params, context).await?;
        let count = records::long("count", first_record(&out).and_then(|r| r.first()))
            .map_err(field_error(context))?;
        self.history_seen = count > 0;
        Ok(self.history_seen)
    }

    async fn history_digest(&mut self) -> Result<Option<String>, SqlError> {
        if self.engine != DataApiEngine::Postgres || self.server_version.is_none_or(|v| v < 110000)
        {
            return Ok(None);
        }
        let context = "reading the history digest";
        let out = self
            .own(&dialect::history_digest(&self.table), Vec::new(), context)
            .await?;
        let digest = records::text("digest", first_record(&out).and_then(|r| r.first()))
            .map_err(field_error(context))?;
        Ok(Some(digest))
    }

    async fn create_history(&mut self) -> Result<(), SqlError> {
        let ddl = dialect::create_history(self.dialect(), &self.table);
        self.own(&ddl, Vec::new(), "creating the history table")
            .await?;
        self.history_seen = true;
        Ok(())
    }

    async fn read_history(&mut self) -> Result<Vec<HistoryRow>, SqlError> {
        let context = "reading the history table";
        let sql = dialect::select_history(self.dialect(), &self.table);
        let out = self.own(&sql, Vec::new(), context).await?;
        out.records()
            .iter()
            .map(|r| records::history_row(r))
            .collect::<Result<_, _>>()
            .map_err(field_error(context))
    }

    async fn insert_row(&mut self, row: &NewRow) -> Result<i64, SqlError> {
        let context = "recording the migration in the history table";
        let sql = dialect::named_placeholders(&dialect::insert_row(self.dialect(), &self.table));
        let params = vec![
            text("p1", row.version.as_deref()),
            text("p2", Some(&row.description)),
            text("p3", Some(row.kind.as_str())),
            text("p4", Some(&row.script)),
            text("p5", Some(&row.checksum)),
            text("p6", Some(&row.applied_by)),
            long("p7", row.execution_ms),
            text("p8", Some(row.state.as_str())),
            long("p9", row.statements_applied),
            long("p10", row.statements_total),
            text("p11", row.prefix_checksum.as_deref()),
            text("p12", row.error.as_deref()),
        ];
        let out = self.own(&sql, params, context).await?;
        let id = match self.engine {
            DataApiEngine::Postgres => first_record(&out).and_then(|r| r.first()),
            // MySQL: the AUTO_INCREMENT id comes back as a generated field.
            DataApiEngine::MySql => out.generated_fields().first(),
        };
        records::long("id", id).map_err(field_error(context))
    }

    async fn update_row(&mut self, id: i64, p: &Progress) -> Result<(), SqlError> {
        let sql = dialect::named_placeholders(&dialect::update_row(self.dialect(), &self.table));
        let params = vec![
            text("p1", Some(p.state.as_str())),
            long("p2", p.statements_applied),
            text("p3", Some(&p.prefix_checksum)),
            long("p4", p.execution_ms),
            text("p5", Some(&p.checksum)),
            text("p6", p.error.as_deref()),
            long("p7", id),
        ];
        self.own(&sql, params, "recording progress in the history table")
            .await?;
        Ok(())
    }

    async fn delete_row(&mut self, id: i64) -> Result<(), SqlError> {
        let sql = dialect::named_placeholders(&dialect::delete_row(self.dialect(), &self.table));
        self.own(&sql, vec![long("p1", id)], "removing a history row")
            .await?;
        Ok(())
    }

    async fn set_checksum(&mut self, id: i64, checksum: &str) -> Result<(), SqlError> {
        let sql = dialect::named_placeholders(&dialect::set_checksum(self.dialect(), &self.table));
        self.own(
            &sql,
            vec![text("p1", Some(checksum)), long("p2", id)],
            "realigning a checksum",
        )
        .await?;
        Ok(())
    }

    /// Kept for the next transaction (see the module doc: no session to set them on).
    async fn set_timeouts(&mut self, statement: Duration, lock: Duration) -> Result<(), SqlError> {
        self.timeouts = Some((statement, lock));
        Ok(())
    }

    /// Nothing to restore: no session state persists between Data API calls.
    async fn reset_session(&mut self) -> Result<(), SqlError> {
        Ok(())
    }

    async fn begin(&mut self) -> Result<(), DbError> {
        self.keep_lease().await?;
        let id = self.api.begin().await?;
        if let (DataApiEngine::Postgres, Some((statement, lock))) = (self.engine, self.timeouts) {
            let set = "SELECT set_config('statement_timeout', :statement, true), \
                       set_config('lock_timeout', :lock, true)";
            let params = vec![
                text("statement", Some(&format!("{}ms", statement.as_millis()))),
                text("lock", Some(&format!("{}ms", lock.as_millis()))),
            ];
            if let Err(e) = self.api.execute(set, params, Some(&id)).await {
                let _ = self.api.rollback(&id).await;
                return Err(e);
            }
        }
        self.transaction = Some(id);
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        let Some(id) = self.transaction.clone() else {
            return Ok(());
        };
        // The lease must still be ours when the migration and its history row commit.
        self.keep_lease().await?;
        self.transaction = None;
        self.api.commit(&id).await
    }

    async fn rollback(&mut self) -> Result<(), DbError> {
        let Some(id) = self.transaction.take() else {
            return Ok(());
        };
        self.api.rollback(&id).await
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.keep_lease().await?;
        self.api
            .execute(sql, Vec::new(), self.transaction.as_deref())
            .await
            .map(|_| ())
    }
}
