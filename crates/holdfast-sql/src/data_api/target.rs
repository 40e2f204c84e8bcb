//! The `data-api://CLUSTER_ARN?secret=SECRET_ARN&database=NAME[&engine=postgres|mysql]` URL form,
//! parsed by hand: a cluster ARN is full of colons, which URL parsers reject as a host.
//!
//! Query values may be percent-encoded (`%2F`); `+` is kept as is (secret names may contain it).
//! Unknown or repeated parameters are refused, so a typo never silently changes the target.

use std::fmt;

/// Which engine the Aurora cluster runs. The Data API does not say, and the SQL Holdfast sends
/// (history DDL, the lock table) differs, so the URL names it; PostgreSQL unless `engine=mysql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataApiEngine {
    Postgres,
    MySql,
}

impl DataApiEngine {
    /// The `engine=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DataApiEngine::Postgres => "postgres",
            DataApiEngine::MySql => "mysql",
        }
    }
}

/// Where Data API calls go: the cluster, the secret holding its credentials, the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataApiTarget {
    /// `arn:PARTITION:rds:REGION:ACCOUNT:cluster:NAME`.
    pub cluster_arn: String,
    /// `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`.
    pub secret_arn: String,
    /// The database every call runs in.
    pub database: String,
    pub engine: DataApiEngine,
}

/// The URL scheme of the Data API form.
pub const SCHEME: &str = "data-api://";

/// Why a `data-api://` URL was refused; each names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("data-api URL has no cluster ARN: use data-api://CLUSTER_ARN?secret=SECRET_ARN&database=NAME")]
    NoCluster,
    #[error("data-api URL: `{0}` is not an Aurora cluster ARN (arn:aws:rds:REGION:ACCOUNT:cluster:NAME)")]
    BadCluster(String),
    #[error("data-api URL has no `{0}` parameter: use data-api://CLUSTER_ARN?secret=SECRET_ARN&database=NAME")]
    Missing(&'static str),
    #[error("data-api URL: `secret` must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), not `{0}`")]
    BadSecret(String),
    #[error("data-api URL: `engine` must be postgres or mysql, not `{0}`")]
    BadEngine(String),
    #[error("data-api URL: unknown parameter `{0}` (known: secret, database, engine)")]
    Unknown(String),
    #[error("data-api URL: parameter `{0}` is given more than once")]
    Repeated(String),
    #[error("data-api URL: parameter `{0}` has a malformed %-escape or is not UTF-8")]
    Encoding(String),
}

impl holdfast_core::exit::Classify for TargetError {
    /// A malformed `data-api://` URL is bad input: nothing was called.
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        holdfast_core::exit::Outcome::Usage
    }
}

impl DataApiTarget {
    /// Parses a URL that starts with `data-api://` (the scheme in any case).
    pub fn parse(raw: &str) -> Result<DataApiTarget, TargetError> {
        let rest = raw.get(SCHEME.len()..).unwrap_or_default();
        let (cluster, query) = rest.split_once('?').unwrap_or((rest, ""));
        let cluster = cluster.trim_end_matches('/');
        if cluster.is_empty() {
            return Err(TargetError::NoCluster);
        }
        if !is_arn(cluster, "rds", "cluster") {
            return Err(TargetError::BadCluster(cluster.to_string()));
        }
        let (mut secret, mut database, mut engine) = (None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value).ok_or_else(|| TargetError::Encoding(key.into()))?;
            let slot = match key {
                "secret" => &mut secret,
                "database" => &mut database,
                "engine" => &mut engine,
                other => return Err(TargetError::Unknown(other.to_string())),
            };
            if slot.is_some() {
                return Err(TargetError::Repeated(key.to_string()));
            }
            *slot = Some(value);
        }
        let secret = secret
            .filter(|s| !s.is_empty())
            .ok_or(TargetError::Missing("secret"))?;
        if !is_arn(&secret, "secretsmanager", "secret") {
            return Err(TargetError::BadSecret(secret));
        }
        let database = database
            .filter(|d| !d.is_empty())
            .ok_or(TargetError::Missing("database"))?;
        let engine = match engine.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("postgres") | Some("postgresql") => DataApiEngine::Postgres,
            Some("mysql") => DataApiEngine::MySql,
            Some(_) => return Err(TargetError::BadEngine(engine.unwrap_or_default())),
        };
        Ok(DataApiTarget {
            cluster_arn: cluster.to_string(),
            secret_arn: secret,
            database,
            engine,
        })
    }

    /// The region named in the cluster ARN (the Data API must be called in the cluster's).
    pub fn region(&self) -> &str {
        self.cluster_arn.split(':').nth(3).unwrap_or_default()
    }
}

