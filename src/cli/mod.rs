//! Command-line glue: clap arguments are resolved into settings, one command runs, and its
//! output goes to stdout (data) or stderr (warnings, hints, errors).
//!
//! Arguments are checked in two steps, in the style of ripgrep's `LowArgs` → `HiArgs`: clap
//! rejects what its types can express (each command's `--format` is its own [`ValueEnum`]), and
//! `commands::resolve` checks the rest (actions, the snapshot source, `-o` targets) before any
//! snapshot is read or any AWS call is made.
//!
//! Only this module prints. Exit codes ([`ExitStatus`]): 0 success; 1 findings: `check` found a
//! rule violated, `explain` found no path that holds (as grep exits 1 when nothing matches),
//! `findings --fail-on` found one at or above that severity, `diff --fail-on-new-paths` found a
//! gained path, or `collect --strict` recorded gaps; 2 errors (bad arguments or input, an unknown id, an unwritable output).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod collect;
mod commands;
mod output;
mod text;

/// Evaluated IAM reachability for AWS ECS: which containers reach which secrets, keys and
/// buckets, across accounts, with the statement that allows each hop.
#[derive(Debug, Parser)]
#[command(
    name = "rolechain",
    version,
    about,
    max_term_width = 100,
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: GlobalArgs,
}

/// The exit-code text of `rolechain --help`.
const EXIT_CODES: &str = "Exit codes: 0 success; 1 findings: `check` found a rule violated, \
     `explain` found no path that holds, `findings --fail-on` found one at or above that \
     severity, `diff --fail-on-new-paths` found a gained path, or `collect --strict` recorded \
     gaps; 2 error: bad arguments or input (a rules \
     file included), an unknown id, an unwritable output.";

/// The help heading of the flags that shape an analysis and its output.
const ANALYSIS: &str = "Analysis";

/// Flags every command takes.
#[derive(Debug, Args)]
struct GlobalArgs {
    /// Print no warnings, hints or progress.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Also print informational notes.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// When to use colour in text output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Never show a progress bar.
    #[arg(long, global = true)]
    no_progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The formats of `who-can`, `reach`, `explain` and `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    /// Text for people.
    Text,
    /// Versioned JSON, the machine contract.
    Json,
}

/// The formats of `graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
    /// Versioned JSON (rolechain.graph/v1), the machine contract.
    Json,
    /// openCypher statements for Neo4j, Memgraph and FalkorDB.
    Cypher,
    /// GraphML for Gephi, yEd and networkx.
    Graphml,
}

impl From<GraphFormat> for rolechain::export::GraphFormat {
    fn from(format: GraphFormat) -> Self {
        match format {
            GraphFormat::Dot => Self::Dot,
            GraphFormat::Mermaid => Self::Mermaid,
            GraphFormat::Json => Self::Json,
            GraphFormat::Cypher => Self::Cypher,
            GraphFormat::Graphml => Self::Graphml,
        }
    }
}

/// The formats of `findings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FindingsFormat {
    /// Text for people.
    Text,
    /// Versioned JSON (rolechain.findings/v1), the machine contract.
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
}

/// The formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    /// Text for people.
    Text,
    /// Versioned JSON (rolechain.diff/v1), the machine contract.
    Json,
    /// A Markdown summary for a pull-request comment.
    Markdown,
}

/// The severities `--fail-on` takes, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl From<FailOn> for rolechain::analysis::Severity {
    fn from(s: FailOn) -> Self {
        match s {
            FailOn::Critical => Self::Critical,
            FailOn::High => Self::High,
            FailOn::Medium => Self::Medium,
            FailOn::Low => Self::Low,
            FailOn::Info => Self::Info,
        }
    }
}

