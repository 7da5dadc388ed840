//! Domain findings that are values, not errors: warnings about unsupported constructs,
//! missing data or conservative choices, returned next to results.

use std::fmt;

/// How much a diagnostic matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Context for the reader; the answer is exact.
    Info,
    /// The answer was made conservative, or depends on data that is missing.
    Warning,
}

/// One finding about the input, with a stable code for scripts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// How much it matters.
    pub severity: Severity,
    /// A stable kebab-case code, such as `unsupported-operator`.
    pub code: &'static str,
    /// What the thing concerned is: an ARN, a policy id, a node id.
    pub subject: String,
    /// A lowercase sentence without a final period.
    pub message: String,
}

impl Diagnostic {
    /// A warning.
    pub fn warning(
        code: &'static str,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            code,
            subject: subject.into(),
            message: message.into(),
        }
    }

    /// An informational note.
    pub fn info(
        code: &'static str,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Info,
            code,
            subject: subject.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Info => "note",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{level}[{}]: {}: {}",
            self.code, self.subject, self.message
        )
    }
}
