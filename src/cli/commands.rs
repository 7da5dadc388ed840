//! The commands, in two steps: [`resolve`] turns clap's arguments into checked [`Settings`]
//! without reading a snapshot or calling AWS (ripgrep's `LowArgs` → `HiArgs`), then [`run`]
//! loads what a command needs, runs the library, and hands the answer to a renderer.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use petgraph::graph::NodeIndex;

use rolechain::analysis::{self, CheckError, QueryError};
use rolechain::collect;
use rolechain::collect::rules::RulesError;
use rolechain::export;
use rolechain::graph::{self, AccessGraph, Attributes, BuildOptions, NodeKind};
use rolechain::model::Inventory;
use rolechain::model::rules::Rules;

use super::{
    CollectArgs, Command, DecisionFormat, DiffFormat, ExitStatus, FindingsFormat, InputArgs,
    MergeArgs, Printer, ReportFormat, SnapshotArgs, SourceArgs, output, text,
};

/// A command whose arguments have been checked: what is left to fail is reading input, the
/// analysis itself, and writing output.
pub enum Settings {
    /// `who-can`.
    WhoCan {
        /// The resource's id.
        resource: String,
        /// Where the inventory comes from, and how to analyse it.
        input: Analysis,
        /// The output format.
        format: ReportFormat,
    },
    /// `reach`.
    Reach {
        /// The source id, or every container.
        from: Option<String>,
        /// Only paths to this id.
        to: Option<String>,
        /// Where the inventory comes from, and how to analyse it.
        input: Analysis,
        /// The output format.
        format: ReportFormat,
    },
    /// `graph`.
    Graph {
        /// Where the inventory comes from, and how to analyse it.
        input: Analysis,
        /// The output format.
        format: export::GraphFormat,
        /// The node to focus on, and how many hops each way (`None`: no limit).
        focus: Option<(String, Option<usize>)>,
        /// The output file, checked to be writable; stdout when `None`.
        output: Option<PathBuf>,
    },
    /// `explain`.
    Explain {
        /// The source id.
        from: String,
        /// The target id.
        to: String,
        /// Where the inventory comes from, and how to analyse it.
        input: Analysis,
        /// The output format.
        format: ReportFormat,
    },
    /// `findings`.
    Findings {
        /// Where the inventory comes from, and how to analyse it.
        input: Analysis,
        /// The output format.
        format: FindingsFormat,
        /// Exit 1 when a finding at or above this severity exists.
        fail_on: Option<analysis::Severity>,
        /// The output file, checked to be writable; stdout when `None`.
        output: Option<PathBuf>,
    },
    /// `check`, whose rules file has been read.
    Check {
        /// The rules.
        rules: Rules,
        /// Where the inventory comes from, and how to analyse it.
        input: Analysis,
        /// Whether a selector that matches nothing is only a warning.
        allow_empty: bool,
        /// The output format.
        format: ReportFormat,
    },
    /// `diff`.
    Diff {
        /// The snapshot before the change.
        old: PathBuf,
        /// The snapshot after the change.
        new: PathBuf,
        /// The actions to evaluate, each `service:Action`, and the only ones whose paths are
        /// compared; `None`: each resource type's defaults, and every path.
        actions: Option<Vec<String>>,
        /// The output format.
        format: DiffFormat,
        /// Exit 1 when a gained path matches [`NewPaths`]; `None`: always exit 0.
        fail_on_new_paths: Option<NewPaths>,
        /// The output file, checked to be writable; stdout when `None`.
        output: Option<PathBuf>,
    },
    /// `simulate`.
    Simulate {
        /// The request file.
        request: PathBuf,
        /// Whether context keys not given are unknown.
        unknown_as_conditional: bool,
        /// The output format.
        format: DecisionFormat,
    },
    /// `report`, whose output directory has been checked.
    Report {
        /// Where the inventory comes from, and how to analyse it.
        input: Analysis,
        /// The directory to write.
        output: PathBuf,
    },
    /// `collect`, whose `-o` target has been checked.
    Collect(CollectArgs),
    /// `merge`, whose `-o` target has been checked.
    Merge(MergeArgs),
}

