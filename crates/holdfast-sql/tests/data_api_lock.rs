//! The Data API backend's leased lock and its retry of a resuming cluster, through the test
//! kit's Data API endpoint on the real test PostgreSQL, with a short lease.

use holdfast_sql::{connect, Access, Backend, ConnectOptions, DatabaseUrl, SqlError};
use holdfast_testkit::{postgres_url, DataApiEndpoint, Engine, TempDatabase};
use std::time::{Duration, Instant};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn options(endpoint: &DataApiEndpoint, lease: Duration) -> ConnectOptions {
    for (key, value) in holdfast_testkit::moto::AWS_TEST_ENV {
        // Every test sets the same values.
        std::env::set_var(key, value);
    }
    ConnectOptions {
        aws: holdfast_aws::AwsOptions {
            endpoint_url: Some(endpoint.endpoint()),
            ..Default::default()
        },
        lock_lease: lease,
        ..ConnectOptions::default()
    }
}

fn open(rt: &tokio::runtime::Runtime, url: &DatabaseUrl, o: &ConnectOptions) -> Box<dyn Backend> {
    rt.block_on(connect(url, Access::ReadWrite, o))
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

/// Milliseconds left on the lock row's lease, and its owner.
fn lease_left(db: &TempDatabase) -> (i64, String) {
    let left = db.query_i64(
        "SELECT CAST(EXTRACT(EPOCH FROM (expires_at - now())) * 1000 AS BIGINT) FROM holdfast_lock",
    )[0];
    (
        left,
        db.query_text("SELECT owner FROM holdfast_lock")[0].clone(),
    )
}

#[test]
fn a_lease_is_renewed_between_calls_and_a_lost_one_stops_its_holder() {
    let db = TempDatabase::new(Engine::Postgres);
    let endpoint = DataApiEndpoint::start(&postgres_url());
    let url = DatabaseUrl::parse(&endpoint.database_url(db.name())).unwrap();
    let lease = Duration::from_millis(1500);
    let o = options(&endpoint, lease);
    let rt = runtime();
    let mut a = open(&rt, &url, &o);
    let mut b = open(&rt, &url, &o);

    rt.block_on(a.lock(Duration::ZERO)).unwrap();
    let (_, owner_a) = lease_left(&db);
    assert!(owner_a.contains(" pid "), "{owner_a}");
    // Past a third of the lease, the next call renews it.
    std::thread::sleep(Duration::from_millis(700));
    let before = lease_left(&db).0;
    rt.block_on(a.execute("SELECT 1")).unwrap();
    let after = lease_left(&db).0;
    assert!(
        after > before + 400,
        "renewed: {before} ms left before, {after} ms after"
    );

    // Held: another runner is busy and told who holds it.
    match rt.block_on(b.lock(Duration::from_millis(300))) {
        Err(SqlError::Busy { holder, .. }) => assert!(holder.contains(&owner_a), "{holder}"),
        other => panic!("expected Busy, got {other:?}"),
    }

    // `a` stalls past its lease: `b` takes over, and `a`'s next call stops on the lost lease.
    std::thread::sleep(lease + Duration::from_millis(200));
    rt.block_on(b.lock(Duration::ZERO)).unwrap();
    let (_, owner_b) = lease_left(&db);
    assert_ne!(owner_a, owner_b);
    let lost = rt.block_on(a.execute("SELECT 1")).unwrap_err();
    assert!(lost.message.contains("lease"), "{lost}");
    assert!(lost.message.contains("lost"), "{lost}");
    // And it stays stopped: no further call is sent without the lock.
    assert!(rt.block_on(a.execute("SELECT 1")).is_err());
    // `a` releases nothing of `b`'s.
    rt.block_on(a.unlock()).unwrap();
    assert_eq!(lease_left(&db).1, owner_b);
    rt.block_on(b.unlock()).unwrap();
    assert_eq!(lease_left(&db).1, "");
    assert!(lease_left(&db).0 < 0);
}

#[test]
fn a_resuming_cluster_is_waited_for() {
    let db = TempDatabase::new(Engine::Postgres);
    let endpoint = DataApiEndpoint::start(&postgres_url());
    let url = DatabaseUrl::parse(&endpoint.database_url(db.name())).unwrap();
    let o = options(&endpoint, Duration::from_secs(120));
    let rt = runtime();
    endpoint.answer_resuming(2);
    let started = Instant::now();
    let mut session = open(&rt, &url, &o);
    // Two answers of DatabaseResumingException: waited 1 s, then 2 s.
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!rt.block_on(session.history_exists()).unwrap());
    assert_eq!(session.history_table(), "public.holdfast_schema_history");
}
