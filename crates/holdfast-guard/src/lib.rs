//! Holdfast's deploy guard.
//!
//! Compares the CloudFormation template that is deployed with the one about to be, and finds
//! every stateful resource (table, database, bucket, user pool, key…) that the deploy would
//! delete or replace — including a logical-ID rename, which CloudFormation carries out as a
//! delete and a create. Also checks retention and protection settings per stage, and judges a
//! saved change set.
//!
//! Pipeline: [`inputs`] reads each side into [`template::Template`]s ([`parse`] keeps source
//! positions and CloudFormation's short-form tags; [`deployed`] reads a deployed stack's
//! through the CloudFormation API); [`eval`] resolves parameters and conditions; [`diff`]
//! classifies each resource's change from the provider schemas in [`schema`]; [`engine`] pairs
//! stacks, matches renames and moves across them, and applies the stage's [`rules::Policy`];
//! [`policy`] checks settings; [`changeset`] reads a change set.

#![forbid(unsafe_code)]

pub mod changeset;
pub mod config;
pub mod deployed;
pub mod diff;
pub mod engine;
pub mod eval;
pub mod inputs;
pub mod opaque;
pub mod parse;
pub mod policy;
pub mod reach;
pub mod rules;
pub mod sam;
pub mod schema;
pub mod template;
pub mod value;
