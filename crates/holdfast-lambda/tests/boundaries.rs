//! The front-end boundary (ARCHITECTURE.md): the Lambda function never links clap, and the CLI
//! never links lambda_runtime. Checked on the dependency graph of Cargo.lock (normal, build and
//! dev dependencies alike: a lock file does not tell them apart, so this is stricter than needed).

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
