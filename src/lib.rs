//! rolechain: evaluated IAM reachability for AWS ECS workloads.
//!
//! The library turns a snapshot of an AWS organization into a graph whose trust and permission
//! edges are decided by an IAM policy evaluator, then answers path questions over it and draws it.
//! The layers, in dependency order, are [`model`] → [`policy`] → [`graph`] → [`analysis`] →
//! [`export`]; [`collect`] reads snapshots into the model, and the binary's `cli` glues them.
//! See `ARCHITECTURE.md` for the codemap and invariants.

pub mod analysis;
pub mod collect;
pub mod export;
pub mod graph;
pub mod model;
pub mod policy;