/// Which gained paths make `diff --fail-on-new-paths` exit 1.
pub struct NewPaths {
    /// Only paths to a target of this kind.
    kind: Option<NodeKind>,
    /// Only paths to a target whose id matches this glob.
    target: Option<String>,
}

/// The inventory's source and the analysis options of an analysis command.
pub struct Analysis {
    /// Where the inventory comes from.
    source: Source,
    /// The actions to evaluate, or each resource type's defaults; each is `service:Action`.
    actions: Option<Vec<String>>,
    /// The most hops a path may have; `None`: no limit.
    max_depth: Option<usize>,
    /// Leave out `escalates` edges.
    no_escalation: bool,
}

/// Where an analysis command's inventory comes from.
enum Source {
    /// A snapshot file.
    File(PathBuf),
    /// A live collection.
    Live(SourceArgs),
}

/// A command line that is wrong in a way clap cannot see; found before any work.
#[derive(Debug, thiserror::Error)]
enum ArgError {
    /// Neither `--snapshot` (nor `ROLECHAIN_SNAPSHOT`) nor `--live`.
    #[error("no snapshot given")]
    NoSnapshot,
    /// An `--action` that is not `service:Action`.
    #[error(
        "`{0}` is not an action: expected `service:Action`, such as `secretsmanager:GetSecretValue`"
    )]
    Action(String),
}

/// Checks a command's arguments, in the order a person reads them, before any I/O but the
/// metadata of `-o` targets and the rules file of `check`, which is read and parsed here so that
/// a mistake in it is reported before a long snapshot load or a live collection.
///
/// # Errors
/// No snapshot and no `--live`, a malformed `--action`, an `-o` that names a directory or a
/// file in a missing directory, or a rules file that cannot be read or parsed.
pub fn resolve(command: Command) -> anyhow::Result<Settings> {
    Ok(match command {
        Command::WhoCan(args) => Settings::WhoCan {
            resource: args.resource,
            input: analysis_settings(args.snapshot)?,
            format: args.format,
        },
        Command::Reach(args) => Settings::Reach {
            from: args.from,
            to: args.to,
            input: analysis_settings(args.snapshot)?,
            format: args.format,
        },
        Command::Graph(args) => {
            let input = analysis_settings(args.snapshot)?;
            let depth = args.depth.or(input.max_depth);
            check_output(args.output.as_deref())?;
            Settings::Graph {
                focus: args.focus.map(|id| (id, depth)),
                input,
                format: args.format.into(),
                output: args.output,
            }
        }
        Command::Explain(args) => Settings::Explain {
            from: args.from,
            to: args.to,
            input: analysis_settings(args.snapshot)?,
            format: args.format,
        },
        Command::Findings(args) => {
            let input = analysis_settings(args.snapshot)?;
            check_output(args.output.as_deref())?;
            Settings::Findings {
                input,
                format: args.format,
                fail_on: args.fail_on.map(Into::into),
                output: args.output,
            }
        }
        Command::Check(args) => {
            // No depth limit: a rule holds or fails over every path.
            let input = input_settings(args.input, None)?;
            Settings::Check {
                rules: collect::rules::load_rules(&args.rules)?,
                input,
                allow_empty: args.allow_empty,
                format: args.format,
            }
        }
        Command::Diff(args) => {
            check_actions(&args.actions)?;
            check_output(args.output.as_deref())?;
            Settings::Diff {
                old: args.old,
                new: args.new,
                actions: (!args.actions.is_empty()).then_some(args.actions),
                format: args.format,
                fail_on_new_paths: args.fail_on_new_paths.then(|| NewPaths {
                    // clap admits only the names of `NodeKind::ALL`.
                    kind: args
                        .target_kind
                        .and_then(|k| NodeKind::ALL.into_iter().find(|n| n.as_str() == k)),
                    target: args.target,
                }),
                output: args.output,
            }
        }
        Command::Simulate(args) => Settings::Simulate {
            request: args.request,
            unknown_as_conditional: args.unknown_as_conditional,
            format: args.format,
        },
        Command::Report(args) => {
            // A report is complete: no depth limit.
            let input = input_settings(args.input, None)?;
            output::check_directory(&args.output, export::report::MARKER)?;
            Settings::Report {
                input,
                output: args.output,
            }
        }
        Command::Collect(args) => {
            check_output(args.output.as_deref())?;
            Settings::Collect(args)
        }
        Command::Merge(args) => {
            check_output(args.output.as_deref())?;
            Settings::Merge(args)
        }
    })
}

