//! `cdk synth` output as real input: the guard's tiny CDK app (`crates/holdfast-guard/tests/cdk`,
//! npm `aws-cdk-lib` pinned by its lock file), synthesized with its staging stack, whose function
//! reads production's secret (`Secret.fromSecretNameV2('prod/…')` and `grantRead`), names
//! production's SSM parameter, and holds a live Stripe key in its environment. The env checks
//! must find each of them in the synthesized templates, and show none of the key.
//!
//! Needs Node.js and the app's `node_modules`, installed by `scripts/test` up front; the test
//! installs nothing ([`holdfast_testkit::tools::require_cdk_app`]). No `cdk` CLI, no AWS account.

use holdfast_env::check::{check, Findings};
use holdfast_env::config::EnvConfig;
use holdfast_env::fingerprint::Fingerprinter;
use holdfast_guard::inputs::load_side;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../holdfast-guard/tests/cdk")
}

#[test]
fn a_staging_function_wired_to_production_in_a_real_cdk_synth_is_caught() {
    holdfast_testkit::tools::require_cdk_app(app_dir());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("env-cdk");
    let _ = std::fs::remove_dir_all(&out);
    // Made up here, never written whole in the repository.
    let live_key = format!("sk_{}_{}", "live", "51HoldfastFakeKey0123456789ab");
    let synth = Command::new("node")
        .arg("app.js")
        .current_dir(app_dir())
        .env("CDK_OUTDIR", &out)
        .env("HOLDFAST_STAGING_STRIPE_KEY", &live_key)
        .output()
        .expect("run node app.js");
    assert!(
        synth.status.success(),
        "synth failed:\n{}",
        String::from_utf8_lossy(&synth.stderr)
    );
    let stacks = load_side(&out.display().to_string()).expect("read the cdk.out");
    assert!(
        stacks.iter().any(|s| s.name == "billing-staging"),
        "{:?}",
        stacks.iter().map(|s| &s.name).collect::<Vec<_>>()
    );

    let config = EnvConfig::parse("[stages.staging]\n[stages.prod]\n").unwrap();
    let ctx = holdfast_env::context(&config, Some("staging"));
    let fingerprints = Fingerprinter::random();
    let mut findings = Findings::new(&ctx.settings, &fingerprints).unwrap();
    let functions = holdfast_env::functions::functions(&stacks, &HashMap::new());
    check(&functions, &ctx, &mut findings);

    let charge: Vec<_> = findings
        .list
        .iter()
        .filter(|f| f.function.starts_with("Charge"))
        .map(|f| (f.key.as_str(), f.rule.as_str()))
        .collect();
    for expected in [
        ("STRIPE_KEY", "env-live-key"),
        ("STRIPE_KEY", "env-plaintext-secret"),
        ("API_KEYS_PARAM", "env-cross-stage"),
        ("STRIPE_SECRET_ARN", "env-cross-stage"),
        ("(role)", "env-cross-stage"),
    ] {
        assert!(charge.contains(&expected), "{expected:?} not in {charge:?}");
    }
    assert!(
        !charge.iter().any(|(k, _)| *k == "LOG_LEVEL"),
        "LOG_LEVEL is fine: {charge:?}"
    );
    let report = holdfast_env::report(
        holdfast_report::Command::EnvCheck,
        &ctx,
        &functions,
        findings.list,
    );
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains(&live_key), "the key is in the report");
    assert!(
        !json.contains("51HoldfastFakeKey"),
        "part of the key is in the report"
    );
    let location = report
        .findings
        .iter()
        .find(|f| f.key == "STRIPE_KEY")
        .and_then(|f| f.location.clone())
        .expect("a location");
    assert!(
        location.file.ends_with("BillingStaging.template.json"),
        "{location:?}"
    );
    assert!(location.line > 1);
}
