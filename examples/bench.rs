//! Measures rolechain on synthetic organizations of several sizes and prints the figures as a
//! markdown table.
//!
//! ```text
//! cargo run --release --no-default-features --example bench -- [--sizes S,M,L] [--dir DIR] [--seed X] [--timeout SECS]
//! ```
//!
//! Sizes are `S` (10 accounts), `M` (100), `L` (1,000) or a number of accounts; each account has
//! the generator's default 50 roles, 20 services and 100 resources. A snapshot missing from
//! `DIR` (default `target/synth`) is generated first, by the generator of the `synth` example
//! (`examples/synth/org/`).
//!
//! Each size is measured in child processes of this binary, so that each has its own peak RSS:
//! one parses the file into a `serde_json::Value` (the floor), another loads it with
//! `collect::load_str`, builds the graph, runs a full reach from every container, one `who_can`
//! on a secret, one `explain`, `findings` and `check` with the rules of [`RULES`] (written to
//! `DIR/bench-rules.toml`), one builds toward a secret as `who-can` does, and one runs `diff`
//! against the same organization with [`EXTRA_ROLES`] more ordinary roles per account (a second
//! snapshot, generated beside the first). A child that runs past `--timeout` (default 900 s) is
//! killed, and the phases it finished are still reported.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example binary reports to its terminal"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rolechain::analysis::{self, CheckOptions};
use rolechain::graph::{self, Attributes, BuildOptions, NodeKind};
use rolechain::{collect, export, model};

#[path = "synth/org/mod.rs"]
mod org;

use org::Config;

/// The allocator of the `rolechain` binary, so that the figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The rules `check` is timed with, in the generator's conventions (`examples/synth/org/`):
/// workload secrets and the roles of services are tagged `env` (`prod`, `staging`, `dev`) and
/// `app`, dataset secrets of the `data-prod` account `dataset = ds<n>`, and every workload account
/// has vendor roles `lumen-observability…`. The OUs have generated ids and no names, so no rule
/// names one. A part that matches nothing in a small organization is a warning
/// (`allow_empty`), never an error.
const RULES: &str = r#"schema = "rolechain.rules/v1"

[[rule]]
name = "prod-secrets-stay-with-prod-roles"
description = "No role of a staging or dev service reads a secret tagged env=prod."
expect = "never"
from = { kind = "role", tag = { env = "*" }, not = { tag = { env = "prod" } } }
to = { kind = "secret", tag = { env = "prod" } }

[[rule]]
name = "datasets-stay-in-data"
description = "No container reads a dataset secret of the data account."
expect = "never"
from = { kind = "container", not = { account = "data-prod" } }
to = { kind = "secret", tag = { dataset = "*" } }

[[rule]]
name = "vendor-reads-no-secret"
description = "The observability vendor's roles read no secret or parameter."
expect = "never"
from = { arn = "arn:aws:iam::*:role/lumen-observability*" }
to = { kind = ["secret", "ssm-parameter"] }

[[rule]]
name = "prod-services-get-their-secrets"
description = "Some container reads a secret tagged env=prod."
expect = "reach"
from = { kind = "container" }
to = { kind = "secret", tag = { env = "prod" } }
actions = ["secretsmanager:GetSecretValue"]
"#;

/// The name of the rules file written beside the snapshots.
const RULES_FILE: &str = "bench-rules.toml";

/// How many ordinary roles per account the organization `diff` compares with has in addition:
/// one of each kind the generator fills accounts with (vendor, CI deploy, power user, backup,
/// audit, automation), so the change gains paths and findings without touching the rest.
const EXTRA_ROLES: usize = 6;

/// The organization `diff` compares `config`'s with: the same seed, more roles per account.
fn changed(config: &Config) -> Config {
    Config {
        roles_per_account: config.roles_per_account + EXTRA_ROLES,
        ..config.clone()
    }
}

const USAGE: &str = "usage: bench [--sizes S,M,L] [--dir DIR] [--seed X] [--timeout SECS] (sizes: S, M, L or a number of accounts)";

