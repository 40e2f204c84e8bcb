//! Redaction of secrets: the one place that decides what a password looks like in output.
//!
//! Every front end passes text that may hold a connection string or a server message through
//! [`Redactor::redact`] before printing or logging it. The password field of every URL in the
//! text is replaced by [`MASK`], and every secret value registered with the redactor (a value
//! read from a secret store) is masked wherever it appears. A password typed into a URL is
//! masked as the URL's field only: it may be a common word ("database"), and masking every
//! occurrence of it would garble unrelated text.

use std::sync::{Mutex, OnceLock};

/// What a secret looks like once redacted.
pub const MASK: &str = "***";

/// Masks a URL's password (`scheme://user:password@host` → `scheme://user:***@host`).
///
/// Parsing is by hand so that it also works on strings that a URL parser rejects (an Aurora
/// cluster ARN with colons in place of a host, a truncated URL inside an error message).
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_string();
    };
    format!(
        "{}{}:{}{}",
        &url[..rest_start],
        &userinfo[..colon],
        MASK,
        &url[rest_start + at..]
    )
}

/// The password part of a URL, percent-decoded, if it has one.
pub fn url_password(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let password = &userinfo[userinfo.find(':')? + 1..];
    (!password.is_empty()).then(|| percent_decode(password))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A set of secret values to mask in any text, plus URL password masking.
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Mutex<Vec<String>>,
}

impl Redactor {
    /// The process-wide redactor used by the front ends.
    pub fn global() -> &'static Redactor {
        static GLOBAL: OnceLock<Redactor> = OnceLock::new();
        GLOBAL.get_or_init(Redactor::default)
    }

    /// Registers a secret value (a password, a token) to be masked wherever it appears.
    /// Values shorter than 4 characters are masked only inside URLs, to keep output readable.
    pub fn register(&self, secret: &str) {
        if secret.len() < 4 {
            return;
        }
        let mut secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_string());
            // Longest first, so a secret that contains another is masked whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Masks every URL password and every registered secret in `text`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_urls_in_text(text);
        let secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }
}

/// Masks the password of every `scheme://user:password@` occurrence inside free text.
fn redact_urls_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        // The URL starts at the scheme: the run of scheme characters before "://".
        let scheme_start = rest[..pos]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
            .map_or(0, |i| i + 1);
        let end = rest[pos..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '`')
            .map_or(rest.len(), |i| pos + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&redact_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_url_passwords() {
        let cases = [
            (
                "postgres://app:s3cret@db:5432/x",
                "postgres://app:***@db:5432/x",
            ),
            ("mysql://root@127.0.0.1/test", "mysql://root@127.0.0.1/test"),
            ("sqlite://local.db", "sqlite://local.db"),
            (
                "postgres://u:p%40ss@h/db?sslmode=require",
                "postgres://u:***@h/db?sslmode=require",
            ),
            ("postgres://u:pa@ss@h/db", "postgres://u:***@h/db"),
            ("not a url", "not a url"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_url(input), want, "{input}");
        }
    }

    #[test]
    fn decodes_url_password() {
        assert_eq!(
            url_password("postgres://u:p%40ss@h/db").as_deref(),
            Some("p@ss")
        );
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("postgres://u:@h/db"), None);
    }

    #[test]
    fn masks_registered_secrets_and_urls_in_free_text() {
        let r = Redactor::default();
        r.register("s3cr3t-from-the-store");
        let text = "error connecting to postgres://app:database@db/database: token s3cr3t-from-the-store rejected by the database";
        let out = r.redact(text);
        assert_eq!(
            out,
            "error connecting to postgres://app:***@db/database: token *** rejected by the database"
        );
    }
}
