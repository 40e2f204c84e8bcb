//! The deploy guard's fixture corpus: `tests/fixtures/guard/<case>/` holds one side or two
//! (`old.*` / `new.*`: a template file, a `cdk.out` folder or a `.serverless` folder; `template.*`
//! for `guard check`; `changeset.json` for `guard changeset`) and `expect.json`, the runs to make
//! and what each must find. See `tests/fixtures/guard/README.md` for the format.
//!
//! The assertions are on actions, rule ids, severities, accepted findings and the exit outcome;
//! messages only by the fragments a user relies on (the resource names, the property).

use holdfast_guard::config::{GuardConfig, GuardSettings};
use holdfast_guard::engine::{self, Request};
use holdfast_guard::eval::{Canon, Scope};
use holdfast_guard::inputs::{self, StackTemplate};
use holdfast_guard::rules::Policy;
use holdfast_report::guard::GuardReport;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Every case the corpus must have (a missing folder fails the test).
const REQUIRED: &[&str] = &[
    "seed-rename",
    "table-name-change",
    "key-schema-change",
    "type-change",
    "removal-delete",
    "removal-retain",
    "retain-except-on-create",
    "nested-create-only-changed",
    "nested-beside-create-only",
    "nested-ancestor-added",
    "rds-identifier-change",
    "rds-backup-retention-raised",
    "s3-bucket-name-change",
    "stateless-only",
    "short-form-tags",
    "scalar-normalisation",
    "cdk-move-retained",
    "cdk-move-deleted",
    "param-default-changed",
    "param-value-from-file",
    "param-no-value",
    "param-no-value-differs",
    "unresolved-input-changed",
    "mapping-lookup-changed",
    "rename-retained-unnamed",
    "sam-stateless-globals",
    "sam-check",
    "sam-other-transform",
    "sam-application",
    "sam-table-to-native",
    "sam-table-name-removed",
    "include-properties",
    "include-resources",
    "include-resource-body",
    "check-conditional",
    "condition-decidable",
    "condition-undecidable",
    "transform-sam",
    "for-each",
    "nested-stack",
    "unknown-type-deleted",
    "lambda-cascade",
    "check-unprotected",
    "check-config-override",
    "changeset",
    "changeset-safe",
];

/// Cases whose new side, compared with itself, still reports something: none. What the guard
/// cannot resolve or see into (a parameter without a value, a transform, a loop, an include, a
/// nested stack's template) is still the same when written the same.
const SELF_DIFF_NOT_QUIET: &[&str] = &[];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/guard")
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .expect("read the corpus folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expect.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The entry of `dir` named `stem` or `stem.<ext>`.
fn side(dir: &Path, stem: &str) -> Option<PathBuf> {
    if dir.join(stem).is_dir() {
        return Some(dir.join(stem));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_stem().and_then(|s| s.to_str()) == Some(stem)
                && p.extension().is_some()
        })
        .collect();
    found.sort();
    assert!(
        found.len() <= 1,
        "{}: more than one {stem}.*",
        dir.display()
    );
    found.pop()
}

fn load(path: &Path) -> Vec<StackTemplate> {
    inputs::load_side(&path.display().to_string())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn obj<'a>(run: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    run.get(key).and_then(Value::as_object)
}

fn text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

