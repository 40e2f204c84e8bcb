//! Deployed functions and the stores their references point at, read through one set of AWS
//! clients: Lambda (`GetFunctionConfiguration`), CloudFormation (`ListStackResources`, nested
//! stacks followed), Secrets Manager (`GetSecretValue`) and SSM (`GetParameter`, decrypted).
//!
//! Every failed call is classified once ([`holdfast_aws::classify`]): a stack or function that
//! does not exist is bad input (exit 2); no answer, throttling or a refusal fails the command
//! (exit 1). A secret or parameter that does not exist is not an error here but a finding
//! (the function would fail to read it), so [`Aws::secret`] and [`Aws::parameter`] return
//! `Ok(None)` for it.

use crate::functions::{Function, VarValue, Variable};
use holdfast_aws::{AwsError, AwsOptions, CallError, FailureKind};
use holdfast_core::exit::{Classify, Outcome};
use holdfast_core::remedy::Remedy;
use std::collections::BTreeMap;

/// How many functions are read at once.
const CONCURRENT_READS: usize = 8;

/// Why a deployed function or stack could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DeployedError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("{what}: not found in {region} at {endpoint}")]
    NotFound {
        what: String,
        region: String,
        endpoint: String,
    },
    #[error("{what}: cannot reach {service} at {endpoint}: {detail}")]
    Unreachable {
        what: String,
        service: &'static str,
        endpoint: String,
        detail: String,
    },
    #[error("{what}: {service} refused {operation} ({}): {error}", .error.kind.describe())]
    Refused {
        what: String,
        service: &'static str,
        operation: &'static str,
        error: CallError,
    },
    #[error("{what}: {reason}")]
    Unusable { what: String, reason: String },
}

impl Classify for DeployedError {
    fn outcome(&self) -> Outcome {
        match self {
            DeployedError::Aws(e) => e.outcome(),
            DeployedError::NotFound { .. } => Outcome::Usage,
            DeployedError::Unreachable { .. }
            | DeployedError::Refused { .. }
            | DeployedError::Unusable { .. } => Outcome::Failed,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            DeployedError::Aws(e) => e.remedy(),
            _ => None,
        }
    }
}

/// A secret's or parameter's value as the function would read it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredValue {
    pub text: String,
    /// An SSM `SecureString`, or any Secrets Manager secret.
    pub secret: bool,
}

impl std::fmt::Debug for StoredValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredValue { <hidden> }")
    }
}

/// The clients of one command, built from one resolved SDK configuration.
#[derive(Debug, Clone)]
pub struct Aws {
    lambda: aws_sdk_lambda::Client,
    cloudformation: aws_sdk_cloudformation::Client,
    secrets: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
    region: String,
    endpoint: String,
}

impl Aws {
    /// Resolves region, credentials and endpoint once and builds the four clients. Calls no API.
    ///
    /// # Errors
    /// No region or no credentials.
    pub async fn connect(options: &AwsOptions) -> Result<Aws, DeployedError> {
        let config = holdfast_aws::sdk_config(options).await?;
        Ok(Aws::from_config(&config))
    }

    /// The clients of an already resolved configuration.
    #[must_use]
    pub fn from_config(config: &aws_config::SdkConfig) -> Aws {
        Aws {
            lambda: aws_sdk_lambda::Client::new(config),
            cloudformation: aws_sdk_cloudformation::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            region: holdfast_aws::region(config),
            endpoint: holdfast_aws::endpoint_description(config, "AWS"),
        }
    }

    /// The functions of `stacks` (nested stacks followed) and the functions named in
    /// `functions`, each read once, in the order given.
    ///
    /// # Errors
    /// A stack or function that does not exist, or a call that fails.
    pub async fn functions(
        &self,
        stacks: &[String],
        functions: &[String],
    ) -> Result<Vec<Function>, DeployedError> {
        // (stack, logical id, function name or ARN)
        let mut wanted: Vec<(String, String, String)> = Vec::new();
        for stack in stacks {
            self.stack_functions(stack, &mut wanted).await?;
        }
        for name in functions {
            wanted.push((String::new(), name.clone(), name.clone()));
        }
        let mut seen = std::collections::BTreeSet::new();
        wanted.retain(|(_, _, name)| seen.insert(name.clone()));
        // In chunks, without a stream of closures: the future stays `Send` for the Lambda
        // function's task.
        let mut out = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(CONCURRENT_READS) {
            let reads: Vec<_> = chunk
                .iter()
                .map(|(stack, logical_id, name)| self.function(stack, logical_id, name))
                .collect();
            out.extend(futures_util::future::try_join_all(reads).await?);
        }
        Ok(out)
    }

