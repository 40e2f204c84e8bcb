//! Data migration files: `V<version>__<description>.toml` in one folder, each naming a source,
//! a target (the source itself for an in-place migration), an optional jq transform and scan
//! settings:
//!
//! ```toml
//! source = "users"
//! target = "users"                    # default: the source (in place)
//! transform = "V2__record_type.jq"    # a file beside this one; or `filter = '...'` inline
//! segments = 8                        # scan segments (default 8)
//! page_size = 100                     # items per scan page (default 100)
//! max_wcu = 500                       # per process (optional)
//! max_rcu = 500                       # per process (optional)
//! allow_nonempty_target = false       # a copy to a new table wants it empty
//! ```
//!
//! A migration's checksum covers the TOML text and the transform's text: what ran is what
//! the history records.

use holdfast_core::exit::{Classify, Outcome};
use std::path::{Path, PathBuf};

use holdfast_core::migration::Version;
use serde::Deserialize;

use crate::copy::TransformSpec;
use crate::digest::sha256_hex;

/// One data migration, loaded and checked.
#[derive(Debug, Clone)]
pub struct DataMigration {
    pub version: Version,
    pub description: String,
    /// The file's name (for messages and the history).
    pub file: String,
    pub source: String,
    pub target: String,
    pub transform: Option<TransformSpec>,
    pub segments: u32,
    pub page_size: i32,
    pub max_wcu: Option<u32>,
    pub max_rcu: Option<u32>,
    pub allow_nonempty_target: bool,
    /// SHA-256 over the TOML text and the transform's text.
    pub checksum: String,
}

impl DataMigration {
    /// `V<version>`, as messages name it.
    #[must_use]
    pub fn label(&self) -> String {
        format!("V{}", self.version)
    }

    /// Whether the migration rewrites its source.
    #[must_use]
    pub fn in_place(&self) -> bool {
        self.source == self.target
    }
}

/// The history's key for a version: its significant parts, so `1.0` and `1` are one version.
#[must_use]
pub fn version_key(version: &Version) -> String {
    let parts = version.parts();
    let keep = parts.iter().rposition(|&p| p != 0).map_or(1, |i| i + 1);
    parts[..keep.min(parts.len())]
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// A migration file that cannot be used, named with the line at fault when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct FileError {
    pub location: String,
    pub message: String,
}

impl Classify for FileError {
    /// A migration file that cannot be used: nothing ran.
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

fn file_error(path: &Path, line: Option<usize>, message: impl Into<String>) -> FileError {
    FileError {
        location: match line {
            Some(line) => format!("{}:{line}", path.display()),
            None => path.display().to_string(),
        },
        message: message.into(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    source: String,
    target: Option<String>,
    transform: Option<String>,
    filter: Option<String>,
    segments: Option<u32>,
    page_size: Option<i32>,
    max_wcu: Option<u32>,
    max_rcu: Option<u32>,
    allow_nonempty_target: Option<bool>,
}

/// Loads every `V…__….toml` file of `dir`, in version order. Other files (the `.jq`
/// transforms, READMEs) are ignored.
///
/// # Errors
/// The first file that cannot be used, with its line when the TOML is at fault; two files
/// with one version.
pub fn load_dir(dir: &Path) -> Result<Vec<DataMigration>, FileError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| file_error(dir, None, format!("cannot read: {e}")))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && p.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    let mut migrations = paths
        .iter()
        .map(|p| load_file(dir, p))
        .collect::<Result<Vec<_>, _>>()?;
    migrations.sort_by(|a, b| a.version.cmp(&b.version));
    for pair in migrations.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(file_error(
                &dir.join(&pair[1].file),
                None,
                format!(
                    "version {} is also used by {}",
                    pair[1].version, pair[0].file
                ),
            ));
        }
    }
    Ok(migrations)
}

fn parse_name(name: &str) -> Result<(Version, String), String> {
    let expected = "expected V<version>__<description>.toml, e.g. V2__add_record_type.toml";
    let stem = name.strip_suffix(".toml").unwrap_or(name);
    let rest = stem.strip_prefix('V').ok_or(expected)?;
    let (version, description) = rest.split_once("__").ok_or(expected)?;
    let version = Version::parse(version)
        .ok_or_else(|| format!("`{version}` is not a version ({expected})"))?;
    let description = description.replace('_', " ").trim().to_owned();
    if description.is_empty() {
        return Err(format!("missing description ({expected})"));
    }
    Ok((version, description))
}