fn analysis_settings(args: SnapshotArgs) -> anyhow::Result<Analysis> {
    input_settings(args.input, args.max_depth)
}

fn input_settings(args: InputArgs, max_depth: Option<usize>) -> anyhow::Result<Analysis> {
    check_actions(&args.actions)?;
    let source = match (args.snapshot, args.live) {
        (_, true) => Source::Live(args.source),
        // An empty `ROLECHAIN_SNAPSHOT=` reaches here as an empty path; it means "none".
        (Some(path), false) if !path.as_os_str().is_empty() => Source::File(path),
        (_, false) => bail!(ArgError::NoSnapshot),
    };
    Ok(Analysis {
        source,
        actions: (!args.actions.is_empty()).then_some(args.actions),
        max_depth,
        no_escalation: args.no_escalation,
    })
}

/// Checks that each `--action` is `service:Action`.
fn check_actions(actions: &[String]) -> anyhow::Result<()> {
    for action in actions {
        if action
            .split_once(':')
            .is_none_or(|(s, n)| s.is_empty() || n.is_empty())
        {
            bail!(ArgError::Action(action.clone()));
        }
    }
    Ok(())
}

fn check_output(path: Option<&Path>) -> anyhow::Result<()> {
    path.map_or(Ok(()), output::check)
}

