//! The embedded schema data loads and says what the schemas say; path matching semantics.

use holdfast_guard::schema::{
    self, ConcreteSegment, PathRelation, PathSegment, PropertyPath, TypeSchema,
};

fn p(text: &str) -> PropertyPath {
    PropertyPath::parse(text).expect("valid path")
}

fn schema_of(t: &str) -> &'static TypeSchema {
    schema::type_schema(t).unwrap_or_else(|| panic!("{t} is a known type"))
}

fn has(paths: &[PropertyPath], text: &str) -> bool {
    paths.contains(&p(text))
}

/// `"KeySchema/0/AttributeName"` as concrete segments: digits are indexes.
fn c(text: &str) -> Vec<ConcreteSegment> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split('/')
        .map(|s| match s.parse::<usize>() {
            Ok(i) => ConcreteSegment::Index(i),
            Err(_) => ConcreteSegment::Key(s.to_string()),
        })
        .collect()
}

#[test]
fn source_names_cfn_lint_version_and_licence() {
    let source = schema::schema_source();
    assert!(source.starts_with("cfn-lint 1."), "{source}");
    assert!(source.contains("(MIT-0)"), "{source}");
    assert!(source.contains("us-east-1"), "{source}");
}

#[test]
fn every_schema_type_is_known() {
    let known = schema::known_types();
    assert!(known.len() > 1500, "only {} types", known.len());
    for t in [
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::RDS::DBInstance",
        "AWS::Lambda::Function",
        // Types without any create-only property are known too.
        "AWS::KMS::Key",
        "AWS::Cognito::UserPool",
        "AWS::CloudFormation::Stack",
    ] {
        assert!(schema::type_schema(t).is_some(), "{t}");
    }
    let kms = schema_of("AWS::KMS::Key");
    assert!(kms.create_only.is_empty() && kms.conditional_create_only.is_empty());
}

#[test]
fn unknown_types_are_none() {
    for t in [
        "Custom::Migrations",
        "AWS::CloudFormation::CustomResource2",
        "AWS::Serverless::Function", // SAM: a transform, not in the provider schemas
        "AWS::DynamoDB::Tabel",
        "aws::dynamodb::table",
        "",
    ] {
        assert!(schema::type_schema(t).is_none(), "{t}");
    }
}

#[test]
fn dynamodb_table_name_is_create_only_and_key_schema_conditional() {
    let t = schema_of("AWS::DynamoDB::Table");
    assert!(has(&t.create_only, "TableName"));
    // The schema marks KeySchema conditionally create-only, not create-only: the guard must
    // treat it as "may replace", and the curated in-place list must never clear it.
    assert!(!has(&t.create_only, "KeySchema"));
    assert!(has(&t.conditional_create_only, "KeySchema"));
    assert!(schema::updates_in_place("AWS::DynamoDB::Table", &p("KeySchema")).is_none());
    assert!(schema::updates_in_place("AWS::DynamoDB::Table", &p("TableName")).is_none());
    let g = schema_of("AWS::DynamoDB::GlobalTable");
    assert!(has(&g.create_only, "TableName"));
    assert!(has(&g.conditional_create_only, "KeySchema"));
}

#[test]
fn rds_and_s3_spot_checks() {
    let i = schema_of("AWS::RDS::DBInstance");
    for prop in [
        "DBInstanceIdentifier",
        "DBName",
        "KmsKeyId",
        "StorageEncrypted",
    ] {
        assert!(has(&i.create_only, prop), "DBInstance {prop}");
    }
    assert!(has(&i.conditional_create_only, "BackupRetentionPeriod"));
    assert!(has(&i.conditional_create_only, "DBSnapshotIdentifier"));
    let c = schema_of("AWS::RDS::DBCluster");
    assert!(has(&c.create_only, "DBClusterIdentifier"));
    assert!(has(&c.create_only, "StorageEncrypted"));
    let b = schema_of("AWS::S3::Bucket");
    assert!(has(&b.create_only, "BucketName"));
    assert!(!b.no_update_handler);
}

#[test]
fn nested_and_array_paths_are_read() {
    // `*` stands for any list item in the schemas.
    let t = schema_of("AWS::MPA::ApprovalTeam");
    assert!(t
        .create_only
        .iter()
        .any(|path| path.0.contains(&PathSegment::AnyIndex)));
    let all: Vec<&PropertyPath> = schema::known_types()
        .into_iter()
        .flat_map(|t| {
            let s = schema_of(t);
            s.create_only.iter().chain(&s.conditional_create_only)
        })
        .collect();
    assert!(all.iter().any(|path| path.0.len() >= 3));
    for path in all {
        assert!(
            matches!(path.0.first(), Some(PathSegment::Key(_))),
            "{path} must start with a property name"
        );
        // The text form round-trips.
        assert_eq!(&p(&path.to_string()), path);
    }
}