/// The canonical URL (ARNs are not secrets: shown as they are).
impl fmt::Display for DataApiTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}{}?secret={}&database={}&engine={}",
            self.cluster_arn,
            self.secret_arn,
            self.database,
            self.engine.as_str()
        )
    }
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:KIND:NAME` with every part non-empty (`NAME` is
/// everything after `KIND:`).
fn is_arn(text: &str, service: &str, kind: &str) -> bool {
    let parts: Vec<&str> = text.splitn(7, ':').collect();
    parts.len() == 7
        && parts[0] == "arn"
        && parts[2] == service
        && parts[5] == kind
        && parts.iter().all(|p| !p.is_empty())
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: &str = "arn:aws:rds:eu-west-1:123456789012:cluster:my-cluster";
    const SECRET: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-creds-AbCdEf";

    fn url(query: &str) -> String {
        format!("data-api://{CLUSTER}?{query}")
    }

    #[test]
    fn parses_an_arn_full_of_colons() {
        let t = DataApiTarget::parse(&url(&format!("secret={SECRET}&database=app"))).unwrap();
        assert_eq!(t.cluster_arn, CLUSTER);
        assert_eq!(t.secret_arn, SECRET);
        assert_eq!(t.database, "app");
        assert_eq!(t.engine, DataApiEngine::Postgres);
        assert_eq!(t.region(), "eu-west-1");
        assert_eq!(
            t.to_string(),
            format!("data-api://{CLUSTER}?secret={SECRET}&database=app&engine=postgres")
        );
        // The canonical form parses back to the same target.
        assert_eq!(DataApiTarget::parse(&t.to_string()).unwrap(), t);
    }

    #[test]
    fn engine_and_escapes() {
        let t = DataApiTarget::parse(&url(&format!(
            "database=my%2Ddb&engine=MySQL&secret={}",
            SECRET.replace(':', "%3A")
        )))
        .unwrap();
        assert_eq!(t.engine, DataApiEngine::MySql);
        assert_eq!(t.database, "my-db");
        assert_eq!(t.secret_arn, SECRET);
    }

    #[test]
    fn missing_parameters_are_named() {
        assert_eq!(
            DataApiTarget::parse(&url("database=app")),
            Err(TargetError::Missing("secret"))
        );
        assert_eq!(
            DataApiTarget::parse(&url(&format!("secret={SECRET}"))),
            Err(TargetError::Missing("database"))
        );
        assert_eq!(
            DataApiTarget::parse(&url(&format!("secret={SECRET}&database="))),
            Err(TargetError::Missing("database"))
        );
        let e = DataApiTarget::parse(&url("database=app")).unwrap_err();
        assert!(e.to_string().contains("`secret`"), "{e}");
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        assert_eq!(
            DataApiTarget::parse("data-api://?secret=x&database=y"),
            Err(TargetError::NoCluster)
        );
        assert!(matches!(
            DataApiTarget::parse("data-api://my-cluster?secret=x&database=y"),
            Err(TargetError::BadCluster(_))
        ));
        assert!(matches!(
            DataApiTarget::parse(&url("secret=not-an-arn&database=app")),
            Err(TargetError::BadSecret(_))
        ));
        assert_eq!(
            DataApiTarget::parse(&url(&format!("secret={SECRET}&database=a&engine=oracle"))),
            Err(TargetError::BadEngine("oracle".into()))
        );
        assert_eq!(
            DataApiTarget::parse(&url(&format!("secret={SECRET}&database=a&databse=b"))),
            Err(TargetError::Unknown("databse".into()))
        );
        assert_eq!(
            DataApiTarget::parse(&url(&format!("secret={SECRET}&database=a&database=b"))),
            Err(TargetError::Repeated("database".into()))
        );
        assert_eq!(
            DataApiTarget::parse(&url(&format!("secret={SECRET}&database=a%G0"))),
            Err(TargetError::Encoding("database".into()))
        );
    }

    #[test]
    fn every_refusal_is_bad_input() {
        use holdfast_core::exit::Classify as _;
        for query in [
            "database=app".to_string(),
            format!("secret={SECRET}&database=a&engine=oracle"),
            format!("secret={SECRET}&database=a&databse=b"),
            format!("secret={SECRET}&database=a%G0"),
        ] {
            let error = DataApiTarget::parse(&url(&query)).expect_err("refused");
            assert_eq!(error.outcome().code(), 2, "{error}");
        }
        let error = DataApiTarget::parse("data-api://?secret=x&database=y").expect_err("refused");
        assert_eq!(error.outcome().code(), 2, "{error}");
    }
}
