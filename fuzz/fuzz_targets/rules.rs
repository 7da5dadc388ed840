//! Fuzz target `rules`: reads arbitrary UTF-8 as a `rolechain.rules/v1` file with
//! `collect::rules::parse_rules` and, when it parses, checks it against the `check` tests'
//! fixture.
//!
//! The harness lives in `fuzz/src/lib.rs`, shared with the regression test that replays the
//! corpus (`tests/it/fuzz_regressions.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rolechain_fuzz::rules(data);
});
