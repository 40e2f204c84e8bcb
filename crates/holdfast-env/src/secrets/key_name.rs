//! Keys whose name says that their value is a credential (`DB_PASSWORD`, `stripeApiKey`).

/// Whole names that are credentials (after normalising: upper case, words joined by `_`).
const NAMES: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "SECRET_KEY",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CLIENT_SECRET",
];

/// Last words that make a name a credential's: `…_SECRET` (so `…_CLIENT_SECRET`),
/// `…_PASSWORD`, `…_PASSWD`, `…_PWD`, `…_TOKEN`, `…_API_KEY`, `…_APIKEY`, `…_PRIVATE_KEY`,
/// `…_SECRET_KEY`, `…_SECRET_ACCESS_KEY`, `…_SIGNING_KEY`.
const SUFFIXES: &[&str] = &[
    "_SECRET",
    "_PASSWORD",
    "_PASSWD",
    "_PWD",
    "_TOKEN",
    "_API_KEY",
    "_APIKEY",
    "_PRIVATE_KEY",
    "_SECRET_KEY",
    "_SECRET_ACCESS_KEY",
    "_SIGNING_KEY",
];

/// Whether `key` names a credential, in any case and any of the usual spellings: words
/// separated by `_`, `-`, `.` or a space, or run together in camel case (`dbPassword`,
/// `StripeAPIKey`). `PWD` alone is the working directory, not a password.
pub fn is_secret_key_name(key: &str) -> bool {
    let name = normalise(key);
    NAMES.contains(&name.as_str()) || SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

/// Upper case, with `_` between words: at `-`, `.` and spaces, and where camel case starts a
/// word (`dbPassword` → `DB_PASSWORD`, `StripeAPIKey` → `STRIPE_API_KEY`).
fn normalise(key: &str) -> String {
    let chars: Vec<char> = key.trim().chars().collect();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if matches!(c, '-' | '.' | ' ') {
            out.push('_');
            continue;
        }
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{is_secret_key_name, normalise};

    #[test]
    fn normalises_the_usual_spellings() {
        assert_eq!(normalise("DB_PASSWORD"), "DB_PASSWORD");
        assert_eq!(normalise("dbPassword"), "DB_PASSWORD");
        assert_eq!(normalise("StripeAPIKey"), "STRIPE_API_KEY");
        assert_eq!(normalise("stripe-api-key"), "STRIPE_API_KEY");
        assert_eq!(normalise("slack.bot.token"), "SLACK_BOT_TOKEN");
        assert_eq!(normalise("oauth2Token"), "OAUTH2_TOKEN");
    }

    #[test]
    fn credential_names() {
        for key in [
            "PASSWORD",
            "password",
            "SECRET_KEY",
            "DB_PASSWORD",
            "db_passwd",
            "MYSQL_PWD",
            "JWT_SECRET",
            "OAUTH_CLIENT_SECRET",
            "GITHUB_TOKEN",
            "SENDGRID_API_KEY",
            "MAPS_APIKEY",
            "SIGNING_PRIVATE_KEY",
            "DJANGO_SECRET_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "WEBHOOK_SIGNING_KEY",
            "dbPassword",
            "stripeApiKey",
            "slack-bot-token",
        ] {
            assert!(is_secret_key_name(key), "{key}");
        }
    }

    #[test]
    fn other_names() {
        for key in [
            "PWD",
            "TABLE_NAME",
            "SECRET_ARN",
            "DB_SECRET_NAME",
            "TOKEN_URL",
            "PASSWORD_MIN_LENGTH",
            "API_KEY_HEADER",
            "AWS_ACCESS_KEY_ID",
            "TOKENIZER",
            "PUBLIC_KEY",
            "STAGE",
            "",
        ] {
            assert!(!is_secret_key_name(key), "{key}");
        }
    }
}