#[test]
fn generated_file_is_canonical() {
    // One type per line, sorted; paths sorted and unique (what the generator writes).
    let text = include_str!("../data/resource-schemas.json");
    let names: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("\"") && l.contains("\"create_only\""))
        .map(|l| l.split('"').nth(1).expect("a type name"))
        .collect();
    assert_eq!(names.len(), schema::known_types().len());
    assert!(names.windows(2).all(|w| w[0] < w[1]), "types not sorted");
    let raw: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    for (t, entry) in raw["types"].as_object().expect("types map") {
        for key in ["create_only", "conditional_create_only"] {
            let list: Vec<&str> = entry[key]
                .as_array()
                .unwrap_or_else(|| panic!("{t} {key}"))
                .iter()
                .map(|v| v.as_str().expect("string path"))
                .collect();
            assert!(
                list.windows(2).all(|w| w[0] < w[1]),
                "{t} {key} not sorted/unique"
            );
        }
    }
}

const CFN_LINT_STATEFUL: &[&str] = &[
    "AWS::Backup::BackupVault",
    "AWS::CloudFormation::Stack",
    "AWS::Cognito::UserPool",
    "AWS::DocDB::DBCluster",
    "AWS::DocDB::DBInstance",
    "AWS::DynamoDB::GlobalTable",
    "AWS::DynamoDB::Table",
    "AWS::EC2::Volume",
    "AWS::EFS::FileSystem",
    "AWS::EMR::Cluster",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::Elasticsearch::Domain",
    "AWS::FSx::FileSystem",
    "AWS::KMS::Key",
    "AWS::Kinesis::Stream",
    "AWS::Logs::LogGroup",
    "AWS::Neptune::DBCluster",
    "AWS::Neptune::DBInstance",
    "AWS::OpenSearchService::Domain",
    "AWS::Organizations::Account",
    "AWS::QLDB::Ledger",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::Redshift::Cluster",
    "AWS::S3::Bucket",
    "AWS::SDB::Domain",
    "AWS::SQS::Queue",
    "AWS::SecretsManager::Secret",
];

#[test]
fn stateful_list_has_cfn_lint_types_and_the_additions() {
    for t in CFN_LINT_STATEFUL {
        assert!(schema::is_stateful(t), "{t}");
        assert!(
            schema::stateful_added_reason(t).is_none(),
            "{t} is cfn-lint's"
        );
    }
    for t in [
        "AWS::S3Express::DirectoryBucket",
        "AWS::ECR::Repository",
        "AWS::MSK::Cluster",
        "AWS::Timestream::Table",
        "AWS::MemoryDB::Cluster",
        "AWS::CodeCommit::Repository",
    ] {
        assert!(schema::is_stateful(t), "{t}");
        assert!(
            schema::stateful_added_reason(t).is_some_and(|r| !r.is_empty()),
            "{t}"
        );
    }
    for t in [
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::SNS::Topic",
        "Custom::Thing",
    ] {
        assert!(!schema::is_stateful(t), "{t}");
    }
    let all = schema::stateful_types();
    assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
    for t in all {
        assert!(
            schema::type_schema(t).is_some(),
            "stateful {t} is a known type"
        );
    }
}

#[test]
fn curated_in_place_entries_are_real_conditional_properties() {
    let entries = schema::in_place_entries();
    assert!(!entries.is_empty());
    for (t, path, note) in &entries {
        let s = schema_of(t);
        assert!(
            s.conditional_create_only.contains(path),
            "{t} {path} is not in conditional_create_only"
        );
        assert!(!s.create_only.contains(path), "{t} {path} is create-only");
        assert!(
            ["No interruption", "Some interruptions"].contains(&note.update_requires.as_str()),
            "{t} {path}: {}",
            note.update_requires
        );
        assert!(
            note.doc_url
                .starts_with("https://docs.aws.amazon.com/AWSCloudFormation/latest/")
                && note.doc_url.contains('#'),
            "{t} {path}: {}",
            note.doc_url
        );
        assert!(!note.note.is_empty());
        assert_eq!(schema::updates_in_place(t, path), Some(*note));
    }
    for prop in [
        "BackupRetentionPeriod",
        "PreferredMaintenanceWindow",
        "MultiAZ",
        "AutoMinorVersionUpgrade",
        "DBParameterGroupName",
    ] {
        assert!(
            schema::updates_in_place("AWS::RDS::DBInstance", &p(prop)).is_some(),
            "{prop}"
        );
    }
    // Conditional, and they do replace (or may): not curated.
    for prop in [
        "DBSnapshotIdentifier",
        "Engine",
        "AvailabilityZone",
        "SourceDBInstanceIdentifier",
    ] {
        assert!(
            schema::updates_in_place("AWS::RDS::DBInstance", &p(prop)).is_none(),
            "{prop}"
        );
    }
    // Not conditional at all (create-only or plainly updatable): never an in-place note.
    assert!(schema::updates_in_place("AWS::RDS::DBInstance", &p("DBInstanceIdentifier")).is_none());
    assert!(schema::updates_in_place("AWS::Nope::Nope", &p("MultiAZ")).is_none());
}

