//! One value for a whole history: the digest `up` compares with the server's to conclude
//! "nothing to do" without reading every row.

use crate::history::{HistoryRow, RowState};
use crate::migration::MigrationSet;

/// The digest of the history a database has when every migration of `source` is applied once,
/// in order (versioned by version, then repeatables by description) and nothing else: the
/// common state at deploy time. A backend that can compute [`history_digest`] on the server
/// lets `up` conclude "nothing to do" without reading every row; any other history gives another
/// digest and takes the full path.
pub fn applied_digest(source: &MigrationSet) -> String {
    digest_lines(source.iter().map(|m| {
        let key = m
            .version
            .as_ref()
            .map_or(m.description.clone(), ToString::to_string);
        (
            key,
            m.kind.as_str(),
            m.checksum.clone(),
            RowState::Applied.as_str(),
        )
    }))
}

/// The digest of history rows, in id order, as [`applied_digest`] defines it: SHA-256 (hex) of
/// the lines `key|kind|checksum|state` joined by `\n`, where key is the version, or the
/// description when there is none.
pub fn history_digest(rows: &[HistoryRow]) -> String {
    digest_lines(rows.iter().map(|r| {
        let key = r.version.clone().unwrap_or_else(|| r.description.clone());
        (key, r.kind.as_str(), r.checksum.clone(), r.state.as_str())
    }))
}

fn digest_lines(
    lines: impl Iterator<Item = (String, &'static str, String, &'static str)>,
) -> String {
    let text = lines
        .map(|(key, kind, checksum, state)| format!("{key}|{kind}|{checksum}|{state}"))
        .collect::<Vec<_>>()
        .join("\n");
    crate::migration::sha256_hex(text.as_bytes())
}
