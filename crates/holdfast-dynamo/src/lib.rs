//! Holdfast's DynamoDB support.
//!
//! Pure parts (no AWS SDK): the item model and its DynamoDB-JSON form ([`item`], [`number`]),
//! the JSON view that jq transforms see ([`view`]), and the transforms themselves
//! ([`transform`]). Against DynamoDB (the AWS SDK, configured by `holdfast-aws`): [`verify`].

pub mod export_files;
pub mod item;
pub mod number;
pub mod transform;
pub mod verify;
pub mod view;

pub use item::{
    item_from_dynamo_json, item_from_export_line, item_to_dynamo_json, item_to_export_line, Attr,
    DynamoJsonError, Item,
};
pub use number::{Number, NumberError};
pub use transform::{Transform, TransformError};
pub use view::{item_to_view, item_to_view_json, view_json_to_item, view_to_item, View, ViewError};
