//! The one integration-test binary: scenarios, exports, graph-database loads, the CLI, properties
//! and tidiness.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail a test by panicking with a message"
)]

mod chain;
mod change_review;
mod check;
#[cfg(unix)]
mod ci_recipe;
mod cli;
#[cfg(feature = "aws")]
mod collect;
mod contract;
mod diff;
mod example;
mod export;
#[cfg(feature = "moto-tests")]
mod faults;
mod findings;
mod fuzz_regressions;
mod graphdb;
#[cfg(feature = "moto-tests")]
mod moto;
mod props;
mod report;
pub(crate) mod scenarios;
mod support;
mod synth;
mod taskdefs;
mod tidy;
