use super::*;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// A value that must never show in an error.
const SECRET: &str = "hunter2-Sup3rS3cret";

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Level {
    Debug,
    Info,
    Warn,
}

#[derive(Debug, Deserialize)]
struct Settings {
    table_name: String,
    port: u16,
    debug: bool,
    timeout: Duration,
    level: Level,
    retries: Vec<u8>,
    ratio: f64,
    sentry_dsn: Option<String>,
}

fn all_good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TABLE_NAME", "orders"),
        ("PORT", "8080"),
        ("DEBUG", "yes"),
        ("TIMEOUT", "1m 30s"),
        ("LEVEL", "Info"),
        ("RETRIES", "1, 2,3"),
        ("RATIO", "0.25"),
        ("PATH", "/usr/bin"),
    ]
}

#[test]
fn typed_fields_are_read_from_strings() {
    let settings: Settings = EnvConfig::from_vars(all_good()).load().unwrap();
    assert_eq!(settings.table_name, "orders");
    assert_eq!(settings.port, 8080);
    assert!(settings.debug);
    assert_eq!(settings.timeout, Duration::from_secs(90));
    assert_eq!(settings.level, Level::Info);
    assert_eq!(settings.retries, [1, 2, 3]);
    assert!((settings.ratio - 0.25).abs() < f64::EPSILON);
    assert_eq!(settings.sentry_dsn, None);

    let mut vars = all_good();
    vars.push(("SENTRY_DSN", "https://key@sentry.example/1"));
    vars.push(("RETRIES", ""));
    let settings: Settings = EnvConfig::from_vars(vars).load().unwrap();
    assert_eq!(
        settings.sentry_dsn.as_deref(),
        Some("https://key@sentry.example/1")
    );
    assert!(settings.retries.is_empty(), "an empty list");
}

#[test]
fn every_problem_is_reported_at_once_by_variable_never_by_value() {
    let vars = [
        ("PORT", SECRET),
        ("DEBUG", SECRET),
        ("TIMEOUT", SECRET),
        ("LEVEL", SECRET),
        ("RETRIES", "1,hunter2-Sup3rS3cret,3"),
        ("RATIO", SECRET),
    ];
    let errors = EnvConfig::from_vars(vars)
        .required("API_KEY")
        .load::<Settings>()
        .unwrap_err();
    let expected = [
        ("API_KEY", ProblemKind::Missing),
        (
            "DEBUG",
            ProblemKind::Invalid("expected true or false (or 1/0, yes/no, on/off)".into()),
        ),
        (
            "LEVEL",
            ProblemKind::Invalid("expected one of: debug, info, warn".into()),
        ),
        (
            "PORT",
            ProblemKind::Invalid("expected a whole number from 0 to 65535".into()),
        ),
        ("RATIO", ProblemKind::Invalid("expected a number".into())),
        (
            "RETRIES",
            ProblemKind::Invalid("item 2: expected a whole number from 0 to 255".into()),
        ),
        ("TABLE_NAME", ProblemKind::Missing),
        (
            "TIMEOUT",
            ProblemKind::Invalid("expected a duration such as 250ms, 30s, 5m or 1h 30m".into()),
        ),
    ];
    let got: Vec<(&str, ProblemKind)> = errors
        .problems()
        .iter()
        .map(|p| (p.variable.as_str(), p.kind.clone()))
        .collect();
    assert_eq!(got, expected);
    let message = errors.to_string();
    assert!(message.starts_with("8 configuration problems: API_KEY: missing; DEBUG: "));
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!format!("{errors:?}").contains("hunter2"));
}

