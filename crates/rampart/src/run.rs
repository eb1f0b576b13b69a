//! `rampart run [STAGE...]`: the pipeline of `rampart.toml`, each gate
//! attested in the ledger when there is one.

use crate::common::{emit, load_policy};
use anyhow::Result;
use clap::{Args, ValueEnum};
use rampart_core::GateKind;
use rampart_gate::pipeline::{self, GateResult, Observer};
use rampart_gate::render;
use std::cell::RefCell;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum RunFormat {
    Table,
    Json,
    Junit,
    Html,
    Sarif,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Stages to run, in the policy's order [default: all].
    stages: Vec<String>,
    /// Run later stages even after one fails.
    #[arg(long)]
    keep_going: bool,
    /// The report's format: a table for people, JSON, JUnit XML for CI
    /// test views, a self-contained HTML page, or SARIF 2.1.0.
    #[arg(long, short, value_enum, default_value_t = RunFormat::Table)]
    format: RunFormat,
    /// Write the report to FILE (atomically).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Policy file [default: rampart.toml here or in a parent folder].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// A spinner while each gate runs; each gate's line on stderr as it ends
/// when the report goes elsewhere than a table on stdout.
struct Shown {
    live: bool,
    spinner: RefCell<Option<indicatif::ProgressBar>>,
}

impl Observer for Shown {
    fn gate_started(&self, stage: &str, gate: GateKind) {
        let s = crate::progress::spinner(&format!("{stage} / {gate:?} gate"));
        self.spinner.replace(Some(s));
    }

    fn gate_finished(&self, stage: &str, r: &GateResult) {
        if let Some(s) = self.spinner.take() {
            s.finish_and_clear();
        }
        if self.live {
            eprintln!(
                "{:<5} {stage} / {} {}: {}",
                if r.passed { "ok" } else { "FAIL" },
                r.gate,
                r.inputs.join(" "),
                r.summary
            );
        }
    }
}

pub fn run(a: &RunArgs) -> Result<ExitCode> {
    let policy = load_policy(a.config.as_deref())?;
    if let Some(o) = &a.output {
        rampart_core::check_output(o, &pipeline::reads(&policy))?;
    }
    let project = rampart_evidence::Project::find(None);
    let shown = Shown {
        live: a.output.is_some() || a.format != RunFormat::Table,
        spinner: RefCell::new(None),
    };
    let results = pipeline::run(
        &pipeline::Run {
            policy: &policy,
            stages: &a.stages,
            keep_going: a.keep_going,
            project: project.as_ref(),
        },
        &shown,
    )?;
    if let Some(stage) = &results.stopped_at {
        eprintln!("stage {stage} failed; later stages not run (--keep-going runs them)");
    }
    if let (Some(size), Some(p)) = (results.checkpoint, &project) {
        eprintln!(
            "ledger checkpoint signed at size {size} ({})",
            p.dir().display()
        );
    }
    let stages = &results.stages;
    let text = match a.format {
        RunFormat::Table => render::table(stages),
        RunFormat::Json => render::json(stages)?,
        RunFormat::Junit => render::junit(stages),
        RunFormat::Html => render::html(stages),
        RunFormat::Sarif => render::sarif(stages),
    };
    emit(&text, a.output.as_deref())?;
    Ok(if results.errors > 0 {
        eprintln!(
            "{} gate(s) could not run (exit 2): see their summaries",
            results.errors
        );
        ExitCode::from(2)
    } else {
        crate::common::verdict(results.passed())
    })
}
