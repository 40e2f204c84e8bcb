//! `holdfast guard …` on the built binary: exit codes (0 safe, 3 blocking, 2 unreadable input),
//! one-line messages naming the file and line at fault, never a panic; the `--json` report's
//! shape; SARIF 2.1.0 written by `--sarif FILE`; `--allow`, `--stage`, `--parameters`, `--stack`
//! and `holdfast.toml`.
//!
//! The templates are the guard's fixture corpus (`crates/holdfast-guard/tests/fixtures/guard`);
//! bad inputs are written per test into a folder under the target directory.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn corpus(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../holdfast-guard/tests/fixtures/guard")
        .join(case)
}

/// A fixture path as an argument.
fn fx(case_and_file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../holdfast-guard/tests/fixtures/guard")
        .join(case_and_file);
    assert!(path.exists(), "no fixture {}", path.display());
    path.display().to_string()
}

/// An empty working folder of its own for one test (no `holdfast.toml` unless written).
fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("guard-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the work folder");
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "a panic:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `holdfast ARGS…` in `cwd` with no `HOLDFAST_*` variables inherited.
fn holdfast(cwd: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_holdfast"));
    for (key, _) in std::env::vars() {
        if key.starts_with("HOLDFAST_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run holdfast");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn guard(cwd: &Path, args: &[&str]) -> Run {
    let mut all = vec!["guard"];
    all.extend_from_slice(args);
    holdfast(cwd, &all)
}

// ---------------------------------------------------------------------------------------------
// Bad input: exit 2, one line naming the file (and the line when there is one), no panic.

struct Bad {
    name: &'static str,
    /// Files written into the work folder (path, content); a path ending in `/` is a folder.
    files: &'static [(&'static str, &'static [u8])],
    /// The command after `holdfast guard`; `@name` is a file of the corpus.
    args: &'static [&'static str],
    /// Every one of these must appear in the message.
    message: &'static [&'static str],
}

const GOOD_OLD: &str = "@removal-delete/old.yaml";
const GOOD_NEW: &str = "@removal-delete/new.yaml";

