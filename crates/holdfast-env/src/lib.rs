//! Holdfast's environment and secrets checks.
//!
//! A per-stage schema of each Lambda function's environment (`[env]` in `holdfast.toml`),
//! applied to the functions of a template, a `cdk.out` or a `.serverless` folder read as the
//! deploy guard reads them, and to deployed functions. Finds missing and mistyped keys,
//! Serverless variables and CDK tokens deployed as literal text, plaintext credentials,
//! another stage's resources and live payment keys outside production. Values are never
//! printed: a finding names the function, the key and the rule, and identifies a value only
//! by a keyed fingerprint.
//!
//! [`secrets`] recognises credentials by their form and by their key's name.

#![forbid(unsafe_code)]

pub mod secrets;
