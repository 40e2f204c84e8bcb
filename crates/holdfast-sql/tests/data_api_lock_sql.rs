//! The Data API lock table's MySQL statements, run on the real test MariaDB (the test kit's
//! Data API endpoint speaks PostgreSQL only): named parameters bound in order, each statement
//! as the Data API would run it in autocommit.

use holdfast_sql::data_api::lock;
use holdfast_sql::data_api::DataApiEngine;
use holdfast_testkit::{Engine, TempDatabase};
use sqlx::{AnyConnection, Connection, Row};

/// `:name` → `?` outside quotes, and the names in order.
fn positional(sql: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut names = Vec::new();
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == ':' && !quoted && chars.peek().is_some_and(|n| n.is_ascii_alphabetic()) {
            let mut name = String::new();
            while let Some(&n) = chars
                .peek()
                .filter(|n| n.is_ascii_alphanumeric() || **n == '_')
            {
                name.push(n);
                chars.next();
            }
            names.push(name);
            out.push('?');
        } else {
            out.push(c);
        }
    }
    (out, names)
}

#[derive(Clone)]
enum V {
    S(&'static str),
    L(i64),
}

/// Runs `sql` with `params` (by name); rows affected and rows.
async fn run(
    conn: &mut AnyConnection,
    sql: &str,
    params: &[(&str, V)],
) -> (u64, Vec<sqlx::any::AnyRow>) {
    let (sql, names) = positional(sql);
    let mut query = sqlx::query(&sql);
    for name in &names {
        let (_, v) = params.iter().find(|(n, _)| n == name).expect("parameter");
        query = match v {
            V::S(s) => query.bind(s.to_string()),
            V::L(n) => query.bind(*n),
        };
    }
    if sql.trim_start().starts_with("SELECT") {
        let rows = query.fetch_all(&mut *conn).await.unwrap();
        (0, rows)
    } else {
        let done = query.execute(&mut *conn).await.unwrap();
        (done.rows_affected(), Vec::new())
    }
}

#[test]
fn mysql_lock_statements_take_renew_and_release_conditionally() {
    let db = TempDatabase::new(Engine::MySql);
    let engine = DataApiEngine::MySql;
    let table = format!("`{}`.`holdfast_lock`", db.name());
    let url = db.url.clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            sqlx::any::install_default_drivers();
            let mut c = AnyConnection::connect(&url).await.unwrap();
            let name = ("name", V::S("db.holdfast_schema_history"));
            run(&mut c, &lock::create_table(engine, &table), &[]).await;
            run(&mut c, &lock::create_table(engine, &table), &[]).await;
            for _ in 0..2 {
                let (n, _) = run(
                    &mut c,
                    &lock::ensure_row(engine, &table),
                    std::slice::from_ref(&name),
                )
                .await;
                assert!(n <= 1);
            }
            let take = |owner: &'static str| {
                vec![
                    ("name", V::S("db.holdfast_schema_history")),
                    ("owner", V::S(owner)),
                    ("lease_ms", V::L(60_000)),
                ]
            };
            assert_eq!(
                run(&mut c, &lock::take(engine, &table), &take("a")).await.0,
                1
            );
            // Held by `a`: `b` cannot take it; `a` can again (token moves on).
            assert_eq!(
                run(&mut c, &lock::take(engine, &table), &take("b")).await.0,
                0
            );
            assert_eq!(
                run(&mut c, &lock::take(engine, &table), &take("a")).await.0,
                1
            );
            let (_, rows) = run(
                &mut c,
                &lock::token(&table),
                &[name.clone(), ("owner", V::S("a"))],
            )
            .await;
            assert_eq!(rows[0].get::<i64, _>(0), 2);
            let (_, rows) = run(
                &mut c,
                &lock::holder(engine, &table),
                std::slice::from_ref(&name),
            )
            .await;
            assert_eq!(rows[0].get::<String, _>(0), "a");
            let left: i64 = rows[0].get(2);
            assert!((50_000..=60_000).contains(&left), "{left}");
            let fenced = |owner: &'static str, token: i64| {
                vec![
                    ("name", V::S("db.holdfast_schema_history")),
                    ("owner", V::S(owner)),
                    ("token", V::L(token)),
                    ("lease_ms", V::L(60_000)),
                ]
            };
            assert_eq!(
                run(&mut c, &lock::renew(engine, &table), &fenced("a", 1))
                    .await
                    .0,
                0
            );
            assert_eq!(
                run(&mut c, &lock::renew(engine, &table), &fenced("b", 2))
                    .await
                    .0,
                0
            );
            assert_eq!(
                run(&mut c, &lock::renew(engine, &table), &fenced("a", 2))
                    .await
                    .0,
                1
            );
            assert_eq!(
                run(&mut c, &lock::release(engine, &table), &fenced("b", 2))
                    .await
                    .0,
                0
            );
            assert_eq!(
                run(&mut c, &lock::release(engine, &table), &fenced("a", 2))
                    .await
                    .0,
                1
            );
            let (_, rows) = run(
                &mut c,
                &lock::holder(engine, &table),
                std::slice::from_ref(&name),
            )
            .await;
            assert!(rows[0].get::<i64, _>(2) < 0);
            // Released: `b` takes it, with the next token.
            assert_eq!(
                run(&mut c, &lock::take(engine, &table), &take("b")).await.0,
                1
            );
            let (_, rows) = run(&mut c, &lock::token(&table), &[name, ("owner", V::S("b"))]).await;
            assert_eq!(rows[0].get::<i64, _>(0), 3);
        });
}
