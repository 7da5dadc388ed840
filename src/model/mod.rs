//! The data model: ARNs, policy documents and the inventory of one AWS organization.
//!
//! These types are plain values with no I/O and no serde shapes of AWS responses; `collect`
//! maps snapshot files (and the SDK) into them.

pub mod arn;
pub mod diagnostic;
pub mod inventory;
pub mod policy;
pub mod rules;
mod typed_policy;

pub use arn::{Arn, ArnError};
pub use diagnostic::{Diagnostic, Severity};
pub use inventory::*;
pub use policy::{ConditionClause, Effect, PolicyDocument, PolicyError, Principal, Statement};
