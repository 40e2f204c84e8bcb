//! The rules: `[refresh]` (and `[stages.NAME.refresh]`) of `holdfast.toml`.
//!
//! ```toml
//! [refresh]
//! key = { env = "HOLDFAST_REFRESH_KEY" }    # or { secret_arn = "arn:aws:secretsmanager:…" }
//! locale = "en"                             # of the fakes (en, fr_fr, de_de, it_it, nl_nl, pt_br, pt_pt)
//!
//! [refresh.tables.users]                    # or "schema.table"
//! email = "email"                           # a transform by name
//! phone = { transform = "phone", country = "GB" }
//! notes = { keep = "free text reviewed: preferences only" }
//!
//! [refresh.tables.events]
//! payload = { transform = "json", paths = { "$.email" = "email", "$..ip" = "ip" } }
//!
//! [refresh.production]
//! url = "postgres://prod-host/app"          # a database sanitize --in-place refuses
//! ```
//!
//! The file is one: `holdfast_core::config` reads it and allows the `refresh` sections; this
//! module reads them with `Config::view`, and each rule's error names the file, the table and
//! the column. The key is never in the file: only where to read it.

use crate::transform::{JsonPath, Locale, TextMode, Transform};
use crate::RefreshError;
use holdfast_core::config::Config;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where the secret key of the deterministic transforms is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable.
    Env(String),
    /// A Secrets Manager secret (its string value).
    SecretArn(String),
}

/// The production database a refresh must never rewrite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Production {
    /// Its URL (compared by host, port and database name).
    pub url: Option<String>,
    /// Names of databases that are production wherever they are.
    #[serde(default)]
    pub names: Vec<String>,
}

/// What happens to one column.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Copied as it is, for the reason given.
    Keep { reason: String },
    /// Replaced by the transform's fakes.
    Transform(Transform),
}

impl Rule {
    /// The rule as a short text for reports: `email`, `keep`.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Rule::Keep { .. } => "keep",
            Rule::Transform(t) => t.name(),
        }
    }
}

/// The checked `[refresh]` settings of one stage (or none).
#[derive(Debug, Clone, Default)]
pub struct RefreshConfig {
    pub key: Option<KeySource>,
    pub locale: Locale,
    /// Table (`name` or `schema.name`) → column → rule.
    pub tables: BTreeMap<String, BTreeMap<String, Rule>>,
    pub production: Option<Production>,
    /// The file the rules came from, for messages.
    pub file: String,
}

#[derive(Debug, Default, Deserialize)]
struct View {
    #[serde(default)]
    refresh: Option<RawRefresh>,
    #[serde(default)]
    stages: BTreeMap<String, StageView>,
}

#[derive(Debug, Default, Deserialize)]
struct StageView {
    #[serde(default)]
    refresh: Option<RawRefresh>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefresh {
    /// Read by hand, so that a key written into the file is never echoed in an error.
    key: Option<toml::Value>,
    locale: Option<String>,
    #[serde(default)]
    tables: BTreeMap<String, BTreeMap<String, toml::Value>>,
    production: Option<Production>,
}

/// The options a rule table may have, each with the transforms it applies to.
const OPTIONS: &[(&str, &[&str])] = &[
    ("domain", &["email"]),
    ("keep_domain", &["email"]),
    ("country", &["phone"]),
    (
        "locale",
        &[
            "email",
            "first_name",
            "last_name",
            "full_name",
            "street",
            "city",
            "postcode",
            "text",
        ],
    ),
    ("mode", &["text"]),
    ("length", &["hash"]),
    ("value", &["constant"]),
    ("days", &["date_shift"]),
    ("by", &["date_shift"]),
    ("paths", &["json"]),
    ("pattern", &["regex"]),
    ("replace", &["regex"]),
];

impl RefreshConfig {
    /// The settings for `stage`: its section's tables over the top's (column by column), its
    /// key, locale and production over the top's.
    ///
    /// # Errors
    /// The file is not valid, or a rule is not: the message names the file, table and column.
    pub fn read(config: &Config, stage: Option<&str>) -> Result<RefreshConfig, RefreshError> {
        let view: View = config
            .view()
            .map_err(|e| RefreshError::Rules(e.to_string()))?;
        let file = config.path.as_ref().map_or_else(
            || holdfast_core::config::FILE_NAME.to_string(),
            |p| p.display().to_string(),
        );
        let mut raw = view.refresh.unwrap_or_default();
        if let Some(over) = stage
            .and_then(|s| view.stages.get(s))
            .and_then(|s| s.refresh.clone())
        {
            raw.key = over.key.or(raw.key);
            raw.locale = over.locale.or(raw.locale);
            raw.production = over.production.or(raw.production);
            for (table, columns) in over.tables {
                raw.tables.entry(table).or_default().extend(columns);
            }
        }
        compile(raw, file)
    }