/// The formats of `simulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DecisionFormat {
    /// Versioned JSON (rolechain.decision/v1), the machine contract.
    Json,
    /// Text for people.
    Text,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every container, role, user and other principal with a path to a resource.
    WhoCan(WhoCanArgs),
    /// List what a container, task definition, service, role or user reaches (every container
    /// when --from is not given).
    Reach(ReachArgs),
    /// Draw the graph as DOT, Mermaid or JSON, or export it as openCypher or GraphML.
    Graph(GraphArgs),
    /// Explain why a source reaches a resource, or the first hop that blocks it; exits 1 when no
    /// path holds.
    Explain(ExplainArgs),
    /// Report misconfigurations and risky paths, each with a stable code, a severity and its
    /// proof; with --fail-on, exits 1 when a finding at or above that severity exists.
    Findings(FindingsArgs),
    /// Decide one authorization request given with all its policies (rolechain.request/v1).
    Simulate(SimulateArgs),
    /// Hold the snapshot to reachability rules (TOML, rolechain.rules/v1): what must never be
    /// reachable, and what must be; exits 1 when a rule is violated.
    Check(CheckArgs),
    /// Compare two snapshots: the paths gained, lost and changed (with the hop and statement
    /// responsible) and the findings new and resolved; with --fail-on-new-paths, exits 1 when a
    /// path is gained.
    Diff(DiffArgs),
    /// Write a documentation site in Markdown into a directory: an index, a page per account
    /// and per ECS service with Mermaid diagrams, a who-can table and the findings, with a
    /// mkdocs.yml that builds it without plugins.
    Report(ReportArgs),
    /// Read accounts through the AWS API and write a snapshot (rolechain.snapshot/v1).
    Collect(CollectArgs),
    /// Join snapshots collected separately (for example one per account) into one.
    Merge(MergeArgs),
}

/// Where and how to collect live; shared by `collect` and the analysis commands' `--live`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Collection")]
struct SourceArgs {
    /// A named AWS profile to read; each is one account (repeatable; default: the default
    /// credential chain).
    #[arg(long = "profile", value_name = "PROFILE")]
    profiles: Vec<String>,
    /// A region to read (repeatable; default: each profile's region).
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// Read the organization and assume this role in each of its active accounts (from the
    /// management or a delegated-admin account).
    #[arg(long, value_name = "NAME")]
    org_role: Option<String>,
    /// The external id to pass when assuming --org-role.
    #[arg(long, value_name = "ID", requires = "org_role")]
    external_id: Option<String>,
    /// With --org-role: read only this account (repeatable), for collecting an organization in
    /// shards that `rolechain merge` joins; the organization itself is read by every shard.
    #[arg(long = "account", value_name = "ID", requires = "org_role")]
    accounts: Vec<String>,
    /// Send every AWS client to this endpoint (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// The most API calls in flight at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    concurrency: usize,
    /// Read every ACTIVE task definition, not only those a service or running task uses.
    #[arg(long)]
    all_task_definitions: bool,
    /// Attempts per call (standard retry mode, backing off on throttling); 1 disables retries.
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_attempts: u32,
}

#[derive(Debug, Args)]
struct CollectArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Exit 1 when any call failed (the snapshot is still written, with its gaps).
    #[arg(long)]
    strict: bool,
    /// Write the snapshot to this file (atomically, readable only by its owner) instead of
    /// stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// The snapshots to join.
    #[arg(required = true, value_name = "SNAPSHOT")]
    inputs: Vec<PathBuf>,
    /// Write the merged snapshot to this file (atomically, readable only by its owner) instead of
    /// stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SnapshotArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The most hops a path may have (default: no limit). When the limit leaves sources or
    /// resources out, a warning and the text output's last line say how many.
    #[arg(long, value_name = "N", help_heading = ANALYSIS)]
    max_depth: Option<usize>,
}

/// Where the inventory comes from and which actions to evaluate: what every analysis command
/// takes, `check` included (which takes no depth limit).
#[derive(Debug, Args)]
struct InputArgs {
    /// The snapshot file (rolechain.snapshot/v1); required unless --live is given.
    // Not `required_unless_present`: a missing snapshot is reported by `commands::resolve`, with
    // a hint, and an empty ROLECHAIN_SNAPSHOT counts as none.
    #[arg(
        long,
        env = "ROLECHAIN_SNAPSHOT",
        value_name = "FILE",
        value_parser = clap::builder::TypedValueParser::map(
            clap::builder::OsStringValueParser::new(),
            PathBuf::from
        )
    )]
    snapshot: Option<PathBuf>,
    /// Collect from AWS now instead of reading --snapshot (takes the Collection flags).
    #[arg(long)]
    live: bool,
    #[command(flatten)]
    source: SourceArgs,
    /// Actions to evaluate instead of each resource type's defaults (repeatable).
    #[arg(long = "action", value_name = "ACTION", help_heading = ANALYSIS)]
    actions: Vec<String>,
    /// Leave out ECS privilege escalation: principals that can run code as a role or in a
    /// container's place (escalates edges), and the paths through them.
    #[arg(long, help_heading = ANALYSIS)]
    no_escalation: bool,
}

