//! `holdfast dynamo migrate --dir DIR` on the built binary against DynamoDB Local: data
//! migrations run once and in order, by one runner at a time, resumed after kill -9 without
//! transforming any item twice. The migrations here use a deliberately non-idempotent filter
//! (`.visits += 1`), so an item transformed twice shows as `visits = 2`.

mod common;
mod dynamo_support;

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use common::{holdfast_aws, Run};
use dynamo_support::{client, count, create_table, load, runtime, scan_all, SdkItem};
use holdfast_testkit::{DynamoDbLocal, FaultPlan, FaultProxy};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const SK_N: Option<(&str, ScalarAttributeType)> = Some(("sk", ScalarAttributeType::N));
const COUNT_VISITS: &str = ".visits = ((.visits // 0) + 1)";

fn migrate(dir: &Path, endpoint: &str, args: &[&str]) -> Run {
    let output = holdfast_aws(dir)
        .args(["dynamo", "migrate", "--endpoint-url", endpoint, "--json"])
        .args(args)
        .output()
        .expect("run holdfast");
    Run::from(output)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write migration file");
}

/// How many items of `table` have each `visits` value (`-1`: none).
async fn visits(c: &aws_sdk_dynamodb::Client, table: &str) -> std::collections::BTreeMap<i64, u64> {
    let mut by_value = std::collections::BTreeMap::new();
    for item in scan_all(c, table).await {
        let v = match item.get("visits") {
            Some(AttributeValue::N(n)) => n.parse().expect("visits is an integer"),
            _ => -1,
        };
        *by_value.entry(v).or_insert(0) += 1;
    }
    by_value
}

