//! The data-plane client: the command's DynamoDB client with the SDK's own retries turned off,
//! so every retry is Holdfast's ([`crate::retry`]), counted and bounded in one place. It shares
//! the configuration (and the process's one HTTPS client) of the client it is built from.

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::Client;

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
