//! Libraries never name a CLI flag in a message: the Lambda function would forward it to a
//! CloudFormation user whose setting is a property (`Resume`, not `--resume`). A remedy is
//! typed (`holdfast_core::remedy`) and each front end spells it. This test reads every string
//! literal in the library crates' sources (not comments, not test modules).

use std::path::{Path, PathBuf};

const LIBRARIES: [&str; 6] = [
    "holdfast-core",
    "holdfast-sql",
    "holdfast-dynamo",
    "holdfast-guard",
    "holdfast-aws",
    "holdfast-refresh",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals of one line of code (comments cut off), roughly: what lies between
/// unescaped double quotes.
fn literals(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (&mut current, c) {
            (None, '/') if chars.peek() == Some(&'/') => break,
            (None, '\'') => {
                // A char literal such as '"': skip it whole.
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("\"'") || rest.starts_with("\\\"'") {
                    chars.nth(rest.find('\'').unwrap_or(0));
                }
            }
            (None, '"') => current = Some(String::new()),
            (Some(s), '\\') => {
                if let Some(next) = chars.next() {
                    s.push(next);
                }
            }
            (Some(_), '"') => found.push(current.take().unwrap()),
            (Some(s), c) => s.push(c),
            (None, _) => {}
        }
    }
    if let Some(open) = current {
        found.push(open);
    }
    found
}

fn names_a_flag(text: &str) -> bool {
    text.match_indices("--").any(|(i, _)| {
        let before_ok = i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric();
        let after = text[i + 2..].chars().next();
        before_ok && after.is_some_and(|c| c.is_ascii_lowercase())
    })
}

/// Files whose literals are another program's arguments (pg_dump's, psql's), not messages.
const EXTERNAL_PROGRAM_ARGUMENTS: &[&str] = &["holdfast-refresh/src/schema_dump.rs"];

#[test]
fn no_library_message_names_a_cli_flag() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut offenders = Vec::new();
    for name in LIBRARIES {
        let mut files = Vec::new();
        sources(&crates.join(name).join("src"), &mut files);
        for file in files {
            let path = file.to_string_lossy().replace('\\', "/");
            if EXTERNAL_PROGRAM_ARGUMENTS.iter().any(|f| path.ends_with(f)) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[cfg(test)]") {
                    break;
                }
                let trimmed = line.trim_start();
                // Comments, and a report's `command` field (the command's own name).
                if trimmed.starts_with("//") || trimmed.starts_with("command:") {
                    continue;
                }
                for literal in literals(line) {
                    if names_a_flag(&literal) {
                        offenders.push(format!("{}:{}: {literal}", file.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "library messages naming CLI flags:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_check_itself_finds_a_flag() {
    assert!(names_a_flag("pass --resume to continue"));
    assert!(!names_a_flag("a -- b, x--y, --"));
    assert_eq!(
        literals(r#"format!("a {x} \"q\" --b", y) // "--c""#),
        ["a {x} \"q\" --b"]
    );
}
