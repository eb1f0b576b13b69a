//! `rampart eval`: a model measured on its evaluation data, judged, and
//! attested about both.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  rampart eval model.onnx --data test.csv --label income --classes '<=50K,>50K'
  rampart eval model.onnx --data test.parquet --label y --min accuracy=0.85 --max log_loss=0.4
  rampart eval model.onnx --data test.csv --label y --sensitive sex,race \\
      --max demographic_parity_difference=0.1 --four-fifths --json
  rampart eval model.onnx --data test.csv --label y --predictions preds.parquet
  rampart eval model.onnx --data test.csv --label y --attack tabular,hopskipjump \\
      --immutable age,sex --max tabular_success_rate=0.2 --emit-adversarial adv.parquet
  rampart eval cnn.onnx --data digits.parquet --label digit --bounds 0,1 \\
      --attack simba,square --epsilon 0.05 --queries 500

Measures (--min / --max):
  accuracy balanced_accuracy precision_macro recall_macro f1_macro
  precision_weighted recall_weighted f1_weighted roc_auc average_precision
  log_loss brier_score expected_calibration_error
  mean_absolute_error root_mean_squared_error r2
  demographic_parity_difference demographic_parity_ratio
  equalized_odds_difference equalized_odds_difference_mean
  equalized_odds_ratio equalized_odds_ratio_mean
  equal_opportunity_difference equal_opportunity_ratio disparate_impact
  hopskipjump_success_rate simba_success_rate square_success_rate
  boundary_success_rate tabular_success_rate

Attacks (--attack; black box, seeded by --seed, --queries per row):
  hopskipjump  decisions only, L2 (Chen et al. 2020)
  boundary     decisions only, L2 (Brendel et al. 2018)
  simba        probabilities, one feature at a time by --epsilon (Guo et al. 2019)
  square       probabilities, L-infinity within --epsilon (Andriushchenko et al. 2020)
  tabular      the data's own terms: ranges, whole numbers, --categorical values,
               --immutable columns untouched

Exit codes:
  0  every threshold met (or none given: measured, nothing recorded)
  1  a threshold failed, or the data's records could not be read
  2  it could not run: a model tract cannot run (the operator is named),
     columns that do not fit the model, a locked evaluation set that is
     another file, a bad flag";

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    command: Option<EvalCommand>,
    // The gate's own arguments, flattened here (not inside another
    // struct) so that clap can tell whether they were given.
    #[command(flatten)]
    gate: Option<rampart_gate::Eval>,
    /// Write every row's prediction (and class probabilities) beside its
    /// truth and line, as Parquet. Written whole or not at all.
    #[arg(long, value_name = "OUT.parquet")]
    predictions: Option<PathBuf>,
    /// Write the successful adversarial rows of the attacks as Parquet:
    /// the dataset's columns with the adversarial feature values and the
    /// true labels, plus source_row and attack. Ready to be mixed into
    /// training (drop the two added columns). Needs --attack.
    #[arg(long, value_name = "OUT.parquet")]
    emit_adversarial: Option<PathBuf>,
    /// Write the report as one HTML page: the metrics, the thresholds,
    /// and inline SVG plots (calibration curve, selection rate by group,
    /// perturbation histograms). No external assets.
    #[arg(long, value_name = "OUT.html")]
    html: Option<PathBuf>,
    #[command(flatten)]
    attacking: rampart_gate::Attacking,
    #[command(flatten)]
    common: Reading,
}

#[derive(clap::Subcommand, Debug)]
enum EvalCommand {
    /// Has the new version regressed? Both models on the same rows,
    /// compared by the paired bootstrap, overall and per slice; exit 1
    /// naming each metric and slice where the new one is worse than the
    /// old by more than --margin with confidence.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(CompareArgs),
}

pub const COMPARE_EXAMPLES: &str = "\
Examples:
  rampart eval compare new.onnx old.onnx --data test.csv --label y
  rampart eval compare new.onnx old.onnx --data test.csv --label income \\
      --classes '<=50K,>50K' --slice sex,race --bins age=4 --margin 0.01

Exit codes:
  0  no regression, overall or on any slice judged
  1  a regression (each named), or the data's records could not be read
  2  it could not run: a model tract cannot run, models of different tasks";

#[derive(Args, Debug)]
struct CompareArgs {
    #[command(flatten)]
    gate: rampart_gate::Compare,
    #[command(flatten)]
    common: Reading,
}

/// How the data is read, and where the result goes.
#[derive(Args, Debug)]
struct Reading {
    /// Records that cannot be read: reject (read on, then fail naming
    /// them), skip (accept them, counted), fail (stop at the first).
    #[arg(long, value_enum)]
    bad_input: Option<rampart_table::BadInput>,
    /// The text encoding of the data when it is not UTF-8.
    #[arg(long, value_name = "LABEL")]
    encoding: Option<String>,
    /// Print the report as JSON on stdout, for machines.
    #[arg(long)]
    json: bool,
    /// Ledger folder to record the attestation in [default: .rampart
    /// when it holds a ledger].
    #[arg(long)]
    ledger: Option<PathBuf>,
}

impl Reading {
    fn reading(&self) -> Result<rampart_dataset::Reading> {
        Ok(rampart_dataset::Reading::default().with_flags(
            self.bad_input,
            self.encoding.as_deref(),
            None,
        )?)
    }
}