/// Runs one command.
///
/// # Errors
/// Unreadable or malformed input, an unknown id, a failed collection or an unwritable output.
pub fn run(settings: Settings, printer: &Printer) -> anyhow::Result<ExitStatus> {
    match settings {
        Settings::WhoCan {
            resource,
            input,
            format,
        } => {
            // Only the hops that can end at the resource are evaluated.
            let (inventory, g) = load(&input, Some(&resource), printer)?;
            let target = analysis::lookup(&g, &resource)?;
            if !g.graph[target].kind.is_resource() {
                bail!(QueryError::WrongKind {
                    id: resource,
                    kind: g.graph[target].kind.as_str(),
                    expected: "a resource"
                });
            }
            let paths = analysis::who_can(&g, target, input.max_depth);
            // The containers whose configured references to the resource fail.
            let blocked = analysis::blocked_references(&inventory, None, Some(&resource));
            let cut = input.max_depth.and_then(|max_depth| {
                let beyond = analysis::who_can_beyond(&g, target, max_depth);
                (beyond > 0).then_some(text::Cut::Sources { beyond, max_depth })
            });
            if let Some(cut) = &cut {
                printer.warn(&cut.message());
            }
            output::stdout(|out| match format {
                ReportFormat::Json => export::write_paths_blocked_json(&paths, &blocked, out),
                ReportFormat::Text => out.write_all(
                    text::who_can(&g, &resource, &paths, &blocked, cut.as_ref()).as_bytes(),
                ),
            })?;
        }
        Settings::Reach {
            from,
            to,
            input,
            format,
        } => {
            // With `--to`, only the hops that can end at that resource are evaluated.
            let (inventory, g) = load(&input, to.as_deref(), printer)?;
            let sources = match &from {
                Some(id) => analysis::resolve_sources(&g, id)?,
                None => analysis::containers(&g),
            };
            let to = to
                .as_deref()
                .map(|id| analysis::lookup(&g, id))
                .transpose()?;
            let paths = analysis::reach(&g, &sources, to, input.max_depth);
            // The configured references of the queried containers that fail.
            let queried: Vec<String> = sources
                .iter()
                .map(|&n| &g.graph[n])
                .filter(|n| n.kind == rolechain::graph::NodeKind::Container)
                .map(|n| n.id.clone())
                .collect();
            let to_id = to.map(|n| g.graph[n].id.as_str());
            let blocked = analysis::blocked_references(&inventory, Some(&queried), to_id);
            let cut = reach_cut(&g, &sources, to, input.max_depth);
            if let Some(cut) = &cut {
                printer.warn(&cut.message());
            }
            output::stdout(|out| match format {
                ReportFormat::Json => export::write_paths_blocked_json(&paths, &blocked, out),
                ReportFormat::Text => out.write_all(
                    text::reach(&g, from.as_deref(), &paths, &blocked, cut.as_ref()).as_bytes(),
                ),
            })?;
        }
        Settings::Graph {
            input,
            format,
            focus,
            output: path,
        } => {
            let (_, g) = load(&input, None, printer)?;
            let g = match &focus {
                // A drawing depth: what lies further is left out of the view, not of an answer.
                Some((id, depth)) => {
                    let center = analysis::lookup(&g, id)?;
                    analysis::focus(&g, center, *depth)
                }
                None => g,
            };
            let warnings = output::write(path.as_deref(), output::Privacy::Normal, |out| {
                export::write_graph(&g, format, out)
            })?;
            printer.diagnostics(&warnings);
        }
        Settings::Explain {
            from,
            to,
            input,
            format,
        } => {
            // Only what the answer needs is built: the graph toward the target, and for a "no"
            // the trust plane.
            let inventory = inventory_of(&input, printer)?;
            let (explanation, g) = analysis::explain_on_demand(
                &inventory,
                &from,
                &to,
                &options_of(&input),
                input.max_depth,
            )?;
            printer.diagnostics(&g.diagnostics);
            printer.diagnostics(&explanation.diagnostics);
            // A "no" that only the limit makes: say so.
            if input.max_depth.is_some() && !explanation.allowed() {
                let sources = analysis::resolve_sources(&g, &from)?;
                let target = analysis::lookup(&g, &to)?;
                if let Some(cut) = reach_cut(&g, &sources, Some(target), input.max_depth) {
                    printer.warn(&cut.message());
                }
            }
            output::stdout(|out| match format {
                ReportFormat::Json => export::write_explanation_json(&explanation, out),
                ReportFormat::Text => out.write_all(text::explanation(&g, &explanation).as_bytes()),
            })?;
            // As grep exits 1 when nothing matches: the answer is printed, and it is "no".
            if !explanation.allowed() {
                return Ok(ExitStatus::Findings);
            }
        }
        Settings::Findings {
            input,
            format,
            fail_on,
            output: path,
        } => {
            let (inventory, g) = load(&input, None, printer)?;
            let found = analysis::findings(&inventory, &g);
            // The build has warned about what it noticed; only what is new is said.
            let new: Vec<_> = found
                .diagnostics
                .iter()
                .filter(|d| !g.diagnostics.contains(d))
                .cloned()
                .collect();
            printer.diagnostics(&new);
            output::write(
                path.as_deref(),
                output::Privacy::Normal,
                |out| match format {
                    FindingsFormat::Text => out.write_all(text::findings(&g, &found).as_bytes()),
                    FindingsFormat::Json => export::write_findings_json(&found, out),
                    FindingsFormat::Sarif => export::write_findings_sarif(&found, out),
                },
            )?;
            if fail_on.is_some_and(|s| found.worst().is_some_and(|w| w >= s)) {
                return Ok(ExitStatus::Findings);
            }
        }
        Settings::Check {
            rules,
            input,
            allow_empty,
            format,
        } => {
            let (inventory, g) = load(&input, None, printer)?;
            let attributes = Attributes::new(&inventory, &g);
            let options = analysis::CheckOptions {
                actions: input.actions.clone(),
                allow_empty,
            };
            let report = analysis::check(&g, &attributes, &rules, &options)?;
            printer.diagnostics(&report.diagnostics);
            output::stdout(|out| match format {
                ReportFormat::Json => export::write_check_json(&report, out),
                ReportFormat::Text => out.write_all(text::check(&g, &report).as_bytes()),
            })?;
            if !report.holds() {
                return Ok(ExitStatus::Findings);
            }
        }
        Settings::Diff {
            old,
            new,
            actions,
            format,
            fail_on_new_paths,
            output: path,
        } => {
            let file = |path: PathBuf| Analysis {
                source: Source::File(path),
                actions: actions.clone(),
                max_depth: None,
                no_escalation: false,
            };
            // Both files are read and built side by side (a build leaves a core idle at times);
            // their errors and warnings come in the order of the arguments.
            let (old, new) = (file(old), file(new));
            let (old, new) = rayon::join(|| load_file(&old, None), || load_file(&new, None));
            let (old_inventory, old_graph) = old?;
            printer.diagnostics(&old_graph.diagnostics);
            let (new_inventory, new_graph) = new?;
            printer.diagnostics(&new_graph.diagnostics);
            let mut d = analysis::diff(&old_inventory, &old_graph, &new_inventory, &new_graph);
            if let Some(actions) = &actions {
                d.retain_actions(actions);
            }
            output::write(
                path.as_deref(),
                output::Privacy::Normal,
                |out| match format {
                    DiffFormat::Text => out.write_all(text::diff(&d).as_bytes()),
                    DiffFormat::Json => export::write_diff_json(&d, out),
                    DiffFormat::Markdown => export::write_diff_markdown(&d, out),
                },
            )?;
            if let Some(NewPaths { kind, target }) = fail_on_new_paths
                && d.gained_matching(kind, target.as_deref()).next().is_some()
            {
                return Ok(ExitStatus::Findings);
            }
        }
        Settings::Simulate {
            request,
            unknown_as_conditional,
            format,
        } => {
            let input = collect::request::load_request(&request, unknown_as_conditional)?;
            let policies = input.policy_set();
            let decision = rolechain::policy::evaluate(&input.request, &policies);
            printer.diagnostics(&decision.diagnostics);
            output::stdout(|out| match format {
                DecisionFormat::Text => {
                    out.write_all(text::decision(&input.request, &policies, &decision).as_bytes())
                }
                DecisionFormat::Json => export::write_decision_json(&decision, out),
            })?;
        }
        Settings::Report { input, output: dir } => {
            let (inventory, g) = load(&input, None, printer)?;
            let report = export::report::Report::new(&inventory, &g);
            // The build has warned about what it noticed; only what is new is said.
            let new: Vec<_> = report
                .findings()
                .diagnostics
                .iter()
                .filter(|d| !g.diagnostics.contains(d))
                .cloned()
                .collect();
            printer.diagnostics(&new);
            let pages = export::report::pages(&report)?;
            let files: Vec<(&str, &[u8])> = pages
                .iter()
                .map(|p| (p.path.as_str(), p.bytes.as_slice()))
                .collect();
            output::directory(&dir, export::report::MARKER, &files)?;
        }
        Settings::Collect(args) => return super::collect::collect(args, printer),
        Settings::Merge(args) => return super::collect::merge(args, printer),
    }
    Ok(ExitStatus::Success)
}

