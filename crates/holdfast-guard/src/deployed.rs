//! `stack:NAME`: the template of a deployed stack, read through the CloudFormation API.
//!
//! [`CloudFormation::connect`] resolves the AWS configuration once (region, credentials,
//! endpoint: flags first, then the SDK's usual sources — `AWS_REGION`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_CLOUDFORMATION`, the shared config files, the container
//! and instance roles) and builds one client; [`CloudFormation::load`] then reads a stack with
//! `DescribeStacks` (does it exist, which parameter values is it deployed with) and
//! `GetTemplate` (`TemplateStage=Original`: the template as submitted, JSON or YAML, parsed by
//! the same [`template::load`] as a file). Both calls are read-only.
//!
//! Parameters: the deployed values become the loaded template's parameter defaults, so the OLD
//! side is evaluated with what is deployed and the NEW side with `--parameters` and its own
//! defaults. The loaded stack is marked `deployed`, and the engine does not apply
//! `--parameters` to it. A `NoEcho` parameter comes back masked (`****`): it has no known value,
//! so the comparisons that depend on it are "unknown".
//!
//! The AWS configuration and the process's one HTTPS client (rustls on `ring`) come from the
//! shared `holdfast-aws` crate.
//!
//! Errors are one line each, with no credentials or secret values in them: a stack that does
//! not exist, no credentials, no region, an endpoint that does not answer, a refusal by the
//! service, a deployed template that does not parse.

use crate::inputs::StackTemplate;
use crate::template::{self, Template};
use crate::value::{Node, Value};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::TemplateStage;
use aws_sdk_cloudformation::Client;
use holdfast_aws::error_chain as chain;
use std::collections::HashMap;

pub use holdfast_aws::{build_http_client, AwsOptions};

/// The prefix that names a deployed stack instead of a path.
pub const PREFIX: &str = "stack:";

/// The value CloudFormation shows for a `NoEcho` parameter.
const MASKED: &str = "****";

/// The stack name of a `stack:NAME` spec (`None` for anything else, such as a path). A file
/// whose name starts with `stack:` is still reachable as `./stack:…`.
#[must_use]
pub fn stack_name(spec: &str) -> Option<&str> {
    spec.strip_prefix(PREFIX)
}

/// Why a deployed stack could not be read; nothing was judged. Bad input (no name, no such
/// stack, an unusable template) and missing AWS configuration exit 2; a call that got no
/// answer or was refused (access denied, throttled) exits 1, as for every capability.
#[derive(Debug, thiserror::Error)]
pub enum DeployedError {
    #[error("`stack:` needs a stack name: stack:NAME")]
    NoName,
    /// No region or no credentials.
    #[error("cannot call CloudFormation: {0}")]
    Aws(#[from] holdfast_aws::AwsError),
    #[error("stack:{stack}: no such stack in {region} (at {endpoint})")]
    NotFound {
        stack: String,
        region: String,
        endpoint: String,
    },
    #[error("stack:{stack}: cannot reach CloudFormation at {endpoint}: {detail}")]
    Unreachable {
        stack: String,
        endpoint: String,
        detail: String,
    },
    #[error("stack:{stack}: CloudFormation refused {operation} ({}): {error}", .error.kind.describe())]
    Refused {
        stack: String,
        operation: &'static str,
        error: holdfast_aws::CallError,
    },
    #[error("stack:{stack}: {operation} failed: {detail}")]
    Other {
        stack: String,
        operation: &'static str,
        detail: String,
    },
    #[error("stack:{stack}: the deployed template is not a usable template: {detail}")]
    Template { stack: String, detail: String },
}

impl holdfast_core::exit::Classify for DeployedError {
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        use holdfast_core::exit::Outcome;
        match self {
            DeployedError::NoName
            | DeployedError::Aws(_)
            | DeployedError::NotFound { .. }
            | DeployedError::Template { .. } => Outcome::Usage,
            DeployedError::Unreachable { .. }
            | DeployedError::Refused { .. }
            | DeployedError::Other { .. } => Outcome::Failed,
        }
    }

