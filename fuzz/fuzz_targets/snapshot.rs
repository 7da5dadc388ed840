//! Fuzz target `snapshot`: reads arbitrary UTF-8 as a `rolechain.snapshot/v1` file with
//! `collect::load_str` and, when it loads, builds its graph (inputs over 64 KiB are skipped).
//!
//! The harness lives in `fuzz/src/lib.rs`, shared with the regression test that replays the
//! corpus (`tests/it/fuzz_regressions.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rolechain_fuzz::snapshot(data);
});
