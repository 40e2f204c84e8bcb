//! DynamoDB client set-up, shared by every operation: [`Dynamo`] resolves the AWS
//! configuration once per command (region, credentials, endpoint; see
//! [`holdfast_aws::sdk_config`]), and [`data_client`] derives the data-plane client from it —
//! the SDK's own retries turned off, so every retry is Holdfast's ([`crate::retry`]), counted
//! and bounded in one place. Both share the configuration (and the process's one HTTPS client).

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::Client;
use holdfast_aws::{AwsError, AwsOptions};
use holdfast_core::exit::{Classify, Outcome};
use holdfast_core::remedy::Remedy;

/// No usable AWS configuration: nothing was called.
#[derive(Debug, thiserror::Error)]
#[error("cannot call DynamoDB: {0}")]
pub struct ConnectError(#[from] pub AwsError);

impl Classify for ConnectError {
    fn outcome(&self) -> Outcome {
        self.0.outcome()
    }

    fn remedy(&self) -> Option<Remedy> {
        self.0.remedy()
    }
}

/// A DynamoDB client with its configuration resolved: build one per command.
#[derive(Debug, Clone)]
pub struct Dynamo {
    client: Client,
    pub(crate) region: String,
    pub(crate) endpoint: String,
}

impl Dynamo {
    /// Resolves region, credentials and endpoint and builds the client. Calls no DynamoDB API.
    ///
    /// # Errors
    /// [`ConnectError`]: no region or no credentials (exit 2).
    pub async fn connect(options: &AwsOptions) -> Result<Dynamo, ConnectError> {
        let config = holdfast_aws::sdk_config(options).await?;
        Ok(Dynamo {
            client: Client::new(&config),
            region: holdfast_aws::region(&config),
            endpoint: holdfast_aws::endpoint_description(&config, "DynamoDB"),
        })
    }

    /// The SDK client (the SDK's retries on: control-plane calls such as verify's).
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The data-plane client ([`data_client`]).
    #[must_use]
    pub fn data_client(&self) -> Client {
        data_client(&self.client)
    }
}

/// `client`'s configuration without SDK retries.
#[must_use]
pub fn data_client(client: &Client) -> Client {
    let config = client
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}