pub fn run(a: EvalArgs) -> Result<ExitCode> {
    match (a.command, a.gate) {
        (Some(EvalCommand::Compare(c)), _) => compare(c),
        (None, Some(mut gate)) => {
            gate.attacking = a.attacking;
            let outputs = Outputs {
                predictions: a.predictions,
                emit: a.emit_adversarial,
                html: a.html,
            };
            evaluate(gate, outputs, &a.common)
        }
        (None, None) => anyhow::bail!(
            "name a model: rampart eval MODEL.onnx --data TEST --label COLUMN (see rampart eval --help)"
        ),
    }
}

fn compare(mut a: CompareArgs) -> Result<ExitCode> {
    use rampart_gate::Gate;
    a.gate.reading = a.common.reading()?;
    let project = crate::common::project(a.common.ledger.as_deref())?;
    let watch = crate::progress::Watch::default();
    let ctx = rampart_gate::Context {
        policy: &rampart_core::Policy::default(),
        progress: &rampart_core::NoProgress,
        watch: &watch,
    };
    let started = rampart_evidence::Started::now();
    let outcome = match a.gate.run(&ctx) {
        Err(e) if e.is_unread() => {
            let outcome = rampart_gate::unread(&a.gate, &e, started);
            crate::common::record(project.as_ref(), &outcome, "default")?;
            return Err(e.into());
        }
        r => r?,
    };
    crate::common::record(project.as_ref(), &outcome, "default")?;
    print(&outcome, a.common.json)?;
    Ok(crate::common::verdict(outcome.passed))
}

/// The report on stdout (JSON or text), the findings on stderr.
fn print(outcome: &rampart_gate::Outcome, json: bool) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json && outcome.report.write_json(&mut out)? {
        writeln!(out)?;
    } else {
        write!(out, "{}", outcome.report.text())?;
    }
    out.flush()?;
    for f in &outcome.findings {
        eprintln!("{}: {} {}", f.severity, f.rule, f.message);
    }
    Ok(())
}

/// Files an evaluation writes besides its report.
struct Outputs {
    predictions: Option<PathBuf>,
    emit: Option<PathBuf>,
    html: Option<PathBuf>,
}

fn evaluate(mut gate: rampart_gate::Eval, out: Outputs, common: &Reading) -> Result<ExitCode> {
    let Outputs {
        predictions,
        emit,
        html,
    } = out;
    gate.reading = common.reading()?;
    // Parquet is what these write: a .csv name would hide that.
    for (flag, p) in [
        ("--predictions", &predictions),
        ("--emit-adversarial", &emit),
    ] {
        if let Some(p) = p.as_ref().filter(|p| {
            !p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        }) {
            anyhow::bail!(
                "{flag} {}: writes Parquet; name the file .parquet (convert afterwards if CSV is needed)",
                p.display()
            );
        }
    }
    let written: Vec<&PathBuf> = predictions.iter().chain(&emit).chain(&html).collect();
    for (i, p) in written.iter().enumerate() {
        rampart_core::check_output(p, &[gate.model.clone(), gate.data.clone()])?;
        if written.iter().skip(i + 1).any(|q| q == p) {
            anyhow::bail!("two outputs name the same file {}", p.display());
        }
    }
    if emit.is_some() && gate.options().attacks.is_none() {
        anyhow::bail!(
            "--emit-adversarial writes what attacks found: name them with --attack (as --attack tabular)"
        );
    }
    let judged = !gate.thresholds().is_empty() || gate.four_fifths || gate.train.is_some();
    let project = if judged {
        crate::common::project(common.ledger.as_deref())?
    } else {
        None
    };
    let started = rampart_evidence::Started::now();
    let watch = crate::progress::Watch::default();
    let run = match gate.evaluate(&watch) {
        Err(e) if e.is_unread() => {
            let outcome = rampart_gate::unread(&gate, &e, started);
            crate::common::record(project.as_ref(), &outcome, "default")?;
            return Err(e.into());
        }
        r => r?,
    };
    if let Some(p) = &predictions {
        rampart_eval::predictions::write(&run.evaluation, p)?;
        eprintln!(
            "predictions: {} rows -> {}",
            run.evaluation.rows,
            p.display()
        );
    }
    if let Some(p) = &emit {
        let n = rampart_eval::adversarial::write(&run.evaluation, &gate.reading.options(None), p)?;
        eprintln!("adversarial rows: {n} -> {}", p.display());
    }
    if let Some(p) = &html {
        let page = rampart_gate::render::page(
            "Rampart evaluation report",
            &rampart_gate::eval_html::section(&run),
        );
        rampart_core::write_atomic(p, page.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
        eprintln!("report: {}", p.display());
    }
    let outcome = gate.outcome(run, started);
    if judged {
        crate::common::record(project.as_ref(), &outcome, "default")?;
        if project.is_none() {
            eprintln!("no ledger here (.rampart, or --ledger DIR): judged, not recorded; `rampart init` makes one");
        }
    } else {
        eprintln!(
            "no thresholds (--min, --max, --four-fifths, --train): measured, not judged, nothing recorded"
        );
    }
    print(&outcome, common.json)?;
    Ok(crate::common::verdict(outcome.passed))
}
