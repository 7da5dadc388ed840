//! The commands: each resolves its arguments, loads what it needs, runs the library, and hands
//! the answer to a renderer.

use anyhow::bail;

use rolechain::analysis::{self, QueryError};
use rolechain::collect::{self, LoadError};
use rolechain::export;
use rolechain::graph::{self, AccessGraph, BuildOptions};
use rolechain::model::Inventory;

use super::{Command, ExitStatus, Format, Printer, SnapshotArgs, output, text, write_stdout};

/// Runs one command.
pub fn run(command: Command, printer: &Printer) -> anyhow::Result<ExitStatus> {
    match command {
        Command::WhoCan(args) => {
            let format = check_format(args.format, &[Format::Text, Format::Json], "who-can")?;
            let (_, g) = load(&args.snapshot, printer)?;
            let target = analysis::lookup(&g, &args.resource)?;
            if !g.graph[target].kind.is_resource() {
                bail!(QueryError::WrongKind {
                    id: args.resource,
                    kind: g.graph[target].kind.as_str(),
                    expected: "a resource"
                });
            }
            let paths = analysis::who_can(&g, target, args.snapshot.max_depth);
            let out = match format {
                Format::Json => export::paths_json(&paths),
                _ => text::who_can(&g, &args.resource, &paths),
            };
            write_stdout(&out)?;
        }
        Command::Reach(args) => {
            let format = check_format(args.format, &[Format::Text, Format::Json], "reach")?;
            let (_, g) = load(&args.snapshot, printer)?;
            let sources = match &args.from {
                Some(id) => analysis::resolve_sources(&g, id)?,
                None => analysis::containers(&g),
            };
            let to = args
                .to
                .as_deref()
                .map(|id| analysis::lookup(&g, id))
                .transpose()?;
            let paths = analysis::reach(&g, &sources, to, args.snapshot.max_depth);
            let out = match format {
                Format::Json => export::paths_json(&paths),
                _ => text::reach(&g, args.from.as_deref(), &paths),
            };
            write_stdout(&out)?;
        }
        Command::Graph(args) => {
            let format = check_format(
                args.format,
                &[
                    Format::Dot,
                    Format::Mermaid,
                    Format::Json,
                    Format::Cypher,
                    Format::Graphml,
                ],
                "graph",
            )?;
            let (_, g) = load(&args.snapshot, printer)?;
            let g = match &args.focus {
                Some(id) => {
                    let center = analysis::lookup(&g, id)?;
                    analysis::focus(&g, center, args.depth.unwrap_or(args.snapshot.max_depth))
                }
                None => g,
            };
            let (out, warnings) = match format {
                Format::Dot => export::to_dot(&g),
                Format::Mermaid => export::to_mermaid(&g),
                Format::Cypher => (export::to_cypher(&g), Vec::new()),
                Format::Graphml => (export::to_graphml(&g), Vec::new()),
                _ => (export::graph_json(&g), Vec::new()),
            };
            printer.diagnostics(&warnings);
            match &args.output {
                Some(path) => output::write_atomic(path, out.as_bytes())?,
                None => write_stdout(&out)?,
            }
        }
        Command::Explain(args) => {
            let format = check_format(args.format, &[Format::Text, Format::Json], "explain")?;
            let (inventory, g) = load(&args.snapshot, printer)?;
            let actions =
                (!args.snapshot.actions.is_empty()).then_some(args.snapshot.actions.as_slice());
            let explanation = analysis::explain(
                &inventory,
                &g,
                &args.from,
                &args.to,
                actions,
                args.snapshot.max_depth,
            )?;
            printer.diagnostics(&explanation.diagnostics);
            let out = match format {
                Format::Json => export::json::explanation_json(&explanation),
                _ => text::explanation(&g, &explanation),
            };
            write_stdout(&out)?;
        }
        Command::Simulate(args) => {
            let format = check_format(args.format, &[Format::Json, Format::Text], "simulate")?;
            let input = collect::request::load_request(&args.request, args.unknown_as_conditional)?;
            let decision = rolechain::policy::evaluate(&input.request, &input.policy_set());
            printer.diagnostics(&decision.diagnostics);
            let out = match format {
                Format::Text => text::decision(&input.request, &decision),
                _ => export::decision_json(&decision),
            };
            write_stdout(&out)?;
        }
        Command::Collect(args) => return super::collect::collect(args, printer),
        Command::Merge(args) => return super::collect::merge(args, printer),
    }
    Ok(ExitStatus::Success)
}

fn check_format(format: Format, allowed: &[Format], command: &str) -> anyhow::Result<Format> {
    if allowed.contains(&format) {
        return Ok(format);
    }
    let names: Vec<String> = allowed
        .iter()
        .map(|f| format!("`{}`", format_name(*f)))
        .collect();
    bail!(
        "`{command}` cannot print `{}`: expected {}",
        format_name(format),
        names.join(" or ")
    )
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Text => "text",
        Format::Json => "json",
        Format::Dot => "dot",
        Format::Mermaid => "mermaid",
        Format::Cypher => "cypher",
        Format::Graphml => "graphml",
    }
}

/// Loads the snapshot and builds the graph, printing the build's warnings.
fn load(args: &SnapshotArgs, printer: &Printer) -> anyhow::Result<(Inventory, AccessGraph)> {
    let inventory = match (&args.snapshot, args.live) {
        (_, true) => super::collect::inventory(&args.source, printer)?,
        (Some(path), false) => collect::load_file(path)?,
        (None, false) => bail!("no snapshot: pass `--snapshot FILE`, or `--live` to collect now"),
    };
    let options = BuildOptions {
        actions: (!args.actions.is_empty()).then(|| args.actions.clone()),
        ..BuildOptions::default()
    };
    for action in args.actions.iter() {
        if action
            .split_once(':')
            .is_none_or(|(s, n)| s.is_empty() || n.is_empty())
        {
            bail!(
                "`{action}` is not an action: expected `service:Action`, such as `secretsmanager:GetSecretValue`"
            );
        }
    }
    let g = graph::build(&inventory, &options);
    printer.diagnostics(&g.diagnostics);
    Ok((inventory, g))
}

/// A hint for an error, printed after it.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    if let Some(LoadError::Io { .. }) = err.downcast_ref::<LoadError>() {
        return Some("pass the snapshot with `--snapshot FILE` or the ROLECHAIN_SNAPSHOT environment variable".to_string());
    }
    if let Some(QueryError::UnknownNode { .. }) = err.downcast_ref::<QueryError>() {
        return Some("ids are ARNs as in the snapshot; containers are `<task definition ARN>#<container name>`".to_string());
    }
    None
}
