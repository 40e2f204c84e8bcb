//! Holdfast's Lambda function, `bootstrap`: one handler for CloudFormation custom resources
//! (direct, answering the pre-signed `ResponseURL`, or behind the CDK provider framework) and for
//! direct invocations (Step Functions, schedules), running the same library code as the CLI.
//!
//! Pure parts, tested without AWS: [`event`] (what invoked the function), [`properties`] (the
//! operation and its typed settings, parsed from the strings CloudFormation sends),
//! [`response`] (the custom resource response within CloudFormation's 4,096 bytes) and
//! [`secret`] (an RDS secret to a database URL). [`handler`] puts them together with [`run`]
//! (the operations) and [`deliver`] (the `ResponseURL` PUT); the binary (`src/main.rs`) is
//! only the Lambda Runtime API loop around [`handler::handle`].

#![forbid(unsafe_code)]

pub mod deliver;
pub mod event;
pub mod handler;
pub mod properties;
pub mod remedies;
pub mod response;
pub mod run;
pub mod secret;