    /// Reads the settings from the text of a configuration file (a test's).
    ///
    /// # Errors
    /// As [`RefreshConfig::read`].
    pub fn parse(text: &str) -> Result<RefreshConfig, RefreshError> {
        let config = Config::parse(text).map_err(RefreshError::Rules)?;
        RefreshConfig::read(&config, None)
    }

    /// The rule for a column of `schema.table` (looked up as `schema.table`, then `table`).
    #[must_use]
    pub fn rule(&self, schema: &str, table: &str, column: &str) -> Option<&Rule> {
        self.tables
            .get(&format!("{schema}.{table}"))
            .or_else(|| self.tables.get(table))
            .and_then(|columns| columns.get(column))
    }
}

fn compile(raw: RawRefresh, file: String) -> Result<RefreshConfig, RefreshError> {
    let at = |where_: &str, message: String| {
        RefreshError::Rules(format!("{file}: [refresh]{where_}: {message}"))
    };
    let key_table = raw.key.as_ref().map(|k| {
        let t = k.as_table();
        let get = |name: &str| t.and_then(|t| t.get(name)).and_then(toml::Value::as_str);
        let only = t.is_some_and(|t| t.len() == 1);
        (only, get("env"), get("secret_arn"))
    });
    let key = match key_table {
        None => None,
        Some((true, Some(v), None)) if !v.is_empty() => Some(KeySource::Env(v.to_string())),
        Some((true, None, Some(arn)))
            if arn.starts_with("arn:") && arn.contains(":secretsmanager:") =>
        {
            Some(KeySource::SecretArn(arn.to_string()))
        }
        Some(_) => {
            return Err(at(
                " key",
                "give exactly one of { env = \"VARIABLE\" } or { secret_arn = \"arn:aws:secretsmanager:…\" } (never the key itself)".into(),
            ))
        }
    };
    let locale = match raw.locale.as_deref() {
        None => Locale::default(),
        Some(name) => Locale::parse(name).ok_or_else(|| {
            at(
                " locale",
                format!("unknown locale `{name}`; known: {}", locale_names()),
            )
        })?,
    };
    let mut tables = BTreeMap::new();
    for (table, columns) in raw.tables {
        let mut rules = BTreeMap::new();
        for (column, value) in columns {
            let rule =
                rule(&value, locale).map_err(|m| at(&format!(".tables.{table} {column}"), m))?;
            rules.insert(column, rule);
        }
        tables.insert(table, rules);
    }
    Ok(RefreshConfig {
        key,
        locale,
        tables,
        production: raw.production,
        file,
    })
}

fn locale_names() -> String {
    Locale::ALL
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One rule: a transform's name, `{ keep = "reason" }` or `{ transform = "name", options… }`.
fn rule(value: &toml::Value, locale: Locale) -> Result<Rule, String> {
    match value {
        toml::Value::String(name) => {
            if name == "keep" {
                return Err(
                    "`keep` needs a reason: { keep = \"why this column holds no personal data\" }"
                        .into(),
                );
            }
            transform(name, &toml::Table::new(), locale).map(Rule::Transform)
        }
        toml::Value::Table(t) => match (t.get("keep"), t.get("transform")) {
            (Some(_), Some(_)) => Err("a rule is `keep` or a `transform`, not both".into()),
            (Some(reason), None) => {
                if let Some(extra) = t.keys().find(|k| *k != "keep") {
                    return Err(format!("`{extra}` does not go with `keep`"));
                }
                match reason.as_str().map(str::trim) {
                    Some(r) if !r.is_empty() => Ok(Rule::Keep {
                        reason: r.to_string(),
                    }),
                    _ => Err("`keep` needs a reason (a non-empty string)".into()),
                }
            }
            (None, Some(name)) => {
                let name = name.as_str().ok_or("`transform` is a transform's name")?;
                transform(name, t, locale).map(Rule::Transform)
            }
            (None, None) => {
                Err("a rule table needs `transform = \"name\"` or `keep = \"reason\"`".into())
            }
        },
        _ => Err(
            "a rule is a transform's name, { transform = \"name\", … } or { keep = \"reason\" }"
                .into(),
        ),
    }
}

/// The names of the transforms.
pub const TRANSFORMS: &[&str] = &[
    "email",
    "first_name",
    "last_name",
    "full_name",
    "phone",
    "street",
    "city",
    "postcode",
    "card",
    "iban",
    "ip",
    "text",
    "hash",
    "null",
    "constant",
    "date_shift",
    "json",
    "regex",
];

fn transform(
    name: &str,
    options: &toml::Table,
    default_locale: Locale,
) -> Result<Transform, String> {
    if !TRANSFORMS.contains(&name) {
        return Err(format!(
            "unknown transform `{name}`; known: {}",
            TRANSFORMS.join(", ")
        ));
    }
    for option in options.keys().filter(|k| *k != "transform") {
        match OPTIONS.iter().find(|(o, _)| o == option) {
            None => return Err(format!("unknown option `{option}`")),
            Some((_, applies)) if !applies.contains(&name) => {
                return Err(format!("option `{option}` does not apply to `{name}`"))
            }
            Some(_) => {}
        }
    }
    let string = |key: &str| -> Result<Option<String>, String> {
        match options.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{key}` is a string")),
        }
    };
    let integer = |key: &str| -> Result<Option<i64>, String> {
        match options.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) => Ok(Some(*i)),
            Some(_) => Err(format!("`{key}` is a whole number")),
        }
    };
    let locale = match string("locale")? {
        None => default_locale,
        Some(l) => Locale::parse(&l)
            .ok_or_else(|| format!("unknown locale `{l}`; known: {}", locale_names()))?,
    };
    Ok(match name {
        "email" => Transform::Email {
            domain: string("domain")?,
            keep_domain: match options.get("keep_domain") {
                None => false,
                Some(toml::Value::Boolean(b)) => *b,
                Some(_) => return Err("`keep_domain` is true or false".into()),
            },
            locale,
        },
        "first_name" => Transform::FirstName(locale),
        "last_name" => Transform::LastName(locale),
        "full_name" => Transform::FullName(locale),
        "phone" => {
            let country = string("country")?;
            if let Some(c) = &country {
                if crate::transform::calling_code(c).is_none() {
                    return Err(format!(
                        "unknown country `{c}` (an ISO 3166 code such as GB, US, DE)"
                    ));
                }
            }
            Transform::Phone { country }
        }
        "street" => Transform::Street(locale),
        "city" => Transform::City(locale),
        "postcode" => Transform::Postcode(locale),
        "card" => Transform::Card,
        "iban" => Transform::Iban,
        "ip" => Transform::Ip,
        "text" => Transform::Text {
            mode: match string("mode")?.as_deref() {
                None | Some("replace") => TextMode::Replace,
                Some("redact") => TextMode::Redact,
                Some(other) => {
                    return Err(format!("`mode` is `replace` or `redact`, not `{other}`"))
                }
            },
            locale,
        },
        "hash" => Transform::Hash {
            length: match integer("length")? {
                None => 64,
                Some(n @ 8..=64) => usize::try_from(n).unwrap_or(64),
                Some(n) => return Err(format!("`length` is 8 to 64, not {n}")),
            },
        },
        "null" => Transform::Null,
        "constant" => Transform::Constant {
            value: string("value")?.ok_or("`constant` needs `value`")?,
        },
        "date_shift" => Transform::DateShift {
            days: match integer("days")? {
                None => return Err("`date_shift` needs `days` (the most a date moves, ±)".into()),
                Some(n @ 1..=36_500) => u32::try_from(n).unwrap_or(1),
                Some(n) => return Err(format!("`days` is 1 to 36500, not {n}")),
            },
            by: string("by")?,
        },
        "json" => {
            let Some(toml::Value::Table(paths)) = options.get("paths") else {
                return Err("`json` needs `paths = { \"$.field\" = \"transform\", … }`".into());
            };
            let mut out = Vec::new();
            for (path, value) in paths {
                let parsed = JsonPath::parse(path)?;
                match rule(value, locale).map_err(|m| format!("path `{path}`: {m}"))? {
                    Rule::Transform(Transform::Json { .. }) => {
                        return Err(format!(
                            "path `{path}`: a json transform inside a json transform"
                        ))
                    }
                    Rule::Transform(t) => out.push((parsed, t)),
                    Rule::Keep { .. } => {
                        return Err(format!("path `{path}`: leave a kept path out instead"))
                    }
                }
            }
            if out.is_empty() {
                return Err("`paths` is empty".into());
            }
            Transform::Json { paths: out }
        }
        "regex" => {
            let pattern = string("pattern")?.ok_or("`regex` needs `pattern`")?;
            Transform::Regex {
                pattern: regex::Regex::new(&pattern).map_err(|e| {
                    format!(
                        "`pattern`: {}",
                        e.to_string().lines().last().unwrap_or("invalid")
                    )
                })?,
                replace: string("replace")?.ok_or("`regex` needs `replace`")?,
            }
        }
        _ => unreachable!("every name in TRANSFORMS has an arm"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        RefreshConfig::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_documented_shape_reads() {
        let c = RefreshConfig::parse(
            r#"
[refresh]
key = { env = "HOLDFAST_REFRESH_KEY" }
locale = "fr_fr"
[refresh.tables.users]
email = "email"
full_name = "full_name"
phone = { transform = "phone", country = "GB" }
notes = { keep = "free text reviewed: preferences only" }
[refresh.tables."audit.events"]
payload = { transform = "json", paths = { "$.email" = "email", "$..ip" = { transform = "ip" } } }
created = { transform = "date_shift", days = 30, by = "user_id" }
[refresh.production]
url = "postgres://prod/app"
"#,
        )
        .unwrap();
        assert_eq!(c.key, Some(KeySource::Env("HOLDFAST_REFRESH_KEY".into())));
        assert_eq!(c.locale, Locale::FrFr);
        assert_eq!(c.rule("public", "users", "email").unwrap().label(), "email");
        assert_eq!(c.rule("public", "users", "notes").unwrap().label(), "keep");
        assert_eq!(
            c.rule("audit", "events", "payload").unwrap().label(),
            "json"
        );
        assert!(c.rule("public", "events", "payload").is_none());
        assert!(c.production.unwrap().url.is_some());
    }

    #[test]
    fn bad_rules_name_the_table_and_column() {
        let cases = [
            ("[refresh.tables.users]\nemail = \"emial\"", "[refresh].tables.users email: unknown transform `emial`"),
            ("[refresh.tables.users]\nnotes = \"keep\"", "users notes: `keep` needs a reason"),
            ("[refresh.tables.users]\nnotes = { keep = \"\" }", "users notes: `keep` needs a reason"),
            ("[refresh.tables.users]\nphone = { transform = \"phone\", domain = \"x\" }", "users phone: option `domain` does not apply to `phone`"),
            ("[refresh.tables.users]\nphone = { transform = \"phone\", country = \"XX\" }", "unknown country `XX`"),
            ("[refresh.tables.t]\nc = { transform = \"regex\", pattern = \"(\", replace = \"\" }", "t c: `pattern`"),
            ("[refresh.tables.t]\nc = { transform = \"json\", paths = { \"a\" = \"email\" } }", "t c: JSON path `a`"),
            ("[refresh.tables.t]\nc = { transform = \"date_shift\" }", "t c: `date_shift` needs `days`"),
            ("[refresh]\nkey = { env = \"A\", secret_arn = \"arn:aws:secretsmanager:x\" }", "[refresh] key: give exactly one"),
            ("[refresh]\nkey = \"hunter2hunter2hunter2\"", "holdfast.toml"),
        ];
        for (text, expected) in cases {
            let e = err(text);
            assert!(e.contains(expected), "{text}\n→ {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn a_stage_adds_and_replaces_columns() {
        let config = Config::parse(
            "[refresh.tables.users]\nemail = \"email\"\nnotes = \"text\"\n[stages.qa.refresh.tables.users]\nnotes = { keep = \"qa keeps notes\" }\nphone = \"phone\"\n",
        )
        .unwrap();
        let qa = RefreshConfig::read(&config, Some("qa")).unwrap();
        assert_eq!(qa.rule("public", "users", "notes").unwrap().label(), "keep");
        assert_eq!(
            qa.rule("public", "users", "phone").unwrap().label(),
            "phone"
        );
        assert_eq!(
            qa.rule("public", "users", "email").unwrap().label(),
            "email"
        );
        let top = RefreshConfig::read(&config, None).unwrap();
        assert_eq!(
            top.rule("public", "users", "notes").unwrap().label(),
            "text"
        );
    }
}
