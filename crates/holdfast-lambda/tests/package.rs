//! The packaging command (`scripts/package-lambda`): the zip holds one executable `bootstrap`
//! that needs no glibc newer than AL2023's 2.34, stays under 25 MB, and runs as a function
//! (it answers an invocation from the test kit's Runtime API).
//!
//! Needs ziglang and cargo-zigbuild in target/zig-venv, installed by `scripts/test` up front
//! (scripts/lib/tools.sh). The test installs nothing: it fails saying so when they are missing
//! ([`holdfast_testkit::tools::require_zig`]), and runs the script with `HOLDFAST_NO_INSTALL=1`,
//! so the script stops rather than installs. The first run builds the `lambda` profile for the
//! glibc 2.34 target: several minutes on 2 cores; later runs reuse it.

use holdfast_testkit::lambda::Answer;
use holdfast_testkit::LambdaRuntime;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// AL2023's glibc.
const NEWEST_GLIBC: (u32, u32) = (2, 34);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `GLIBC_x.y[.z]` version the binary's dynamic section names (the strings of its
/// version-needs entries).
fn glibc_versions(binary: &[u8]) -> Vec<(u32, u32)> {
    let needle = b"GLIBC_";
    let mut versions = Vec::new();
    let mut at = 0;
    while let Some(pos) = binary[at..].windows(needle.len()).position(|w| w == needle) {
        let start = at + pos + needle.len();
        let text: String = binary[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|b| *b as char)
            .collect();
        let mut parts = text.split('.').filter_map(|p| p.parse::<u32>().ok());
        if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
            versions.push((major, minor));
        }
        at = start;
    }
    versions
}

#[test]
fn the_package_is_one_small_bootstrap_for_glibc_2_34_that_runs() {
    holdfast_testkit::tools::require_zig();
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = dir.path().join("bootstrap.zip");
    let mut package = Command::new(repo().join("scripts/package-lambda"));
    // Without the variables cargo sets for this test (CARGO_PKG_*, …): build scripts that watch
    // them would rebuild what `scripts/package-lambda` run by hand has built.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CARGO_") && name != "CARGO_HOME" && name != "CARGO_TARGET_DIR" {
            package.env_remove(&name);
        }
    }
    let status = package
        .env("HOLDFAST_LAMBDA_OUT", &zip)
        .env("HOLDFAST_NO_INSTALL", "1")
        .stdin(Stdio::null())
        .status()
        .expect("run scripts/package-lambda");
    assert!(status.success(), "scripts/package-lambda failed: {status}");

    // The zip: exactly one entry, `bootstrap`, executable.
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile, json\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             print(json.dumps([[i.filename, i.external_attr >> 16, i.file_size] for i in z.infolist()]))\n\
             z.extract('bootstrap', sys.argv[2])",
        ])
        .arg(&zip)
        .arg(dir.path())
        .output()
        .expect("python3");
    assert!(listing.status.success(), "{listing:?}");
    let entries: Vec<(String, u32, u64)> =
        serde_json::from_slice(&listing.stdout).expect("listing");
    assert_eq!(entries.len(), 1, "{entries:?}");
    let (name, mode, size) = &entries[0];
    assert_eq!(name, "bootstrap");
    assert_eq!(mode & 0o777, 0o755, "mode {mode:o}");
    assert!(*size < 25 * 1024 * 1024, "bootstrap is {size} bytes");

    let binary = dir.path().join("bootstrap");
    let bytes = std::fs::read(&binary).expect("bootstrap");
    let versions = glibc_versions(&bytes);
    assert!(
        !versions.is_empty(),
        "no GLIBC symbol versions found: not a glibc binary?"
    );
    let newest = versions.iter().max().copied().unwrap();
    assert!(
        newest <= NEWEST_GLIBC,
        "bootstrap needs GLIBC_{}.{}, newer than AL2023's 2.34",
        newest.0,
        newest.1
    );
    std::fs::set_permissions(&binary, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");

    // It runs as a function: a Delete behind the provider framework is answered at once.
    let runtime = LambdaRuntime::start();
    let mut child = runtime
        .function_command(&binary)
        .envs(holdfast_testkit::moto::AWS_TEST_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bootstrap");
    let event = json!({
        "RequestType": "Delete", "ResponseURL": "...", "StackId": "s", "RequestId": "r",
        "LogicalResourceId": "Migrations", "PhysicalResourceId": "holdfast-Migrations",
        "ResourceProperties": {"Operation": "SqlMigrate"}
    });
    let invoked = runtime.invoke(&event, Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    match invoked.answer {
        Some(Answer::Response(value)) => {
            assert_eq!(value["PhysicalResourceId"], "holdfast-Migrations");
        }
        other => panic!("the packaged bootstrap answered {other:?}"),
    }
}

#[test]
fn glibc_versions_are_read_from_the_version_strings() {
    let fake = b"\0libc.so.6\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_PRIVATE\0GLIBC_2.17\0";
    let mut versions = glibc_versions(fake);
    versions.sort_unstable();
    assert_eq!(versions, vec![(2, 2), (2, 17), (2, 34)]);
}