/// Builds the request of one run the way the CLI does: `holdfast.toml` (`config`), `--stage`,
/// `--allow` (`allow`), `--stack` (`stacks`), `--parameters` (`parameters`: a file or an object).
fn request(dir: &Path, run: &Value) -> Request {
    let stage = run.get("stage").and_then(Value::as_str).map(str::to_string);
    let settings: GuardSettings = match run.get("config").and_then(Value::as_str) {
        Some(file) => {
            let text = std::fs::read_to_string(dir.join(file)).expect("read the config");
            GuardConfig::parse(&text)
                .unwrap_or_else(|e| panic!("{file}: {e}"))
                .settings(stage.as_deref())
        }
        None => GuardSettings::default(),
    };
    let mut allow = settings.allow.clone();
    for (id, reason) in obj(run, "allow").into_iter().flatten() {
        allow.insert(id.clone(), text(reason));
    }
    let parameters: HashMap<String, String> = match run.get("parameters") {
        None => HashMap::new(),
        Some(Value::String(file)) => {
            inputs::parameters_file(&dir.join(file)).expect("read parameters")
        }
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        Some(other) => panic!("parameters: {other}"),
    };
    let stack_pairs = run
        .get("stacks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|pair| (text(&pair[0]), text(&pair[1])))
        .collect();
    let policy = Policy::for_stage(stage.as_deref(), settings);
    assert!(
        policy.unknown_rule_ids().is_empty(),
        "unknown rule ids in the config"
    );
    Request {
        stage,
        policy,
        parameters,
        allow,
        stack_pairs,
    }
}

fn execute(dir: &Path, run: &Value, request: &Request) -> GuardReport {
    match run.get("command").and_then(Value::as_str).unwrap_or("diff") {
        "diff" => {
            let old = side(dir, "old").expect("an old side");
            let new = side(dir, "new").expect("a new side");
            engine::diff(&load(&old), &load(&new), request).expect("the request fits the templates")
        }
        "check" => engine::check(&load(&side(dir, "template").expect("a template")), request),
        "changeset" => {
            let file = dir.join("changeset.json");
            let text = std::fs::read_to_string(&file).expect("read the change set");
            holdfast_guard::changeset::judge(&file.display().to_string(), &text, request)
                .expect("a readable change set")
        }
        other => panic!("unknown command {other}"),
    }
}

fn snake<T: serde::Serialize>(v: &T) -> String {
    text(&serde_json::to_value(v).expect("serializes"))
}

/// Checks one run; returns what is wrong.
fn check_run(report: &GuardReport, run: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    // Keys are `Id`, or `Stack/Id` when the expectation names stacks.
    let qualified = ["changes", "reasons"]
        .iter()
        .filter_map(|k| obj(run, k))
        .flat_map(|m| m.keys().map(String::as_str))
        .chain(
            run.get("findings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|f| f[1].as_str()),
        )
        .any(|k| k.contains('/'));
    let key = |stack: &str, id: &str| {
        if qualified {
            format!("{stack}/{id}")
        } else {
            id.to_string()
        }
    };

    let want_exit = run["exit"].as_i64().expect("exit") as i32;
    if report.outcome().code() != want_exit {
        errors.push(format!(
            "exit {} (want {want_exit})",
            report.outcome().code()
        ));
    }

    let changes: BTreeMap<String, String> = report
        .changes
        .iter()
        .map(|c| (key(&c.stack, &c.logical_id), snake(&c.action)))
        .collect();
    if changes.len() != report.changes.len() {
        errors.push("two changes for one resource".into());
    }
    if let Some(want) = obj(run, "changes") {
        let want: BTreeMap<String, String> =
            want.iter().map(|(k, v)| (k.clone(), text(v))).collect();
        if changes != want {
            errors.push(format!("changes {changes:?}\n      want {want:?}"));
        }
    }
    for (id, fragments) in obj(run, "reasons").into_iter().flatten() {
        let reasons: Vec<&String> = report
            .changes
            .iter()
            .filter(|c| &key(&c.stack, &c.logical_id) == id)
            .flat_map(|c| &c.reasons)
            .collect();
        for f in fragments.as_array().expect("reasons: lists") {
            let f = text(f);
            if !reasons.iter().any(|r| r.contains(&f)) {
                errors.push(format!(
                    "{id}: no reason mentions {f:?} (reasons: {reasons:?})"
                ));
            }
        }
    }

    let mut findings: Vec<(String, String, String)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.clone(),
                key(&f.stack, &f.logical_id),
                snake(&f.severity),
            )
        })
        .collect();
    findings.sort();
    if let Some(want) = run.get("findings").and_then(Value::as_array) {
        let mut want: Vec<(String, String, String)> = want
            .iter()
            .map(|f| (text(&f[0]), text(&f[1]), text(&f[2])))
            .collect();
        want.sort();
        if findings != want {
            errors.push(format!("findings {findings:?}\n      want {want:?}"));
        }
    }
    let finding = |label: &str| {
        report
            .findings
            .iter()
            .filter(|f| format!("{} {}", f.rule, key(&f.stack, &f.logical_id)) == label)
            .collect::<Vec<_>>()
    };
    for (field, name) in [("messages", "message"), ("fixes", "fix")] {
        for (label, fragments) in obj(run, field).into_iter().flatten() {
            let found = finding(label);
            if found.is_empty() {
                errors.push(format!("{field}: no finding `{label}`"));
            }
            for f in fragments.as_array().expect("lists") {
                let f = text(f);
                for x in &found {
                    let body = if name == "fix" { &x.fix } else { &x.message };
                    if !body.contains(&f) {
                        errors.push(format!("{label}: {name} {body:?} lacks {f:?}"));
                    }
                }
            }
        }
    }
    for (label, want) in obj(run, "locations").into_iter().flatten() {
        let want = text(want);
        let (file, line) = want.rsplit_once(':').expect("file:line");
        for f in finding(label) {
            match &f.location {
                Some(l) if l.file.ends_with(file) && l.line.to_string() == line => {}
                other => errors.push(format!("{label}: location {other:?}, want {want}")),
            }
        }
    }
    let allowed: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| f.allowed.is_some())
        .map(|f| key(&f.stack, &f.logical_id))
        .collect();
    let want_allowed: BTreeSet<String> = run
        .get("allowed")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    if allowed != want_allowed {
        errors.push(format!("allowed {allowed:?}, want {want_allowed:?}"));
    }
    for f in &report.findings {
        if let Some(reason) = &f.allowed {
            if reason.trim().is_empty() {
                errors.push(format!("{}: accepted without a reason", f.logical_id));
            }
        }
        if f.fix.trim().is_empty() || f.message.trim().is_empty() {
            errors.push(format!("{} {}: empty message or fix", f.rule, f.logical_id));
        }
    }
    let s = &report.summary;
    let count = |sev: &str, allowed: bool| {
        report
            .findings
            .iter()
            .filter(|f| snake(&f.severity) == sev && f.allowed.is_some() == allowed)
            .count()
    };
    if (s.blocking, s.allowed, s.warnings)
        != (
            count("block", false),
            count("block", true),
            count("warn", false),
        )
    {
        errors.push(format!("summary {s:?} does not count the findings"));
    }
    errors
}

