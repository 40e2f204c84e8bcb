//! Migration file names: `V<version>__<description>.sql` and `R__<description>.sql`.

use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

pub use holdfast_report::migrate::Kind;

/// A migration version: an integer, a dotted version like `1.2.3`, or a timestamp.
///
/// Compared part by part as numbers; trailing zero parts do not count (`1.2` = `1.2.0`).
#[derive(Debug, Clone, Eq)]
pub struct Version {
    parts: Vec<u64>,
    text: String,
}

impl Version {
    /// Parses `1`, `1.2`, `1_2` (same as `1.2`) or `20240101120000`.
    pub fn parse(text: &str) -> Option<Version> {
        if text.is_empty() {
            return None;
        }
        let parts = text
            .split(['.', '_'])
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    None
                } else {
                    p.parse::<u64>().ok()
                }
            })
            .collect::<Option<Vec<u64>>>()?;
        Some(Version {
            parts,
            text: text.replace('_', "."),
        })
    }

    /// The version as written (with `_` separators shown as `.`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The numeric parts.
    pub fn parts(&self) -> &[u64] {
        &self.parts
    }

    fn significant(&self) -> &[u64] {
        let keep = self
            .parts
            .iter()
            .rposition(|&p| p != 0)
            .map_or(0, |i| i + 1);
        &self.parts[..keep]
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.significant().hash(state);
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.significant().cmp(other.significant())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// What a migration file's name says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub kind: Kind,
    /// `None` for repeatables.
    pub version: Option<Version>,
    /// The description with `_` shown as spaces.
    pub description: String,
}

/// Parses a migration file name. `Ok(None)` for files that are not migrations at all (other
/// extensions, hidden files); `Err` with the reason for a `.sql` file whose name is malformed.
pub fn parse_file_name(name: &str) -> Result<Option<FileName>, String> {
    let Some(stem) = name.strip_suffix(".sql") else {
        return Ok(None);
    };
    if name.starts_with('.') {
        return Ok(None);
    }
    let expected = "expected V<version>__<description>.sql or R__<description>.sql";
    let describe = |d: &str| -> Result<String, String> {
        let d = d.replace('_', " ").trim().to_string();
        if d.is_empty() {
            Err(format!("missing description ({expected})"))
        } else {
            Ok(d)
        }
    };
    if let Some(rest) = stem.strip_prefix("R__") {
        return Ok(Some(FileName {
            kind: Kind::Repeatable,
            version: None,
            description: describe(rest)?,
        }));
    }
    if let Some(rest) = stem.strip_prefix('V') {
        let Some((version, description)) = rest.split_once("__") else {
            return Err(format!(
                "no `__` between version and description ({expected})"
            ));
        };
        let version = Version::parse(version).ok_or_else(|| {
            format!(
                "`{version}` is not a version: use digits, optionally dotted like 1.2 ({expected})"
            )
        })?;
        return Ok(Some(FileName {
            kind: Kind::Versioned,
            version: Some(version),
            description: describe(description)?,
        }));
    }
    Err(expected.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(v("2") < v("10"));
        assert!(v("1.2") < v("1.10"));
        assert_eq!(v("1.2"), v("1.2.0"));
        assert_eq!(v("1_2"), v("1.2"));
        assert!(v("1.2") < v("1.2.1"));
        assert!(v("20240101120000") > v("20231231235959"));
        assert_eq!(v("001"), v("1"));
    }

    #[test]
    fn rejects_bad_versions() {
        for bad in ["", "a", "1..2", "1.", "-1", "1.x", "1 2"] {
            assert!(Version::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn parses_names() {
        type Expected<'a> = Result<Option<(Kind, Option<&'a str>, &'a str)>, ()>;
        let table: &[(&str, Expected)] = &[
            (
                "V1__init.sql",
                Ok(Some((Kind::Versioned, Some("1"), "init"))),
            ),
            (
                "V1.2__add_users.sql",
                Ok(Some((Kind::Versioned, Some("1.2"), "add users"))),
            ),
            (
                "V20240101120000__x.sql",
                Ok(Some((Kind::Versioned, Some("20240101120000"), "x"))),
            ),
            ("R__views.sql", Ok(Some((Kind::Repeatable, None, "views")))),
            ("README.md", Ok(None)),
            (".V1__hidden.sql", Ok(None)),
            ("V1_init.sql", Err(())),
            ("Vx__init.sql", Err(())),
            ("V1__.sql", Err(())),
            ("R__.sql", Err(())),
            ("init.sql", Err(())),
            ("v1__lower.sql", Err(())),
        ];
        for (name, want) in table {
            let got = parse_file_name(name);
            match (got, want) {
                (Ok(Some(f)), Ok(Some((kind, version, desc)))) => {
                    assert_eq!(f.kind, *kind, "{name}");
                    assert_eq!(f.version.as_ref().map(|v| v.as_str()), *version, "{name}");
                    assert_eq!(f.description, *desc, "{name}");
                }
                (Ok(None), Ok(None)) | (Err(_), Err(())) => {}
                (got, _) => panic!("{name}: got {got:?}"),
            }
        }
    }
}