/// One size to measure.
#[derive(Clone, Debug)]
struct Size {
    label: String,
    config: Config,
}

fn size(label: &str, seed: u64) -> Result<Size, String> {
    let accounts = match label {
        "S" | "s" => 10,
        "M" | "m" => 100,
        "L" | "l" => 1000,
        n => n
            .parse()
            .map_err(|_| format!("unknown size `{n}`: use S, M, L or a number of accounts"))?,
    };
    Ok(Size {
        label: label.to_uppercase(),
        config: Config {
            accounts,
            seed,
            ..Config::default()
        },
    })
}

struct Args {
    sizes: Vec<Size>,
    dir: PathBuf,
    timeout: Duration,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut sizes = "S,M,L".to_string();
    let mut dir = PathBuf::from("target/synth");
    let mut seed = 1u64;
    let mut timeout = 900u64;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--sizes" => sizes = value.clone(),
            "--dir" => dir = PathBuf::from(value),
            "--seed" => seed = value.parse().map_err(|_| format!("bad seed `{value}`"))?,
            "--timeout" => {
                timeout = value
                    .parse()
                    .map_err(|_| format!("bad timeout `{value}`"))?;
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let sizes = sizes
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| size(s.trim(), seed))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Args {
        sizes,
        dir,
        timeout: Duration::from_secs(timeout),
    })
}

fn snapshot_path(dir: &Path, c: &Config) -> PathBuf {
    dir.join(format!(
        "synth-a{}-r{}-s{}-k{}-seed{}.json",
        c.accounts, c.roles_per_account, c.services_per_account, c.resources_per_account, c.seed
    ))
}

