//! Reachability rules, the policy as code that `rolechain check` holds a snapshot to: what must
//! never be reachable, and what must be.
//!
//! These are plain values. `collect::rules` reads them from a `rolechain.rules/v1` TOML file
//! (docs/check.md), and `analysis::check` evaluates them against an access graph. Every part of a
//! rule keeps the place in the file it was written at, so that a selector that matches nothing
//! can be reported at its line and column once a snapshot is loaded.

use std::collections::BTreeMap;
use std::fmt;

/// A rules file: its rules, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// The file's name as given, for messages.
    pub file: String,
    /// The rules, in file order; names are unique.
    pub rules: Vec<Rule>,
}

/// A place in a rules file, both 1-based; the column counts characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// What a rule expects of the paths from its sources to its targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Expect {
    /// No source reaches any target: every path found is a violation.
    Never,
    /// Some source reaches some target: at least one path must exist.
    Reach,
}

impl Expect {
    /// `never` or `reach`, as the rules file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Never => "never",
            Expect::Reach => "reach",
        }
    }
}

/// Whether paths that hold only if conditions the snapshot cannot decide hold count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Conditional {
    /// A conditional path counts as a path.
    Count,
    /// Only allowed paths count; conditional ones are reported apart, as not counted.
    Ignore,
}

impl Conditional {
    /// `count` or `ignore`, as the rules file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Conditional::Count => "count",
            Conditional::Ignore => "ignore",
        }
    }

    /// The default of a rule: conservative either way, so an undecided condition never makes a
    /// rule pass. A `never` rule counts a conditional path as a violation; a `reach` rule is not
    /// satisfied by a path that may not hold.
    pub fn default_for(expect: Expect) -> Conditional {
        match expect {
            Expect::Never => Conditional::Count,
            Expect::Reach => Conditional::Ignore,
        }
    }
}

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Its name, unique in the file.
    pub name: String,
    /// A sentence for people, printed with a violation.
    pub description: Option<String>,
    /// Never reachable, or reachable.
    pub expect: Expect,
    /// The sources: nodes that can start a path (containers, roles, users, principals outside
    /// the snapshot).
    pub from: Selector,
    /// The targets: resources.
    pub to: Selector,
    /// Globs over actions (`*`, `?`, ASCII case ignored): a path counts only when its last hop
    /// allows one of them. Empty: every evaluated action.
    pub actions: Vec<Located<String>>,
    /// Whether conditional paths count.
    pub conditional: Conditional,
    /// A test, side or action of this rule that matches nothing is a warning, not an error (as
    /// `--allow-empty` makes it for every rule): for rules about sources that exist only where a
    /// policy admits them, such as principals outside the organization.
    pub allow_empty: bool,
    /// Where the rule starts.
    pub at: Position,
}

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub at: Position,
}

/// Which nodes a side of a rule stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Every part holds (a table with several keys).
    All(Vec<Selector>),
    /// Some part holds (`any = [ … ]`).
    Any(Vec<Selector>),
    /// The part does not hold (`not = { … }`).
    Not(Box<Selector>),
    /// One test (one key of a table).
    Test(Located<Test>),
}

/// One test on a node; a list of values matches when one of them does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// The node id is one of these.
    Id(Vec<String>),
    /// The node id matches one of these globs (`*`, `?`, case-sensitive).
    Arn(Vec<String>),
    /// The node kind is one of these contract names (`container`, `secret`, …).
    Kind(Vec<String>),
    /// The node's account, by id or by name, is one of these.
    Account(Vec<String>),
    /// The node's account sits under one of these OUs (or roots), by id or name, at any depth.
    Ou(Vec<String>),
    /// The node carries every one of these tags; values are globs.
    Tag(BTreeMap<String, String>),
    /// The node is one of these ECS services (by name or ARN), or a task definition or
    /// container that one of them runs.
    Service(Vec<String>),
    /// The node is one of these ECS clusters (by name or ARN), or a service, task definition or
    /// container that runs in one of them.
    Cluster(Vec<String>),
}

impl Test {
    /// The key the rules file writes this test with.
    pub fn key(&self) -> &'static str {
        match self {
            Test::Id(_) => "id",
            Test::Arn(_) => "arn",
            Test::Kind(_) => "kind",
            Test::Account(_) => "account",
            Test::Ou(_) => "ou",
            Test::Tag(_) => "tag",
            Test::Service(_) => "service",
            Test::Cluster(_) => "cluster",
        }
    }
}

impl fmt::Display for Test {
    /// The test as the rules file writes it: `ou = "Prod"`, `kind = ["role", "user"]`,
    /// `tag = { env = "prod" }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quote = |s: &str| format!("{s:?}");
        let values = match self {
            Test::Id(v)
            | Test::Arn(v)
            | Test::Kind(v)
            | Test::Account(v)
            | Test::Ou(v)
            | Test::Service(v)
            | Test::Cluster(v) => match v.as_slice() {
                [one] => quote(one),
                many => format!(
                    "[{}]",
                    many.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
                ),
            },
            Test::Tag(tags) => format!(
                "{{ {} }}",
                tags.iter()
                    .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        write!(f, "{} = {values}", self.key())
    }
}

/// The node kinds a `kind` test may name: the contract names of `graph::NodeKind`, which a test
/// of `analysis::check` keeps equal.
pub const KINDS: [&str; 19] = [
    "account",
    "cluster",
    "service",
    "task-definition",
    "container",
    "role",
    "user",
    "service-principal",
    "external-account",
    "anonymous",
    "any-principal",
    "organization",
    "federated",
    "secret",
    "ssm-parameter",
    "kms-key",
    "ecr-repository",
    "s3-bucket",
    "log-group",
];
