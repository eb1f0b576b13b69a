//! `rampart scan` and `rampart rules`.

use crate::common::{emit, load_policy, record};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use rampart_core::{render, Severity};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  rampart scan model.pt
  rampart scan ./checkpoints --format sarif --output scan.sarif
  rampart scan model.pkl --fail-on high --format json
  rampart rules PICKLE-EXEC          explain a finding

Exit codes:
  0  nothing at or above the failing severity (--fail-on, default medium)
  1  findings at or above it
  2  usage, I/O or internal error (a file that cannot be read, a bad policy)";

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files, folders or archives to scan.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also list every file and archive member examined: its format (from
    /// the content), size and tensor count where a header gives it. In the
    /// table before the findings, in JSON as `inventory`.
    #[arg(long)]
    inventory: bool,
    /// Record a signed attestation of this run in the ledger in DIR
    /// [default: .rampart when it holds a ledger].
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the report to FILE (atomically: the file is whole or absent).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Fail (exit 1) on findings at or above this severity [default: the
    /// policy's fail_on, else medium].
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Policy file [default: rampart.toml in the current folder or the
    /// nearest parent].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Colour in the table: auto (when stdout is a terminal), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Format {
    Table,
    Json,
    Sarif,
}

/// A table for people, or JSON.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum TableOrJson {
    Table,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub fn scan(args: &ScanArgs) -> Result<ExitCode> {
    let out = &args.out;
    if let Some(o) = &out.output {
        rampart_core::check_output(o, &args.paths)?;
    }
    let policy = load_policy(out.config.as_deref())?;
    let project = crate::common::project(args.ledger.as_deref())?;
    let gate = rampart_gate::Scan {
        inputs: args.paths.clone(),
        fail_on: out.fail_on,
    };
    let mut outcome = crate::progress::run_gate(&gate, &policy, !out.quiet)?;
    let rampart_gate::Report::Scan { report, fail_on } = &mut outcome.report else {
        bail!("the scan gate gave no scan report");
    };
    let fail_on = *fail_on;
    if !args.inventory {
        report.inventory.clear();
    }
    let color = match out.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            out.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let text = match out.format {
        Format::Table => render::table(report, fail_on, color),
        Format::Json => render::json(report, fail_on),
        Format::Sarif => render::sarif(report, &rampart_gate::catalog()),
    };
    emit(&text, out.output.as_deref())?;
    // Inputs that could not be read make the gate an error (2), after the
    // report of everything that could be read has been written.
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    let code = if !report.errors.is_empty() {
        ExitCode::from(2)
    } else {
        crate::common::verdict(!report.fails(fail_on))
    };
    let policy_sha256 = rampart_gate::policy_digest(&policy);
    // The report is written: a run that cannot be attested (an input
    // that cannot be hashed) says so and is an error, without a second
    // document on stdout.
    if let Err(e) = record(project.as_ref(), &outcome, &policy_sha256) {
        eprintln!(
            "error: not attested: {}",
            rampart_gate::pipeline::chain(e.as_ref())
        );
        return Ok(ExitCode::from(2));
    }
    Ok(code)
}

pub fn rules(id: Option<&str>, format: TableOrJson, short: bool) -> Result<ExitCode> {
    let cat = rampart_gate::catalog();
    let selected: Vec<&rampart_core::Rule> = match id {
        Some(id) => vec![cat.lookup(id).map_err(anyhow::Error::msg)?],
        None => cat.all().iter().collect(),
    };
    let text = match format {
        TableOrJson::Json => serde_json::to_string_pretty(&selected)? + "\n",
        TableOrJson::Table if short => render::rules_short(&selected),
        TableOrJson::Table => render::rules_long(&selected),
    };
    emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}