#[derive(Debug, Args)]
struct WhoCanArgs {
    /// The resource's ARN (node id).
    resource: String,
    #[command(flatten)]
    snapshot: SnapshotArgs,
    /// The output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, help_heading = ANALYSIS)]
    format: ReportFormat,
}

#[derive(Debug, Args)]
struct ReachArgs {
    /// A container, task definition, service, cluster, role or user id.
    #[arg(long, value_name = "ID")]
    from: Option<String>,
    /// Only paths to this resource.
    #[arg(long, value_name = "ARN")]
    to: Option<String>,
    #[command(flatten)]
    snapshot: SnapshotArgs,
    /// The output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, help_heading = ANALYSIS)]
    format: ReportFormat,
}

#[derive(Debug, Args)]
struct GraphArgs {
    #[command(flatten)]
    snapshot: SnapshotArgs,
    /// The output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot, help_heading = ANALYSIS)]
    format: GraphFormat,
    /// Keep only what lies on paths to or from this node.
    #[arg(long, value_name = "ID", help_heading = ANALYSIS)]
    focus: Option<String>,
    /// With --focus: how many hops each way to draw (default: --max-depth, or no limit). A
    /// drawing depth: nodes further away are left out of the drawing without a warning; `who-can`
    /// and `reach` give complete answers.
    #[arg(long, value_name = "N", help_heading = ANALYSIS)]
    depth: Option<usize>,
    /// Write to this file instead of stdout: a regular file is replaced atomically (through a
    /// symlink, its target), a device or FIFO is written directly.
    #[arg(short, long, value_name = "FILE", help_heading = ANALYSIS)]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// A container, task definition, service, role or user id.
    #[arg(long, value_name = "ID")]
    from: String,
    /// The resource's ARN.
    #[arg(long, value_name = "ARN")]
    to: String,
    #[command(flatten)]
    snapshot: SnapshotArgs,
    /// The output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, help_heading = ANALYSIS)]
    format: ReportFormat,
}

#[derive(Debug, Args)]
struct FindingsArgs {
    #[command(flatten)]
    snapshot: SnapshotArgs,
    /// The output format.
    #[arg(long, value_enum, default_value_t = FindingsFormat::Text, help_heading = ANALYSIS)]
    format: FindingsFormat,
    /// Exit 1 when a finding of this severity or a stronger one exists.
    #[arg(long, value_enum, value_name = "SEVERITY", help_heading = ANALYSIS)]
    fail_on: Option<FailOn>,
    /// Write to this file instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE", help_heading = ANALYSIS)]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ReportArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The directory to write: created, or replaced when it is empty or holds an earlier report
    /// (a `.rolechain-report` file); the new report is built beside it and renamed into place.
    #[arg(short, long, value_name = "DIR", help_heading = ANALYSIS)]
    output: PathBuf,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The rules file (TOML, rolechain.rules/v1; see docs/check.md).
    #[arg(long, value_name = "RULES.toml")]
    rules: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// Make a selector or action that matches nothing a warning instead of an error (a `never`
    /// rule over nothing holds; a `reach` rule over nothing is violated).
    #[arg(long, help_heading = ANALYSIS)]
    allow_empty: bool,
    /// The output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, help_heading = ANALYSIS)]
    format: ReportFormat,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The snapshot before the change (rolechain.snapshot/v1).
    #[arg(value_name = "OLD.json")]
    old: PathBuf,
    /// The snapshot after the change (rolechain.snapshot/v1).
    #[arg(value_name = "NEW.json")]
    new: PathBuf,
    /// Compare only paths that allow one of these actions, evaluated instead of each resource
    /// type's defaults (repeatable).
    #[arg(long = "action", value_name = "ACTION", help_heading = ANALYSIS)]
    actions: Vec<String>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text, help_heading = ANALYSIS)]
    format: DiffFormat,
    /// Write to this file instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE", help_heading = ANALYSIS)]
    output: Option<PathBuf>,
    /// Exit 1 when the new snapshot has a path the old one has not (narrowed by --target-kind
    /// and --target).
    #[arg(long, help_heading = ANALYSIS)]
    fail_on_new_paths: bool,
    /// With --fail-on-new-paths: count only gained paths to a resource of this kind.
    #[arg(
        long,
        value_name = "KIND",
        requires = "fail_on_new_paths",
        help_heading = ANALYSIS,
        value_parser = clap::builder::PossibleValuesParser::new(
            rolechain::graph::NodeKind::ALL
                .into_iter()
                .filter(|k| k.is_resource())
                .map(rolechain::graph::NodeKind::as_str)
        )
    )]
    target_kind: Option<String>,
    /// With --fail-on-new-paths: count only gained paths to a resource whose ARN matches this
    /// glob (`*` and `?`).
    #[arg(
        long,
        value_name = "ARN_GLOB",
        requires = "fail_on_new_paths",
        help_heading = ANALYSIS
    )]
    target: Option<String>,
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// The request file (rolechain.request/v1).
    request: PathBuf,
    /// Treat context keys not given as unknown: statements that depend on them are conditional.
    #[arg(long, help_heading = ANALYSIS)]
    unknown_as_conditional: bool,
    /// The output format.
    #[arg(long, value_enum, default_value_t = DecisionFormat::Json, help_heading = ANALYSIS)]
    format: DecisionFormat,
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It did what was asked.
    Success,
    /// It ran, and reports findings: `check` found a rule violated, `explain` found no path that
    /// holds, `findings --fail-on` found one at or above that severity, `diff
    /// --fail-on-new-paths` found a gained path, or `collect --strict` recorded gaps.
    Findings,
    /// It could not do what was asked.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        match s {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Findings => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

