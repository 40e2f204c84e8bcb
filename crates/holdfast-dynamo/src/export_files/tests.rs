//! The export file format, end to end on temporary folders.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;
use md5::{Digest, Md5};
use serde_json::Value;

use super::read::parse_line;
use super::write::hex;
use super::*;
use crate::item::{item_from_export_line, item_to_export_line, Attr, Item, Number};
use std::collections::BTreeMap;
use std::time::Duration;

fn n(text: &str) -> Number {
    Number::parse(text).unwrap()
}

/// Items with every attribute type.
fn sample_items(count: usize) -> Vec<Item> {
    (0..count)
        .map(|i| {
            let mut m = BTreeMap::new();
            m.insert("city".to_owned(), Attr::S("Zürich \"quoted\"\n".to_owned()));
            m.insert(
                "lines".to_owned(),
                Attr::L(vec![Attr::Null, Attr::Bool(i % 2 == 0)]),
            );
            Item::from([
                ("pk".to_owned(), Attr::S(format!("user#{i}"))),
                ("sk".to_owned(), Attr::N(n(&format!("{i}.5")))),
                ("blob".to_owned(), Attr::B(vec![0, 1, 2, 255])),
                ("tags".to_owned(), Attr::Ss(vec!["a".into(), "b".into()])),
                ("scores".to_owned(), Attr::Ns(vec![n("1"), n("-2.5E+10")])),
                ("blobs".to_owned(), Attr::Bs(vec![vec![1], vec![2, 3]])),
                ("address".to_owned(), Attr::M(m)),
                ("active".to_owned(), Attr::Bool(true)),
                ("gone".to_owned(), Attr::Null),
            ])
        })
        .collect()
}

fn info() -> HoldfastExportInfo {
    HoldfastExportInfo {
        table: "users".to_owned(),
        key_schema: vec![
            KeyAttribute {
                name: "pk".to_owned(),
                key_type: KeyType::S,
                role: KeyRole::Hash,
            },
            KeyAttribute {
                name: "sk".to_owned(),
                key_type: KeyType::N,
                role: KeyRole::Range,
            },
        ],
        segments: 2,
    }
}

/// A Holdfast export of `files` (name → items) in `dir`.
fn export(dir: &Path, files: &[(&str, &[Item])]) -> Vec<DataFileSummary> {
    let summaries: Vec<DataFileSummary> = files
        .iter()
        .map(|(name, items)| {
            let mut w = DataFileWriter::create(dir, name).unwrap();
            items.iter().for_each(|item| w.write_item(item).unwrap());
            w.finish().unwrap()
        })
        .collect();
    let total = summaries.iter().map(|s| s.item_count).sum();
    let t = rfc3339_utc(SystemTime::now());
    let summary = ManifestSummary::holdfast(info(), total, t.clone(), t);
    write_manifests(dir, &summary, &summaries).unwrap();
    summaries
}

/// An export with one data file `data/bad.json.gz` of these raw lines, with a correct MD5
/// and the given count in the manifests.
fn raw_export(dir: &Path, text: &str, count: u64) {
    fs::create_dir_all(dir.join("data")).unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    fs::write(dir.join("data/bad.json.gz"), &bytes).unwrap();
    let md5: [u8; 16] = Md5::digest(&bytes).into();
    let file = DataFileSummary {
        item_count: count,
        md5_base64: BASE64.encode(md5),
        etag: hex(&md5),
        key: "data/bad.json.gz".to_owned(),
        bytes: bytes.len() as u64,
    };
    let summary = ManifestSummary::holdfast(info(), count, "t".into(), "t".into());
    write_manifests(dir, &summary, &[file]).unwrap();
}

fn validate_err(dir: &Path) -> String {
    let err = ExportSet::open(dir)
        .and_then(|set| set.validate())
        .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    text
}

