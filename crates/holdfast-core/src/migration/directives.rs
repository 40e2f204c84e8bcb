//! `-- holdfast:…` directives in a migration's leading comment lines.

use std::time::Duration;

/// Per-file options written as leading comments.
///
/// ```sql
/// -- holdfast:no-transaction
/// -- holdfast:statement-timeout=30s
/// -- holdfast:lock-timeout=5s
/// CREATE INDEX CONCURRENTLY ...
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// Run statement by statement outside a transaction, recording progress after each.
    pub no_transaction: bool,
    /// Overrides the default statement timeout for this file.
    pub statement_timeout: Option<Duration>,
    /// Overrides the default lock timeout for this file.
    pub lock_timeout: Option<Duration>,
}

const PREFIX: &str = "holdfast:";

impl Directives {
    /// Reads the directives of a file. Errors carry the 1-based line and the reason: an unknown
    /// directive, a bad value, or a directive placed after the first statement (where it would
    /// otherwise be silently ignored).
    pub fn parse(text: &str) -> Result<Directives, (usize, String)> {
        let mut directives = Directives::default();
        let mut leading = true;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            let comment = trimmed.strip_prefix("--").map(str::trim);
            let directive = comment.and_then(|c| c.strip_prefix(PREFIX));
            match (directive, leading) {
                (Some(d), true) => directives.apply(d.trim()).map_err(|e| (line, e))?,
                (Some(_), false) => return Err((
                    line,
                    "holdfast directives must stand in the leading comment lines, before any SQL"
                        .to_string(),
                )),
                (None, _) => {
                    if !trimmed.is_empty() && comment.is_none() {
                        leading = false;
                    }
                }
            }
        }
        Ok(directives)
    }

    fn apply(&mut self, directive: &str) -> Result<(), String> {
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (directive, None),
        };
        let duration = |v: Option<&str>| -> Result<Duration, String> {
            let v = v.ok_or_else(|| format!("holdfast:{name} needs a value, e.g. {name}=30s"))?;
            humantime::parse_duration(v)
                .map_err(|e| format!("holdfast:{name}: `{v}` is not a duration ({e})"))
        };
        match (name, value) {
            ("no-transaction", None) => self.no_transaction = true,
            ("statement-timeout", v) => self.statement_timeout = Some(duration(v)?),
            ("lock-timeout", v) => self.lock_timeout = Some(duration(v)?),
            ("no-transaction", Some(_)) => return Err("holdfast:no-transaction takes no value".into()),
            _ => {
                return Err(format!(
                    "unknown directive `holdfast:{name}` (known: no-transaction, statement-timeout=DURATION, lock-timeout=DURATION)"
                ))
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_leading_directives() {
        let d = Directives::parse(
            "-- a comment\n--holdfast:no-transaction\n\n-- holdfast:statement-timeout=30s\n-- holdfast:lock-timeout = 2s\nCREATE INDEX CONCURRENTLY i ON t (c);\n",
        )
        .unwrap();
        assert!(d.no_transaction);
        assert_eq!(d.statement_timeout, Some(Duration::from_secs(30)));
        assert_eq!(d.lock_timeout, Some(Duration::from_secs(2)));
    }

    #[test]
    fn none_by_default() {
        assert_eq!(
            Directives::parse("SELECT 1;").unwrap(),
            Directives::default()
        );
    }

    #[test]
    fn rejects_bad_directives_with_their_line() {
        let table = [
            (
                "-- holdfast:no-transactoin\nSELECT 1;",
                1,
                "unknown directive",
            ),
            (
                "\n-- holdfast:statement-timeout=soon\nSELECT 1;",
                2,
                "not a duration",
            ),
            (
                "-- holdfast:statement-timeout\nSELECT 1;",
                1,
                "needs a value",
            ),
            (
                "SELECT 1;\n-- holdfast:no-transaction\n",
                2,
                "leading comment lines",
            ),
            ("-- holdfast:no-transaction=yes\n", 1, "takes no value"),
        ];
        for (text, line, reason) in table {
            let (got_line, msg) = Directives::parse(text).unwrap_err();
            assert_eq!(got_line, line, "{text:?}");
            assert!(msg.contains(reason), "{text:?}: {msg}");
        }
    }
}
