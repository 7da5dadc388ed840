//! Fuzz target `policy_eval`: parses arbitrary text with `PolicyDocument::parse_str` and evaluates
//! a request built with `arbitrary` against it as an identity, resource, trust, key, boundary,
//! session, SCP or RCP policy.
//!
//! The harness lives in `fuzz/src/lib.rs`, shared with the regression test that replays the
//! corpus (`tests/it/fuzz_regressions.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rolechain_fuzz::policy_eval(data);
});
