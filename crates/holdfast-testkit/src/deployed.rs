//! Deployed stages in a moto server, for the tests of `env verify`: secrets, SSM parameters,
//! and CloudFormation stacks of Lambda functions with the environments a test gives.
//!
//! moto holds Lambda functions without Docker as long as nothing invokes them: a function's
//! configuration (its environment) is stored and read back by `GetFunctionConfiguration`, and
//! a stack's functions are listed by `ListStackResources`, which is all `env verify` reads.
//! (moto's CloudFormation leaves a `Ref` to an `AWS::SecretsManager::Secret` empty, so the
//! tests create secrets directly and write their ARNs into the templates.)

use crate::moto::{Moto, AWS_TEST_REGION};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use serde_json::{json, Map, Value};

/// Clients of one moto server, with a runtime of their own (tests are synchronous).
pub struct Deployer {
    runtime: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
}

/// One function of a stack: its logical id and environment.
pub struct FunctionSpec<'a> {
    pub logical_id: &'a str,
    /// `FunctionName`, if the test wants a fixed one.
    pub name: Option<&'a str>,
    pub variables: &'a [(&'a str, &'a str)],
}

impl Deployer {
    /// # Panics
    /// When the runtime cannot be built.
    pub fn new(moto: &Moto) -> Deployer {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(AWS_TEST_REGION))
            .endpoint_url(moto.endpoint())
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "testing", "testing", None, None, "test",
                    ),
                ),
            )
            .http_client(http)
            .build();
        Deployer { runtime, config }
    }

    /// Creates a secret holding `value`; returns its ARN.
    ///
    /// # Panics
    /// When moto refuses.
    pub fn secret(&self, name: &str, value: &str) -> String {
        let client = aws_sdk_secretsmanager::Client::new(&self.config);
        self.runtime.block_on(async {
            client
                .create_secret()
                .name(name)
                .secret_string(value)
                .send()
                .await
                .unwrap_or_else(|e| panic!("CreateSecret {name}: {e:?}"))
                .arn
                .expect("an ARN")
        })
    }

    /// Creates an SSM parameter (`SecureString` when `secure`).
    ///
    /// # Panics
    /// When moto refuses.
    pub fn parameter(&self, name: &str, value: &str, secure: bool) {
        let client = aws_sdk_ssm::Client::new(&self.config);
        let kind = if secure {
            aws_sdk_ssm::types::ParameterType::SecureString
        } else {
            aws_sdk_ssm::types::ParameterType::String
        };
        self.runtime.block_on(async {
            client
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(kind)
                .send()
                .await
                .unwrap_or_else(|e| panic!("PutParameter {name}: {e:?}"));
        });
    }

    /// The stack's id (its ARN), as a custom resource's `StackId` carries it.
    ///
    /// # Panics
    /// When the stack does not exist.
    pub fn stack_id(&self, name: &str) -> String {
        let client = aws_sdk_cloudformation::Client::new(&self.config);
        self.runtime.block_on(async {
            client
                .describe_stacks()
                .stack_name(name)
                .send()
                .await
                .unwrap_or_else(|e| panic!("DescribeStacks {name}: {e:?}"))
                .stacks()
                .first()
                .and_then(|s| s.stack_id())
                .unwrap_or_else(|| panic!("{name}: no stack id"))
                .to_string()
        })
    }

    /// Creates the stack `name` holding a role and `functions`; returns the functions'
    /// physical names, in order.
    ///
    /// # Panics
    /// When moto refuses or the stack does not complete.
    pub fn stack(&self, name: &str, functions: &[FunctionSpec<'_>]) -> Vec<String> {
        let mut resources = Map::new();
        resources.insert(
            "Role".into(),
            json!({"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                               "Action": "sts:AssumeRole"}]}}}),
        );
        for f in functions {
            let variables: Map<String, Value> = f
                .variables
                .iter()
                .map(|(k, v)| ((*k).to_string(), Value::String((*v).to_string())))
                .collect();
            let mut properties = json!({
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
                "Environment": {"Variables": variables},
            });
            if let Some(n) = f.name {
                properties["FunctionName"] = Value::String(n.to_string());
            }
            resources.insert(
                f.logical_id.to_string(),
                json!({"Type": "AWS::Lambda::Function", "Properties": properties}),
            );
        }
        let template = json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources});
        let client = aws_sdk_cloudformation::Client::new(&self.config);
        self.runtime.block_on(async {
            client
                .create_stack()
                .stack_name(name)
                .template_body(template.to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("CreateStack {name}: {e:?}"));
            let listed = client
                .list_stack_resources()
                .stack_name(name)
                .send()
                .await
                .unwrap_or_else(|e| panic!("ListStackResources {name}: {e:?}"));
            functions
                .iter()
                .map(|f| {
                    listed
                        .stack_resource_summaries()
                        .iter()
                        .find(|r| r.logical_resource_id() == Some(f.logical_id))
                        .and_then(|r| r.physical_resource_id())
                        .unwrap_or_else(|| panic!("{name}: no function {}", f.logical_id))
                        .to_string()
                })
                .collect()
        })
    }
}
