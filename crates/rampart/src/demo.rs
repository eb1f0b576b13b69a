//! `rampart demo`: the scanner on the bundled examples, with every verdict
//! checked against `examples/expected.json`.

use crate::common::load_policy;
use anyhow::Result;
use rampart_core::{render, Severity};
use rampart_scan::expect::Expectations;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

fn examples_dir(dir: Option<PathBuf>) -> Result<PathBuf> {
    let built = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let mut found = ["examples", built].map(PathBuf::from).into_iter();
    let found = found.find(|d| d.join("expected.json").is_file());
    dir.or(found).ok_or_else(|| anyhow::anyhow!("no examples folder: run from the repository root, or pass --dir PATH (a folder with expected.json)"))
}

/// Runs one command line (its arguments after `rampart`).
pub type Command<'a> = &'a dyn Fn(&[&str]) -> Result<ExitCode>;

pub fn run(dir: Option<PathBuf>, command: Command) -> Result<ExitCode> {
    let dir = examples_dir(dir)?;
    let expectations = Expectations::load(&dir.join("expected.json"))?;
    let policy = load_policy(None)?;
    let paths = std::slice::from_ref(&dir);
    let mut report =
        crate::progress::with_bar(true, |bar| rampart_gate::scan_report(paths, &policy, bar))?;
    // The expectations file describes the samples; it is not one.
    report
        .findings
        .retain(|f| !f.location.path.ends_with("expected.json"));
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    print!("{}", render::table(&report, Severity::Medium, color));
    let mismatches = expectations.check(&dir, &report);
    print!("{}", expectations.summary(&dir, &report, &mismatches));
    if mismatches.is_empty() {
        pipeline(&dir, command)?;
    }
    Ok(crate::common::verdict(mismatches.is_empty()))
}

const DEMO_POLICY: &str = include_str!("demo.toml");

/// The whole pipeline on a demo project made from the examples: a signed
/// model folder and an incoming GGUF with an injected chat template, a
/// ledger, `rampart run`, an HTML report and admission checks.
fn pipeline(examples: &std::path::Path, command: Command) -> Result<()> {
    use anyhow::Context;
    let examples = examples.canonicalize()?;
    let project = std::env::temp_dir().join("rampart-demo");
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(project.join("model"))?;
    std::fs::create_dir_all(project.join("incoming"))?;
    for (from, to) in [
        ("benign/keras/dense.keras", "model/dense.keras"),
        ("benign/onnx/classifier.onnx", "model/classifier.onnx"),
        (
            "benign/templates/tokenizer_config.json",
            "model/tokenizer_config.json",
        ),
        (
            "malicious/gguf/ssti_chat_template.gguf",
            "incoming/chat.gguf",
        ),
    ] {
        std::fs::copy(examples.join(from), project.join(to))
            .with_context(|| format!("cannot copy {from}"))?;
    }
    std::env::set_current_dir(&project)?;
    std::fs::write("rampart.toml", DEMO_POLICY)?;
    println!("\n== pipeline demo in {} ==", project.display());
    // The commands a user would type, in order.
    for line in [
        "ledger init",
        "keygen release",
        "sign model --key release.key",
        "run --keep-going --format html --output report.html",
        "check model --require verify,scan",
        "check incoming --require verify,scan",
    ] {
        println!("$ rampart {line}");
        command(&line.split(' ').collect::<Vec<_>>())?;
    }
    println!(
        "report: {}\nledger: {}",
        project.join("report.html").display(),
        project.join(".rampart/ledger.db").display()
    );
    println!("(incoming/ fails its stage and is refused admission, as it should: its chat template is injected.)");
    Ok(())
}
