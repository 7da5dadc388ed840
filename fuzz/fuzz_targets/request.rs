//! Fuzz target `request`: reads arbitrary UTF-8 with the `rolechain.request/v1` reader
//! (`collect::request::parse_request`) and evaluates what it reads.
//!
//! The harness lives in `fuzz/src/lib.rs`, shared with the regression test that replays the
//! corpus (`tests/it/fuzz_regressions.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rolechain_fuzz::request(data);
});