fn load_file(dir: &Path, path: &Path) -> Result<DataMigration, FileError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (version, description) = parse_name(&name).map_err(|e| file_error(path, None, e))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| file_error(path, None, format!("cannot read: {e}")))?;
    let line_of = |key: &str| {
        text.lines()
            .position(|l| {
                l.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map(|i| i + 1)
    };
    let doc: FileDoc = toml::from_str(&text).map_err(|e| {
        let message = e.message().trim().to_owned();
        // An unknown key's error spans the whole table: name the key's own line.
        let line = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            .and_then(&line_of)
            .or_else(|| {
                e.span()
                    .filter(|span| span.start > 0)
                    .map(|span| text[..span.start.min(text.len())].lines().count().max(1))
            });
        file_error(path, line, message)
    })?;
    let check_name = |key: &str, value: &str| {
        if value.trim().is_empty() {
            Err(file_error(path, line_of(key), format!("`{key}` is empty")))
        } else {
            Ok(())
        }
    };
    check_name("source", &doc.source)?;
    let target = doc.target.unwrap_or_else(|| doc.source.clone());
    check_name("target", &target)?;
    let (transform_name, transform_text) = match (&doc.transform, &doc.filter) {
        (Some(_), Some(_)) => {
            return Err(file_error(
                path,
                line_of("filter"),
                "`transform` (a file) and `filter` (inline) are both set: keep one",
            ))
        }
        (Some(file), None) => {
            let jq = dir.join(file);
            let text = std::fs::read_to_string(&jq).map_err(|e| {
                file_error(
                    path,
                    line_of("transform"),
                    format!("transform {}: cannot read: {e}", jq.display()),
                )
            })?;
            (Some(jq.display().to_string()), text)
        }
        (None, Some(inline)) => (Some(format!("{name} filter")), inline.clone()),
        (None, None) => (None, String::new()),
    };
    let transform = match &transform_name {
        Some(tname) => Some(TransformSpec::new(tname, &transform_text).map_err(|e| {
            file_error(
                path,
                line_of(if doc.filter.is_some() {
                    "filter"
                } else {
                    "transform"
                }),
                e.to_string(),
            )
        })?),
        None => None,
    };
    if transform.is_none() && target == doc.source {
        return Err(file_error(
            path,
            None,
            "an in-place migration (target = source) needs a `transform` or `filter`",
        ));
    }
    let segments = doc.segments.unwrap_or(crate::copy::DEFAULT_TOTAL_SEGMENTS);
    if !(1..=1_000_000).contains(&segments) {
        return Err(file_error(
            path,
            line_of("segments"),
            "`segments` must be between 1 and 1000000",
        ));
    }
    let page_size = doc.page_size.unwrap_or(crate::copy::DEFAULT_PAGE_SIZE);
    if !(1..=10_000).contains(&page_size) {
        return Err(file_error(
            path,
            line_of("page_size"),
            "`page_size` must be between 1 and 10000",
        ));
    }
    let mut hashed = text.clone().into_bytes();
    hashed.push(0);
    hashed.extend_from_slice(transform_text.as_bytes());
    Ok(DataMigration {
        version,
        description,
        file: name,
        source: doc.source,
        target,
        transform,
        segments,
        page_size,
        max_wcu: doc.max_wcu,
        max_rcu: doc.max_rcu,
        allow_nonempty_target: doc.allow_nonempty_target.unwrap_or(false),
        checksum: sha256_hex(&hashed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn loads_in_version_order_with_defaults() {
        let dir = dir_with(&[
            ("V10__later.toml", "source = \"a\"\ntarget = \"b\"\n"),
            (
                "V2__in_place.toml",
                "source = \"a\"\ntransform = \"t.jq\"\nsegments = 4\n",
            ),
            ("t.jq", ".recordType = \"USER\""),
            ("README.md", "ignored"),
        ]);
        let all = load_dir(dir.path()).unwrap();
        let labels: Vec<String> = all.iter().map(DataMigration::label).collect();
        assert_eq!(labels, ["V2", "V10"]);
        assert!(all[0].in_place());
        assert_eq!(all[0].segments, 4);
        assert_eq!(all[1].target, "b");
        assert_eq!(all[1].page_size, crate::scanner::DEFAULT_PAGE_LIMIT);
        assert!(all[1].transform.is_none());
    }

    #[test]
    fn the_checksum_covers_the_transform_file() {
        let dir = dir_with(&[
            ("V1__x.toml", "source = \"a\"\ntransform = \"t.jq\"\n"),
            ("t.jq", ".a = 1"),
        ]);
        let before = load_dir(dir.path()).unwrap()[0].checksum.clone();
        std::fs::write(dir.path().join("t.jq"), ".a = 2").unwrap();
        let after = load_dir(dir.path()).unwrap()[0].checksum.clone();
        assert_ne!(before, after);
    }

    #[test]
    fn bad_files_name_the_file_and_line() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[(
                    "V1__x.toml",
                    "source = \"a\"\ntarget = \"b\"\nsegmnts = 4\n",
                )],
                "V1__x.toml:3: unknown field `segmnts`",
            ),
            (
                &[("V1__x.toml", "target = \"b\"\n")],
                "V1__x.toml: missing field `source`",
            ),
            (
                &[("V1__x.toml", "source = \"a\"\n")],
                "V1__x.toml: an in-place migration (target = source) needs a `transform`",
            ),
            (
                &[("V1__x.toml", "source = \"a\"\ntransform = \"missing.jq\"\n")],
                "V1__x.toml:2: transform",
            ),
            (
                &[("V1__x.toml", "source = \"a\"\nfilter = '.a = '\n")],
                "V1__x.toml:2:",
            ),
            (
                &[(
                    "V1__x.toml",
                    "source = \"a\"\ntarget = \"b\"\nsegments = 0\n",
                )],
                "V1__x.toml:3: `segments` must be",
            ),
            (
                &[
                    ("V1__x.toml", "source = \"a\"\ntarget = \"b\"\n"),
                    ("V1.0__y.toml", "source = \"a\"\ntarget = \"c\"\n"),
                ],
                "version 1 is also used by",
            ),
            (
                &[("Vx__bad.toml", "")],
                "Vx__bad.toml: `x` is not a version",
            ),
            (
                &[("add_users.toml", "")],
                "add_users.toml: expected V<version>",
            ),
        ];
        for (files, expected) in cases {
            let dir = dir_with(files);
            let err = load_dir(dir.path()).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{err}\n  does not contain {expected}"
            );
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn version_keys_ignore_trailing_zeros() {
        let key = |s: &str| version_key(&Version::parse(s).unwrap());
        assert_eq!(key("1.0"), "1");
        assert_eq!(key("1.2.0"), "1.2");
        assert_eq!(key("0"), "0");
        assert_eq!(key("20240101"), "20240101");
    }
}
