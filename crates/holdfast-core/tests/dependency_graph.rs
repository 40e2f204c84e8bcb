//! The crate boundaries of ARCHITECTURE.md, checked on the dependency graph of Cargo.lock
//! (normal, build and dev dependencies alike: a lock file does not tell them apart, so this is
//! stricter than needed) or, for the pure model, on what `cargo tree` builds it with: the pure
//! model reaches no runtime, database or AWS crate; the output
//! contract reaches nothing of Holdfast's; the Lambda function never links clap and the CLI never
//! links lambda_runtime; no binary reaches a second TLS crypto provider; what users' functions
//! link (holdfast-runtime) reaches no other Holdfast crate, lambda_runtime or aws-lc-rs.

use std::collections::{BTreeSet, HashMap};

/// Every package reachable from `root` in Cargo.lock.
fn reachable(root: &str) -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock");
    let text = std::fs::read_to_string(path).expect("Cargo.lock");
    let lock: toml::Table = text.parse().expect("Cargo.lock is TOML");
    let mut deps: HashMap<String, Vec<String>> = HashMap::new();
    for package in lock["package"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name").to_owned();
        let edges: Vec<String> = package
            .get("dependencies")
            .and_then(|d| d.as_array())
            .map(|d| {
                d.iter()
                    .filter_map(|v| v.as_str())
                    // "name" or "name version" or "name version (source)"
                    .map(|v| v.split(' ').next().unwrap_or(v).to_owned())
                    .collect()
            })
            .unwrap_or_default();
        deps.entry(name).or_default().extend(edges);
    }
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_owned()];
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            todo.extend(deps.get(&name).cloned().unwrap_or_default());
        }
    }
    seen
}

#[test]
fn the_function_never_links_clap_and_the_cli_never_links_lambda_runtime() {
    let function = reachable("holdfast-lambda");
    assert!(function.contains("lambda_runtime"), "the graph was read");
    assert!(!function.contains("clap"), "holdfast-lambda reaches clap");
    let cli = reachable("holdfast-cli");
    assert!(cli.contains("clap"), "the graph was read");
    assert!(
        !cli.contains("lambda_runtime"),
        "holdfast-cli reaches lambda_runtime"
    );
    assert!(!cli.contains("holdfast-lambda"));
}

/// Every package `root` is built with (`cargo tree -e normal,build`, features as resolved for
/// `root` alone): unlike the lock file's graph, without optional dependencies left off and
/// without dev-dependencies.
fn built_with(root: &str) -> BTreeSet<String> {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            root,
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(' ').next())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_pure_model_reaches_no_runtime_database_or_aws_crate() {
    // holdfast-core uses holdfast-runtime's pure modules (the stage mapping), without the
    // runtime's `aws` feature: its build is what must stay pure, not the lock file's union.
    let core = built_with("holdfast-core");
    assert!(core.contains("holdfast-report"), "the graph was read");
    let bad: Vec<&String> = core
        .iter()
        .filter(|name| {
            name.as_str() == "tokio"
                || name.starts_with("sqlx")
                || name.starts_with("aws-")
                || name.starts_with("hyper")
        })
        .collect();
    assert!(bad.is_empty(), "holdfast-core reaches {bad:?}");
}

#[test]
fn the_output_contract_depends_on_serde_and_schemars_alone() {
    let report = reachable("holdfast-report");
    assert!(report.contains("schemars"), "the graph was read");
    let holdfast: Vec<&String> = report
        .iter()
        .filter(|name| name.starts_with("holdfast-") && name.as_str() != "holdfast-report")
        .collect();
    assert!(holdfast.is_empty(), "holdfast-report reaches {holdfast:?}");
    assert!(!report.contains("tokio") && !report.contains("toml"));
}

#[test]
fn no_binary_reaches_aws_lc_rs() {
    for root in ["holdfast-cli", "holdfast-lambda"] {
        let graph = reachable(root);
        assert!(graph.contains("rustls"), "the graph was read");
        assert!(
            !graph.contains("aws-lc-rs") && !graph.contains("aws-lc-sys"),
            "{root} reaches aws-lc-rs: two rustls crypto providers in one process can panic"
        );
    }
}

#[test]
fn users_functions_get_no_other_holdfast_crate_nor_lambda_runtime_nor_aws_lc_rs() {
    let runtime = reachable("holdfast-runtime");
    assert!(runtime.contains("aws-sdk-ssm"), "the graph was read");
    let holdfast: Vec<&String> = runtime
        .iter()
        .filter(|name| name.starts_with("holdfast-"))
        // The test kit is a dev-dependency (the lock file does not tell them apart).
        .filter(|name| !matches!(name.as_str(), "holdfast-runtime" | "holdfast-testkit"))
        .collect();
    assert!(holdfast.is_empty(), "holdfast-runtime reaches {holdfast:?}");
    for crate_name in ["lambda_runtime", "aws-lc-rs", "aws-lc-sys", "clap"] {
        assert!(
            !runtime.contains(crate_name),
            "holdfast-runtime reaches {crate_name}"
        );
    }
}

#[test]
fn every_crate_inherits_the_workspace_lints() {
    let crates = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut checked = 0;
    for entry in std::fs::read_dir(crates).expect("crates/") {
        let manifest = entry.expect("entry").path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let table: toml::Table = text.parse().expect("Cargo.toml is TOML");
        let inherits = table
            .get("lints")
            .and_then(|l| l.get("workspace"))
            .and_then(toml::Value::as_bool);
        assert_eq!(
            inherits,
            Some(true),
            "{}: no `[lints] workspace = true` (unsafe code is denied everywhere)",
            manifest.display()
        );
        for root in ["src/lib.rs", "src/main.rs"] {
            let path = manifest.with_file_name(root);
            if let Ok(source) = std::fs::read_to_string(&path) {
                assert!(
                    source.contains("#![forbid(unsafe_code)]"),
                    "{}: no #![forbid(unsafe_code)]",
                    path.display()
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} crates found");
}