/// Generates the snapshot through a temporary file renamed into place.
fn generate(config: &Config, path: &Path) -> Result<(), String> {
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)
            .map_err(|e| format!("creating `{}`: {e}", tmp.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        org::write(config, &mut w).map_err(|e| format!("{e}"))?;
        w.flush()
            .map_err(|e| format!("writing `{}`: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("renaming `{}`: {e}", tmp.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// How many rules [`RULES`] holds.
fn rules_count() -> usize {
    RULES.matches("[[rule]]").count()
}

// ---- the children ----

/// The peak resident set size of this process, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| vm_hwm(&s))
        .unwrap_or(0)
}

/// `VmHWM` of a `/proc/<pid>/status` text, in KiB.
fn vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Prints one measured figure for the parent, at once.
fn report(key: &str, value: impl std::fmt::Display) {
    println!("{key} {value}");
    let _ = std::io::stdout().flush();
}

fn timed<T>(key: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    report(key, t.elapsed().as_secs_f64());
    out
}

fn child_value(file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("reading: {e}"))?;
    let value = timed("parse_s", || {
        serde_json::from_str::<serde_json::Value>(&text)
    });
    value.map_err(|e| format!("parsing: {e}"))?;
    report("value_rss_kib", peak_rss_kib());
    Ok(())
}

fn child_rolechain(file: &Path, config: &Config) -> Result<(), String> {
    let probes = org::probes(config).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let text = timed("read_s", || std::fs::read_to_string(file)).map_err(|e| e.to_string())?;
    let name = file.display().to_string();
    let inventory: model::Inventory =
        timed("load_s", || collect::load_str(&text, &name)).map_err(|e| format!("loading: {e}"))?;
    drop(text);
    report("rss_kib", peak_rss_kib());
    let g = timed("build_s", || {
        graph::build(&inventory, &BuildOptions::default())
    });
    report("rss_kib", peak_rss_kib());
    let count = |k: NodeKind| g.graph.node_weights().filter(|n| n.kind == k).count();
    report("roles", count(NodeKind::Role));
    report("containers", count(NodeKind::Container));
    report(
        "resources",
        g.graph
            .node_weights()
            .filter(|n| n.kind.is_resource() && n.in_snapshot)
            .count(),
    );
    report("edges", g.graph.edge_count());
    let paths = timed("reach_s", || {
        analysis::reach(&g, &analysis::containers(&g), None, None).len()
    });
    report("reach_paths", paths);
    report("reach_total_s", start.elapsed().as_secs_f64());
    // The peak of the `reach` command alone (the other phases below add their own).
    report("reach_rss_kib", peak_rss_kib());
    report("rss_kib", peak_rss_kib());
    let secret = analysis::lookup(&g, &probes.secret).map_err(|e| e.to_string())?;
    let readers = timed("who_can_s", || analysis::who_can(&g, secret, None).len());
    report("who_can_paths", readers);
    let explanation = timed("explain_s", || {
        analysis::explain(
            &inventory,
            &g,
            &probes.container,
            &probes.unreachable,
            None,
            None,
        )
    })
    .map_err(|e| e.to_string())?;
    report("explain_allowed", explanation.allowed());
    let found = timed("findings_s", || analysis::findings(&inventory, &g));
    report("findings", found.findings.len());
    let rules_file = file.with_file_name(RULES_FILE);
    let rules = collect::rules::load_rules(&rules_file).map_err(|e| e.to_string())?;
    let options = CheckOptions {
        actions: None,
        allow_empty: true,
    };
    // The attributes are part of what `check` costs: the CLI builds them for it alone.
    let checked = timed("check_s", || {
        analysis::check(&g, &Attributes::new(&inventory, &g), &rules, &options)
    })
    .map_err(|e| e.to_string())?;
    report("check_rules", checked.results.len());
    report("check_violated", checked.violated().count());
    report(
        "check_paths",
        checked.results.iter().map(|r| r.paths.len()).sum::<usize>(),
    );
    report("rss_kib", peak_rss_kib());
    Ok(())
}

/// `diff` as the CLI runs it: load and build both organizations side by side, compare; one
/// process.
fn child_diff(file: &Path, config: &Config) -> Result<(), String> {
    let start = Instant::now();
    let after = snapshot_path(file.parent().unwrap_or(Path::new(".")), &changed(config));
    let load = |path: &Path| -> Result<(model::Inventory, graph::AccessGraph), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading `{}`: {e}", path.display()))?;
        let inventory = collect::load_str(&text, &path.display().to_string())
            .map_err(|e| format!("loading: {e}"))?;
        let g = graph::build(&inventory, &BuildOptions::default());
        Ok((inventory, g))
    };
    // As the CLI: both sides read and built side by side.
    let (old, new) = rayon::join(|| load(file), || load(&after));
    let ((old_inventory, old), (new_inventory, new)) = (old?, new?);
    report("diff_build_s", start.elapsed().as_secs_f64());
    let d = timed("diff_s", || {
        analysis::diff(&old_inventory, &old, &new_inventory, &new)
    });
    report("diff_total_s", start.elapsed().as_secs_f64());
    report("diff_gained", d.gained.len());
    report("diff_lost", d.lost.len());
    report("diff_changed", d.changed.len());
    report("diff_findings_new", d.new_findings.len());
    report("diff_rss_kib", peak_rss_kib());
    Ok(())
}

/// `report` as the CLI runs it, but into memory: load, build, write every page; one process.
fn child_report(file: &Path) -> Result<(), String> {
    let start = Instant::now();
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let name = file.display().to_string();
    let inventory: model::Inventory =
        collect::load_str(&text, &name).map_err(|e| format!("loading: {e}"))?;
    drop(text);
    let g = graph::build(&inventory, &BuildOptions::default());
    report("report_build_s", start.elapsed().as_secs_f64());
    let pages = timed("report_s", || {
        let r = export::report::Report::new(&inventory, &g);
        export::report::pages(&r)
    })
    .map_err(|e| e.to_string())?;
    report("report_total_s", start.elapsed().as_secs_f64());
    report("report_pages", pages.len());
    report(
        "report_mib",
        format!(
            "{:.1}",
            pages.iter().map(|p| p.bytes.len()).sum::<usize>() as f64 / 1_048_576.0
        ),
    );
    report("report_rss_kib", peak_rss_kib());
    Ok(())
}

/// `who-can` as the CLI runs it: load, build only toward the secret, answer; one process.
fn child_who_can(file: &Path, config: &Config) -> Result<(), String> {
    let probes = org::probes(config).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let name = file.display().to_string();
    let inventory: model::Inventory =
        collect::load_str(&text, &name).map_err(|e| format!("loading: {e}"))?;
    drop(text);
    let g = timed("toward_build_s", || {
        graph::build_toward(&inventory, &probes.secret, &BuildOptions::default())
    });
    let secret = analysis::lookup(&g, &probes.secret).map_err(|e| e.to_string())?;
    let readers = analysis::who_can(&g, secret, None).len();
    report("toward_total_s", start.elapsed().as_secs_f64());
    report("toward_paths", readers);
    report("toward_edges", g.graph.edge_count());
    report("toward_rss_kib", peak_rss_kib());
    Ok(())
}

fn child(args: &[String]) -> Result<(), String> {
    let [kind, file, accounts, seed] = args else {
        return Err(
            "usage: bench --child value|rolechain|who-can|diff|report FILE ACCOUNTS SEED"
                .to_string(),
        );
    };
    let file = PathBuf::from(file);
    let config = Config {
        accounts: accounts.parse().map_err(|_| "bad accounts".to_string())?,
        seed: seed.parse().map_err(|_| "bad seed".to_string())?,
        ..Config::default()
    };
    match kind.as_str() {
        "value" => child_value(&file),
        "rolechain" => child_rolechain(&file, &config),
        "who-can" => child_who_can(&file, &config),
        "diff" => child_diff(&file, &config),
        "report" => child_report(&file),
        other => Err(format!("unknown child `{other}`")),
    }
}

// ---- the parent ----

/// What one child reported; `finished` is false when it was killed or failed.
#[derive(Default)]
struct Figures {
    values: BTreeMap<String, String>,
    finished: bool,
}

impl Figures {
    fn num(&self, key: &str) -> Option<f64> {
        self.values.get(key)?.parse().ok()
    }
}

fn run_child(
    kind: &str,
    file: &Path,
    config: &Config,
    timeout: Duration,
) -> Result<Figures, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?;
    let mut child = Command::new(exe)
        .arg("--child")
        .arg(kind)
        .arg(file)
        .arg(config.accounts.to_string())
        .arg(config.seed.to_string())
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the {kind} child: {e}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| "no stdout from the child".to_string())?;
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let mut figures = Figures::default();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.min(Duration::from_millis(500))) {
            Ok(line) => {
                if let Some((k, v)) = line.split_once(' ') {
                    // The last peak reported wins.
                    figures.values.insert(k.to_string(), v.to_string());
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if left.is_zero() => {
                eprintln!(
                    "bench: the {kind} child ran past {} s; stopping it",
                    timeout.as_secs()
                );
                // The peak so far, phases unfinished included, before the child goes.
                let status = format!("/proc/{}/status", child.id());
                if let Some(kib) = std::fs::read_to_string(status)
                    .ok()
                    .and_then(|s| vm_hwm(&s))
                {
                    figures
                        .values
                        .insert("rss_kib".to_string(), kib.to_string());
                }
                let _ = child.kill();
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    let status = child.wait().map_err(|e| format!("waiting: {e}"))?;
    let _ = reader.join();
    figures.finished = status.success();
    Ok(figures)
}

struct Row {
    size: Size,
    bytes: u64,
    value: Figures,
    rc: Figures,
    who: Figures,
    diff: Figures,
    report: Figures,
}

/// A command that loads and builds like `reach`, then runs `phase` instead of the search: the
/// `reach` command's time with the search's time replaced by the phase's.
fn as_command(f: &Figures, phase: &str) -> Option<f64> {
    Some(f.num("reach_total_s")? - f.num("reach_s")? + f.num(phase)?)
}

fn secs(v: Option<f64>) -> String {
    match v {
        Some(s) if s >= 100.0 => format!("{s:.0} s"),
        Some(s) if s >= 1.0 => format!("{s:.2} s"),
        Some(s) if s >= 0.001 => format!("{:.1} ms", s * 1e3),
        Some(s) => format!("{:.0} µs", s * 1e6),
        None => "—".to_string(),
    }
}

fn mib(bytes: Option<f64>) -> String {
    bytes.map_or("—".to_string(), |b| {
        format!("{:.0} MiB", b / (1024.0 * 1024.0))
    })
}

fn ratio(a: Option<f64>, b: Option<f64>, target: f64, at_most: bool) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => {
            let r = a / b;
            let met = if at_most { r <= target } else { r >= target };
            let fmt = if r < 0.01 {
                format!("{r:.5}")
            } else {
                format!("{r:.2}")
            };
            format!("{fmt} {}", if met { "✓" } else { "✗" })
        }
        _ => "—".to_string(),
    }
}

/// `a / b` as a factor, for figures that have no target.
fn times(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}×", a / b),
        _ => "—".to_string(),
    }
}

