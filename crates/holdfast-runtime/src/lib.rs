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
//! These modules are pure (no AWS crate, no tokio) and stay available with
//! `default-features = false`, so Holdfast's own checks share their exact semantics.

#![forbid(unsafe_code)]

pub mod config;
pub mod guard;
pub mod live_key;
pub mod stage;