    fn remedy(&self) -> Option<holdfast_core::remedy::Remedy> {
        match self {
            DeployedError::Aws(e) => holdfast_core::exit::Classify::remedy(e),
            _ => None,
        }
    }
}

/// A CloudFormation client with its configuration resolved: build one per command and read
/// every `stack:` side through it.
#[derive(Debug, Clone)]
pub struct CloudFormation {
    client: Client,
    region: String,
    /// For messages: the endpoint URL, redacted, or a description of AWS's.
    endpoint: String,
}

impl CloudFormation {
    /// Resolves region, credentials and endpoint, and builds the client. Calls no API;
    /// resolving credentials may call the configured provider (SSO, STS, container or
    /// instance metadata).
    ///
    /// # Errors
    /// [`DeployedError::Aws`]: no region or no credentials.
    pub async fn connect(options: &AwsOptions) -> Result<CloudFormation, DeployedError> {
        let config = holdfast_aws::sdk_config(options).await?;
        Ok(CloudFormation {
            client: Client::new(&config),
            region: holdfast_aws::region(&config),
            endpoint: holdfast_aws::endpoint_description(&config, "CloudFormation"),
        })
    }

    /// The SDK client, for callers that need other calls (tests create stacks with it).
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The resolved region.
    #[must_use]
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Reads a deployed stack: its original template, with the deployed parameter values as
    /// the parameters' defaults. `name` is a stack name or ID; the result is named after the
    /// stack (used to pair it with the other side) and located at `stack:NAME`.
    ///
    /// # Errors
    /// [`DeployedError`]: the stack does not exist, the endpoint does not answer, the service
    /// refuses, or the template does not parse.
    pub async fn load(&self, name: &str) -> Result<StackTemplate, DeployedError> {
        if name.is_empty() {
            return Err(DeployedError::NoName);
        }
        let described = self
            .client
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| self.api_error(name, "DescribeStacks", e))?;
        let Some(stack) = described.stacks().first() else {
            return Err(self.not_found(name));
        };
        let deployed: HashMap<String, String> = stack
            .parameters()
            .iter()
            .filter_map(|p| {
                let key = p.parameter_key()?;
                // SSM parameter types: the value is the parameter's name, the resolved value
                // what the stack was deployed with.
                let value = p.resolved_value().or(p.parameter_value())?;
                Some((key.to_string(), value.to_string()))
            })
            .collect();
        let stack_name = stack
            .stack_name()
            .filter(|n| !n.is_empty())
            .unwrap_or(name)
            .to_string();

        let got = self
            .client
            .get_template()
            .stack_name(name)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| self.api_error(name, "GetTemplate", e))?;
        let body = got.template_body().unwrap_or_default();
        let mut template = template::load(body).map_err(|e| DeployedError::Template {
            stack: name.to_string(),
            detail: e.to_string(),
        })?;
        apply_deployed_parameters(&mut template, &deployed);
        Ok(StackTemplate {
            name: stack_name,
            file: format!("{PREFIX}{name}"),
            template,
            deployed: true,
        })
    }

    fn not_found(&self, stack: &str) -> DeployedError {
        DeployedError::NotFound {
            stack: stack.to_string(),
            region: self.region.clone(),
            endpoint: self.endpoint.clone(),
        }
    }

    fn api_error<E>(
        &self,
        stack: &str,
        operation: &'static str,
        error: SdkError<E, aws_sdk_cloudformation::config::http::HttpResponse>,
    ) -> DeployedError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let call = holdfast_aws::classify(&error);
        match (&error, call.kind) {
            (_, holdfast_aws::FailureKind::Unreachable) => DeployedError::Unreachable {
                stack: stack.to_string(),
                endpoint: self.endpoint.clone(),
                detail: chain(&error),
            },
            (_, holdfast_aws::FailureKind::NotFound) => self.not_found(stack),
            (SdkError::ServiceError(_), _) => DeployedError::Refused {
                stack: stack.to_string(),
                operation,
                error: call,
            },
            _ => DeployedError::Other {
                stack: stack.to_string(),
                operation,
                detail: chain(&error),
            },
        }
    }
}

