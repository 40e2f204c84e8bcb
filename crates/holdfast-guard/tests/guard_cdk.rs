//! `cdk synth` output as real input: the tiny CDK app in `tests/cdk/` (JavaScript, npm
//! `aws-cdk-lib` pinned by its `package-lock.json`) is synthesized before and after a change of
//! its tables' construct ids (`Users` → `UsersV2`), and the guard must block with
//! `stateful-rename`; compared with itself, the synth must change nothing.
//!
//! Needs Node.js and the app's `node_modules`, installed from its `package-lock.json` by
//! `scripts/test` up front (`npm ci`, scripts/lib/tools.sh). The test installs nothing: when `node`
//! is missing or too old, or `node_modules` was not installed from the current lock file, it fails
//! saying so ([`holdfast_testkit::tools::require_cdk_app`]). No `cdk` CLI and no AWS account:
//! `node app.js` synthesizes into `CDK_OUTDIR`, and the stack has no `env`.

use holdfast_core::exit::Outcome;
use holdfast_guard::config::GuardSettings;
use holdfast_guard::engine::{self, Request};
use holdfast_guard::inputs::load_side;
use holdfast_guard::rules::Policy;
use holdfast_report::guard::{Action, Severity};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cdk")
}

/// Starts `node app.js` synthesizing into a fresh `out` with the given construct ids.
fn synth(out: &Path, users_id: &str, sessions_id: &str) -> std::process::Child {
    let _ = std::fs::remove_dir_all(out);
    let mut cmd = Command::new("node");
    cmd.arg("app.js")
        .current_dir(app_dir())
        .env("CDK_OUTDIR", out)
        .env("HOLDFAST_USERS_ID", users_id)
        .env("HOLDFAST_SESSIONS_ID", sessions_id)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd.spawn()
        .unwrap_or_else(|e| panic!("node app.js: cannot start it ({e})"))
}

fn wait(child: std::process::Child, what: &str) {
    let out = child.wait_with_output().expect("wait for node");
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn request(stage: &str) -> Request {
    Request {
        stage: Some(stage.into()),
        policy: Policy::for_stage(Some(stage), GuardSettings::default()),
        parameters: HashMap::new(),
        allow: BTreeMap::new(),
        stack_pairs: Vec::new(),
    }
}

#[test]
fn a_renamed_construct_id_in_a_real_cdk_synth_blocks() {
    holdfast_testkit::tools::require_cdk_app(app_dir());
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guard-cdk");
    let (before, after) = (root.join("before"), root.join("after"));
    // Both synths at once: loading aws-cdk-lib dominates.
    let children = [
        (synth(&before, "Users", "Sessions"), "synth before"),
        (synth(&after, "UsersV2", "SessionsV2"), "synth after"),
    ];
    for (child, what) in children {
        wait(child, what);
    }
    for dir in [&before, &after] {
        assert!(
            dir.join("manifest.json").is_file(),
            "no manifest.json in {}",
            dir.display()
        );
    }

    let old = load_side(&before.display().to_string()).expect("read the first synth");
    let new = load_side(&after.display().to_string()).expect("read the second synth");
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].name, "users-service-prod");

    // Unchanged: no change, nothing blocks (the unprotected sessions table only warns in dev).
    let quiet = engine::diff(&old, &old, &request("dev")).expect("diff");
    assert!(quiet.changes.is_empty(), "{:?}", quiet.changes);
    assert_eq!(quiet.outcome(), Outcome::Success, "{:?}", quiet.findings);

    let report = engine::diff(&old, &new, &request("prod")).expect("diff");
    assert_eq!(report.outcome(), Outcome::CheckFailed);
    assert_eq!(report.outcome().code(), 3);
    let renames: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "stateful-rename")
        .collect();
    assert_eq!(renames.len(), 2, "{:#?}", report.findings);
    for (prefix, old_prefix) in [("UsersV2", "Users"), ("SessionsV2", "Sessions")] {
        let f = renames
            .iter()
            .find(|f| f.logical_id.starts_with(prefix))
            .unwrap_or_else(|| panic!("no rename finding for {prefix}: {renames:#?}"));
        assert_eq!(f.severity, Severity::Block);
        assert_eq!(f.resource_type, "AWS::DynamoDB::Table");
        assert!(
            f.message
                .contains(&format!("users-service-prod/{old_prefix}")),
            "{}",
            f.message
        );
        assert!(f.fix.contains("overrideLogicalId"), "{}", f.fix);
        let location = f.location.as_ref().expect("a location");
        assert!(location.file.ends_with("UsersService.template.json"));
        assert!(location.line > 1);
    }
    let action = |prefix: &str| {
        report
            .changes
            .iter()
            .find(|c| {
                c.logical_id.starts_with(prefix)
                    && !c.logical_id.starts_with(&format!("{prefix}V2"))
            })
            .map(|c| c.action)
    };
    // CDK's default RemovalPolicy for a table is RETAIN: the named table would be orphaned (and
    // the create of its twin fails on the name); the unnamed one is DESTROY here: deleted.
    assert_eq!(action("Users"), Some(Action::Orphan));
    assert_eq!(action("Sessions"), Some(Action::Delete));

    // With a reason for each, the deploy is accepted.
    let mut allowed = request("dev");
    for f in &renames {
        allowed.allow.insert(
            f.logical_id.clone(),
            "moved with cdk import, see runbook".into(),
        );
    }
    let accepted = engine::diff(&old, &new, &allowed).expect("diff");
    assert_eq!(
        accepted.outcome(),
        Outcome::Success,
        "{:#?}",
        accepted.findings
    );
}