/// What `--max-depth` leaves out of `reach` from `sources`: resources for one source, (source,
/// resource) pairs for several; `None` without a limit or when nothing is left out.
fn reach_cut(
    g: &AccessGraph,
    sources: &[NodeIndex],
    to: Option<NodeIndex>,
    max_depth: Option<usize>,
) -> Option<text::Cut> {
    let max_depth = max_depth?;
    let beyond = analysis::reach_beyond(g, sources, to, max_depth);
    (beyond > 0).then_some(if sources.len() == 1 {
        text::Cut::Resources { beyond, max_depth }
    } else {
        text::Cut::Pairs { beyond, max_depth }
    })
}

/// Loads the inventory and builds the graph (only its part that can end at `toward`, when
/// given), printing the build's warnings.
fn load(
    input: &Analysis,
    toward: Option<&str>,
    printer: &Printer,
) -> anyhow::Result<(Inventory, AccessGraph)> {
    let inventory = inventory_of(input, printer)?;
    let g = build_for(input, toward, &inventory);
    printer.diagnostics(&g.diagnostics);
    Ok((inventory, g))
}

/// The inventory of `input`: collected live, or read from its snapshot file.
///
/// # Errors
/// A failed collection, or as [`read_text`] and [`collect::load_str`].
fn inventory_of(input: &Analysis, printer: &Printer) -> anyhow::Result<Inventory> {
    match &input.source {
        Source::Live(source) => super::collect::inventory(source, printer),
        Source::File(path) => read_snapshot(path),
    }
}