#[test]
fn round_trip_every_attribute_type() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (sample_items(3), sample_items(2));
    let written = export(
        tmp.path(),
        &[("seg-0000", &a), ("seg-0001", &b), ("empty", &[])],
    );
    assert_eq!(written[0].key, "data/seg-0000.json.gz");
    assert_eq!(written[0].item_count, 3);
    let gz = fs::read(tmp.path().join("data/seg-0000.json.gz")).unwrap();
    let md5: [u8; 16] = Md5::digest(&gz).into();
    assert_eq!(written[0].md5_base64, BASE64.encode(md5));
    assert_eq!(written[0].etag, hex(&md5));
    assert_eq!(written[0].bytes, gz.len() as u64);
    assert!(!tmp.path().join("data/seg-0000.json.gz.partial").exists());

    let files = fs::read_to_string(tmp.path().join(MANIFEST_FILES)).unwrap();
    let first: Value = serde_json::from_str(files.lines().next().unwrap()).unwrap();
    assert_eq!(first["itemCount"], 3);
    assert_eq!(first["dataFileS3Key"], "data/seg-0000.json.gz");
    assert_eq!(first["md5Checksum"], written[0].md5_base64.as_str());
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join(MANIFEST_SUMMARY)).unwrap())
            .unwrap();
    assert_eq!(summary["version"], "2020-06-30");
    assert_eq!(summary["outputFormat"], "DYNAMODB_JSON");
    assert_eq!(summary["exportType"], "FULL_EXPORT");
    assert_eq!(summary["itemCount"], 5);
    assert_eq!(summary["manifestFilesS3Key"], "manifest-files.json");
    assert_eq!(summary["holdfast"]["keySchema"][1]["type"], "N");
    assert_eq!(summary["holdfast"]["keySchema"][1]["role"], "RANGE");

    let set = ExportSet::open(tmp.path()).unwrap();
    assert_eq!(set.summary.holdfast, Some(info()));
    assert_eq!(set.files.len(), 3);
    assert_eq!(set.files[1].display, "data/seg-0001.json.gz");
    assert_eq!(set.item_count(), 5);
    let v = set.validate().unwrap();
    assert_eq!((v.files, v.items), (3, 5));
    let read: Vec<Item> = set.files[0].reader().unwrap().map(Result::unwrap).collect();
    assert_eq!(read, a);
    let read: Vec<Item> = DataFileReader::open(&set.files[1].path)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(read, b);
    assert_eq!(set.files[2].reader().unwrap().count(), 0);
}

#[test]
fn reads_a_downloaded_s3_export() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("AWSDynamoDB/0123-abcd");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("_started"), "").unwrap();
    let items = sample_items(4);
    let mut w = DataFileWriter::create(&root, "x").unwrap();
    items.iter().for_each(|i| w.write_item(i).unwrap());
    let f = w.finish().unwrap();
    let line = format!(
        "{{\"itemCount\":4,\"md5Checksum\":\"{}\",\"etag\":\"{}-1\",\"dataFileS3Key\":\"AWSDynamoDB/0123-abcd/data/x.json.gz\"}}\n",
        f.md5_base64, f.etag
    );
    fs::write(root.join(MANIFEST_FILES), line).unwrap();
    fs::write(
        root.join(MANIFEST_SUMMARY),
        r#"{"version":"2020-06-30","exportArn":"arn:aws:dynamodb:us-east-1:123456789012:table/T/export/0123-abcd","startTime":"2020-11-04T07:28:34.028Z","endTime":"2020-11-04T07:33:43.897Z","tableId":"12345a12","tableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/T","exportTime":"2020-11-04T07:28:34.028Z","s3Bucket":"b","s3Prefix":null,"s3SseAlgorithm":"AES256","s3SseKmsKeyId":null,"manifestFilesS3Key":"AWSDynamoDB/0123-abcd/manifest-files.json","billedSizeBytes":0,"itemCount":4,"outputFormat":"DYNAMODB_JSON","exportType":"FULL_EXPORT","someFutureField":{"x":1}}"#,
    )
    .unwrap();
    let set = ExportSet::open(tmp.path()).unwrap();
    assert_eq!(set.root, root);
    assert_eq!(set.files[0].display, "AWSDynamoDB/0123-abcd/data/x.json.gz");
    assert_eq!(set.summary.s3_prefix, None);
    assert_eq!(
        set.summary.export_time.as_deref(),
        Some("2020-11-04T07:28:34.028Z")
    );
    assert_eq!(set.validate().unwrap().items, 4);
    let read: Vec<Item> = set.files[0].reader().unwrap().map(Result::unwrap).collect();
    assert_eq!(read, items);
    // The export folder itself opens too.
    assert_eq!(
        ExportSet::open(&root).unwrap().files[0].display,
        "data/x.json.gz"
    );
}

