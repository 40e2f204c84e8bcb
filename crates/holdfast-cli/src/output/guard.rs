//! Guard reports as text.

use super::table;
use holdfast_core::remedy::{Remedy, Setting};

/// A guard report as text: findings grouped by severity, each with its reason and fix, then
/// the resource changes.
pub fn guard_text(r: &holdfast_report::guard::GuardReport) -> String {
    use holdfast_report::guard::{Action, Severity};
    let mut out = format!(
        "Guard {} — policy: {}{}\n",
        r.envelope.command().as_str().trim_start_matches("guard "),
        r.policy,
        r.stage
            .as_deref()
            .map(|s| format!(" (stage {s})"))
            .unwrap_or_default()
    );
    for (severity, title) in [
        (Severity::Block, "BLOCKING"),
        (Severity::Warn, "Warnings"),
        (Severity::Info, "Notes"),
    ] {
        let group: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{title}:\n"));
        for f in group {
            let at = f
                .location
                .as_ref()
                .map(|l| format!(" ({}:{})", l.file, l.line))
                .unwrap_or_default();
            let who = if f.logical_id.is_empty() {
                f.stack.clone()
            } else {
                format!("{}/{}", f.stack, f.logical_id)
            };
            out.push_str(&format!(
                "  [{}] {who}{at}\n    {}\n    fix: {}\n",
                f.rule, f.message, f.fix
            ));
            match &f.allowed {
                Some(reason) => out.push_str(&format!("    accepted: {reason}\n")),
                None if f.severity == Severity::Block && !f.logical_id.is_empty() => {
                    out.push_str(&format!(
                        "    or, if it is intended: {}\n",
                        crate::remedies::render(&Remedy::using(Setting::AcceptFinding(
                            f.logical_id.clone()
                        )))
                    ));
                }
                None => {}
            }
        }
    }
    let changes: Vec<_> = r
        .changes
        .iter()
        .filter(|c| c.action != Action::None)
        .collect();
    if !changes.is_empty() {
        out.push_str("\nChanges:\n");
        let mut rows = vec![vec![
            "ACTION".to_string(),
            "RESOURCE".to_string(),
            "TYPE".to_string(),
            "WHY".to_string(),
        ]];
        for c in changes {
            let action = serde_json::to_value(c.action)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            rows.push(vec![
                action,
                format!("{}/{}", c.stack, c.logical_id),
                c.resource_type.clone(),
                c.reasons.join("; "),
            ]);
        }
        out.push_str(&table(&rows));
    }
    out.push_str(&format!(
        "\n{} blocking, {} warning(s), {} accepted — {}\n",
        r.summary.blocking,
        r.summary.warnings,
        r.summary.allowed,
        if r.summary.blocking > 0 {
            "NOT safe to deploy"
        } else {
            "safe to deploy as far as the templates show; the change set is the authoritative last check"
        }
    ));
    out
}
