//! Evaluation unit tests, named after the IAM-SEMANTICS rule they check.
