//! The tools some tests run besides the services: Node.js with the `node_modules` of a CDK app,
//! cfn-lint, and zig for the Lambda packaging.
//!
//! No test installs anything. `scripts/test` installs every tool up front (`ensure_test_tools`
//! of `scripts/lib/tools.sh`); a test only checks here that its tool is there and current, and
//! otherwise fails with one line naming what is missing and the script that installs it:
//!
//! - [`require_cdk_app`]: `node` runs and is at least the major version aws-cdk-lib's `engines`
//!   asks for in the app's `package-lock.json`, and the app's `node_modules` was installed from
//!   that lock (`npm ci` writes the lock's SHA-256 into `node_modules/.holdfast-npm-ci`);
//! - [`require_cfn_lint`]: the virtualenv `TARGET/guard-tools/cfn-lint-VERSION` holding the
//!   cfn-lint `scripts/gen-guard-schemas` pins (its `CFN_LINT_VERSION = "…"` line);
//! - [`require_zig`]: the virtualenv `TARGET/zig-venv` holding ziglang and cargo-zigbuild as
//!   `HF_ZIG_REQUIREMENTS` of `scripts/lib/tools.sh` lists them (`scripts/package-lambda`'s
//!   linker).
//!
//! TARGET is cargo's target folder, the one that holds the running test ([`target_dir`]). A
//! virtualenv is current when its stamp `.holdfast-requirements` lists exactly the requirements,
//! one a line, as `hf_venv_install` of `scripts/lib/services.sh` writes it.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What every failure says after naming the missing tool.
const INSTALLED_BY: &str = "run scripts/test, which installs it up front (scripts/lib/tools.sh)";

/// The stamp `npm ci` of `scripts/lib/tools.sh` leaves in a CDK app's `node_modules`.
pub const NPM_CI_STAMP: &str = "node_modules/.holdfast-npm-ci";

/// The stamp of a virtualenv made by `hf_venv_install`: its requirements, one a line.
pub const VENV_STAMP: &str = ".holdfast-requirements";

/// Fails the test: `what` is missing or not current (one line, ending with who installs it).
#[track_caller]
fn missing(what: &str) -> ! {
    panic!("{what}: {INSTALLED_BY}")
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Cargo's target folder: the nearest folder above the running test executable that holds
/// cargo's `CACHEDIR.TAG` (so `CARGO_TARGET_DIR`, `build.target-dir` and `--target` builds all
/// find the folder `scripts/test` installed into); else `CARGO_TARGET_DIR`, else `target/` of
/// the repository.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    if let Some(dir) = exe
        .as_deref()
        .and_then(|exe| exe.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file()))
    {
        return dir.to_path_buf();
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    }
}

