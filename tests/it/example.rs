//! example tests.
