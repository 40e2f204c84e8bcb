//! Parity with cfn-lint's I3011 ("stateful resource without an explicit DeletionPolicy /
//! UpdateReplacePolicy"): on every template of the fixture corpus, each (resource, policy) that
//! I3011 reports must be reported by `guard check` too, by `deletion-policy`,
//! `update-replace-policy` or `default-policy` at any severity. A template with a `Transform` is
//! covered by the guard's `transform` finding: cfn-lint expands SAM and `Fn::ForEach` itself, the
//! guard says it cannot see the result instead of guessing.
//!
//! cfn-lint is the version `scripts/gen-guard-schemas` generated the schema data from, installed
//! by `scripts/test` up front into a virtualenv under the target directory
//! (`target/guard-tools/cfn-lint-<version>`, scripts/lib/tools.sh). The test installs nothing:
//! when that cfn-lint is missing it fails saying so ([`holdfast_testkit::tools::require_cfn_lint`]).

use holdfast_guard::config::GuardSettings;
use holdfast_guard::engine::{self, Request};
use holdfast_guard::inputs::load_side;
use holdfast_guard::reach::{reach, Reach};
use holdfast_guard::rules::Policy;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn guard_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/guard")
}

#[test]
fn the_schema_data_is_from_the_pinned_version() {
    let version = holdfast_testkit::tools::cfn_lint_version();
    assert!(
        holdfast_guard::schema::schema_source().contains(&version),
        "the schema data is not from cfn-lint {version}, which scripts/gen-guard-schemas pins: {}",
        holdfast_guard::schema::schema_source()
    );
}

/// Every template file of the corpus: plain templates and those inside cdk.out / .serverless.
fn templates() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("read a corpus folder")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if path.is_dir() {
                walk(&path, out);
            } else if name.ends_with(".yaml")
                || name.ends_with(".template.json")
                || name == "cloudformation-template-update-stack.json"
                || (name.ends_with(".json")
                    && ["old", "new", "template"]
                        .iter()
                        .any(|s| name == format!("{s}.json")))
                || path.parent().is_some_and(|p| p.ends_with("i3011")) && name.ends_with(".json")
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&guard_dir(), &mut out);
    out
}

/// Policy attribute names I3011 reports missing, per file and logical ID.
type Missing = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn run_cfn_lint(exe: &Path, files: &[PathBuf]) -> Missing {
    let out = Command::new(exe)
        .args(["--include-checks", "I3011", "--format", "json", "--"])
        .args(files)
        .output()
        .expect("run cfn-lint");
    // cfn-lint exits non-zero when it finds anything; its JSON is what counts.
    let matches: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-lint printed no JSON ({e}, exit {}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut missing = Missing::new();
    for m in matches.as_array().expect("a list of matches") {
        if m["Rule"]["Id"] != "I3011" {
            continue;
        }
        let file = m["Filename"].as_str().expect("Filename").to_string();
        let path = m["Location"]["Path"].as_array().expect("Location.Path");
        let id = path
            .get(1)
            .and_then(Value::as_str)
            .expect("a resource path");
        let message = m["Message"].as_str().unwrap_or_default();
        let attribute = ["DeletionPolicy", "UpdateReplacePolicy"]
            .into_iter()
            .find(|a| message.contains(&format!("'{a}'")))
            .unwrap_or_else(|| panic!("an I3011 message naming neither policy: {message}"));
        missing
            .entry(file)
            .or_default()
            .entry(id.to_string())
            .or_default()
            .insert(attribute.to_string());
    }
    missing
}

#[test]
fn guard_check_reports_everything_i3011_reports() {
    let exe = holdfast_testkit::tools::require_cfn_lint();
    let files = templates();
    assert!(files.len() >= 40, "only {} templates found", files.len());
    let missing = run_cfn_lint(&exe, &files);
    let request = Request {
        stage: None,
        policy: Policy::for_stage(None, GuardSettings::default()),
        parameters: HashMap::new(),
        allow: BTreeMap::new(),
        stack_pairs: Vec::new(),
    };
    let mut checked = 0;
    let mut gaps = Vec::new();
    for (file, resources) in &missing {
        let stacks = load_side(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let report = engine::check(&stacks, &request);
        if report
            .findings
            .iter()
            .any(|f| f.rule == "transform" || f.rule == "for-each")
        {
            checked += resources.values().map(BTreeSet::len).sum::<usize>();
            continue;
        }
        for (id, attributes) in resources {
            for attribute in attributes {
                checked += 1;
                let rule = match attribute.as_str() {
                    "DeletionPolicy" => "deletion-policy",
                    _ => "update-replace-policy",
                };
                let found = report.findings.iter().any(|f| {
                    &f.logical_id == id
                        && (f.rule == rule
                            || (f.rule == "default-policy"
                                && f.message.contains(attribute.as_str())))
                });
                // A resource whose Condition no parameter values make true never exists: guard
                // check skips it (cfn-lint's I3011 does not decide conditions).
                let never = stacks.iter().any(|s| {
                    s.template
                        .resource(id)
                        .and_then(|r| r.condition.as_deref())
                        .is_some_and(|c| reach(&s.template, c, &HashMap::new()) == Reach::Never)
                });
                if !found && !never {
                    gaps.push(format!("{file}: {id}: {attribute}"));
                }
            }
        }
    }
    assert!(
        checked >= 60,
        "I3011 reported only {checked} missing policies: is the rule still on?"
    );
    assert!(
        gaps.is_empty(),
        "I3011 reports a missing policy that guard check does not ({} of {checked}):\n  {}",
        gaps.len(),
        gaps.join("\n  ")
    );
}
