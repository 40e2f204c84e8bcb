//! `bootstrap`: Holdfast's Lambda function for the `provided.al2023` runtime. See the
//! `holdfast_lambda` crate for what it does; this is only the Lambda Runtime API loop.

#![forbid(unsafe_code)]

use holdfast_lambda::handler::{handle, Role};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let role = Role::from_env()?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = event.context.deadline();
        handle(event.payload, deadline, role)
            .await
            .map_err(|failure| Diagnostic {
                error_type: failure.error_type().into(),
                error_message: failure.message,
            })
    }))
    .await
}