#[test]
fn parse_and_display() {
    assert_eq!(
        p("Policies/*/PolicyArn"),
        PropertyPath(vec![
            PathSegment::Key("Policies".into()),
            PathSegment::AnyIndex,
            PathSegment::Key("PolicyArn".into()),
        ])
    );
    assert_eq!(
        p("/properties/KeySchema"),
        PropertyPath::keys(["KeySchema"])
    );
    assert_eq!(p("A/*/B/*/C").to_string(), "A/*/B/*/C");
    assert_eq!(
        "A/B".parse::<PropertyPath>(),
        Ok(PropertyPath::keys(["A", "B"]))
    );
    for bad in ["", "/", "A//B", "*/A", "A/", "A/B~1C", "A/x*"] {
        assert!(PropertyPath::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn covers_and_is_within_table() {
    use PathRelation::{Covers, Unrelated, Within};
    // (schema path, concrete change location, expected relation)
    let table = [
        // At or below: covered.
        ("KeySchema", "KeySchema", Covers),
        ("KeySchema", "KeySchema/0", Covers),
        ("KeySchema", "KeySchema/0/AttributeName", Covers),
        ("A/B", "A/B", Covers),
        ("A/B", "A/B/C/0", Covers),
        ("Policies/*/PolicyArn", "Policies/3/PolicyArn", Covers),
        ("Policies/*/PolicyArn", "Policies/0/PolicyArn/x", Covers),
        ("L/*", "L/7", Covers),
        // Ancestors, the whole Properties included: within, compare the values.
        ("A/B", "A", Within),
        ("A/B", "", Within),
        ("KeySchema", "", Within),
        ("Policies/*/PolicyArn", "Policies", Within),
        ("Policies/*/PolicyArn", "Policies/2", Within),
        // Beside or elsewhere: unrelated.
        ("A/B", "A/C", Unrelated),
        ("A/B", "AB", Unrelated),
        ("A/B", "B", Unrelated),
        ("KeySchema", "KeySchemas", Unrelated),
        ("KeySchema", "AttributeDefinitions/0", Unrelated),
        ("Policies/*/PolicyArn", "Policies/1/Other", Unrelated),
        // A map where the schema has a list, or the reverse.
        ("Policies/*/PolicyArn", "Policies/PolicyArn", Unrelated),
        ("A/B", "A/0", Unrelated),
    ];
    for (schema_path, concrete, want) in table {
        let path = p(schema_path);
        let concrete = c(concrete);
        assert_eq!(
            path.relation(&concrete),
            want,
            "{schema_path} vs {concrete:?}"
        );
        assert_eq!(
            path.covers(&concrete),
            want == Covers,
            "{schema_path} vs {concrete:?}"
        );
        assert_eq!(path.matches_prefix_of(&concrete), want == Covers);
        assert_eq!(
            path.is_within(&concrete),
            want == Within,
            "{schema_path} vs {concrete:?}"
        );
    }
}

#[test]
fn type_schema_helpers() {
    let t = schema_of("AWS::DynamoDB::Table");
    assert_eq!(
        t.create_only_covering(&c("TableName")),
        Some(&p("TableName"))
    );
    assert_eq!(
        t.conditional_covering(&c("KeySchema/1/KeyType")),
        Some(&p("KeySchema"))
    );
    assert_eq!(t.create_only_covering(&c("BillingMode")), None);
    let within: Vec<_> = t.paths_within(&[]).collect();
    assert!(within.contains(&(&p("TableName"), false)));
    assert!(within.contains(&(&p("KeySchema"), true)));
    assert_eq!(t.paths_within(&c("KeySchema")).count(), 0);
}

#[test]
fn no_update_handler_is_flagged() {
    // Its schema declares create/read/delete handlers and no update handler.
    assert!(schema_of("AWS::Cognito::UserPoolUser").no_update_handler);
    assert!(!schema_of("AWS::DynamoDB::Table").no_update_handler);
}