const BAD: &[Bad] = &[
    Bad {
        name: "malformed JSON",
        files: &[(
            "old.json",
            b"{\n  \"Resources\": {\n    \"A\": {\"Type\": \"AWS::S3::Bucket\" \"Properties\": {}}\n  }\n}\n",
        )],
        args: &["diff", "old.json", GOOD_NEW],
        message: &["old.json", "line 3"],
    },
    Bad {
        name: "unclosed JSON",
        files: &[("new.json", b"{\n  \"Resources\": {\n    \"A\": {\"Type\": \"AWS::S3::Bucket\"}\n")],
        args: &["diff", GOOD_OLD, "new.json"],
        message: &["new.json", "line 4"],
    },
    Bad {
        name: "malformed YAML",
        files: &[(
            "new.yaml",
            b"Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n   Properties:\n      BucketName: x\n",
        )],
        args: &["diff", GOOD_OLD, "new.yaml"],
        message: &["new.yaml", "line 4"],
    },
    Bad {
        name: "unknown tag",
        files: &[(
            "new.yaml",
            b"Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Reff Name\n",
        )],
        args: &["diff", GOOD_OLD, "new.yaml"],
        message: &["new.yaml", "line 5", "!Reff"],
    },
    Bad {
        name: "no Resources",
        files: &[("t.yaml", b"AWSTemplateFormatVersion: \"2010-09-09\"\nDescription: nothing here\n")],
        args: &["check", "t.yaml"],
        message: &["t.yaml", "Resources"],
    },
    Bad {
        name: "a list, not a template",
        files: &[("t.json", b"[1, 2, 3]\n")],
        args: &["check", "t.json"],
        message: &["t.json", "line 1", "mapping"],
    },
    Bad {
        name: "resource without Type",
        files: &[("t.yaml", b"Resources:\n  Table:\n    Properties: {}\n")],
        args: &["diff", "t.yaml", GOOD_NEW],
        message: &["t.yaml", "line 3", "Type"],
    },
    Bad {
        name: "duplicate key",
        files: &[(
            "t.yaml",
            b"Resources:\n  A:\n    Type: AWS::S3::Bucket\n  A:\n    Type: AWS::SQS::Queue\n",
        )],
        args: &["check", "t.yaml"],
        message: &["t.yaml", "line 4", "duplicate"],
    },
    Bad {
        name: "empty file",
        files: &[("t.yaml", b"")],
        args: &["check", "t.yaml"],
        message: &["t.yaml", "empty"],
    },
    Bad {
        name: "not UTF-8",
        files: &[("t.json", b"{\"Resources\": \xff\xfe\x00\x01}")],
        args: &["check", "t.json"],
        message: &["t.json"],
    },
    Bad {
        name: "a folder that is neither cdk.out nor .serverless",
        files: &[("plain/", b""), ("plain/notes.txt", b"hello\n")],
        args: &["diff", GOOD_OLD, "plain"],
        message: &["plain", "manifest.json", ".serverless"],
    },
    Bad {
        name: "a missing file",
        files: &[],
        args: &["diff", "nowhere.yaml", GOOD_NEW],
        message: &["nowhere.yaml", "cannot read"],
    },
    Bad {
        name: "a cdk.out whose template is missing",
        files: &[(
            "cdk.out/manifest.json",
            b"{\"version\": \"36.0.0\", \"artifacts\": {\"App\": {\"type\": \"aws:cloudformation:stack\", \"properties\": {\"templateFile\": \"App.template.json\"}}}}",
        )],
        args: &["diff", GOOD_OLD, "cdk.out"],
        message: &["App.template.json", "cannot read"],
    },
    Bad {
        name: "a malformed cdk.out manifest",
        files: &[("cdk.out/manifest.json", b"{\n  \"version\": \"36.0.0\",\n  \"artifacts\": \n")],
        args: &["diff", "cdk.out", GOOD_NEW],
        message: &["manifest.json", "line"],
    },
    Bad {
        name: "a malformed .serverless template",
        files: &[(
            ".serverless/cloudformation-template-update-stack.json",
            b"{\n  \"Resources\": {\n    \"T\": {\"Type\": }\n  }\n}\n",
        )],
        args: &["diff", ".serverless", GOOD_NEW],
        message: &["cloudformation-template-update-stack.json", "line 3"],
    },
    Bad {
        name: "--stack names a stack that is not there",
        files: &[],
        args: &["diff", "@cdk-move-deleted/old", "@cdk-move-deleted/new", "--stack", "DataStack=Missing"],
        message: &["stack pair DataStack=Missing", "AppStack"],
    },
    Bad {
        name: "--stack without =",
        files: &[],
        args: &["diff", GOOD_OLD, GOOD_NEW, "--stack", "DataStack"],
        message: &["--stack", "OLD=NEW"],
    },
    Bad {
        name: "--allow without a reason",
        files: &[],
        args: &["diff", GOOD_OLD, GOOD_NEW, "--allow", "AuditTable"],
        message: &["--allow", "AuditTable", "REASON"],
    },
    Bad {
        name: "--allow with an empty reason",
        files: &[],
        args: &["diff", GOOD_OLD, GOOD_NEW, "--allow", "AuditTable=  "],
        message: &["--allow", "REASON"],
    },
    Bad {
        name: "a missing parameters file",
        files: &[],
        args: &["diff", GOOD_OLD, GOOD_NEW, "--parameters", "params.json"],
        message: &["params.json", "cannot read"],
    },
    Bad {
        name: "a malformed parameters file",
        files: &[("params.json", b"[\n  {\"ParameterKey\": \"Stage\"}\n]\n")],
        args: &["diff", GOOD_OLD, GOOD_NEW, "--parameters", "params.json"],
        message: &["params.json", "ParameterValue"],
    },
    Bad {
        name: "a change set that is not JSON",
        files: &[("cs.json", b"Changes:\n  - nope\n")],
        args: &["changeset", "cs.json"],
        message: &["cs.json", "line 1"],
    },
    Bad {
        name: "a change set of another shape",
        files: &[("cs.json", b"{\"Changes\": [{\"ResourceChange\": {\"Action\": \"Modify\"}}]}")],
        args: &["changeset", "cs.json"],
        message: &["cs.json", "LogicalResourceId"],
    },
    Bad {
        name: "a missing change set",
        files: &[],
        args: &["changeset", "cs.json"],
        message: &["cs.json", "cannot read"],
    },
    Bad {
        name: "an unknown rule in holdfast.toml",
        files: &[("holdfast.toml", b"[guard.rules]\ns3-versoning = \"off\"\n")],
        args: &["check", GOOD_NEW],
        message: &["s3-versoning", "does not exist"],
    },
    Bad {
        name: "a malformed level in holdfast.toml",
        files: &[("holdfast.toml", b"[guard.rules]\ns3-versioning = \"maybe\"\n")],
        args: &["check", GOOD_NEW],
        message: &["holdfast.toml"],
    },
];

