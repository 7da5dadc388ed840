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
//! one parses the file into a `serde_json::Value` (the floor), the other loads it with
//! `collect::load_str`, builds the graph, runs a full reach from every container, one `who_can`
//! on a secret and one `explain`. A child that runs past `--timeout` (default 900 s) is killed,
//! and the phases it finished are still reported.

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

use rolechain::analysis;
use rolechain::graph::{self, BuildOptions, NodeKind};
use rolechain::{collect, model};

#[path = "synth/org/mod.rs"]
mod org;

use org::Config;

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

fn snapshot_path(dir: &Path, s: &Size) -> PathBuf {
    let c = &s.config;
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
    report("rss_kib", peak_rss_kib());
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
        return Err("usage: bench --child value|rolechain|who-can FILE ACCOUNTS SEED".to_string());
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
    println!("| size | `findings` on the built graph (findings) | findings / full reach ≤ 2 |");
    println!("|---|---:|---:|");
    for r in rows {
        let f = &r.rc;
        let count = |k: &str| f.values.get(k).cloned().unwrap_or_else(|| "—".into());
        println!(
            "| {} | {} ({}) | {} |",
            r.size.label,
            secs(f.num("findings_s")),
            count("findings"),
            ratio(f.num("findings_s"), f.num("reach_s"), 2.0, true),
        );
    }
    println!();
    println!(
        "| size | `who-can` in one process (paths, edges evaluated) | its peak RSS | (load + answer) / `Value` parse ≤ 4 | `reach` in one process | (load + build + answer) / `Value` parse ≤ 20 |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let w = &r.who;
        let count = |k: &str| w.values.get(k).cloned().unwrap_or_else(|| "—".into());
        println!(
            "| {} | {} ({}, {}) | {} | {} | {} | {} |",
            r.size.label,
            secs(w.num("toward_total_s")),
            count("toward_paths"),
            count("toward_edges"),
            mib(w.num("toward_rss_kib").map(|k| k * 1024.0)),
            ratio(w.num("toward_total_s"), r.value.num("parse_s"), 4.0, true),
            secs(r.rc.num("reach_total_s")),
            ratio(
                r.rc.num("reach_total_s"),
                r.value.num("parse_s"),
                20.0,
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
        ] {
            phase(name, a.rc.num(key), b.rc.num(key), secs);
        }
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
    let mut rows = Vec::new();
    for s in &args.sizes {
        let path = snapshot_path(&args.dir, s);
        if !path.is_file() {
            eprintln!("bench: generating `{}`", path.display());
            let t = Instant::now();
            generate(&s.config, &path)?;
            eprintln!("bench: generated in {:.1} s", t.elapsed().as_secs_f64());
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
        for (k, v) in rc.values.iter().chain(&who.values) {
            eprintln!("bench:   {k} = {v}");
        }
        rows.push(Row {
            size: s.clone(),
            bytes,
            value,
            rc,
            who,
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
