//! SARIF 2.1.0 for guard reports, so findings show up in code-scanning tools.

use super::guard::{GuardReport, Severity};
use serde_json::{json, Value};

/// A rule's id and one-line description, for the SARIF rule list.
pub struct RuleInfo<'a> {
    pub id: &'a str,
    pub summary: &'a str,
}

/// The report as a SARIF 2.1.0 log. Accepted (`--allow`) findings carry an external
/// suppression with their reason.
pub fn guard_to_sarif(report: &GuardReport, rules: &[RuleInfo<'_>], tool_version: &str) -> Value {
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Block => "error",
                Severity::Warn => "warning",
                Severity::Info => "note",
            };
            let mut result = json!({
                "ruleId": f.rule,
                "level": level,
                "message": { "text": format!("{} Fix: {}", f.message, f.fix) },
                "properties": {
                    "stack": f.stack,
                    "logicalId": f.logical_id,
                    "resourceType": f.resource_type,
                },
            });
            if let Some(loc) = &f.location {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": loc.file },
                        "region": { "startLine": loc.line.max(1), "startColumn": loc.column.max(1) },
                    }
                }]);
            }
            if let Some(reason) = &f.allowed {
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