#[test]
fn bad_input_is_one_clear_line_and_exit_2() {
    for case in BAD {
        let dir = workdir(&format!(
            "bad-{}",
            case.name.replace([' ', '-', '.', '/', ','], "_")
        ));
        for (path, content) in case.files {
            let full = dir.join(path);
            if path.ends_with('/') {
                std::fs::create_dir_all(&full).expect("mkdir");
                continue;
            }
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(&full, content).expect("write");
        }
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| match a.strip_prefix('@') {
                Some(f) => fx(f),
                None => a.to_string(),
            })
            .collect();
        for json in [false, true] {
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            if json {
                args.push("--json");
            }
            let run = guard(&dir, &args);
            assert_eq!(
                run.code, 2,
                "{}: expected exit 2, got {}\nstdout:\n{}\nstderr:\n{}",
                case.name, run.code, run.stdout, run.stderr
            );
            assert!(
                !run.stderr.contains("panicked"),
                "{}: a panic:\n{}",
                case.name,
                run.stderr
            );
            let message = if json {
                // The error as the --json contract's document on stdout.
                let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
                    panic!("{}: stdout is not JSON ({e}): {:?}", case.name, run.stdout)
                });
                assert_eq!(doc["outcome"], "usage", "{}: {doc}", case.name);
                assert_eq!(doc["exit_code"], 2, "{}: {doc}", case.name);
                doc["error"].as_str().expect("error text").to_string()
            } else {
                assert!(
                    run.stdout.trim().is_empty(),
                    "{}: stdout {:?}",
                    case.name,
                    run.stdout
                );
                let lines: Vec<&str> = run
                    .stderr
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .collect();
                assert_eq!(
                    lines.len(),
                    1,
                    "{}: not one line:\n{}",
                    case.name,
                    run.stderr
                );
                lines[0].to_string()
            };
            assert!(!message.contains('\n'), "{}: {message:?}", case.name);
            for m in case.message {
                assert!(
                    message.contains(m),
                    "{}: {message:?} does not mention {m:?}",
                    case.name
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Exit codes and what the user reads.

#[test]
fn the_seed_rename_blocks_with_the_delete_and_create_spelled_out() {
    let dir = workdir("seed");
    let run = guard(
        &dir,
        &[
            "diff",
            &fx("seed-rename/old"),
            &fx("seed-rename/new"),
            "--stage",
            "prod",
        ],
    );
    run.expect(3);
    let out = &run.stdout;
    for fragment in [
        "[stateful-rename]",
        "DELETE my-service-prod/UsersTable",
        "CREATE my-service-prod/UsersTable9725E9C8",
        "overrideLogicalId('UsersTable')",
        "NOT safe to deploy",
    ] {
        assert!(out.contains(fragment), "missing {fragment:?} in:\n{out}");
    }
    // The finding points at the new template's line, the deleted bucket at the old one's.
    assert!(out.contains("MyServiceProd.template.json:3"), "{out}");
    assert!(
        out.contains("cloudformation-template-update-stack.json:5"),
        "{out}"
    );
}

#[test]
fn safe_changes_exit_0() {
    let dir = workdir("safe");
    for case in [
        "stateless-only",
        "rds-backup-retention-raised",
        "scalar-normalisation",
        "short-form-tags",
    ] {
        let old = corpus(case).join(
            if case == "scalar-normalisation" || case == "short-form-tags" {
                "old.json"
            } else {
                "old.yaml"
            },
        );
        let new = corpus(case).join("new.yaml");
        let run = guard(
            &dir,
            &[
                "diff",
                &old.display().to_string(),
                &new.display().to_string(),
                "--stage",
                "prod",
            ],
        );
        run.expect(0);
        assert!(run.stdout.contains("0 blocking"), "{case}: {}", run.stdout);
    }
}

#[test]
fn allow_with_a_reason_accepts_a_blocking_finding() {
    let dir = workdir("allow");
    let (old, new) = (
        fx("table-name-change/old.yaml"),
        fx("table-name-change/new.yaml"),
    );
    guard(&dir, &["diff", &old, &new, "--stage", "prod"]).expect(3);
    let run = guard(
        &dir,
        &[
            "diff",
            &old,
            &new,
            "--stage",
            "prod",
            "--allow",
            "OrdersTable=data copied to the new table, ticket OPS-7",
            "--json",
        ],
    );
    run.expect(0);
    let report = run.json();
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["summary"]["allowed"], 1);
    assert_eq!(report["summary"]["blocking"], 0);
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "stateful-replace");
    assert_eq!(f["allowed"], "data copied to the new table, ticket OPS-7");
    // The same through holdfast.toml.
    std::fs::write(
        dir.join("holdfast.toml"),
        "[guard.allow]\nOrdersTable = \"accepted in review\"\n",
    )
    .expect("write holdfast.toml");
    guard(&dir, &["diff", &old, &new, "--stage", "prod"]).expect(0);
}

