//! AWS clients, built once per process (Lambda reuses it across invocations) from the usual SDK
//! sources: the function's role and region, and `AWS_ENDPOINT_URL` for local servers.

use holdfast_aws::AwsOptions;
use holdfast_dynamo::verify::Dynamo;
use tokio::sync::OnceCell;

/// The DynamoDB set-up, built on first use.
pub(crate) async fn dynamo() -> Result<&'static Dynamo, String> {
    static DYNAMO: OnceCell<Dynamo> = OnceCell::const_new();
    DYNAMO
        .get_or_try_init(|| async {
            Dynamo::connect(&AwsOptions::default())
                .await
                .map_err(|e| e.to_string())
        })
        .await
}

/// The Secrets Manager client, built on first use.
pub(crate) async fn secrets() -> Result<&'static aws_sdk_secretsmanager::Client, String> {
    static SECRETS: OnceCell<aws_sdk_secretsmanager::Client> = OnceCell::const_new();
    SECRETS
        .get_or_try_init(|| async {
            let config = holdfast_aws::sdk_config(&AwsOptions::default())
                .await
                .map_err(|e| e.to_string())?;
            Ok(aws_sdk_secretsmanager::Client::new(&config))
        })
        .await
}
