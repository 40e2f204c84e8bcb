//! Printing: human text or JSON on stdout, errors on stderr, everything through the redactor.
//! A closed stdout (`holdfast … | head`) ends the process with exit code 0. The text form of
//! each capability's reports is in its own module.

mod dynamo;
mod env;
mod guard;
mod migrate;
mod refresh;

pub use dynamo::{dynamo_compare_text, dynamo_copy_text, dynamo_migrate_text, dynamo_verify_text};
pub use env::env_text;
pub use guard::guard_text;
pub use migrate::{plan_text, repair_text, status_text, up_text};
pub use refresh::{
    refresh_copy_text, refresh_plan_text, refresh_sanitize_text, refresh_verify_text,
};

use crate::cli::OutputArgs;
use holdfast_core::exit;
use holdfast_core::redact::Redactor;
use holdfast_report::Report;
use std::io::Write;

/// Writes redacted text to stdout.
pub fn print(text: &str) {
    let text = Redactor::global().redact(text);
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(exit::SUCCESS);
        }
    }
}

/// A report: as pretty JSON with `--json`, else as `text` renders it.
pub fn report<R: Report>(output: OutputArgs, report: &R, text: fn(&R) -> String) {
    if output.json {
        print_json(report);
    } else {
        print(&text(report));
    }
}

/// Writes a report as pretty JSON on stdout.
pub fn print_json<R: Report>(value: &R) {
    match serde_json::to_string_pretty(value) {
        Ok(json) => print(&format!("{json}\n")),
        Err(e) => error_line(&format!("cannot encode the report as JSON: {e}")),
    }
}

/// One redacted line on stderr.
pub fn error_line(message: &str) {
    eprintln!("error: {}", Redactor::global().redact(message));
}

/// A progress line on stderr.
pub fn progress(message: &str) {
    eprintln!("{}", Redactor::global().redact(message));
}

/// Rows as aligned columns, indented two spaces.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