#[test]
fn refuses_incomplete_and_ambiguous_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
    assert!(
        text.ends_with(": not a complete export: no manifest-summary.json"),
        "{text}"
    );

    export(tmp.path(), &[("a", &sample_items(1))]);
    fs::remove_file(tmp.path().join(MANIFEST_SUMMARY)).unwrap();
    let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
    assert!(
        text.contains("not a complete export: no manifest-summary.json"),
        "{text}"
    );

    let s3 = tmp.path().join("AWSDynamoDB");
    fs::create_dir_all(s3.join("1111")).unwrap();
    let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
    assert_eq!(
        text,
        "AWSDynamoDB/1111: not a complete export: no manifest-summary.json"
    );
    export(&s3.join("1111"), &[("a", &sample_items(1))]);
    export(&s3.join("2222"), &[("a", &sample_items(1))]);
    let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
    assert!(
        text.ends_with("2 exports under AWSDynamoDB/ (AWSDynamoDB/1111, AWSDynamoDB/2222); give the folder of one"),
        "{text}"
    );
}

#[test]
fn refuses_a_missing_data_file() {
    let tmp = tempfile::tempdir().unwrap();
    export(
        tmp.path(),
        &[("a", &sample_items(1)), ("b", &sample_items(1))],
    );
    fs::remove_file(tmp.path().join("data/b.json.gz")).unwrap();
    let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
    assert_eq!(
        text,
        "data/b.json.gz: listed in manifest-files.json but missing"
    );
    let path = tmp.path().join("data/b.json.gz");
    let Err(err) = DataFileReader::open(&path) else {
        panic!("opened a missing file")
    };
    assert!(err
        .to_string()
        .ends_with("b.json.gz: cannot open: No such file or directory"));
}

#[test]
fn refuses_ion_and_incremental_exports() {
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path(), &[("a", &sample_items(1))]);
    let path = tmp.path().join(MANIFEST_SUMMARY);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replace("DYNAMODB_JSON", "ION")).unwrap();
    let err = ExportSet::open(tmp.path()).unwrap_err();
    assert!(matches!(err, ExportFileError::UnsupportedFormat { .. }));
    let msg = err.to_string();
    assert!(
        msg.starts_with("manifest-summary.json: output format ION is not supported"),
        "{msg}"
    );
    assert!(msg.contains("Ion"), "{msg}");
    fs::write(&path, text.replace("FULL_EXPORT", "INCREMENTAL_EXPORT")).unwrap();
    let msg = ExportSet::open(tmp.path()).unwrap_err().to_string();
    assert!(
        msg.contains("export type INCREMENTAL_EXPORT is not supported"),
        "{msg}"
    );
}

#[test]
fn detects_truncation_and_corruption() {
    let tmp = tempfile::tempdir().unwrap();
    export(
        tmp.path(),
        &[("a", &sample_items(50)), ("b", &sample_items(50))],
    );
    let path = tmp.path().join("data/b.json.gz");
    let bytes = fs::read(&path).unwrap();

    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(
        validate_err(tmp.path()),
        "data/b.json.gz: truncated: the gzip data ends early (incomplete copy or download?)"
    );
    // Without its 8-byte trailer.
    fs::write(&path, &bytes[..bytes.len() - 8]).unwrap();
    assert!(validate_err(tmp.path()).contains("truncated"));

    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x40;
    fs::write(&path, &flipped).unwrap();
    let text = validate_err(tmp.path());
    assert!(
        text.starts_with("data/b.json.gz: MD5 checksum mismatch: the manifest says "),
        "{text}"
    );

    let mut header = bytes.clone();
    header[0] = b'{';
    fs::write(&path, &header).unwrap();
    assert!(matches!(
        ExportSet::open(tmp.path()).unwrap().files[1]
            .reader()
            .unwrap()
            .next(),
        Some(Err(ExportFileError::BadGzip { .. }))
    ));
    assert!(validate_err(tmp.path()).contains("MD5 checksum mismatch"));
}

#[test]
fn bad_lines_name_file_line_and_path_but_no_value() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"Item":{"pk":{"S":"ok"}}}"#,
        r#"{"Item":{"address":{"M":{"lines":{"L":[{"S":"a"},{"S":"b"},{"B":"secret!!"}]}}}}}"#,
        r#"{"Item":{"email":{"S":"secret@example.com"}"#,
        r#"{"Item":{"email":{"S":"secret@example.com"}}, secret}"#,
        r#"{"Item":{"amount":{"N":"12345secret"}}}"#,
        r#"{"Item":{"amount":{"N":"123456789012345678901234567890123456789"}}}"#,
        r#"{"Thing":{}}"#,
    ];
    raw_export(tmp.path(), &(lines.join("\n") + "\n"), 1);
    let set = ExportSet::open(tmp.path()).unwrap();
    let errors: Vec<String> = set.files[0]
        .reader()
        .unwrap()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect();
    assert_eq!(
        errors,
        [
            "data/bad.json.gz line 2: attribute `address.lines[2]`: invalid base64 (standard alphabet, padded)",
            "data/bad.json.gz line 3: incomplete JSON",
            "data/bad.json.gz line 4: not valid JSON (column 47)",
            "data/bad.json.gz line 5: attribute `amount`: not a decimal number",
            "data/bad.json.gz line 6: attribute `amount`: 39 significant digits; DynamoDB keeps at most 38",
            "data/bad.json.gz line 7: expected an object with the single key \"Item\"",
        ]
    );
    for e in &errors {
        assert!(!e.contains("secret") && !e.contains("12345678"), "{e}");
    }
    assert_eq!(
        validate_err(tmp.path()),
        "data/bad.json.gz line 2: attribute `address.lines[2]`: invalid base64 (standard alphabet, padded)"
    );
}