/// Where output and messages go.
pub struct Printer {
    quiet: bool,
    verbose: bool,
    color: bool,
    /// Whether a progress bar may be drawn: stderr is a terminal, and neither -q nor
    /// --no-progress was given.
    #[cfg_attr(
        not(feature = "aws"),
        allow(dead_code, reason = "only live collection draws progress")
    )]
    progress: bool,
}

impl Printer {
    #[allow(
        clippy::print_stderr,
        reason = "the printer is where the CLI writes messages"
    )]
    fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}", self.paint("warning", "33", message));
        }
    }

    #[allow(
        clippy::print_stderr,
        reason = "the printer is where the CLI writes messages"
    )]
    fn note(&self, message: &str) {
        if self.verbose && !self.quiet {
            eprintln!("{}", self.paint("note", "36", message));
        }
    }

    #[allow(
        clippy::print_stderr,
        reason = "the printer is where the CLI writes messages"
    )]
    fn hint(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}", self.paint("hint", "36", message));
        }
    }

    /// A closing summary: printed even with -q, because it is the command's report.
    #[cfg_attr(
        not(feature = "aws"),
        allow(dead_code, reason = "only live collection prints a summary")
    )]
    #[allow(
        clippy::print_stderr,
        reason = "the printer is where the CLI writes messages"
    )]
    fn summary(&self, message: &str) {
        eprintln!("{message}");
    }

    #[allow(clippy::print_stderr, reason = "errors always print")]
    fn error(&self, message: &str) {
        eprintln!("{}", self.paint("rolechain: error", "31", message));
    }

    fn paint(&self, label: &str, code: &str, message: &str) -> String {
        if self.color {
            format!("\x1b[1;{code}m{label}\x1b[0m: {message}")
        } else {
            format!("{label}: {message}")
        }
    }

    /// Prints the build's diagnostics: warnings always (unless quiet), notes when verbose.
    fn diagnostics(&self, diagnostics: &[rolechain::model::Diagnostic]) {
        for d in diagnostics {
            let text = format!("[{}] {}: {}", d.code, d.subject, d.message);
            match d.severity {
                rolechain::model::Severity::Warning => self.warn(&text),
                rolechain::model::Severity::Info => self.note(&text),
            }
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    run(std::env::args_os()).into()
}

fn run(args: impl IntoIterator<Item = OsString>) -> ExitStatus {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Success
            };
        }
    };
    let color = match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    };
    let printer = Printer {
        quiet: cli.global.quiet,
        verbose: cli.global.verbose,
        color,
        progress: !cli.global.quiet
            && !cli.global.no_progress
            && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    match commands::resolve(cli.command).and_then(|settings| commands::run(settings, &printer)) {
        Ok(status) => status,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitStatus::Success;
            }
            printer.error(&format!("{err:#}"));
            if let Some(hint) = commands::hint_for(&err) {
                printer.hint(&hint);
            }
            ExitStatus::Error
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