fn print_tables(rows: &[Row]) {
    println!(
        "| size | accounts | roles | containers | resources | edges | snapshot | `Value` parse | load | build | full reach (paths) | who-can (paths) | explain | peak RSS | value-parse RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let f = &r.rc;
        let count = |k: &str| f.values.get(k).cloned().unwrap_or_else(|| "—".into());
        let dnf = if f.finished { "" } else { " (did not finish)" };
        let peak = format!(
            "{}{}",
            if f.finished { "" } else { "≥ " },
            mib(f.num("rss_kib").map(|k| k * 1024.0))
        );
        println!(
            "| {}{dnf} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} ({}) | {} | {} | {} |",
            r.size.label,
            r.size.config.accounts,
            count("roles"),
            count("containers"),
            count("resources"),
            count("edges"),
            mib(Some(r.bytes as f64)),
            secs(r.value.num("parse_s")),
            secs(f.num("load_s")),
            secs(f.num("build_s")),
            secs(f.num("reach_s")),
            count("reach_paths"),
            secs(f.num("who_can_s")),
            count("who_can_paths"),
            secs(f.num("explain_s")),
            peak,
            mib(r.value.num("value_rss_kib").map(|k| k * 1024.0)),
        );
    }
    println!();
    println!(
        "| size | (load + build) / `Value` parse ≤ 3 | reach / build ≤ 5 | who-can / build ≤ 0.01 | peak RSS / snapshot ≤ 4 |"
    );
    println!("|---|---:|---:|---:|---:|");
    for r in rows {
        let f = &r.rc;
        let load_build = match (f.num("load_s"), f.num("build_s")) {
            (Some(l), Some(b)) => Some(l + b),
            _ => None,
        };
        println!(
            "| {} | {} | {} | {} | {} |",
            r.size.label,
            ratio(load_build, r.value.num("parse_s"), 3.0, true),
            ratio(f.num("reach_s"), f.num("build_s"), 5.0, true),
            ratio(f.num("who_can_s"), f.num("build_s"), 0.01, true),
            ratio(
                f.num("rss_kib").filter(|_| f.finished).map(|k| k * 1024.0),
                Some(r.bytes as f64),
                4.0,
                true
            ),
        );
    }
    println!();
    println!(
        "| size | `findings` on the built graph (findings) | findings / full reach | `findings` / `reach`, as commands, ≤ 2 |"
    );
    println!("|---|---:|---:|---:|");
    for r in rows {
        let f = &r.rc;
        let count = |k: &str| f.values.get(k).cloned().unwrap_or_else(|| "—".into());
        println!(
            "| {} | {} ({}) | {} | {} |",
            r.size.label,
            secs(f.num("findings_s")),
            count("findings"),
            times(f.num("findings_s"), f.num("reach_s")),
            ratio(
                as_command(f, "findings_s"),
                f.num("reach_total_s"),
                2.0,
                true
            ),
        );
    }
    println!();
    println!(
        "| size | `check`, {} rules, on the built graph (violated, paths) | check / full reach | `check` / `reach`, as commands, ≤ 2 |",
        rules_count()
    );
    println!("|---|---:|---:|---:|");
    for r in rows {
        let f = &r.rc;
        let count = |k: &str| f.values.get(k).cloned().unwrap_or_else(|| "—".into());
        println!(
            "| {} | {} ({}, {}) | {} | {} |",
            r.size.label,
            secs(f.num("check_s")),
            count("check_violated"),
            count("check_paths"),
            times(f.num("check_s"), f.num("reach_s")),
            ratio(as_command(f, "check_s"), f.num("reach_total_s"), 2.0, true),
        );
    }
    println!();
    println!(
        "| size | `report` in one process (pages, MiB written) | of which writing the pages | its peak RSS | `report` / `reach`, each in one process, ≤ 2 |"
    );
    println!("|---|---:|---:|---:|---:|");
    for r in rows {
        let p = &r.report;
        let count = |k: &str| p.values.get(k).cloned().unwrap_or_else(|| "—".into());
        let dnf = if p.finished { "" } else { " (did not finish)" };
        println!(
            "| {}{dnf} | {} ({}, {}) | {} | {} | {} |",
            r.size.label,
            secs(p.num("report_total_s")),
            count("report_pages"),
            count("report_mib"),
            secs(p.num("report_s")),
            mib(p.num("report_rss_kib").map(|k| k * 1024.0)),
            ratio(
                p.num("report_total_s"),
                r.rc.num("reach_total_s"),
                2.0,
                true
            ),
        );
    }
    println!();
    println!(
        "| size | `diff` against {EXTRA_ROLES} more roles per account, in one process | of which the comparison (gained, lost, changed; findings new) | its peak RSS | comparison / full reach | `diff` / `reach`, each in one process, ≤ 2.5 |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let d = &r.diff;
        let count = |k: &str| d.values.get(k).cloned().unwrap_or_else(|| "—".into());
        let dnf = if d.finished { "" } else { " (did not finish)" };
        println!(
            "| {}{dnf} | {} | {} ({}, {}, {}; {}) | {} | {} | {} |",
            r.size.label,
            secs(d.num("diff_total_s")),
            secs(d.num("diff_s")),
            count("diff_gained"),
            count("diff_lost"),
            count("diff_changed"),
            count("diff_findings_new"),
            mib(d.num("diff_rss_kib").map(|k| k * 1024.0)),
            times(d.num("diff_s"), r.rc.num("reach_s")),
            ratio(d.num("diff_total_s"), r.rc.num("reach_total_s"), 2.5, true),
        );
    }
    println!();
    println!(
        "| size | `who-can` in one process (paths, edges evaluated) | its peak RSS | (load + answer) / `Value` parse ≤ 4 | `reach` in one process | its peak RSS | (load + build + answer) / `Value` parse ≤ 20 | peak RSS / snapshot, `who-can` and `reach`, ≤ 4 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let w = &r.who;
        let count = |k: &str| w.values.get(k).cloned().unwrap_or_else(|| "—".into());
        let bytes = |kib: Option<f64>| kib.map(|k| k * 1024.0);
        println!(
            "| {} | {} ({}, {}) | {} | {} | {} | {} | {} | {}, {} |",
            r.size.label,
            secs(w.num("toward_total_s")),
            count("toward_paths"),
            count("toward_edges"),
            mib(bytes(w.num("toward_rss_kib"))),
            ratio(w.num("toward_total_s"), r.value.num("parse_s"), 4.0, true),
            secs(r.rc.num("reach_total_s")),
            mib(bytes(r.rc.num("reach_rss_kib"))),
            ratio(
                r.rc.num("reach_total_s"),
                r.value.num("parse_s"),
                20.0,
                true
            ),
            ratio(
                bytes(w.num("toward_rss_kib")),
                Some(r.bytes as f64),
                4.0,
                true
            ),
            ratio(
                bytes(r.rc.num("reach_rss_kib")),
                Some(r.bytes as f64),
                4.0,
                true
            ),
        );
    }
    // Growth between consecutive sizes, per phase (target: ≤ 12× for 10× the organization).
    for pair in rows.windows(2) {
        let [a, b] = pair else { continue };
        let scale = b.size.config.accounts as f64 / a.size.config.accounts as f64;
        println!();
        println!(
            "Growth {} → {} ({scale:.0}× the accounts; target ≤ {:.0}×):",
            a.size.label,
            b.size.label,
            scale * 1.2
        );
        println!();
        println!("| phase | {} | {} | growth |", a.size.label, b.size.label);
        println!("|---|---:|---:|---:|");
        let phase =
            |name: &str, x: Option<f64>, y: Option<f64>, unit: fn(Option<f64>) -> String| {
                println!(
                    "| {name} | {} | {} | {} |",
                    unit(x),
                    unit(y),
                    ratio(y, x, scale * 1.2, true)
                );
            };
        phase(
            "snapshot size",
            Some(a.bytes as f64),
            Some(b.bytes as f64),
            mib,
        );
        phase(
            "`Value` parse",
            a.value.num("parse_s"),
            b.value.num("parse_s"),
            secs,
        );
        for (name, key) in [
            ("load", "load_s"),
            ("build", "build_s"),
            ("full reach", "reach_s"),
            ("who-can", "who_can_s"),
            ("explain", "explain_s"),
            ("findings", "findings_s"),
            ("check", "check_s"),
        ] {
            phase(name, a.rc.num(key), b.rc.num(key), secs);
        }
        phase("diff", a.diff.num("diff_s"), b.diff.num("diff_s"), secs);
        phase(
            "`who-can` in one process",
            a.who.num("toward_total_s"),
            b.who.num("toward_total_s"),
            secs,
        );
        let peak = |r: &Row| {
            r.rc.num("rss_kib")
                .filter(|_| r.rc.finished)
                .map(|k| k * 1024.0)
        };
        phase("peak RSS", peak(a), peak(b), mib);
    }
}