#[test]
fn the_corpus_has_every_required_case() {
    let present = cases();
    let missing: Vec<&&str> = REQUIRED
        .iter()
        .filter(|c| !present.iter().any(|p| p == **c))
        .collect();
    assert!(missing.is_empty(), "missing fixture cases: {missing:?}");
}

#[test]
fn every_case_finds_what_it_expects() {
    let mut failures = Vec::new();
    let mut runs = 0;
    for case in cases() {
        let dir = corpus().join(&case);
        let expect: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("expect.json")).expect("read expect.json"),
        )
        .unwrap_or_else(|e| panic!("{case}/expect.json: {e}"));
        let about = expect["about"].as_str().unwrap_or_default();
        assert!(!about.is_empty(), "{case}: expect.json needs an `about`");
        for (i, run) in expect["runs"].as_array().expect("runs").iter().enumerate() {
            runs += 1;
            let label = run
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("run {i}"));
            let request = request(&dir, run);
            let report = execute(&dir, run, &request);
            // Deterministic: the same input gives the same report.
            let again = execute(&dir, run, &request);
            let (a, b) = (
                serde_json::to_string(&report).expect("report serializes"),
                serde_json::to_string(&again).expect("report serializes"),
            );
            if a != b {
                failures.push(format!("{case} ({label}): two runs gave different reports"));
            }
            for e in check_run(&report, run) {
                failures.push(format!("{case} ({label}): {e}"));
            }
        }
    }
    assert!(runs >= REQUIRED.len());
    assert!(
        failures.is_empty(),
        "{} failure(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// A template compared with itself changes nothing and finds no data loss.
#[test]
fn every_new_side_compared_with_itself_is_quiet() {
    let mut failures = Vec::new();
    for case in cases() {
        let dir = corpus().join(&case);
        let Some(new) = side(&dir, "new").or_else(|| side(&dir, "template")) else {
            continue;
        };
        let stacks = load(&new);
        let request = Request {
            stage: Some("dev".into()),
            policy: Policy::for_stage(Some("dev"), GuardSettings::default()),
            parameters: HashMap::new(),
            allow: BTreeMap::new(),
            stack_pairs: Vec::new(),
        };
        let report = engine::diff(&stacks, &stacks, &request).expect("pairs with itself");
        let quiet = report.changes.is_empty() && report.summary.blocking == 0;
        if quiet == SELF_DIFF_NOT_QUIET.contains(&case.as_str()) {
            failures.push(format!(
                "{case}: quiet={quiet}; changes {:?}, findings {:?}",
                report
                    .changes
                    .iter()
                    .map(|c| (&c.logical_id, c.action))
                    .collect::<Vec<_>>(),
                report
                    .findings
                    .iter()
                    .map(|f| (&f.rule, &f.logical_id, f.severity))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The short forms expand to exactly the long forms: resource by resource, the YAML template's
/// properties and policies are the JSON template's, and they evaluate to the expected values.
#[test]
fn short_form_tags_expand_to_the_long_forms() {
    let dir = corpus().join("short-form-tags");
    let yaml = std::fs::read_to_string(dir.join("new.yaml")).expect("read");
    for tag in [
        "!Ref",
        "!Sub",
        "!GetAtt",
        "!If",
        "!Join",
        "!Select",
        "!Split",
        "!FindInMap",
        "!Base64",
        "!Cidr",
        "!GetAZs",
        "!ImportValue",
        "!Equals",
        "!And",
        "!Or",
        "!Not",
        "!Condition",
    ] {
        assert!(
            yaml.contains(&format!("{tag} ")) || yaml.contains(&format!("{tag}\n")),
            "new.yaml does not use {tag}"
        );
    }
    let short = holdfast_guard::template::load(&yaml).expect("YAML parses");
    let long = holdfast_guard::template::load(
        &std::fs::read_to_string(dir.join("old.json")).expect("read"),
    )
    .expect("JSON parses");
    assert_eq!(short.resources.len(), long.resources.len());
    for (s, l) in short.resources.iter().zip(&long.resources) {
        assert_eq!(s.logical_id, l.logical_id);
        for (a, b) in [
            (&s.properties, &l.properties),
            (&s.deletion_policy, &l.deletion_policy),
            (&s.update_replace_policy, &l.update_replace_policy),
        ] {
            match (a, b) {
                (Some(a), Some(b)) => {
                    assert!(a.cfn_equivalent(b), "{}: {a:?}\nvs {b:?}", s.logical_id)
                }
                (None, None) => {}
                _ => panic!("{}: a section on one side only", s.logical_id),
            }
        }
    }
    for ((n, a), (m, b)) in short.conditions.iter().zip(&long.conditions) {
        assert_eq!(n, m);
        assert!(a.cfn_equivalent(b), "condition {n}");
    }
    let scope = Scope::new(&short, &HashMap::new());
    let table = short.resource("OrdersTable").expect("OrdersTable");
    let props = scope.eval(table.properties.as_ref().expect("properties"));
    let at = |k: &str| props.get(k).cloned();
    assert_eq!(
        at("TableName"),
        Some(Canon::Scalar("orders-prod-live".into()))
    );
    let throughput = at("ProvisionedThroughput").expect("throughput");
    assert_eq!(
        throughput.get("ReadCapacityUnits"),
        Some(&Canon::Scalar("25".into()))
    );
    assert_eq!(
        throughput.get("WriteCapacityUnits"),
        Some(&Canon::Scalar("5".into()))
    );
    assert_eq!(
        at("DeletionProtectionEnabled"),
        Some(Canon::Scalar("true".into()))
    );
    assert_eq!(
        scope.eval(table.deletion_policy.as_ref().expect("policy")),
        Canon::Scalar("Retain".into())
    );
    for (cond, want) in [
        ("IsProd", true),
        ("IsDev", false),
        ("ProdOrDev", true),
        ("ProdAndKnown", true),
    ] {
        assert_eq!(scope.condition(cond), Some(want), "{cond}");
    }
    // With Stage=dev the same template names another table.
    let dev = Scope::new(
        &short,
        &HashMap::from([("Stage".to_string(), "dev".to_string())]),
    );
    assert_eq!(
        dev.eval(table.properties.as_ref().expect("properties"))
            .get("TableName"),
        Some(&Canon::Scalar("orders-dev-test".into()))
    );
}

/// The sides of the corpus read as the input kinds they stand for.
#[test]
fn folders_read_as_cdk_and_serverless_stacks() {
    let seed = corpus().join("seed-rename");
    let old = load(&seed.join("old"));
    assert_eq!(old.len(), 1);
    assert_eq!(
        old[0].name, "my-service-prod",
        "the Serverless service and stage"
    );
    let new = load(&seed.join("new"));
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].name, "my-service-prod", "the CDK stack's stackName");
    assert!(new[0].file.ends_with("MyServiceProd.template.json"));
    let moved = load(&corpus().join("cdk-move-deleted/old"));
    let mut names: Vec<&str> = moved.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["AppStack", "DataStack"]);
}
