//! A moto server with a counting proxy in front of it: the cache reads through the proxy (so
//! each call it makes is counted at the server side), the test seeds and rotates values
//! directly on moto.

#![allow(dead_code)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::Credentials;
use holdfast_runtime::secrets::build_http_client;
use holdfast_testkit::moto::{Moto, AWS_TEST_REGION};
use holdfast_testkit::{FaultPlan, FaultProxy};

pub struct Aws {
    moto: Moto,
    proxy: FaultProxy,
    secrets: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
}

/// An SDK configuration for `endpoint`: fixed dummy credentials and the test region, so
/// nothing probes an instance-metadata address.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(AWS_TEST_REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .http_client(build_http_client())
        .load()
        .await
}

impl Aws {
    pub async fn start() -> Aws {
        let moto = Moto::start();
        let proxy = FaultProxy::start(&moto.endpoint(), FaultPlan::new(0));
        let direct = sdk_config(&moto.endpoint()).await;
        Aws {
            secrets: aws_sdk_secretsmanager::Client::new(&direct),
            ssm: aws_sdk_ssm::Client::new(&direct),
            moto,
            proxy,
        }
    }

    /// The configuration the cache uses: through the counting proxy.
    pub async fn counted_config(&self) -> SdkConfig {
        sdk_config(&self.proxy.endpoint()).await
    }

    /// How many requests of `operation` (`GetSecretValue`, `GetParameter`) reached the server.
    pub fn calls(&self, operation: &str) -> usize {
        self.proxy
            .log()
            .iter()
            .filter(|r| r.operation == operation)
            .count()
    }

    /// Adds latency to every counted request (to widen races).
    pub fn slow_down(&self, latency: std::time::Duration) {
        self.proxy.set_latency(latency);
    }

    pub async fn create_secret(&self, name: &str, value: &str) {
        self.secrets
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("CreateSecret");
    }

    /// A new current version (a rotation).
    pub async fn rotate_secret(&self, name: &str, value: &str) {
        self.secrets
            .put_secret_value()
            .secret_id(name)
            .secret_string(value)
            .send()
            .await
            .expect("PutSecretValue");
    }

    /// A `SecureString` parameter (created or overwritten).
    pub async fn put_parameter(&self, name: &str, value: &str) {
        self.ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .expect("PutParameter");
    }
}
