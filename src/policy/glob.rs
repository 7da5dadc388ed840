//! Glob matching with `*` and `?` (IAM-SEMANTICS R1.2, R1.3, R3.3).