/// Reads a snapshot file; the text is dropped once it is loaded.
///
/// # Errors
/// As [`read_text`] and [`collect::load_str`].
fn read_snapshot(path: &Path) -> anyhow::Result<Inventory> {
    let text = read_text(path)?;
    Ok(collect::load_str(&text, &path.display().to_string())?)
}

/// Reads a snapshot file of `input` and builds its graph, printing nothing.
///
/// # Errors
/// As [`read_text`] and [`collect::load_str`]; `input` must name a file.
fn load_file(input: &Analysis, toward: Option<&str>) -> anyhow::Result<(Inventory, AccessGraph)> {
    let Source::File(path) = &input.source else {
        bail!("expected a snapshot file");
    };
    let inventory = read_snapshot(path)?;
    let g = build_for(input, toward, &inventory);
    Ok((inventory, g))
}

/// The build options `input` asks for.
fn options_of(input: &Analysis) -> BuildOptions {
    BuildOptions {
        actions: input.actions.clone(),
        no_escalation: input.no_escalation,
        ..BuildOptions::default()
    }
}

/// The graph of `inventory` with the options of `input`: toward one resource, or the whole.
fn build_for(input: &Analysis, toward: Option<&str>, inventory: &Inventory) -> AccessGraph {
    let options = options_of(input);
    match toward {
        Some(target) => graph::build_toward(inventory, target, &options),
        None => graph::build(inventory, &options),
    }
}

/// Reads an input file as UTF-8 text; errors name the file and say what is wrong with it.
///
/// # Errors
/// The file is missing, a directory, unreadable, or not UTF-8.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    let shown = path.display();
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        bail!("`{shown}` is a directory: expected a file");
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading `{shown}`"))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "`{shown}` is not UTF-8 text (invalid byte at offset {}): expected JSON",
            e.utf8_error().valid_up_to()
        )
    })
}

/// A hint for an error, printed after it.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    if let Some(ArgError::NoSnapshot) = err.downcast_ref::<ArgError>() {
        return Some("pass the snapshot with `--snapshot FILE` or the ROLECHAIN_SNAPSHOT environment variable, or collect one now with `--live`".to_string());
    }
    if let Some(RulesError::Invalid { .. }) = err.downcast_ref::<RulesError>() {
        return Some("the rules format is described in docs/check.md".to_string());
    }
    if let Some(CheckError::Empty { suggestions, .. }) = err.downcast_ref::<CheckError>() {
        let allow = "pass --allow-empty to make a selector that matches nothing a warning";
        return Some(match suggestions.as_slice() {
            [] => allow.to_string(),
            ids => format!(
                "did you mean {}? or {allow}",
                ids.iter()
                    .map(|id| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    if let Some(QueryError::UnknownNode { .. }) = err.downcast_ref::<QueryError>() {
        return Some("ids are ARNs as in the snapshot; containers are `<task definition ARN>#<container name>`".to_string());
    }
    None
}
