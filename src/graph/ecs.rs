//! ECS references: `valueFrom` and image URIs.

/// A parsed `valueFrom`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueFrom {}

/// Parses a `valueFrom`.
pub fn parse_value_from() {}

/// Parses an image URI.
pub fn parse_image_repository() {}
