//! The credential detector against samples: every rule has a positive sample (checked against
//! the rule ids read from the rule data), and the rule set has negatives. Every sample is made
//! at run time from a fake, deterministic body, so no token appears whole in this file.

mod fake;

use fake::fake;
use holdfast_env::secrets::{
    is_reference, Detector, MatchedBy, Origin, KEY_NAME_MIN_CHARS, KEY_NAME_MIN_ENTROPY,
    KEY_NAME_RULE,
};

const HEX: &str = "0123456789abcdef";
const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
const WORD_DASH: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` of `alphabet` starting with a letter (a body that must not start with a digit).
fn fake_from_letter(alphabet: &str, n: usize, seed: u64) -> String {
    format!(
        "{}{}",
        fake(LETTERS, 1, seed),
        fake(alphabet, n - 1, seed + 1)
    )
}

fn uuid(seed: u64) -> String {
    let h = |n, s| fake(&HEX[..16], n, seed * 10 + s);
    format!(
        "{}-{}-{}-{}-{}",
        h(8, 1),
        h(4, 2),
        h(4, 3),
        h(4, 4),
        h(12, 5)
    )
}

fn pem(kind: &str) -> String {
    let body = (0..4)
        .map(|i| fake(&format!("{ALNUM}+/"), 64, 900 + i))
        .collect::<Vec<_>>()
        .join("\n");
    let label = format!("{kind}PRIVATE {}", "KEY");
    format!(
        "-----{} {label}-----\n{body}\n-----{} {label}-----\n",
        "BEGIN", "END"
    )
}

/// (expected rule, key, value): at least one per rule.
fn positives() -> Vec<(&'static str, &'static str, String)> {
    let jwt_header = format!("ey{}", "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    let jwt_payload = format!("ey{}", "JzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkZha2UifQ");
    vec![
        (
            "age-secret-key",
            "AGE_KEY",
            format!(
                "AGE-SECRET-KEY-1{}",
                fake("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58, 1)
            ),
        ),
        (
            "anthropic-admin-api-key",
            "ANTHROPIC_ADMIN",
            format!("sk-ant-{}-{}AA", "admin01", fake(WORD_DASH, 93, 2)),
        ),
        (
            "anthropic-api-key",
            "ANTHROPIC_KEY",
            format!("sk-ant-{}-{}AA", "api03", fake(WORD_DASH, 93, 3)),
        ),
        (
            "aws-access-token",
            "AWS_ACCESS_KEY_ID",
            format!("AKIA{}", fake("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 4)),
        ),
        (
            "aws-access-token",
            "AWS_ACCESS_KEY_ID",
            format!("ASIA{}", fake("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 5)),
        ),
        (
            "azure-ad-client-secret",
            "AZURE_CLIENT",
            format!("{}8Q~{}", fake(ALNUM, 3, 6), fake(ALNUM, 34, 7)),
        ),
        (
            "databricks-api-token",
            "DATABRICKS",
            format!("dapi{}", fake(HEX, 32, 8)),
        ),
        (
            "digitalocean-pat",
            "DO",
            format!("dop_v1_{}", fake(HEX, 64, 9)),
        ),
        (
            "doppler-api-token",
            "DOPPLER",
            format!("dp.pt.{}", fake(ALNUM, 43, 10)),
        ),
        (
            "dynatrace-api-token",
            "DT",
            format!("dt0c01.{}.{}", fake(ALNUM, 24, 11), fake(ALNUM, 64, 12)),
        ),
        (
            "gcp-api-key",
            "MAPS",
            format!("AIza{}", fake(WORD_DASH, 35, 13)),
        ),
        (
            "github-app-token",
            "GH",
            format!("ghs_{}", fake(ALNUM, 36, 14)),
        ),
        (
            "github-app-token",
            "GH",
            format!("ghu_{}", fake(ALNUM, 36, 15)),
        ),
        (
            "github-fine-grained-pat",
            "GH",
            format!("github_pat_{}", fake(&ALNUM.replace('A', "_"), 82, 16)),
        ),
        ("github-oauth", "GH", format!("gho_{}", fake(ALNUM, 36, 17))),
        ("github-pat", "GH", format!("ghp_{}", fake(ALNUM, 36, 18))),
        (
            "github-refresh-token",
            "GH",
            format!("ghr_{}", fake(ALNUM, 36, 19)),
        ),
        (
            "gitlab-deploy-token",
            "GL",
            format!("gldt-{}", fake(ALNUM, 20, 20)),
        ),
        (
            "gitlab-pat",
            "GL",
            format!("glpat-{}", fake(WORD_DASH, 20, 21)),
        ),
        (
            "gitlab-pat-routable",
            "GL",
            format!(
                "glpat-{}.01{}",
                fake(ALNUM, 40, 22),
                fake(LOWER_ALNUM, 7, 23)
            ),
        ),
        ("gitlab-ptt", "GL", format!("glptt-{}", fake(HEX, 40, 24))),
        (
            "gitlab-rrt",
            "GL",
            format!("GR1348941{}", fake(WORD_DASH, 20, 25)),
        ),
        (
            "gitlab-runner-authentication-token",
            "GL",
            format!("glrt-{}", fake(ALNUM, 20, 26)),
        ),
        (
            "grafana-service-account-token",
            "GRAFANA",
            format!("glsa_{}_{}", fake(ALNUM, 32, 27), fake(HEX, 8, 28)),
        ),
        (
            "heroku-api-key-v2",
            "HEROKU",
            format!("HRKU-AA{}", fake(WORD_DASH, 58, 29)),
        ),
        (
            "huggingface-access-token",
            "HF",
            format!("hf_{}", fake(LETTERS, 34, 30)),
        ),
        (
            "jwt",
            "SESSION",
            format!("{jwt_header}.{jwt_payload}.{}", fake(WORD_DASH, 43, 31)),
        ),
        (
            "linear-api-key",
            "LINEAR",
            format!("lin_api_{}", fake(ALNUM, 40, 32)),
        ),
        (
            "mailchimp-api-key",
            "MAILCHIMP_API_KEY",
            format!("{}-us12", fake(HEX, 32, 33)),
        ),
        (
            "mailgun-private-api-token",
            "MAILGUN_API_KEY",
            format!("key-{}", fake(HEX, 32, 34)),
        ),
        (
            "mailgun-signing-key",
            "MAILGUN_SIGNING",
            format!(
                "{}-{}-{}",
                fake("abcdefgh0123456789", 32, 35),
                fake(HEX, 8, 36),
                fake(HEX, 8, 37)
            ),
        ),
        (
            "microsoft-teams-webhook",
            "TEAMS_WEBHOOK",
            format!(
                "https://contoso.webhook.office.com/webhookb2/{}@{}/IncomingWebhook/{}/{}",
                uuid(1),
                uuid(2),
                fake(LOWER_ALNUM, 32, 38),
                uuid(3)
            ),
        ),
        (
            "new-relic-user-api-key",
            "NEW_RELIC_API_KEY",
            format!("NRAK-{}", fake(&ALNUM[..36], 27, 39)),
        ),
        (
            "npm-access-token",
            "NPM",
            format!("npm_{}", fake(ALNUM, 36, 40)),
        ),
        (
            "openai-api-key",
            "OPENAI",
            format!(
                "sk-proj-{}T3Blbk{}{}",
                fake(WORD_DASH, 74, 41),
                "FJ",
                fake(WORD_DASH, 74, 42)
            ),
        ),
        (
            "openai-api-key",
            "OPENAI",
            format!(
                "sk-{}T3Blbk{}{}",
                fake(ALNUM, 20, 43),
                "FJ",
                fake(ALNUM, 20, 44)
            ),
        ),
        (
            "perplexity-api-key",
            "PPLX",
            format!("pplx-{}", fake(ALNUM, 48, 45)),
        ),
        (
            "planetscale-password",
            "PLANETSCALE",
            format!("pscale_pw_{}", fake(ALNUM, 43, 46)),
        ),
        (
            "postman-api-token",
            "POSTMAN",
            format!("PMAK-{}-{}", fake(HEX, 24, 47), fake(HEX, 34, 48)),
        ),
        ("private-key", "SIGNING", pem("RSA ")),
        ("private-key", "SIGNING", pem("")),
        ("private-key", "SSH", pem("OPENSSH ")),
        (
            "pulumi-api-token",
            "PULUMI",
            format!("pul-{}", fake(HEX, 40, 49)),
        ),
        (
            "pypi-upload-token",
            "PYPI",
            format!("pypi-AgEIcHlwaS5vcmc{}", fake(WORD_DASH, 60, 50)),
        ),
        (
            "rubygems-api-token",
            "GEMS",
            format!("rubygems_{}", fake(HEX, 48, 51)),
        ),
        (
            "sendgrid-api-token",
            "SENDGRID",
            format!("SG.{}.{}", fake(WORD_DASH, 22, 52), fake(WORD_DASH, 43, 53)),
        ),
        (
            "sentry-user-token",
            "SENTRY",
            format!("sntryu_{}", fake(HEX, 64, 54)),
        ),
        (
            "shopify-access-token",
            "SHOPIFY",
            format!("shpat_{}", fake(HEX, 32, 55)),
        ),
        (
            "shopify-custom-access-token",
            "SHOPIFY",
            format!("shpca_{}", fake(HEX, 32, 56)),
        ),
        (
            "shopify-private-app-access-token",
            "SHOPIFY",
            format!("shppa_{}", fake(HEX, 32, 57)),
        ),
        (
            "shopify-shared-secret",
            "SHOPIFY",
            format!("shpss_{}", fake(HEX, 32, 58)),
        ),
        (
            "slack-app-token",
            "SLACK",
            format!(
                "xapp-1-A{}-{}-{}",
                fake("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10, 59),
                fake("0123456789", 13, 60),
                fake(HEX, 64, 61)
            ),
        ),
        (
            "slack-bot-token",
            "SLACK",
            format!(
                "xoxb-{}-{}-{}",
                fake("0123456789", 13, 62),
                fake("0123456789", 13, 63),
                fake(ALNUM, 24, 64)
            ),
        ),
        (
            "slack-legacy-bot-token",
            "SLACK",
            format!(
                "xoxb-{}-{}",
                fake("0123456789", 12, 65),
                fake_from_letter(ALNUM, 24, 66)
            ),
        ),
        (
            "slack-legacy-token",
            "SLACK",
            format!(
                "xoxs-{}-{}-{}-{}",
                fake("0123456789", 10, 67),
                fake("0123456789", 10, 68),
                fake("0123456789", 10, 69),
                fake(HEX, 64, 70)
            ),
        ),
        (
            "slack-legacy-workspace-token",
            "SLACK",
            format!("xoxa-2-{}", fake(ALNUM, 40, 71)),
        ),
        (
            "slack-user-token",
            "SLACK",
            format!(
                "xoxp-{}-{}-{}-{}",
                fake("0123456789", 10, 72),
                fake("0123456789", 10, 73),
                fake("0123456789", 12, 74),
                fake(ALNUM, 32, 75)
            ),
        ),
        (
            "slack-webhook-url",
            "SLACK_WEBHOOK",
            format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                fake(&ALNUM[..36], 10, 76),
                fake(&ALNUM[..36], 10, 77),
                fake(ALNUM, 24, 78)
            ),
        ),
        (
            "square-access-token",
            "SQUARE",
            format!("sq0atp-{}", fake(WORD_DASH, 22, 79)),
        ),
        (
            "stripe-access-token",
            "STRIPE",
            format!("sk_{}_{}", "live", fake(ALNUM, 24, 80)),
        ),
        (
            "stripe-access-token",
            "STRIPE",
            format!("sk_{}_{}", "test", fake(ALNUM, 24, 81)),
        ),
        (
            "stripe-access-token",
            "STRIPE",
            format!("rk_{}_{}", "live", fake(ALNUM, 24, 82)),
        ),
        (
            "twilio-api-key",
            "TWILIO",
            format!("SK{}", fake(HEX, 32, 83)),
        ),
        (
            "vault-service-token",
            "VAULT",
            format!("hvs.{}", fake(WORD_DASH, 100, 84)),
        ),
        (
            "vault-service-token",
            "VAULT",
            format!("s.{}", fake(ALNUM, 24, 85)),
        ),
        (
            "database-url-with-password",
            "DATABASE_URL",
            format!(
                "postgres://app:{}@db.example.com:5432/orders",
                fake(ALNUM, 20, 86)
            ),
        ),
        (
            "database-url-with-password",
            "DATABASE_URL",
            format!(
                "postgresql://app:{}@db.example.com/orders?sslmode=require",
                fake(ALNUM, 20, 87)
            ),
        ),
        (
            "database-url-with-password",
            "DB",
            format!(
                "mysql://app:{}@db.example.com:3306/orders",
                fake(ALNUM, 16, 88)
            ),
        ),
        (
            "database-url-with-password",
            "DB",
            format!(
                "mongodb+srv://app:{}@cluster0.example.net/orders",
                fake(ALNUM, 16, 89)
            ),
        ),
        (
            "database-url-with-password",
            "CACHE",
            format!("rediss://:{}@cache.example.com:6380/0", fake(ALNUM, 16, 90)),
        ),
        (
            "database-url-with-password",
            "BROKER",
            format!("amqps://app:{}@mq.example.com/vhost", fake(ALNUM, 16, 91)),
        ),
        (
            "url-with-password",
            "SEARCH",
            format!(
                "https://elastic:{}@search.example.com:9243",
                fake(ALNUM, 16, 92)
            ),
        ),
        (
            "stripe-webhook-secret",
            "STRIPE_WEBHOOK",
            format!("whsec_{}", fake(ALNUM, 32, 93)),
        ),
    ]
}

#[test]
fn every_rule_compiles_and_has_a_positive_sample() {
    let detector = Detector::builtin();
    let samples = positives();
    for rule in detector.rules() {
        assert!(
            samples.iter().any(|(id, _, _)| *id == rule.id()),
            "rule {} ({:?}) has no sample",
            rule.id(),
            rule.origin()
        );
    }
    for (id, _, _) in &samples {
        assert!(
            detector.rules().iter().any(|rule| rule.id() == *id),
            "a sample for {id}, which is no rule"
        );
    }
    assert!(detector
        .rules()
        .iter()
        .any(|r| r.origin() == Origin::Holdfast));
}

#[test]
fn each_sample_is_found_by_its_rule() {
    let detector = Detector::builtin();
    let mut wrong = Vec::new();
    for (id, key, value) in positives() {
        match detector.scan(key, &value) {
            Some(hit) if hit.rule == id && hit.by == MatchedBy::Pattern => {}
            other => wrong.push(format!("{id} under {key}: {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_sample_is_found_in_quotes_and_after_a_newline_too() {
    let detector = Detector::builtin();
    let token = format!("ghp_{}", fake(ALNUM, 36, 18));
    for value in [format!("token {token}"), format!("a\n{token}\n")] {
        assert_eq!(
            detector.scan("X", &value).map(|h| h.rule),
            Some("github-pat".into())
        );
    }
}

/// (key, value): nothing to report.
fn negatives() -> Vec<(&'static str, String)> {
    vec![
        // Identifiers and names.
        ("REQUEST_ID", uuid(7)),
        ("TENANT", uuid(8).to_uppercase()),
        ("TABLE_NAME", "orders-prod".into()),
        ("TABLE_NAME", "OrdersStack-OrdersTable-1A2B3C4D5E6F7".into()),
        ("QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-prod".into()),
        ("BUCKET", "orders-exports-123456789012-eu-west-1".into()),
        ("REGION", "eu-west-1".into()),
        ("STAGE", "production".into()),
        ("LOG_LEVEL", "info".into()),
        ("FEATURE_FLAG", "true".into()),
        ("TIMEOUT_MS", "30000".into()),
        ("GREETING", "aGVsbG8gd29ybGQ=".into()),
        ("LABEL", "c2hvcnQgdGV4dA==".into()),
        ("EMPTY", String::new()),
        // URLs without a password.
        ("API_URL", "https://api.example.com/v1/orders?limit=10".into()),
        ("DATABASE_URL", "postgres://db.example.com:5432/orders".into()),
        ("DATABASE_URL", "postgres://app@db.example.com:5432/orders".into()),
        ("CACHE_URL", "redis://cache.example.com:6379/0".into()),
        ("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db.example.com/orders".into()),
        (
            "DATABASE_URL",
            "mysql://app:{{resolve:secretsmanager:orders-db:SecretString:password}}@db.example.com/orders".into(),
        ),
        ("SEARCH_URL", "https://elastic:<password>@search.example.com".into()),
        // ARNs and references, under credential-like keys too.
        ("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders-AbCdEf".into()),
        ("DB_PASSWORD", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders-AbCdEf".into()),
        ("API_TOKEN", "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api/token".into()),
        ("SIGNING_KEY", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab".into()),
        ("API_TOKEN", "/prod/api/token".into()),
        ("DB_PASSWORD", "{{resolve:secretsmanager:prod/orders:SecretString:password}}".into()),
        ("DB_PASSWORD", "{{resolve:ssm-secure:/prod/orders/db-password:1}}".into()),
        ("DB_PASSWORD", "${DbPassword}".into()),
        ("DB_PASSWORD", "${ssm:/prod/orders/db-password}".into()),
        ("DB_SECRET", "prod/orders/db".into()),
        // Low entropy under credential-like keys.
        ("DB_PASSWORD", "password".into()),
        ("API_TOKEN", "none".into()),
        ("JWT_SECRET", "aaaaaaaaaaaaaaaa".into()),
        // Forms that look close: AWS's documentation key, publishable keys, short prefixes.
        ("AWS_ACCESS_KEY_ID", format!("AKIA{}{}", "IOSFODNN7", "EXAMPLE")),
        ("STRIPE_PUBLISHABLE_KEY", format!("pk_{}_{}", "live", fake(ALNUM, 24, 94))),
        ("NOTE", "sk_live_short".into()),
        ("NOTE", "ghp_tooshort".into()),
        ("TASK_DESCRIPTION", "ask the desk for a risky disk".into()),
        ("MONKEY", "survey money key".into()),
        ("VAULT_PATH", "s.abcdefghijklmnopqrstuvwx".into()),
    ]
}

#[test]
fn negatives_are_not_reported() {
    let detector = Detector::builtin();
    let reported: Vec<String> = negatives()
        .into_iter()
        .filter_map(|(key, value)| {
            detector
                .scan(key, &value)
                .map(|hit| format!("{key}={value}: {hit:?}"))
        })
        .collect();
    assert!(reported.is_empty(), "{}", reported.join("\n"));
}

#[test]
fn the_key_name_rule_at_its_thresholds() {
    let detector = Detector::builtin();
    let by_key_name = |key: &str, value: &str| {
        detector
            .scan(key, value)
            .filter(|hit| hit.by == MatchedBy::KeyName && hit.rule == KEY_NAME_RULE)
            .is_some()
    };
    assert_eq!((KEY_NAME_MIN_ENTROPY, KEY_NAME_MIN_CHARS), (3.0, 8));
    // Exactly 3.0 bits and 8 characters: reported; 2.75 bits or 7 characters: not.
    assert!(by_key_name("DB_PASSWORD", "abcdefgh"));
    assert!(by_key_name("DB_PASSWORD", "abcdefghi"));
    assert!(!by_key_name("DB_PASSWORD", "abcdefgg"));
    assert!(!by_key_name("DB_PASSWORD", "abcdefg"));
    // The same value under a key that names no credential: not reported.
    assert!(!by_key_name("DB_USER", "abcdefghi"));
    // Spellings of credential keys.
    for key in [
        "PASSWORD",
        "SECRET_KEY",
        "jwtSecret",
        "stripe-api-key",
        "OAUTH_CLIENT_SECRET",
        "GITHUB_TOKEN",
        "MAPS_APIKEY",
        "TLS_PRIVATE_KEY",
        "LEGACY_PASSWD",
    ] {
        assert!(by_key_name(key, "Xk9mQ2vL7pR4wZ"), "{key}");
    }
    // A placeholder-like literal is left to entropy.
    assert!(by_key_name("DB_PASSWORD", "changeme123"));
}

#[test]
fn a_pattern_hit_is_preferred_to_the_key_name() {
    let value = format!("sk_{}_{}", "live", fake(ALNUM, 24, 95));
    let hit = Detector::builtin()
        .scan("STRIPE_SECRET_KEY", &value)
        .unwrap();
    assert_eq!(
        (hit.rule.as_str(), hit.by),
        ("stripe-access-token", MatchedBy::Pattern)
    );
}

#[test]
fn a_secret_must_be_inside_the_value() {
    // The key holds the keyword and the form, the value holds nothing.
    let detector = Detector::builtin();
    assert_eq!(detector.scan("MAILGUN_API_KEY", "eu"), None);
    let value = format!("key-{}", fake(HEX, 32, 96));
    assert_eq!(
        detector.scan("MAILGUN", &value).map(|h| h.rule),
        Some("mailgun-private-api-token".into())
    );
}

#[test]
fn the_value_never_appears_in_a_hit_or_the_detector() {
    let detector = Detector::builtin();
    for (_, key, value) in positives() {
        let hit = detector.scan(key, &value).unwrap();
        let shown = format!("{hit:?} {} {}", hit.rule, hit.description);
        let middle = value.len() / 2;
        let secret_part = &value[middle - 6..middle + 6];
        assert!(!shown.contains(secret_part), "{shown}");
    }
    let shown = format!("{detector:?}");
    assert!(shown.starts_with("Detector { rules: "), "{shown}");
}

#[test]
fn references() {
    assert!(is_reference(
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders-AbCdEf"
    ));
    assert!(is_reference(
        "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/prod/x"
    ));
    assert!(is_reference("/prod/orders/db-password"));
    assert!(is_reference(
        "{{resolve:ssm-secure:/prod/orders/db-password:1}}"
    ));
    assert!(!is_reference("arn:aws:kms:eu-west-1:123456789012:key/abc"));
    assert!(!is_reference(""));
    assert!(!is_reference("hunter2"));
}
