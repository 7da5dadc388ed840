//! The one integration-test binary: scenarios, exports, the CLI, properties and tidiness.

mod cli;
mod example;
mod export;
mod props;
mod scenarios;
mod support;
mod tidy;