/// A type whose own parser quotes what it could not read.
#[derive(Debug)]
struct Endpoint(String);

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Endpoint, D::Error> {
        let text = String::deserialize(d)?;
        if text.starts_with("https://") {
            Ok(Endpoint(text))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{text}` is not an https URL"
            )))
        }
    }
}

/// A type whose own parser says what is wrong without the value.
#[derive(Debug)]
struct Region(String);

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Region, D::Error> {
        let text = String::deserialize(d)?;
        if text.contains('-') {
            Ok(Region(text))
        } else {
            Err(serde::de::Error::custom("a region has a dash"))
        }
    }
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Custom {
    table: String,
    queue: String,
    endpoint: Endpoint,
    region: Region,
    port: u16,
}

#[test]
fn custom_types_are_reported_with_every_other_problem_and_their_messages_never_quote_values() {
    let vars = [("ENDPOINT", SECRET), ("REGION", "useast1"), ("PORT", "x")];
    let errors = EnvConfig::from_vars(vars).load::<Custom>().unwrap_err();
    let got: Vec<String> = errors.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "ENDPOINT: not valid (the parser's message is withheld: it quotes the value)",
            "PORT: expected a whole number from 0 to 65535",
            "QUEUE: missing",
            "REGION: a region has a dash",
            "TABLE: missing",
        ]
    );
    assert!(!errors.to_string().contains("hunter2"));

    let vars = [
        ("ENDPOINT", "https://api.example"),
        ("REGION", "eu-west-1"),
        ("PORT", "1"),
        ("TABLE", "t"),
        ("QUEUE", "q"),
    ];
    let custom: Custom = EnvConfig::from_vars(vars).load().unwrap();
    assert_eq!(
        (custom.endpoint.0.as_str(), custom.region.0.as_str()),
        ("https://api.example", "eu-west-1")
    );
}

#[derive(Debug, Deserialize)]
struct Staged {
    log_level: String,
    memory: u32,
    table: String,
}

#[test]
fn defaults_follow_the_stages_environment_and_variables_win() {
    let config = |stage: &str| {
        EnvConfig::from_vars([("STAGE", stage), ("TABLE", "orders")])
            .stage_var("STAGE")
            .default("LOG_LEVEL", "debug")
            .default("MEMORY", "128")
            .default_for(Environment::Production, "LOG_LEVEL", "warn")
            .default_for(Environment::Staging, "LOG_LEVEL", "info")
            .default_for(Environment::Production, "MEMORY", "1024")
    };
    let table = [
        ("prod", Environment::Production, "warn", 1024),
        ("Production", Environment::Production, "warn", 1024),
        ("stage", Environment::Staging, "info", 128),
        ("pr-7", Environment::Development, "debug", 128),
    ];
    for (stage, environment, level, memory) in table {
        let config = config(stage);
        assert_eq!(config.environment(), environment, "{stage}");
        assert_eq!(config.stage(), Some(stage));
        let staged: Staged = config.load().unwrap();
        assert_eq!(
            (
                staged.log_level.as_str(),
                staged.memory,
                staged.table.as_str()
            ),
            (level, memory, "orders"),
            "{stage}"
        );
    }

    // A set variable beats every default.
    let staged: Staged =
        EnvConfig::from_vars([("STAGE", "prod"), ("TABLE", "t"), ("LOG_LEVEL", "trace")])
            .stage_var("STAGE")
            .default("MEMORY", "1")
            .default_for(Environment::Production, "LOG_LEVEL", "warn")
            .load()
            .unwrap();
    assert_eq!(staged.log_level, "trace");
}

#[test]
fn a_stage_can_be_given_its_environment() {
    let config = EnvConfig::from_vars([("STAGE", "live")])
        .stage_var("STAGE")
        .stage_environment("LIVE", Environment::Production);
    assert_eq!(config.environment(), Environment::Production);
    let config = EnvConfig::from_vars([("STAGE", "prod")])
        .stage_var("STAGE")
        .stage_environment("prod", Environment::Staging);
    assert_eq!(config.environment(), Environment::Staging);
}

#[test]
fn a_missing_stage_variable_is_a_problem_unless_it_has_a_default() {
    #[derive(Debug, Deserialize)]
    struct Empty {}
    let config = EnvConfig::from_vars([("OTHER", "x")]).stage_var("STAGE");
    assert_eq!(config.environment(), Environment::Development);
    let errors = config.load::<Empty>().unwrap_err();
    assert_eq!(errors.of("STAGE"), Some(&ProblemKind::Missing));
    let config = EnvConfig::from_vars([("OTHER", "x")])
        .stage_var("STAGE")
        .default("STAGE", "dev");
    assert_eq!(config.stage(), Some("dev"));
    config.load::<Empty>().unwrap();
}

#[test]
fn required_variables_must_be_set_and_not_empty() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Optional {
        api_key: Option<String>,
        region: Option<String>,
    }
    let errors = EnvConfig::from_vars([("API_KEY", "  ")])
        .required("API_KEY")
        .required("REGION")
        .load::<Optional>()
        .unwrap_err();
    assert_eq!(errors.of("API_KEY"), Some(&ProblemKind::Empty));
    assert_eq!(errors.of("REGION"), Some(&ProblemKind::Missing));
    assert_eq!(errors.problems().len(), 2);
    assert_eq!(
        errors.to_string(),
        "2 configuration problems: API_KEY: empty; REGION: missing"
    );

    let optional: Optional = EnvConfig::from_vars([("REGION", "eu-west-1")])
        .load()
        .unwrap();
    assert_eq!(optional.api_key, None);
}

#[test]
fn a_prefix_selects_and_names_the_variables() {
    #[derive(Debug, Deserialize)]
    struct Prefixed {
        port: u16,
        host: String,
    }
    let vars = [("APP_PORT", "9000"), ("PORT", "1"), ("HOST", "wrong")];
    let errors = EnvConfig::from_vars(vars)
        .prefix("APP_")
        .load::<Prefixed>()
        .unwrap_err();
    assert_eq!(
        errors.to_string(),
        "1 configuration problem: APP_HOST: missing"
    );
    let prefixed: Prefixed = EnvConfig::from_vars(vars)
        .prefix("APP_")
        .default("APP_HOST", "localhost")
        .load()
        .unwrap();
    assert_eq!((prefixed.port, prefixed.host.as_str()), (9000, "localhost"));
}

#[test]
fn serde_attributes_and_maps_work() {
    #[derive(Debug, Deserialize)]
    struct Attributes {
        #[serde(rename = "DB_URL")]
        database: String,
        #[serde(default = "ten")]
        pool: u8,
        #[serde(default)]
        verbose: bool,
    }
    fn ten() -> u8 {
        10
    }
    let attributes: Attributes = EnvConfig::from_vars([("DB_URL", "postgres://db")])
        .load()
        .unwrap();
    assert_eq!(attributes.database, "postgres://db");
    assert_eq!((attributes.pool, attributes.verbose), (10, false));

    let all: HashMap<String, String> = EnvConfig::from_vars([("A", "1"), ("B", "2")])
        .load()
        .unwrap();
    assert_eq!(all.get("a").map(String::as_str), Some("1"));
    assert_eq!(all.len(), 2);
}

#[test]
fn from_env_reads_the_process_environment() {
    // Every test process has a PATH or a HOME (and names are UTF-8 here).
    let config = EnvConfig::from_env();
    assert!(config.value("PATH").is_some() || config.value("HOME").is_some());
}
