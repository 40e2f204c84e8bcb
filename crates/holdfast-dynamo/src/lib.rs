//! Holdfast's DynamoDB support.
//!
//! Pure parts (no AWS SDK): the item model and its DynamoDB-JSON form ([`item`], [`number`]),
//! the JSON view that jq transforms see ([`view`]), and the transforms themselves
//! ([`transform`]), keys ([`keys`]) and content digests ([`digest`]). Against DynamoDB (the AWS
//! SDK, configured by `holdfast-aws`): [`verify`], [`copy`] (built from [`scanner`],
//! [`writer`], [`checkpoint`], [`rate`], [`retry`] and [`stop`]) and [`compare`].

#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod client;
pub mod compare;
pub mod copy;
pub mod describe;
pub mod digest;
pub mod export_files;
pub mod item;
pub mod key_schema;
pub mod keys;
pub mod keys_from;
pub mod lease;
pub mod migrate;
pub mod number;
pub mod rate;
pub mod retry;
pub mod scanner;
pub mod sdk_item;
pub mod state_table;
pub mod stop;
pub mod transfer;
pub mod transform;
pub mod verify;
pub mod view;
pub mod writer;

pub use item::{
    item_from_dynamo_json, item_from_export_line, item_to_dynamo_json, item_to_export_line, Attr,
    DynamoJsonError, Item,
};
pub use number::{Number, NumberError};
pub use transform::{Transform, TransformError};
pub use view::{item_to_view, item_to_view_json, view_json_to_item, view_to_item, View, ViewError};
