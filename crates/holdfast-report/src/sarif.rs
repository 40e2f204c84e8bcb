//! SARIF 2.1.0 for guard and env reports, so findings show up in code-scanning tools.

use super::env::EnvReport;
use super::guard::{GuardReport, Location, Severity};
use serde_json::{json, Value};

/// A rule's id and one-line description, for the SARIF rule list.
pub struct RuleInfo<'a> {
    pub id: &'a str,
    pub summary: &'a str,
}

/// One result of a SARIF log, whatever report it comes from.
struct Result<'a> {
    rule: &'a str,
    severity: Severity,
    text: String,
    properties: Value,
    location: Option<&'a Location>,
    /// An accepted finding's reason: an external suppression.
    suppressed: Option<&'a str>,
}

/// The guard report as a SARIF 2.1.0 log. Accepted (`--allow`) findings carry an external
/// suppression with their reason.
pub fn guard_to_sarif(report: &GuardReport, rules: &[RuleInfo<'_>], tool_version: &str) -> Value {
    log(
        report.findings.iter().map(|f| Result {
            rule: &f.rule,
            severity: f.severity,
            text: format!("{} Fix: {}", f.message, f.fix),
            properties: json!({
                "stack": f.stack,
                "logicalId": f.logical_id,
                "resourceType": f.resource_type,
            }),
            location: f.location.as_ref(),
            suppressed: f.allowed.as_deref(),
        }),
        rules,
        tool_version,
    )
}

/// The env report as a SARIF 2.1.0 log (no values: only what the report holds).
pub fn env_to_sarif(report: &EnvReport, rules: &[RuleInfo<'_>], tool_version: &str) -> Value {
    log(
        report.findings.iter().map(|f| Result {
            rule: &f.rule,
            severity: f.severity,
            text: format!("{}: {}: {} Fix: {}", f.function, f.key, f.message, f.fix),
            properties: json!({
                "stack": f.stack,
                "function": f.function,
                "key": f.key,
                "fingerprint": f.fingerprint,
            }),
            location: f.location.as_ref(),
            suppressed: None,
        }),
        rules,
        tool_version,
    )
}

fn log<'a>(
    results: impl Iterator<Item = Result<'a>>,
    rules: &[RuleInfo<'_>],
    tool_version: &str,
) -> Value {
    let results: Vec<Value> = results
        .map(|r| {
            let level = match r.severity {
                Severity::Block => "error",
                Severity::Warn => "warning",
                Severity::Info => "note",
            };
            let mut result = json!({
                "ruleId": r.rule,
                "level": level,
                "message": { "text": r.text },
                "properties": r.properties,
            });
            if let Some(loc) = r.location {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": loc.file },
                        "region": { "startLine": loc.line.max(1), "startColumn": loc.column.max(1) },
                    }
                }]);
            }
            if let Some(reason) = r.suppressed {
                result["suppressions"] = json!([{ "kind": "external", "justification": reason }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "holdfast",
                    "version": tool_version,
                    "rules": rules.iter().map(|r| json!({
                        "id": r.id,
                        "shortDescription": { "text": r.summary },
                    })).collect::<Vec<_>>(),
                }
            },
            "results": results,
        }]
    })
}
