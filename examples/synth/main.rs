//! Writes a synthetic organization as a `rolechain.snapshot/v1` file, for benchmarks and scale
//! tests.
//!
//! ```text
//! cargo run --release --no-default-features --example synth -- --accounts N [--roles-per-account R] \
//!     [--services-per-account S] [--resources-per-account K] [--seed X] -o FILE
//! ```
//!
//! The same arguments give the same bytes. The file is written to a temporary file beside it and
//! renamed into place, so a reader never sees half a snapshot. The generator is the module in
//! `org/`, whose documentation describes what an organization holds.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example binary reports to its terminal"
)]

use std::path::PathBuf;
use std::process::ExitCode;

mod org;

use org::Config;

const USAGE: &str = "usage: synth --accounts N [--roles-per-account R] [--services-per-account S] [--resources-per-account K] [--seed X] -o FILE";

fn parse(args: &[String]) -> Result<(Config, PathBuf), String> {
    let mut config = Config::default();
    let mut accounts = None;
    let mut out = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value\n{USAGE}"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("`{flag}` expects a number, got `{value}`"))
        };
        match flag.as_str() {
            "--accounts" => accounts = Some(number()?),
            "--roles-per-account" => config.roles_per_account = number()?,
            "--services-per-account" => config.services_per_account = number()?,
            "--resources-per-account" => config.resources_per_account = number()?,
            "--seed" => {
                config.seed = value
                    .parse()
                    .map_err(|_| format!("`--seed` expects a number, got `{value}`"))?;
            }
            "-o" | "--output" => out = Some(PathBuf::from(value)),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    config.accounts = accounts.ok_or_else(|| format!("`--accounts` is required\n{USAGE}"))?;
    let out = out.ok_or_else(|| format!("`-o FILE` is required\n{USAGE}"))?;
    Ok((config, out))
}

/// Writes `config`'s snapshot to `path` through a temporary file in the same directory.
fn write_atomically(config: &Config, path: &std::path::Path) -> Result<org::Summary, String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot.json".to_string());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating `{}`: {e}", dir.display()))?;
    let result = (|| {
        let file = std::fs::File::create(&tmp)
            .map_err(|e| format!("creating `{}`: {e}", tmp.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let summary = org::write(config, &mut w).map_err(|e| format!("{e}: {:?}", e))?;
        let file = w
            .into_inner()
            .map_err(|e| format!("writing `{}`: {}", tmp.display(), e.error()))?;
        file.sync_all()
            .map_err(|e| format!("writing `{}`: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .map_err(|e| format!("renaming into `{}`: {e}", path.display()))?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, out) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("synth: {message}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    match write_atomically(&config, &out) {
        Ok(s) => {
            let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            eprintln!(
                "synth: wrote `{}` ({bytes} bytes) in {:.1} s: {} accounts, {} roles, {} services, {} containers, {} resources ({} secrets, {} parameters, {} keys, {} repositories, {} buckets, {} log groups), {} injected values, {} role chains ({} ExternalId hops)",
                out.display(),
                started.elapsed().as_secs_f64(),
                s.accounts,
                s.roles,
                s.services,
                s.containers,
                s.resources(),
                s.secrets,
                s.parameters,
                s.kms_keys,
                s.repositories,
                s.buckets,
                s.log_groups,
                s.injections,
                s.chains,
                s.external_id_hops,
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("synth: error: {message}");
            ExitCode::from(2)
        }
    }
}