async fn history_row(c: &aws_sdk_dynamodb::Client, version: &str) -> Option<SdkItem> {
    c.get_item()
        .table_name("holdfast_data_migrations")
        .key("copy", AttributeValue::S("holdfast#history".into()))
        .key("part", AttributeValue::S(version.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get history row")
        .item
}

/// A value's text with maps' keys and sets' members sorted (both come back in any order).
fn canonical(v: &AttributeValue) -> String {
    let sorted = |mut x: Vec<String>| {
        x.sort();
        x.join(",")
    };
    match v {
        AttributeValue::M(m) => sorted(
            m.iter()
                .map(|(k, v)| format!("{k}:{}", canonical(v)))
                .collect(),
        ),
        AttributeValue::L(l) => l.iter().map(canonical).collect::<Vec<_>>().join(";"),
        AttributeValue::Ss(x) | AttributeValue::Ns(x) => sorted(x.clone()),
        AttributeValue::Bs(x) => sorted(x.iter().map(|b| format!("{:?}", b.as_ref())).collect()),
        other => format!("{other:?}"),
    }
}

fn text<'a>(item: &'a SdkItem, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(s) | AttributeValue::N(s)) => s,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn migrations_run_once_in_order_and_drift_stops_them() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    rt.block_on(async {
        create_table(&c, "users", SK_N).await;
        create_table(&c, "users_v2", Some(("sk", ScalarAttributeType::S))).await;
        load(&c, "users", 2_000).await;
    });
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("data-migrations");
    std::fs::create_dir(&dir).unwrap();
    write(
        &dir,
        "V1__count_visits.toml",
        &format!("source = \"users\"\nfilter = '{COUNT_VISITS}'\nsegments = 3\n"),
    );
    write(
        &dir,
        "V2__record_type_key.toml",
        "source = \"users\"\ntarget = \"users_v2\"\ntransform = \"record_type_key.jq\"\n",
    );
    write(
        &dir,
        "record_type_key.jq",
        ".sk = \"USER#\" + (.sk | tostring) | .recordType = \"USER\"",
    );

    // Dry run: both pending, nothing created.
    let dry = migrate(
        work.path(),
        &endpoint,
        &["--dir", "data-migrations", "--dry-run"],
    );
    dry.expect(0);
    assert_eq!(dry.json()["pending"], 2, "{}", dry.stdout);
    rt.block_on(async {
        let tables = c.list_tables().send().await.unwrap();
        assert!(!tables
            .table_names()
            .contains(&"holdfast_data_migrations".to_owned()));
    });

    let first = migrate(work.path(), &endpoint, &["--dir", "data-migrations"]);
    first.expect(0);
    let report = first.json();
    assert_eq!(report["applied_now"], 2, "{}", first.stdout);
    assert_eq!(report["migrations"][0]["in_place"], true);
    assert_eq!(report["migrations"][0]["copy"]["items_written"], 2_000);
    assert_eq!(
        report["migrations"][1]["copy"]["verification"]["equal"],
        true
    );
    rt.block_on(async {
        assert_eq!(
            visits(&c, "users").await,
            [(1, 2_000)].into(),
            "every item once"
        );
        let v2 = scan_all(&c, "users_v2").await;
        assert_eq!(v2.len(), 2_000);
        assert!(v2.iter().all(|i| text(i, "recordType") == "USER"
            && text(i, "sk").starts_with("USER#")
            && i.get("visits") == Some(&AttributeValue::N("1".into()))));
        let row = history_row(&c, "1").await.expect("V1 recorded");
        assert_eq!(text(&row, "state"), "applied");
        assert_eq!(text(&row, "items_written"), "2000");
    });

    // Again: nothing to do, nothing changes.
    let again = migrate(work.path(), &endpoint, &["--dir", "data-migrations"]);
    again.expect(0);
    assert_eq!(again.json()["applied_now"], 0);
    rt.block_on(async { assert_eq!(visits(&c, "users").await, [(1, 2_000)].into()) });

    // A new migration is pending; editing an applied one is drift: nothing runs (exit 3).
    write(
        &dir,
        "V3__count_again.toml",
        &format!("source = \"users\"\nfilter = '{COUNT_VISITS}'\n"),
    );
    write(
        &dir,
        "V1__count_visits.toml",
        &format!("source = \"users\"\nfilter = '{COUNT_VISITS} | .x = 1'\nsegments = 3\n"),
    );
    let drift = migrate(work.path(), &endpoint, &["--dir", "data-migrations"]);
    drift.expect(3);
    let problems = drift.json()["problems"].to_string();
    assert!(
        problems.contains("V1 (V1__count_visits.toml) was applied with another text"),
        "{problems}"
    );
    rt.block_on(async { assert_eq!(visits(&c, "users").await, [(1, 2_000)].into()) });

    // Restored: V3 runs, once.
    write(
        &dir,
        "V1__count_visits.toml",
        &format!("source = \"users\"\nfilter = '{COUNT_VISITS}'\nsegments = 3\n"),
    );
    let third = migrate(work.path(), &endpoint, &["--dir", "data-migrations"]);
    third.expect(0);
    assert_eq!(third.json()["applied_now"], 1);
    rt.block_on(async { assert_eq!(visits(&c, "users").await, [(2, 2_000)].into()) });

    // Text output names each migration and its state.
    let human = holdfast_aws(work.path())
        .args([
            "dynamo",
            "migrate",
            "--endpoint-url",
            &endpoint,
            "--dir",
            "data-migrations",
        ])
        .output()
        .unwrap();
    let human = Run::from(human);
    human.expect(0);
    assert!(human.stdout.contains("V2"), "{}", human.stdout);
    assert!(
        human.stdout.contains("applied") && human.stdout.contains("users in place"),
        "{}",
        human.stdout
    );
}