/// PATH relative to the repository when it is inside it (for messages).
fn show(path: &Path) -> String {
    let root = repo_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn read(path: &Path, what: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{what}: cannot read {}: {e}", path.display()))
}

/// The Node.js major version aws-cdk-lib's `engines` asks for in a `package-lock.json`
/// (`">= 20.0.0"` → 20).
fn node_major_needed(lock: &serde_json::Value) -> Option<u32> {
    let engines = lock["packages"]["node_modules/aws-cdk-lib"]["engines"]["node"].as_str()?;
    let digits: String = engines
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The major version of `node --version`'s `v20.19.0`.
fn node_major(version: &str) -> Option<u32> {
    version
        .trim()
        .strip_prefix('v')?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// Checks that the CDK app in `dir` (a folder with a `package-lock.json`) can run: `node` is on
/// PATH and recent enough for the app's aws-cdk-lib, and `node_modules` was installed from the
/// current lock file. Returns `dir`.
#[track_caller]
pub fn require_cdk_app(dir: impl AsRef<Path>) -> PathBuf {
    let dir = dir.as_ref();
    let dir = &dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let app = show(dir);
    let lock_path = dir.join("package-lock.json");
    let lock_bytes = std::fs::read(&lock_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", lock_path.display()));

    let version = match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => missing(&format!(
            "Node.js for {app}: `node --version` failed ({})",
            out.status
        )),
        Err(e) => missing(&format!("Node.js for {app}: no `node` on PATH ({e})")),
    };
    let lock: serde_json::Value = serde_json::from_slice(&lock_bytes)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", lock_path.display()));
    let needed = node_major_needed(&lock).unwrap_or_else(|| {
        panic!(
            "{} names no Node.js version in aws-cdk-lib's engines",
            lock_path.display()
        )
    });
    if node_major(&version).is_none_or(|major| major < needed) {
        missing(&format!(
            "Node.js {needed} or newer for {app}: `node` on PATH is {}",
            version.trim()
        ));
    }

    let sum = format!("{:x}", Sha256::digest(&lock_bytes));
    let stamp = dir.join(NPM_CI_STAMP);
    match std::fs::read_to_string(&stamp) {
        Ok(text) if text.trim() == sum => dir.to_path_buf(),
        Ok(_) => missing(&format!(
            "the npm packages of {app}: {} was installed from another package-lock.json",
            show(&dir.join("node_modules"))
        )),
        Err(_) => missing(&format!(
            "the npm packages of {app}: no {} (npm ci's stamp)",
            show(&stamp)
        )),
    }
}

/// Checks that `venv` is a virtualenv made for exactly `requirements` holding `bin/<program>`;
/// returns that executable. `what` names the tool in the failure.
#[track_caller]
fn require_venv(venv: &Path, program: &str, requirements: &[String], what: &str) -> PathBuf {
    let exe = venv.join("bin").join(program);
    let wanted: String = requirements.iter().map(|r| format!("{r}\n")).collect();
    match std::fs::read_to_string(venv.join(VENV_STAMP)) {
        Ok(text) if text == wanted => {}
        Ok(_) => missing(&format!(
            "{what}: {} holds other requirements than {}",
            show(venv),
            requirements.join(" ")
        )),
        Err(_) => missing(&format!("{what}: not installed in {}", show(venv))),
    }
    if !exe.is_file() {
        missing(&format!("{what}: no {}", show(&exe)));
    }
    exe
}

/// The cfn-lint version `scripts/gen-guard-schemas` pins (its `CFN_LINT_VERSION = "…"` line):
/// the one the guard's schema data was generated from.
pub fn cfn_lint_version() -> String {
    let generator = repo_root().join("scripts/gen-guard-schemas");
    read(&generator, "the pinned cfn-lint version")
        .lines()
        .find_map(|line| {
            line.strip_prefix("CFN_LINT_VERSION = \"")?
                .strip_suffix('"')
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no CFN_LINT_VERSION = \"…\" line in scripts/gen-guard-schemas"))
}

/// The `cfn-lint` executable of the pinned version ([`cfn_lint_version`]), in the virtualenv
/// `TARGET/guard-tools/cfn-lint-VERSION`.
#[track_caller]
pub fn require_cfn_lint() -> PathBuf {
    let version = cfn_lint_version();
    let venv = target_dir()
        .join("guard-tools")
        .join(format!("cfn-lint-{version}"));
    require_venv(
        &venv,
        "cfn-lint",
        &[format!("cfn-lint=={version}")],
        &format!("cfn-lint {version}"),
    )
}

/// The requirements `HF_ZIG_REQUIREMENTS=('…' '…')` of `scripts/lib/tools.sh` lists.
fn zig_requirements() -> Vec<String> {
    let tools = repo_root().join("scripts/lib/tools.sh");
    let line = read(&tools, "zig's requirements")
        .lines()
        .find_map(|line| {
            line.strip_prefix("HF_ZIG_REQUIREMENTS=(")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no HF_ZIG_REQUIREMENTS=(…) line in scripts/lib/tools.sh"));
    line.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The virtualenv `TARGET/zig-venv` holding ziglang and cargo-zigbuild, which
/// `scripts/package-lambda` links the Lambda function with. Returns the virtualenv's folder.
#[track_caller]
pub fn require_zig() -> PathBuf {
    let venv = target_dir().join("zig-venv");
    require_venv(
        &venv,
        "cargo-zigbuild",
        &zig_requirements(),
        "ziglang and cargo-zigbuild",
    );
    venv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_node_version_aws_cdk_lib_needs() {
        let lock = serde_json::json!({"packages": {"node_modules/aws-cdk-lib": {
            "version": "2.276.0", "engines": {"node": ">= 20.0.0"}}}});
        assert_eq!(node_major_needed(&lock), Some(20));
        assert_eq!(node_major_needed(&serde_json::json!({})), None);
        assert_eq!(node_major("v20.19.2\n"), Some(20));
        assert_eq!(node_major("18"), None);
    }

    #[test]
    fn reads_the_pins_of_the_scripts() {
        let version = cfn_lint_version();
        assert!(version.split('.').count() == 3, "{version:?}");
        let zig = zig_requirements();
        assert_eq!(zig.len(), 2, "{zig:?}");
        assert!(zig[0].starts_with("ziglang") && zig[1].starts_with("cargo-zigbuild"));
    }

    #[test]
    fn the_target_folder_is_cargos_and_holds_this_test() {
        let exe = std::env::current_exe().expect("the test executable");
        let target = target_dir();
        assert!(
            target.join("CACHEDIR.TAG").is_file(),
            "{}",
            target.display()
        );
        assert!(exe.starts_with(&target), "{}", target.display());
    }
}
