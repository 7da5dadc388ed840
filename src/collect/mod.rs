//! Getting an inventory: reading `rolechain.snapshot/v1` files, and (with the `aws` feature)
//! collecting one live through the AWS SDK.
//!
//! The serde shapes of AWS responses live here and nowhere else: the rest of the crate sees
//! only [`crate::model`] values.

#[cfg(feature = "aws")]
pub mod aws;
pub mod merge;
pub mod request;
pub mod rules;
pub mod snapshot;

pub use snapshot::{LoadError, SNAPSHOT_SCHEMA, load_file, load_str};
