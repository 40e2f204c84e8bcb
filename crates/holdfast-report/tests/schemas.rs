//! The JSON Schemas published in `schemas/` are exactly what the report types generate: a
//! change to a report type fails here until the schemas are regenerated with
//! `HOLDFAST_UPDATE_SCHEMAS=1 cargo test -p holdfast-report --test schemas`.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

#[test]
fn the_published_schemas_match_the_report_types() {
    let dir = schemas_dir();
    let update = std::env::var_os("HOLDFAST_UPDATE_SCHEMAS").is_some();
    if update {
        std::fs::create_dir_all(&dir).expect("create schemas/");
    }
    let mut expected = BTreeSet::new();
    let mut stale = Vec::new();
    for schema in holdfast_report::schemas() {
        let file = format!("{}.schema.json", schema.name);
        let path = dir.join(&file);
        let text = serde_json::to_string_pretty(&schema.schema).expect("schema as JSON") + "\n";
        if update {
            std::fs::write(&path, &text).expect("write schema");
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(file.clone());
        }
        expected.insert(file);
    }
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("read schemas/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".schema.json"))
        .collect();
    let extra: Vec<_> = present.difference(&expected).collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "schemas/ disagrees with the report types: stale or missing {stale:?}, no longer generated {extra:?}; run HOLDFAST_UPDATE_SCHEMAS=1 cargo test -p holdfast-report --test schemas"
    );
}

#[test]
fn every_schema_requires_the_envelope() {
    for schema in holdfast_report::schemas() {
        let required: Vec<&str> = schema.schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no required list", schema.name))
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        for field in ["format_version", "command", "outcome", "exit_code"] {
            assert!(
                required.contains(&field),
                "{}: `{field}` is not required",
                schema.name
            );
        }
    }
}