#[test]
fn blank_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let line = item_to_export_line(&sample_items(1)[0]);
    raw_export(tmp.path(), &format!("{line}\n{line}\n\n"), 2);
    assert_eq!(
        ExportSet::open(tmp.path())
            .unwrap()
            .validate()
            .unwrap()
            .items,
        2
    );
    raw_export(tmp.path(), &format!("{line}\n\n{line}"), 2);
    assert_eq!(
        validate_err(tmp.path()),
        "data/bad.json.gz line 2: blank line"
    );
}

#[test]
fn count_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    let line = item_to_export_line(&sample_items(1)[0]);
    raw_export(tmp.path(), &format!("{line}\n{line}\n"), 3);
    assert_eq!(
        validate_err(tmp.path()),
        "data/bad.json.gz: item count mismatch: manifest-files.json says 3, found 2"
    );
    // The summary and the file list disagree.
    let path = tmp.path().join(MANIFEST_SUMMARY);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replace("\"itemCount\":3", "\"itemCount\":7")).unwrap();
    assert_eq!(
        validate_err(tmp.path()),
        "manifest-summary.json: item count mismatch: itemCount says 7, found 3"
    );
}

#[test]
fn writer_refuses_bad_names_and_bad_totals() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["", "..", "a/b", "a\\b"] {
        assert!(matches!(
            DataFileWriter::create(tmp.path(), name),
            Err(ExportFileError::BadName { .. })
        ));
    }
    let summary = ManifestSummary::holdfast(info(), 9, "t".into(), "t".into());
    let err = write_manifests(tmp.path(), &summary, &[]).unwrap_err();
    assert!(matches!(err, ExportFileError::CountMismatch { .. }));
    assert!(!tmp.path().join(MANIFEST_SUMMARY).exists());
}

#[test]
fn a_large_file_streams() {
    let tmp = tempfile::tempdir().unwrap();
    // 100k items (~1.5 MB of gzip): ~2 s unoptimized; the reader and writer hold one line.
    let count = 100_000u64;
    let mut w = DataFileWriter::create(tmp.path(), "big").unwrap();
    for i in 0..count {
        let item = Item::from([
            ("pk".to_owned(), Attr::S(format!("k{i}"))),
            ("v".to_owned(), Attr::N(n("7"))),
        ]);
        w.write_item(&item).unwrap();
    }
    let f = w.finish().unwrap();
    let summary = ManifestSummary::holdfast(info(), count, "t".into(), "t".into());
    write_manifests(tmp.path(), &summary, &[f]).unwrap();
    let set = ExportSet::open(tmp.path()).unwrap();
    assert_eq!(set.validate().unwrap().items, count);
}

#[test]
fn formats_times_as_rfc3339_utc() {
    let at = |ms: u64| rfc3339_utc(UNIX_EPOCH + Duration::from_millis(ms));
    assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(at(1_604_474_914_028), "2020-11-04T07:28:34.028Z");
    assert_eq!(at(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
    assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(at(4_107_542_400_001), "2100-03-01T00:00:00.001Z");
    // Times before 1970 print as 1970; sub-millisecond parts are cut, not rounded.
    assert_eq!(
        rfc3339_utc(UNIX_EPOCH - Duration::from_secs(1)),
        "1970-01-01T00:00:00.000Z"
    );
    assert_eq!(
        rfc3339_utc(UNIX_EPOCH + Duration::from_micros(1_999)),
        "1970-01-01T00:00:00.001Z"
    );
}

#[test]
fn lines_match_item_module() {
    let item = &sample_items(1)[0];
    assert_eq!(
        parse_line(item_to_export_line(item).as_bytes()).unwrap(),
        item_from_export_line(&item_to_export_line(item)).unwrap()
    );
}
