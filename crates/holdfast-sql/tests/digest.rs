//! The server-computed history digest equals the one `holdfast-core` defines, so a run with
//! nothing to do may trust it: on real PostgreSQL, through the library.

use holdfast_core::migration::load_dir;
use holdfast_core::plan::{applied_digest, history_digest};
use holdfast_sql::runner::{self, RunOptions};
use holdfast_sql::{connect, Access, ConnectOptions, DatabaseUrl};
use holdfast_testkit::{Engine, MigrationDir, TempDatabase};

#[test]
fn server_digest_matches_the_model() {
    // The test kit blocks on its own runtime: create the database outside ours.
    let db = TempDatabase::new(Engine::Postgres);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(check(&db));
}

async fn check(db: &TempDatabase) {
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", "CREATE TABLE a (id int);")
        .write("V1.1__b.sql", "CREATE TABLE b (id int);")
        .write("R__v.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS x;")
        .write(
            "R__ü_view.sql",
            "CREATE OR REPLACE VIEW w AS SELECT 2 AS x;",
        );
    let url = DatabaseUrl::parse(&db.url).unwrap();
    let mut b = connect(&url, Access::ReadWrite, &ConnectOptions::default())
        .await
        .unwrap();
    let source = load_dir(dir.path(), url.dialect()).unwrap();
    let opts = RunOptions::default();
    let report = runner::up(b.as_mut(), &source, &opts, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(report.applied.len(), 4);

    let rows = b.read_history().await.unwrap();
    let server = b
        .history_digest()
        .await
        .unwrap()
        .expect("PostgreSQL computes the digest");
    assert_eq!(server, history_digest(&rows));
    assert_eq!(
        server,
        applied_digest(&source),
        "a fully applied set matches"
    );

    // A changed repeatable adds a row: the digest no longer matches, and the full path runs.
    dir.write("R__v.sql", "CREATE OR REPLACE VIEW v AS SELECT 3 AS x;");
    let changed = load_dir(dir.path(), url.dialect()).unwrap();
    assert_ne!(server, applied_digest(&changed));
    let report = runner::up(b.as_mut(), &changed, &opts, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    let rows = b.read_history().await.unwrap();
    assert_eq!(
        b.history_digest().await.unwrap().unwrap(),
        history_digest(&rows)
    );
    assert_ne!(
        history_digest(&rows),
        applied_digest(&changed),
        "two rows for one repeatable"
    );
    // And the next run still has nothing to do (through the full path).
    let report = runner::up(b.as_mut(), &changed, &opts, &mut |_| {})
        .await
        .unwrap();
    assert!(report.applied.is_empty());
    assert!(report.problems.is_empty());
}