#[test]
fn two_runners_at_once_apply_each_migration_once() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    rt.block_on(async {
        create_table(&c, "users", SK_N).await;
        load(&c, "users", 3_000).await;
    });
    let work = tempfile::tempdir().unwrap();
    write(
        work.path(),
        "V1__count_visits.toml",
        &format!("source = \"users\"\nfilter = '{COUNT_VISITS}'\nsegments = 4\npage_size = 50\n"),
    );
    let start = || {
        holdfast_aws(work.path())
            .args([
                "dynamo",
                "migrate",
                "--endpoint-url",
                &endpoint,
                "--json",
                "--dir",
                ".",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn holdfast")
    };
    let (a, b) = (start(), start());
    let runs = [a, b].map(|child| Run::from(child.wait_with_output().unwrap()));
    for run in &runs {
        run.expect(0);
    }
    let applied: u64 = runs
        .iter()
        .map(|r| r.json()["applied_now"].as_u64().unwrap())
        .sum();
    assert_eq!(
        applied, 1,
        "one runner applied it, the other found it applied"
    );
    rt.block_on(async {
        assert_eq!(visits(&c, "users").await, [(1, 3_000)].into());
        let row = history_row(&c, "1").await.unwrap();
        assert_eq!(text(&row, "runs"), "1");
    });
}

#[test]
fn kill_9_mid_migration_then_rerun_transforms_every_item_exactly_once() {
    let dynamodb = DynamoDbLocal::start();
    let rt = runtime();
    let c = client(&dynamodb.endpoint());
    let total = 3_000;
    rt.block_on(async {
        create_table(&c, "users", SK_N).await;
        load(&c, "users", total).await;
    });
    // 10 ms per request: a migration of several seconds to kill in the middle of.
    let proxy = FaultProxy::start(
        &dynamodb.endpoint(),
        FaultPlan::new(7).latency(Duration::from_millis(10)),
    );
    let work = tempfile::tempdir().unwrap();
    write(
        work.path(),
        "V1__count_visits.toml",
        &format!("source = \"users\"\nfilter = '{COUNT_VISITS}'\nsegments = 2\npage_size = 25\n"),
    );
    let mut child = holdfast_aws(work.path())
        .args([
            "dynamo",
            "migrate",
            "--endpoint-url",
            &proxy.endpoint(),
            "--dir",
            ".",
            "--lease",
            "2s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill -9 once both segments have recorded pages.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let pages: Vec<u64> = rt.block_on(async {
            let Ok(out) = c
                .query()
                .table_name("holdfast_data_migrations")
                .key_condition_expression("#c = :c AND begins_with(#p, :s)")
                .expression_attribute_names("#c", "copy")
                .expression_attribute_names("#p", "part")
                .expression_attribute_values(":c", AttributeValue::S("migration V1".into()))
                .expression_attribute_values(":s", AttributeValue::S("segment#".into()))
                .consistent_read(true)
                .send()
                .await
            else {
                return Vec::new();
            };
            out.items()
                .iter()
                .map(|r| text(r, "pages").parse().unwrap())
                .collect()
        });
        if pages.len() == 2 && pages.iter().all(|p| *p >= 4) {
            break;
        }
        assert!(Instant::now() < deadline, "the migration made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mid = rt.block_on(visits(&c, "users"));
    assert!(
        mid.get(&1).copied().unwrap_or(0) > 0 && mid.get(&-1).copied().unwrap_or(0) > 0,
        "killed in the middle: {mid:?}"
    );
    assert!(!mid.contains_key(&2), "{mid:?}");

    // The dead runner's lock is taken over when its 2 s lease runs out; the migration resumes
    // from its checkpoint.
    let rerun = migrate(
        work.path(),
        &proxy.endpoint(),
        &["--dir", ".", "--lease", "2s"],
    );
    rerun.expect(0);
    let report = rerun.json();
    assert_eq!(report["applied_now"], 1, "{}", rerun.stdout);
    let read = report["migrations"][0]["copy"]["items_read"]
        .as_u64()
        .unwrap();
    assert!(
        read < total,
        "resumed, not restarted: read {read} of {total}"
    );
    rt.block_on(async {
        assert_eq!(
            visits(&c, "users").await,
            [(1, total)].into(),
            "every item transformed exactly once"
        );
        let row = history_row(&c, "1").await.unwrap();
        assert_eq!(text(&row, "state"), "applied");
        assert_eq!(text(&row, "runs"), "2");
    });
    drop(proxy);
}

#[test]
fn bad_files_and_in_place_key_changes_are_refused_before_writing() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    rt.block_on(async {
        create_table(&c, "users", SK_N).await;
        load(&c, "users", 300).await;
    });
    let before = rt.block_on(scan_all(&c, "users"));
    let work = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "V1__typo.toml",
            "source = \"users\"\nfliter = '.a = 1'\n",
            "V1__typo.toml:2: unknown field `fliter`",
        ),
        (
            "V1__bad_jq.toml",
            "source = \"users\"\nfilter = '.a = '\n",
            "V1__bad_jq.toml:2:",
        ),
        (
            "V1__missing_jq.toml",
            "source = \"users\"\ntransform = \"nope.jq\"\n",
            "V1__missing_jq.toml:2: transform",
        ),
        ("users.toml", "source = \"users\"\n", "expected V<version>"),
    ];
    for (name, body, expected) in cases {
        let dir = work.path().join(name.replace('.', "_"));
        std::fs::create_dir(&dir).unwrap();
        write(&dir, name, body);
        let run = migrate(
            work.path(),
            &endpoint,
            &["--dir", dir.file_name().unwrap().to_str().unwrap()],
        );
        run.expect(2);
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    }
    rt.block_on(async {
        let tables = c.list_tables().send().await.unwrap();
        assert!(
            !tables
                .table_names()
                .contains(&"holdfast_data_migrations".to_owned()),
            "bad files create nothing"
        );
    });

    // An in-place transform that changes the key: refused on the sample, nothing written.
    let dir = work.path().join("rekey");
    std::fs::create_dir(&dir).unwrap();
    write(
        &dir,
        "V1__rekey.toml",
        "source = \"users\"\nfilter = '.pk = \"x\" + .pk'\n",
    );
    let run = migrate(work.path(), &endpoint, &["--dir", "rekey"]);
    run.expect(2);
    assert!(
        run.stderr.contains("the output has another key")
            && run.stderr.contains("write key changes to a new table"),
        "{}",
        run.stderr
    );
    let after = rt.block_on(scan_all(&c, "users"));
    assert_eq!(after.len(), before.len());
    assert_eq!(rt.block_on(count(&c, "users")), 300);
    let canonical = |i: &SdkItem| canonical(&AttributeValue::M(i.clone()));
    let mut a: Vec<String> = after.iter().map(canonical).collect();
    let mut b: Vec<String> = before.iter().map(canonical).collect();
    a.sort();
    b.sort();
    let changed: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).take(2).collect();
    assert!(changed.is_empty(), "no item changed: {changed:?}");

    // Changing the failed migration's text is drift until it is restored.
    write(
        &dir,
        "V1__rekey.toml",
        "source = \"users\"\nfilter = '.pk = \"y\" + .pk'\n",
    );
    let run = migrate(work.path(), &endpoint, &["--dir", "rekey"]);
    run.expect(3);
    assert!(
        run.stdout.contains("part-done (failed) with another text"),
        "{}",
        run.stdout
    );

    // Splitting in place is refused on the sample too.
    let dir = work.path().join("split");
    std::fs::create_dir(&dir).unwrap();
    write(
        &dir,
        "V1__split.toml",
        "source = \"users\"\nfilter = '., .'\n",
    );
    let run = migrate(
        work.path(),
        &endpoint,
        &["--dir", "split", "--history-table", "other_history"],
    );
    run.expect(2);
    assert!(
        run.stderr.contains("2 outputs for one item"),
        "{}",
        run.stderr
    );
    assert_eq!(rt.block_on(count(&c, "users")), 300);
}