#[test]
fn check_blocks_in_prod_and_warns_in_dev() {
    let dir = workdir("check");
    let t = fx("check-unprotected/template.yaml");
    let prod = guard(&dir, &["check", &t, "--stage", "prod"]);
    prod.expect(3);
    assert!(prod.stdout.contains("[dynamodb-pitr]"), "{}", prod.stdout);
    let dev = guard(&dir, &["check", &t, "--stage", "dev"]);
    dev.expect(0);
    assert!(dev.stdout.contains("[deletion-policy]"), "{}", dev.stdout);
    // The stage from the environment, as CI sets it.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_holdfast"));
    let status = cmd
        .args(["guard", "check", &t])
        .env("HOLDFAST_STAGE", "production")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(3));
}

#[test]
fn holdfast_toml_overrides_levels_per_stage() {
    let dir = workdir("toml");
    std::fs::copy(
        corpus("check-config-override/holdfast.toml"),
        dir.join("holdfast.toml"),
    )
    .expect("copy holdfast.toml");
    let t = fx("check-config-override/template.yaml");
    let dev = guard(&dir, &["check", &t, "--stage", "dev", "--json"]);
    dev.expect(3);
    let report = dev.json();
    assert_eq!(report["policy"], "lenient with overrides");
    let level = |report: &Value, rule: &str| -> Vec<String> {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| f["severity"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(level(&report, "dynamodb-pitr"), ["block"]);
    assert!(level(&report, "s3-versioning").is_empty());
    let prod = guard(&dir, &["check", &t, "--stage", "prod", "--json"]).json();
    assert_eq!(level(&prod, "rds-backup-retention"), ["warn"]);
    assert_eq!(level(&prod, "rds-deletion-protection"), ["block"]);
    // --config names another file.
    std::fs::write(dir.join("other.toml"), "[guard]\npolicy = \"strict\"\n").expect("write");
    let strict = guard(
        &dir,
        &[
            "--config",
            "other.toml",
            "check",
            &t,
            "--stage",
            "dev",
            "--json",
        ],
    )
    .json();
    assert_eq!(strict["policy"], "strict");
    assert_eq!(level(&strict, "s3-versioning"), ["block"]);
}

#[test]
fn parameters_decide_create_only_values() {
    let dir = workdir("params");
    let (old, new) = (
        fx("param-value-from-file/old.yaml"),
        fx("param-value-from-file/new.yaml"),
    );
    guard(&dir, &["diff", &old, &new, "--stage", "prod"]).expect(3);
    guard(
        &dir,
        &[
            "diff",
            &old,
            &new,
            "--stage",
            "prod",
            "--parameters",
            &fx("param-value-from-file/parameters.json"),
        ],
    )
    .expect(0);
    // The plain-object form too.
    std::fs::write(
        dir.join("p.json"),
        "{\"LedgerTableName\": \"billing-ledger\"}",
    )
    .expect("write");
    guard(
        &dir,
        &[
            "diff",
            &old,
            &new,
            "--stage",
            "prod",
            "--parameters",
            "p.json",
        ],
    )
    .expect(0);
    // A parameter without any value, written the same on both sides: the same unknown value.
    guard(
        &dir,
        &[
            "diff",
            &fx("param-no-value/old.yaml"),
            &fx("param-no-value/new.yaml"),
        ],
    )
    .expect(0);
    // Written differently: reported as unknown, blocking.
    let run = guard(
        &dir,
        &[
            "diff",
            &fx("param-no-value-differs/old.yaml"),
            &fx("param-no-value-differs/new.yaml"),
            "--json",
        ],
    );
    run.expect(3);
    let report = run.json();
    assert_eq!(report["changes"][0]["action"], "unknown");
    assert!(report["changes"][0]["reasons"]
        .to_string()
        .contains("LedgerTableName has no value"));
}

#[test]
fn sam_templates_are_judged_and_an_unchanged_template_never_blocks() {
    let dir = workdir("sam");
    let run = guard(
        &dir,
        &[
            "diff",
            &fx("transform-sam/old.yaml"),
            &fx("transform-sam/new.yaml"),
            "--json",
        ],
    );
    run.expect(3);
    let report = run.json();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "block")
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(rules, ["stateful-replace"], "{report}");
    guard(
        &dir,
        &[
            "diff",
            &fx("sam-stateless-globals/old.yaml"),
            &fx("sam-stateless-globals/new.yaml"),
        ],
    )
    .expect(0);
    // The same template on both sides: a SAM one, one with a macro, an include, a parameter
    // without a value.
    for same in [
        "transform-sam/new.yaml",
        "sam-other-transform/new.yaml",
        "include-resources/new.yaml",
        "include-properties/new.yaml",
        "param-no-value/new.yaml",
    ] {
        guard(&dir, &["diff", &fx(same), &fx(same)]).expect(0);
    }
}

#[test]
fn explicit_stack_pairs_and_moves_across_cdk_stacks() {
    let dir = workdir("stacks");
    let (old, new) = (fx("cdk-move-deleted/old"), fx("cdk-move-deleted/new"));
    let run = guard(
        &dir,
        &[
            "diff",
            &old,
            &new,
            "--stack",
            "DataStack=DataStack",
            "--stack",
            "AppStack=AppStack",
            "--json",
        ],
    );
    run.expect(3);
    let rules: Vec<String> = run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(rules.contains(&"stateful-move".to_string()), "{rules:?}");
    // Retained, the table must still be imported: a plain deploy is not safe, until the
    // import is planned and accepted.
    let (old, new) = (fx("cdk-move-retained/old"), fx("cdk-move-retained/new"));
    guard(&dir, &["diff", &old, &new, "--stage", "prod"]).expect(3);
    guard(
        &dir,
        &[
            "diff",
            &old,
            &new,
            "--stage",
            "prod",
            "--allow",
            "Orders4B6D8F0A=imported with cdk import in the same release",
        ],
    )
    .expect(0);
}

#[test]
fn changeset_blocks_on_replacement_and_remove() {
    let dir = workdir("changeset");
    let run = guard(
        &dir,
        &["changeset", &fx("changeset/changeset.json"), "--json"],
    );
    run.expect(3);
    let report = run.json();
    assert_eq!(report["command"], "guard changeset");
    assert_eq!(report["summary"]["blocking"], 3);
    guard(&dir, &["changeset", &fx("changeset-safe/changeset.json")]).expect(0);
}

// ---------------------------------------------------------------------------------------------
// Output formats.

#[test]
fn json_report_has_the_documented_shape() {
    let dir = workdir("json");
    let run = guard(
        &dir,
        &[
            "diff",
            &fx("seed-rename/old"),
            &fx("seed-rename/new"),
            "--stage",
            "prod",
            "--json",
        ],
    );
    run.expect(3);
    let r = run.json();
    assert_eq!(r["format_version"], holdfast_report::FORMAT_VERSION);
    assert_eq!(r["exit_code"], 3);
    assert_eq!(r["command"], "guard diff");
    assert_eq!(r["stage"], "prod");
    assert_eq!(r["policy"], "strict");
    assert_eq!(r["outcome"], "check_failed");
    for key in ["blocking", "warnings", "allowed", "info"] {
        assert!(r["summary"][key].is_u64(), "summary.{key}");
    }
    assert!(r["schema_source"]
        .as_str()
        .is_some_and(|s| s.contains("cfn-lint")));
    let changes = r["changes"].as_array().expect("changes");
    assert!(!changes.is_empty());
    for c in changes {
        for key in ["stack", "logical_id", "resource_type", "action"] {
            assert!(c[key].is_string(), "change.{key} in {c}");
        }
        assert!(c["stateful"].is_boolean());
        assert!(c["reasons"].is_array());
        let loc = &c["location"];
        assert!(
            loc["file"].is_string()
                && loc["line"].as_u64() >= Some(1)
                && loc["column"].as_u64() >= Some(1),
            "{c}"
        );
    }
    let findings = r["findings"].as_array().expect("findings");
    let rename = findings
        .iter()
        .find(|f| f["rule"] == "stateful-rename")
        .expect("a stateful-rename finding");
    assert_eq!(rename["severity"], "block");
    assert_eq!(rename["stack"], "my-service-prod");
    assert_eq!(rename["logical_id"], "UsersTable9725E9C8");
    assert_eq!(rename["resource_type"], "AWS::DynamoDB::Table");
    assert!(rename["message"].is_string() && rename["fix"].is_string());
    assert!(rename["allowed"].is_null());
    assert!(rename["location"]["file"]
        .as_str()
        .is_some_and(|f| f.ends_with("MyServiceProd.template.json")));
    assert_eq!(rename["location"]["line"], 3);
    let table = changes
        .iter()
        .find(|c| c["logical_id"] == "UsersTable")
        .expect("the old table");
    assert_eq!(table["action"], "delete");
    assert_eq!(table["stateful"], true);
}

#[test]
fn sarif_is_written_as_sarif_2_1_0() {
    let dir = workdir("sarif");
    let sarif = dir.join("guard.sarif");
    let run = guard(
        &dir,
        &[
            "diff",
            &fx("seed-rename/old"),
            &fx("seed-rename/new"),
            "--stage",
            "prod",
            "--allow",
            "CreateUserLogGroup=logs exported to S3",
            "--sarif",
            "guard.sarif",
        ],
    );
    run.expect(3);
    let log: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("the SARIF file"))
            .expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"]
        .as_str()
        .is_some_and(|s| s.contains("sarif-2.1.0")));
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "holdfast");
    let rule_ids: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("rule id"))
        .collect();
    for id in ["stateful-rename", "stateful-delete", "deletion-policy"] {
        assert!(rule_ids.contains(&id), "{id} not among {rule_ids:?}");
    }
    let results = runs[0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 4);
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        assert!(rule_ids.contains(&id), "{id}");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().expect("level")));
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let phys = &r["locations"][0]["physicalLocation"];
        assert!(
            phys["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|u| u.ends_with(".json")),
            "{r}"
        );
        assert!(phys["region"]["startLine"].as_u64() >= Some(1), "{r}");
    }
    let rename = results
        .iter()
        .find(|r| r["ruleId"] == "stateful-rename")
        .expect("rename result");
    assert_eq!(rename["level"], "error");
    assert_eq!(
        rename["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    let accepted = results
        .iter()
        .find(|r| r["properties"]["logicalId"] == "CreateUserLogGroup")
        .expect("the accepted finding");
    assert_eq!(accepted["suppressions"][0]["kind"], "external");
    assert_eq!(
        accepted["suppressions"][0]["justification"],
        "logs exported to S3"
    );
    // --sarif beside --json: both.
    let both = guard(
        &dir,
        &[
            "check",
            &fx("check-unprotected/template.yaml"),
            "--json",
            "--sarif",
            "check.sarif",
        ],
    );
    both.expect(0);
    both.json();
    let check: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("check.sarif")).expect("read"))
            .expect("JSON");
    assert!(check["runs"][0]["results"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x["level"] == "warning")));
}

#[test]
fn sarif_to_an_unwritable_path_is_a_usage_error() {
    let dir = workdir("sarif-bad");
    let run = guard(
        &dir,
        &[
            "check",
            &fx("check-unprotected/template.yaml"),
            "--sarif",
            "no/such/folder/x.sarif",
        ],
    );
    run.expect(2);
    assert!(run.stderr.contains("x.sarif"), "{}", run.stderr);
}
