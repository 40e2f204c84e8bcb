//! Holdfast's deploy guard.
//!
//! Compares the CloudFormation template that is deployed with the one about to be, and finds
//! every stateful resource (table, database, bucket, user pool, key…) that the deploy would
//! delete or replace — including a logical-ID rename, which CloudFormation carries out as a
//! delete and a create. Also checks retention and protection settings per stage.

pub mod parse;
pub mod schema;
pub mod template;
pub mod value;
