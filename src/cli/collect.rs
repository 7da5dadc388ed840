//! `rolechain collect`, `rolechain merge`, and `--live` on the analysis commands: collection
//! settings from flags, a progress bar on a terminal, a warning per gap, and the closing summary.
//!
//! Every snapshot written to a file goes through [`write_snapshot`]: mode 0600, because a
//! snapshot holds every policy of the organization.

use std::path::Path;

use rolechain::collect::merge::{self, Input};
use rolechain::model::Inventory;

use super::{CollectArgs, ExitStatus, MergeArgs, Printer, SourceArgs, commands, output};

/// Writes a snapshot to `path` (atomically, or directly to a device or FIFO), readable only by
/// its owner, or to stdout without one.
fn write_snapshot(path: Option<&Path>, json: &str) -> anyhow::Result<()> {
    output::write(path, output::Privacy::Private, |out| {
        out.write_all(json.as_bytes())
    })
}

/// `rolechain collect`.
pub fn collect(args: CollectArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let collected = live::run(&args.source, printer)?;
    write_snapshot(args.output.as_deref(), &collected.json)?;
    if args.strict && collected.gaps > 0 {
        printer.error(&format!(
            "`--strict`: collection recorded {} gap(s); the snapshot was written with them",
            collected.gaps
        ));
        return Ok(ExitStatus::Findings);
    }
    Ok(ExitStatus::Success)
}

/// Collects live for an analysis command and reads the result as a snapshot would be read.
pub fn inventory(source: &SourceArgs, printer: &Printer) -> anyhow::Result<Inventory> {
    let collected = live::run(source, printer)?;
    Ok(rolechain::collect::load_str(
        &collected.json,
        "(live collection)",
    )?)
}

/// `rolechain merge`.
pub fn merge(args: MergeArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let mut texts = Vec::new();
    for path in &args.inputs {
        let text = commands::read_text(path)?;
        texts.push((path.display().to_string(), text));
    }
    let inputs: Vec<Input<'_>> = texts
        .iter()
        .map(|(name, text)| Input { name, text })
        .collect();
    let merged = merge::merge(&inputs)?;
    write_snapshot(args.output.as_deref(), &merged)?;
    printer.note(&format!("merged {} snapshot(s)", inputs.len()));
    Ok(ExitStatus::Success)
}

/// A finished collection: the snapshot's text and its number of gaps.
struct Collected {
    json: String,
    gaps: usize,
}

#[cfg(feature = "aws")]
mod live {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

    use rolechain::collect::aws::{self, CollectOptions, Observer};
    use rolechain::model::Gap;

    use super::{Collected, Printer, SourceArgs};

    /// Draws progress and prints each gap as it is recorded.
    struct Reporter<'p> {
        printer: &'p Printer,
        bar: Option<ProgressBar>,
    }

    impl Observer for Reporter<'_> {
        fn planned(&self, units: u64) {
            if let Some(bar) = &self.bar {
                bar.inc_length(units);
            }
        }

        fn finished(&self, unit: &str) {
            if let Some(bar) = &self.bar {
                bar.inc(1);
                bar.set_message(unit.to_string());
            }
        }

        fn gap(&self, gap: &Gap) {
            let text = describe_gap(gap);
            match &self.bar {
                Some(bar) => bar.suspend(|| self.printer.warn(&text)),
                None => self.printer.warn(&text),
            }
        }
    }

    fn describe_gap(gap: &Gap) -> String {
        let place = [gap.account.as_deref(), gap.region.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let call = format!(
            "{}:{}",
            gap.service.as_deref().unwrap_or("?"),
            gap.operation.as_deref().unwrap_or("?")
        );
        let resource = gap
            .resource
            .as_deref()
            .map(|r| format!(" on `{r}`"))
            .unwrap_or_default();
        format!(
            "could not read {call}{resource} in {place}: {}; recorded as a gap",
            gap.error.as_deref().unwrap_or("unknown error")
        )
    }

    pub(super) fn run(source: &SourceArgs, printer: &Printer) -> anyhow::Result<Collected> {
        let options = CollectOptions {
            profiles: source.profiles.clone(),
            regions: source.regions.clone(),
            org_role: source.org_role.clone(),
            external_id: source.external_id.clone(),
            endpoint_url: source.endpoint_url.clone(),
            concurrency: source.concurrency.max(1),
            all_task_definitions: source.all_task_definitions,
            max_attempts: source.max_attempts.max(1),
            accounts: source.accounts.clone(),
        };
        let bar = printer.progress.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} collecting [{bar:30}] {pos}/{len} {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        let reporter = Reporter { printer, bar };
        let result = aws::collect(&options, &reporter);
        if let Some(bar) = &reporter.bar {
            bar.finish_and_clear();
        }
        let collection = result?;
        let s = &collection.summary;
        // Counts, retries and gaps, and in words whether member accounts may be missing.
        printer.summary(&s.to_string());
        Ok(Collected {
            json: collection.to_json()?,
            gaps: s.gaps,
        })
    }
}

#[cfg(not(feature = "aws"))]
mod live {
    use super::{Collected, Printer, SourceArgs};

    pub(super) fn run(_source: &SourceArgs, _printer: &Printer) -> anyhow::Result<Collected> {
        anyhow::bail!(
            "this rolechain was built without the `aws` feature: rebuild with default features to collect"
        )
    }
}