/// Reads one deployed stack with a client of its own: [`CloudFormation::connect`] then
/// [`CloudFormation::load`]. To read several, connect once and load each.
///
/// # Errors
/// See [`CloudFormation::connect`] and [`CloudFormation::load`].
pub async fn load_deployed(
    name: &str,
    options: &AwsOptions,
) -> Result<StackTemplate, DeployedError> {
    if name.is_empty() {
        return Err(DeployedError::NoName);
    }
    CloudFormation::connect(options).await?.load(name).await
}

/// Makes the deployed values the parameters' defaults. A masked (`NoEcho`) value leaves the
/// parameter without a default: its value is unknown.
fn apply_deployed_parameters(template: &mut Template, deployed: &HashMap<String, String>) {
    for parameter in &mut template.parameters {
        let Some(value) = deployed.get(&parameter.name) else {
            continue;
        };
        parameter.default = if parameter.no_echo || value == MASKED {
            None
        } else {
            Some(Node::new(Value::String(value.clone()), parameter.span))
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bad input and missing configuration exit 2; no answer, a refusal or another failed
    /// call exit 1.
    #[test]
    fn each_failure_has_its_exit_code() {
        use holdfast_core::exit::Classify as _;
        let stack = || "app".to_string();
        let call = holdfast_aws::CallError {
            kind: holdfast_aws::FailureKind::AccessDenied,
            retryable: false,
            code: "AccessDenied".into(),
            message: String::new(),
        };
        let table = [
            (DeployedError::NoName, 2),
            (DeployedError::Aws(holdfast_aws::AwsError::NoRegion), 2),
            (
                DeployedError::NotFound {
                    stack: stack(),
                    region: "eu-west-1".into(),
                    endpoint: "x".into(),
                },
                2,
            ),
            (
                DeployedError::Template {
                    stack: stack(),
                    detail: "x".into(),
                },
                2,
            ),
            (
                DeployedError::Unreachable {
                    stack: stack(),
                    endpoint: "http://127.0.0.1:9".into(),
                    detail: "connection refused".into(),
                },
                1,
            ),
            (
                DeployedError::Refused {
                    stack: stack(),
                    operation: "GetTemplate",
                    error: call,
                },
                1,
            ),
            (
                DeployedError::Other {
                    stack: stack(),
                    operation: "GetTemplate",
                    detail: "x".into(),
                },
                1,
            ),
        ];
        for (error, code) in table {
            assert_eq!(error.outcome().code(), code, "{error}");
        }
    }

    #[test]
    fn a_spec_names_a_stack_only_with_the_prefix() {
        assert_eq!(stack_name("stack:users-prod"), Some("users-prod"));
        assert_eq!(stack_name("stack:"), Some(""));
        assert_eq!(stack_name("./stack:users"), None);
        assert_eq!(stack_name("template.yaml"), None);
    }

    #[test]
    fn deployed_values_become_defaults_and_masked_ones_unknown() {
        let mut template = template::load(
            "Parameters:\n  Stage: {Type: String, Default: dev}\n  Secret: {Type: String, NoEcho: true, Default: x}\n  Keep: {Type: String, Default: k}\nResources: {}\n",
        )
        .unwrap();
        let deployed = HashMap::from([
            ("Stage".to_string(), "prod".to_string()),
            ("Secret".to_string(), MASKED.to_string()),
        ]);
        apply_deployed_parameters(&mut template, &deployed);
        let default = |name: &str| {
            template
                .parameter(name)
                .unwrap()
                .default
                .as_ref()
                .and_then(Node::scalar_text)
        };
        assert_eq!(default("Stage").as_deref(), Some("prod"));
        assert_eq!(default("Secret"), None);
        assert_eq!(default("Keep").as_deref(), Some("k"));
    }
}
