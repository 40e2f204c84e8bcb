//! Holdfast's Lambda function, `bootstrap`: one handler for CloudFormation custom resources
//! (direct, answering the pre-signed `ResponseURL`, or behind the CDK provider framework) and for
//! direct invocations (Step Functions, schedules), running the same library code as the CLI.
//!
//! Pure parts, tested without AWS: [`event`] (what invoked the function), [`properties`] (the
//! operation and its typed settings, parsed from the strings CloudFormation sends) and
//! [`response`] (the custom resource response within CloudFormation's 4,096 bytes).

pub mod event;
pub mod properties;
pub mod response;
