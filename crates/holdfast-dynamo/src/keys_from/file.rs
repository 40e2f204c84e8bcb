//! The keys file of a comparison, as `copy --keys-from` reads it: one JSON line per differing
//! key, each checked against the tables' key schemas; the whole file is checked before the
//! first write.

use std::io::BufRead as _;
use std::path::Path;

/// A keys file line (or the file) that cannot be used: `location` is `FILE` or `FILE:LINE`.
#[derive(Debug)]
pub(super) struct KeysFileError {
    pub(super) location: String,
    pub(super) reason: String,
}

impl From<KeysFileError> for super::CopyError {
    fn from(e: KeysFileError) -> Self {
        super::CopyError::KeysFile {
            location: e.location,
            reason: e.reason,
        }
    }
}
use crate::item::item_from_dynamo_json;
use crate::keys::KeySpec;
use crate::sdk_item::{item_to_sdk, SdkItem};

/// One line of a keys file.
pub(super) struct Line {
    pub(super) only_in_target: bool,
    /// The target's key.
    pub(super) key: SdkItem,
    /// The source's key (the target's key without a transform).
    pub(super) source_key: Option<SdkItem>,
}

fn parse_line(
    text: &str,
    source_key: &KeySpec,
    target_key: &KeySpec,
    transformed: bool,
) -> Result<Line, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let difference = value
        .get("difference")
        .and_then(serde_json::Value::as_str)
        .ok_or("no \"difference\"")?;
    let only_in_target = match difference {
        "only_in_target" => true,
        "only_in_source" | "different" => false,
        other => {
            return Err(format!(
                "\"difference\" is {other:?}; expected only_in_source, only_in_target or different"
            ))
        }
    };
    let key_of = |name: &str, spec: &KeySpec| -> Result<Option<SdkItem>, String> {
        let Some(v) = value.get(name) else {
            return Ok(None);
        };
        let item = item_to_sdk(&item_from_dynamo_json(v).map_err(|e| format!("\"{name}\": {e}"))?);
        spec.check(&item)
            .map_err(|e| format!("\"{name}\" does not fit the table's key: {e}"))?;
        Ok(Some(spec.key_of(&item)))
    };
    let key = key_of("key", target_key)?.ok_or("no \"key\"")?;
    let mut source = key_of("source_key", source_key)?;
    if source.is_none() && !only_in_target {
        if transformed {
            return Err(
                "no \"source_key\": this file comes from a comparison without the transform".into(),
            );
        }
        source = Some(source_key.key_of(&key));
    }
    Ok(Line {
        only_in_target,
        key,
        source_key: source,
    })
}

fn read_lines(path: &Path) -> std::io::Result<impl Iterator<Item = (usize, String)>> {
    let file = std::fs::File::open(path)?;
    Ok(std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty()))
}

/// The lines of `path`, each parsed (the error names the file and line).
pub(super) struct Lines<'a> {
    path: &'a Path,
    source_key: &'a KeySpec,
    target_key: &'a KeySpec,
    transformed: bool,
}

impl<'a> Lines<'a> {
    pub(super) fn new(
        path: &'a Path,
        source_key: &'a KeySpec,
        target_key: &'a KeySpec,
        transformed: bool,
    ) -> Lines<'a> {
        Lines {
            path,
            source_key,
            target_key,
            transformed,
        }
    }

    fn unreadable(&self, e: &std::io::Error) -> KeysFileError {
        KeysFileError {
            location: self.path.display().to_string(),
            reason: format!("cannot read: {e}"),
        }
    }

    /// Every line, parsed in order.
    pub(super) fn read(
        &self,
    ) -> Result<impl Iterator<Item = Result<Line, KeysFileError>> + '_, KeysFileError> {
        Ok(read_lines(self.path)
            .map_err(|e| self.unreadable(&e))?
            .map(|(n, text)| {
                parse_line(&text, self.source_key, self.target_key, self.transformed).map_err(
                    |reason| KeysFileError {
                        location: format!("{}:{n}", self.path.display()),
                        reason,
                    },
                )
            }))
    }

    /// Checks every line; the number of lines.
    pub(super) fn check(&self) -> Result<u64, KeysFileError> {
        let mut total = 0;
        for line in self.read()? {
            line?;
            total += 1;
        }
        Ok(total)
    }
}