    /// Every `AWS::Lambda::Function` of `stack` and of its nested stacks.
    async fn stack_functions(
        &self,
        stack: &str,
        out: &mut Vec<(String, String, String)>,
    ) -> Result<(), DeployedError> {
        let mut pending = vec![(stack_label(stack).to_string(), stack.to_string())];
        while let Some((label, id)) = pending.pop() {
            let what = format!("stack:{label}");
            let mut pages = self
                .cloudformation
                .list_stack_resources()
                .stack_name(&id)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    self.call_error(&what, "CloudFormation", "ListStackResources", &e)
                })?;
                for r in page.stack_resource_summaries() {
                    let (Some(physical), Some(logical)) =
                        (r.physical_resource_id(), r.logical_resource_id())
                    else {
                        continue;
                    };
                    match r.resource_type() {
                        Some("AWS::Lambda::Function") => {
                            out.push((label.clone(), logical.to_string(), physical.to_string()));
                        }
                        Some("AWS::CloudFormation::Stack") => {
                            pending.push((format!("{label}/{logical}"), physical.to_string()));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// One deployed function's environment.
    async fn function(
        &self,
        stack: &str,
        logical_id: &str,
        name: &str,
    ) -> Result<Function, DeployedError> {
        let what = format!("function {name}");
        let got = self
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| self.call_error(&what, "Lambda", "GetFunctionConfiguration", &e))?;
        let environment = got.environment();
        if let Some(error) = environment.and_then(|e| e.error()) {
            // The service could not decrypt the variables (a KMS key it may not use).
            return Err(DeployedError::Unusable {
                what,
                reason: format!(
                    "Lambda cannot read its environment ({})",
                    error.error_code().unwrap_or("error")
                ),
            });
        }
        let variables: BTreeMap<&String, &String> = environment
            .and_then(|e| e.variables())
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        let function_name = got.function_name().unwrap_or(name).to_string();
        Ok(Function {
            stack: stack.to_string(),
            file: String::new(),
            logical_id: if stack.is_empty() {
                function_name.clone()
            } else {
                logical_id.to_string()
            },
            name: Some(function_name),
            line: 0,
            variables: variables
                .into_iter()
                .map(|(key, value)| Variable {
                    key: key.clone(),
                    value: VarValue::Literal(value.clone()),
                    line: 0,
                    written: vec![(value.clone(), false)],
                    sub_text: None,
                })
                .collect(),
            secret_grants: Vec::new(),
        })
    }

    /// A secret's current value (`SecretString`, or `SecretBinary` as base64); `None` when it
    /// does not exist.
    ///
    /// # Errors
    /// A call that fails for another reason.
    pub async fn secret(&self, id: &str) -> Result<Option<StoredValue>, DeployedError> {
        let what = format!("secret {id}");
        match self.secrets.get_secret_value().secret_id(id).send().await {
            Ok(got) => {
                let text = match (got.secret_string(), got.secret_binary()) {
                    (Some(s), _) => s.to_string(),
                    (None, Some(b)) => {
                        use base64::Engine;
                        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
                    }
                    (None, None) => String::new(),
                };
                Ok(Some(StoredValue { text, secret: true }))
            }
            Err(e) => match self.call_error(&what, "Secrets Manager", "GetSecretValue", &e) {
                DeployedError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// A parameter's value, decrypted; `None` when it does not exist.
    ///
    /// # Errors
    /// A call that fails for another reason.
    pub async fn parameter(&self, name: &str) -> Result<Option<StoredValue>, DeployedError> {
        let what = format!("parameter {name}");
        match self
            .ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(got) => {
                let parameter = got.parameter();
                Ok(Some(StoredValue {
                    text: parameter
                        .and_then(|p| p.value())
                        .unwrap_or_default()
                        .to_string(),
                    secret: parameter.and_then(|p| p.r#type())
                        == Some(&aws_sdk_ssm::types::ParameterType::SecureString),
                }))
            }
            Err(e) => match self.call_error(&what, "SSM", "GetParameter", &e) {
                DeployedError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    fn call_error<E>(
        &self,
        what: &str,
        service: &'static str,
        operation: &'static str,
        error: &aws_smithy_runtime_api::client::result::SdkError<
            E,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    ) -> DeployedError
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let call = holdfast_aws::classify(error);
        match call.kind {
            FailureKind::NotFound => self.not_found(what),
            FailureKind::Unreachable => DeployedError::Unreachable {
                what: what.to_string(),
                service,
                endpoint: self.endpoint.clone(),
                detail: call.message,
            },
            _ => DeployedError::Refused {
                what: what.to_string(),
                service,
                operation,
                error: call,
            },
        }
    }

    fn not_found(&self, what: &str) -> DeployedError {
        DeployedError::NotFound {
            what: what.to_string(),
            region: self.region.clone(),
            endpoint: self.endpoint.clone(),
        }
    }
}

/// A stack's name for reports: a stack id (`arn:…:stack/NAME/UUID`, as a custom resource's
/// `StackId`) gives its name; a name is itself.
fn stack_label(stack: &str) -> &str {
    stack
        .strip_prefix("arn:")
        .and_then(|_| stack.split_once(":stack/"))
        .and_then(|(_, rest)| rest.split('/').next())
        .filter(|name| !name.is_empty())
        .unwrap_or(stack)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stack_id_is_reported_by_its_name() {
        assert_eq!(
            super::stack_label("arn:aws:cloudformation:eu-west-1:1:stack/billing-staging/0a1b"),
            "billing-staging"
        );
        assert_eq!(super::stack_label("billing-staging"), "billing-staging");
    }
}
