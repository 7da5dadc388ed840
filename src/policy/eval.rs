//! The decision procedure.
use super::{Decision, PolicySet, Request};

/// Decides one request.
pub fn evaluate(_request: &Request, _policies: &PolicySet<'_>) -> Decision {
    unimplemented!()
}
