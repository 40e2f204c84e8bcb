//! Database credentials from an RDS secret in Secrets Manager.
//!
//! An RDS secret is JSON: `username` and `password` always; `host`, `port`, `dbname` and `engine`
//! when the secret was made for a database (RDS-*managed* secrets hold only username and
//! password). The `Host`, `Port`, `DatabaseName` and `Engine` properties complete or override
//! them. The result is a database URL whose password is registered with the redactor, so it never
//! reaches a log, a report or a stack event. Errors name the secret's key at fault, never a
//! value (serde's messages quote values, so they are not passed on).

use holdfast_core::redact::Redactor;
use serde_json::{Map, Value};

/// What the `Host`/`Port`/`DatabaseName`/`Engine` properties say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub engine: Option<String>,
}

/// A secret that cannot be used, or cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("secret {arn}: {problem}")]
    Unusable { arn: String, problem: String },
    #[error("secret {arn}: cannot read it: {detail}")]
    Read { arn: String, detail: String },
}

impl holdfast_core::exit::Classify for SecretError {
    /// A secret without the fields a database URL needs is bad configuration; one that cannot
    /// be read (no answer, access denied, missing) is a failed call.
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        match self {
            SecretError::Unusable { .. } => holdfast_core::exit::Outcome::Usage,
            SecretError::Read { .. } => holdfast_core::exit::Outcome::Failed,
        }
    }
}

/// Reads the secret's string value.
///
/// # Errors
/// [`SecretError::Read`]: the call failed (missing secret, no permission, unreachable).
pub async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<String, SecretError> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretError::Read {
            arn: arn.to_owned(),
            detail: holdfast_aws::classify(&e).to_string(),
        })?;
    output.secret_string.ok_or_else(|| SecretError::Unusable {
        arn: arn.to_owned(),
        problem: "has no string value (a binary secret is not an RDS secret)".into(),
    })
}

/// The database URL an RDS secret (JSON text) and the properties describe.
///
/// # Errors
/// [`SecretError::Unusable`] naming the key that is missing or malformed.
pub fn database_url(arn: &str, secret: &str, overrides: &Overrides) -> Result<String, SecretError> {
    let unusable = |problem: String| SecretError::Unusable {
        arn: arn.to_owned(),
        problem,
    };
    let map: Map<String, Value> = match serde_json::from_str(secret) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(unusable(
                "is not a JSON object (an RDS secret holds username, password, host, port, dbname, engine)"
                    .into(),
            ))
        }
    };
    // The password first: whatever goes wrong below, it is never printed.
    let password = text(&map, "password").map_err(&unusable)?;
    if let Some(p) = &password {
        Redactor::global().register(p);
    }
    let password = password.ok_or_else(|| unusable("has no `password`".into()))?;
    let username = text(&map, "username")
        .map_err(&unusable)?
        .ok_or_else(|| unusable("has no `username`".into()))?;
    let missing = |key: &str, property: &str| {
        unusable(format!(
            "has no `{key}` (an RDS-managed secret holds only username and password): set the {property} property"
        ))
    };
    let host = match &overrides.host {
        Some(h) => h.clone(),
        None => text(&map, "host")
            .map_err(&unusable)?
            .ok_or_else(|| missing("host", "Host"))?,
    };
    let engine = match &overrides.engine {
        Some(e) => e.clone(),
        None => text(&map, "engine")
            .map_err(&unusable)?
            .ok_or_else(|| missing("engine", "Engine"))?,
    };
    let scheme = scheme(&engine).ok_or_else(|| {
        unusable(format!(
            "engine `{engine}` is not supported (postgres, aurora-postgresql, mysql, mariadb, aurora-mysql)"
        ))
    })?;
    let port = match overrides.port {
        Some(p) => Some(p),
        None => port(&map).map_err(&unusable)?,
    };
    let database = match &overrides.database {
        Some(d) => Some(d.clone()),
        None => text(&map, "dbname").map_err(&unusable)?,
    };
    let database = database.unwrap_or_else(|| match scheme {
        "postgres" => "postgres".into(),
        _ => String::new(),
    });

    let mut url = url::Url::parse(&format!("{scheme}://placeholder"))
        .map_err(|e| unusable(format!("cannot build a URL: {e}")))?;
    url.set_host(Some(&host))
        .map_err(|_| unusable("`host` is not a host name or address".into()))?;
    let _ = url.set_port(port);
    let _ = url.set_username(&username);
    let _ = url.set_password(Some(&password));
    url.set_path(&database);
    let url = url.to_string();
    Ok(url)
}

/// The URL scheme of an RDS engine name.
fn scheme(engine: &str) -> Option<&'static str> {
    match engine.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" | "aurora-postgresql" => Some("postgres"),
        "mysql" | "mariadb" | "aurora-mysql" | "aurora" => Some("mysql"),
        _ => None,
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Err(format!("`{key}` is empty")),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

fn port(map: &Map<String, Value>) -> Result<Option<u16>, String> {
    let bad = || "`port` is not a port number".to_owned();
    match map.get("port") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .map(Some)
            .ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf";

    #[test]
    fn a_full_rds_secret_makes_a_url_with_the_password_encoded() {
        let secret = r#"{"username":"app","password":"p@ss/w:rd?","host":"db.example.internal","port":5432,"dbname":"shop","engine":"postgres"}"#;
        let url = database_url(ARN, secret, &Overrides::default()).unwrap();
        assert_eq!(
            url,
            "postgres://app:p%40ss%2Fw%3Ard%3F@db.example.internal:5432/shop"
        );
        let shown = Redactor::global().redact(&format!("connecting to {url}"));
        assert!(!shown.contains("p%40ss"), "{shown}");
    }

    #[test]
    fn a_managed_secret_is_completed_by_the_properties() {
        let secret = r#"{"username":"admin","password":"managed-secret-1"}"#;
        let overrides = Overrides {
            host: Some("cluster.example.internal".into()),
            port: Some(3306),
            database: Some("app".into()),
            engine: Some("aurora-mysql".into()),
        };
        assert_eq!(
            database_url(ARN, secret, &overrides).unwrap(),
            "mysql://admin:managed-secret-1@cluster.example.internal:3306/app"
        );
        let e = database_url(ARN, secret, &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("no `host`"), "{e}");
        assert!(e.to_string().contains("Host property"), "{e}");
    }

    #[test]
    fn errors_name_the_key_and_never_a_value() {
        for (secret, expected) in [
            (r#"{"username":"u"}"#, "no `password`"),
            (
                r#"{"username":"u","password":"hunter2secret","host":"h","engine":"oracle-ee"}"#,
                "engine `oracle-ee` is not supported",
            ),
            (
                r#"{"username":"u","password":"hunter2secret","host":"h","engine":"postgres","port":"hunter2secret"}"#,
                "`port` is not a port number",
            ),
            (r#"["hunter2secret"]"#, "is not a JSON object"),
            (r#"{"password": 5}"#, "`password` is not a string"),
        ] {
            let e = database_url(ARN, secret, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{e}");
            assert!(!e.contains("hunter2secret"), "{e}");
        }
    }
}
