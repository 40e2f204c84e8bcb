//! Holdfast for your own Rust Lambda functions: what a function needs at cold start to run
//! with the right configuration, the right secrets and the right stage.
//!
//! - [`stage`]: which [`Environment`](stage::Environment) (production, staging, development) a
//!   stage name means;
//! - [`live_key`]: payment provider keys (Stripe, Braintree, Razorpay) found in any string, and
//!   whether their mode (live or test) fits an environment;
//! - [`config`]: typed configuration from the environment, with per-environment defaults and
//!   every problem in one error, never quoting a value;
//! - [`guard`]: the stage guard, refusing a cold start with a payment key of the wrong mode.
//!
//! With the default feature `aws`:
//!
//! - [`secrets`]: Secrets Manager secrets and Parameter Store parameters, cached with a time to
//!   live, a bound, one call per item at a time, refresh on rotation and JSON keys, read
//!   through the AWS SDK or the Parameters and Secrets Lambda Extension.
//!
//! The other modules are pure (no AWS crate, no tokio) and stay available with
//! `default-features = false`, so Holdfast's own checks share their exact semantics.

#![forbid(unsafe_code)]

pub mod config;
pub mod guard;
pub mod live_key;
#[cfg(feature = "aws")]
pub mod secrets;
pub mod stage;
