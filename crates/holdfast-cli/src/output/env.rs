//! Env reports as text. A report holds no value, so neither does its text.

/// An env report as text: findings grouped by severity, each with its function, key, reason
/// and fix, then the counts.
pub fn env_text(r: &holdfast_report::env::EnvReport) -> String {
    use holdfast_report::guard::Severity;
    let mut out = format!(
        "Env {} — {}{}: {} functions, {} variables\n",
        r.envelope.command().as_str().trim_start_matches("env "),
        r.environment,
        r.stage
            .as_deref()
            .map(|s| format!(" (stage {s})"))
            .unwrap_or_default(),
        r.summary.functions,
        r.summary.variables,
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
            let fp = f
                .fingerprint
                .as_deref()
                .map(|fp| format!(" [{fp}]"))
                .unwrap_or_default();
            let function = if f.stack.is_empty() {
                f.function.clone()
            } else {
                format!("{}/{}", f.stack, f.function)
            };
            out.push_str(&format!(
                "  [{}] {function} {}: {}{fp}{at}\n      fix: {}\n",
                f.rule, f.key, f.message, f.fix
            ));
        }
    }
    if let Some(v) = &r.verify {
        out.push_str(&format!(
            "\n{} references, {} secrets and parameters read",
            v.references, v.resolved
        ));
        if let Some(stage) = &v.compare_stage {
            out.push_str(&format!(
                "; compared with stage {stage} ({} functions): {} secret values, {} shared",
                v.compared_functions, v.compared_values, v.shared
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\n{} blocking, {} warnings, {} notes\n",
        r.summary.blocking, r.summary.warnings, r.summary.info
    ));
    out
}