fn run(args: Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("creating `{}`: {e}", args.dir.display()))?;
    let rules_file = args.dir.join(RULES_FILE);
    std::fs::write(&rules_file, RULES)
        .map_err(|e| format!("writing `{}`: {e}", rules_file.display()))?;
    let mut rows = Vec::new();
    for s in &args.sizes {
        let path = snapshot_path(&args.dir, &s.config);
        for (config, path) in [
            (s.config.clone(), path.clone()),
            (
                changed(&s.config),
                snapshot_path(&args.dir, &changed(&s.config)),
            ),
        ] {
            if !path.is_file() {
                eprintln!("bench: generating `{}`", path.display());
                let t = Instant::now();
                generate(&config, &path)?;
                eprintln!("bench: generated in {:.1} s", t.elapsed().as_secs_f64());
            }
        }
        let bytes = std::fs::metadata(&path)
            .map_err(|e| format!("reading `{}`: {e}", path.display()))?
            .len();
        eprintln!("bench: size {} ({} bytes): `Value` parse", s.label, bytes);
        let value = run_child("value", &path, &s.config, args.timeout)?;
        eprintln!("bench: size {}: rolechain phases", s.label);
        let rc = run_child("rolechain", &path, &s.config, args.timeout)?;
        eprintln!("bench: size {}: who-can toward one secret", s.label);
        let who = run_child("who-can", &path, &s.config, args.timeout)?;
        eprintln!(
            "bench: size {}: diff against {EXTRA_ROLES} more roles per account",
            s.label
        );
        let diff = run_child("diff", &path, &s.config, args.timeout)?;
        eprintln!("bench: size {}: report", s.label);
        let report = run_child("report", &path, &s.config, args.timeout)?;
        for (k, v) in rc
            .values
            .iter()
            .chain(&who.values)
            .chain(&diff.values)
            .chain(&report.values)
        {
            eprintln!("bench:   {k} = {v}");
        }
        rows.push(Row {
            size: s.clone(),
            bytes,
            value,
            rc,
            who,
            diff,
            report,
        });
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("Measured on {cores} cores; each size in its own child processes.");
    println!();
    print_tables(&rows);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return match child(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench child: error: {e}");
                ExitCode::from(2)
            }
        };
    }
    let result = parse(&args).and_then(run);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e}");
            ExitCode::from(2)
        }
    }
}