#[test]
fn a_held_lock_makes_a_runner_give_up_with_exit_5_and_an_expired_one_is_taken_over() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    rt.block_on(async {
        create_table(&c, "users", SK_N).await;
        load(&c, "users", 200).await;
    });
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("data-migrations");
    std::fs::create_dir(&dir).unwrap();
    let filter = format!("source = \"users\"\nfilter = '{COUNT_VISITS}'\n");
    write(&dir, "V1__count_visits.toml", &filter);
    migrate(work.path(), &endpoint, &["--dir", "data-migrations"]).expect(0);
    write(&dir, "V2__count_again.toml", &filter);

    // Another runner holds the lock (its lease ends in ten minutes).
    let hold = |lease_until: u64| {
        rt.block_on(async {
            c.put_item()
                .table_name("holdfast_data_migrations")
                .item("copy", AttributeValue::S("holdfast#lock".into()))
                .item("part", AttributeValue::S("lock".into()))
                .item(
                    "owner",
                    AttributeValue::S("deploy-7@ci-runner pid 4242".into()),
                )
                .item("lease_until", AttributeValue::N(lease_until.to_string()))
                .item("fence", AttributeValue::N("7".into()))
                .send()
                .await
                .expect("put the lock row");
        });
    };
    hold(dynamo_support::now_ms() + 600_000);
    let started = Instant::now();
    let busy = migrate(
        work.path(),
        &endpoint,
        &["--dir", "data-migrations", "--lock-wait", "2s"],
    );
    busy.expect(5);
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(
        busy.all().contains("deploy-7@ci-runner pid 4242"),
        "{}",
        busy.all()
    );
    assert!(rt.block_on(history_row(&c, "2")).is_none(), "nothing ran");
    assert_eq!(rt.block_on(visits(&c, "users")).get(&2), None);

    // Its lease ran out (the holder died): the next runner takes over with the next token.
    hold(dynamo_support::now_ms() - 1);
    migrate(work.path(), &endpoint, &["--dir", "data-migrations"]).expect(0);
    assert_eq!(rt.block_on(visits(&c, "users")).get(&2), Some(&200));
    let lock = rt
        .block_on(
            c.get_item()
                .table_name("holdfast_data_migrations")
                .key("copy", AttributeValue::S("holdfast#lock".into()))
                .key("part", AttributeValue::S("lock".into()))
                .consistent_read(true)
                .send(),
        )
        .expect("lock row")
        .item
        .expect("a lock row");
    assert_eq!(text(&lock, "fence"), "8", "the fencing token moved on");
}
