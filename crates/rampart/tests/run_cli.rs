//! `rampart run` and `rampart check`: pipelines from rampart.toml, their
//! reports for CI, and admission by evidence.

#![cfg(test)]

use std::path::Path;
use std::process::{Command, Output};

fn rampart(args: &[&str], cwd: &Path) -> Output {
    run_env(cwd, args, &[])
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    run_env(dir, args, &[])
}

fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A small table with personal data.
const PEOPLE: &str = "id,name,email,dob,card,notes\n\
1,Mary Johnson,mary@example.com,1985-03-12,4111 1111 1111 1111,call 020 7946 0958\n\
2,Rahul Sharma,rahul@example.in,12/03/1990,5555555555554444,SSN 078-05-1120\n";

/// A CSV in Windows-1252 (not UTF-8).
fn cp1252_csv() -> Vec<u8> {
    let mut b = b"id,name,note\n1,Jos\xe9 M\xfcller,see jose@example.com\n".to_vec();
    b.extend_from_slice(b"2,Ana,\x93quoted\x94 text\n");
    b
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The JSON output of a run that found something (exit 1).
fn findings_json(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_pipeline_runs_stages_in_order_and_reports_for_ci() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(&["ledger", "init"], p).status.success());
    std::fs::create_dir_all(p.join("model")).unwrap();
    std::fs::write(p.join("model/config.json"), b"{}").unwrap();
    std::fs::write(p.join("extra.pkl"), b"cos\nsystem\n(S'echo'\ntR.").unwrap();
    assert!(rampart(&["keygen", "k"], p).status.success());
    assert!(rampart(&["sign", "model", "--key", "k.key"], p)
        .status
        .success());
    std::fs::write(
        p.join("rampart.toml"),
        "[[stage]]\nname = \"model\"\n[[stage.gate]]\ngate = \"verify\"\ninputs = [\"model\"]\nkey = \"k.pub\"\n\
         [[stage.gate]]\ngate = \"scan\"\ninputs = [\"model\"]\n\
         [[stage]]\nname = \"extras\"\n[[stage.gate]]\ngate = \"scan\"\ninputs = [\"extra.pkl\"]\n\
         [[stage]]\nname = \"deploy\"\n[[stage.gate]]\ngate = \"scan\"\ninputs = [\"model\"]\n",
    )
    .unwrap();
    let o = rampart(&["run", "--format", "json"], p);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let stages: Vec<(&str, bool)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["passed"].as_bool().unwrap()))
        .collect();
    // Stops at the first failing stage.
    assert_eq!(stages, vec![("model", true), ("extras", false)]);
    assert!(v[0]["gates"][0]["ledger_index"].is_u64());

    let all = rampart(
        &["run", "--keep-going", "--format", "junit", "-o", "r.xml"],
        p,
    );
    assert_eq!(all.status.code(), Some(1));
    let xml = std::fs::read_to_string(p.join("r.xml")).unwrap();
    assert!(
        xml.contains("<testsuite name=\"deploy\" tests=\"1\" failures=\"0\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=") && xml.contains("PICKLE-EXEC"),
        "{xml}"
    );

    assert!(
        rampart(&["run", "model", "--format", "html", "-o", "r.html"], p)
            .status
            .success()
    );
    let html = std::fs::read_to_string(p.join("r.html")).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>") && !html.contains("http"),
        "self-contained: {html}"
    );

    let unknown = rampart(&["run", "nope"], p);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown).contains("no stage \"nope\""),
        "{}",
        text(&unknown)
    );
    std::fs::write(
        p.join("bad.toml"),
        "[[stage]]\nname = \"x\"\n[[stage.gate]]\ngate = \"deploy\"\ninputs = []\n",
    )
    .unwrap();
    let bad = rampart(&["run", "--config", "bad.toml"], p);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("line 4"), "{}", text(&bad));
}

#[test]
fn init_then_admission_with_check() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(rampart(&["init"], p).status.success());
    assert!(p.join("rampart.toml").is_file() && p.join(".rampart/attest.key").is_file());
    assert_eq!(
        rampart(&["init"], p).status.code(),
        Some(2),
        "init never overwrites"
    );
    std::fs::create_dir_all(p.join("model")).unwrap();
    std::fs::write(p.join("model/config.json"), b"{}").unwrap();
    let refused = rampart(&["check", "model"], p);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("no scan attestation"),
        "{}",
        text(&refused)
    );
    // The starter pipeline scans model/ and checkpoints the ledger.
    assert!(rampart(&["run"], p).status.success());
    let ok = rampart(&["check", "model"], p);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).starts_with("ADMITTED"), "{}", text(&ok));
    let more = rampart(&["check", "model", "--require", "scan,verify"], p);
    assert_eq!(more.status.code(), Some(1));
    assert!(
        text(&more).contains("no verify attestation"),
        "{}",
        text(&more)
    );
    // Another artifact (one byte changed) has no evidence.
    std::fs::write(p.join("model/config.json"), b"{ }").unwrap();
    assert_eq!(rampart(&["check", "model"], p).status.code(), Some(1));
}

#[test]
fn the_pii_gate_fails_on_unread_records_and_admission_refuses() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(run_in(p, &["init"]).status.success());
    std::fs::write(p.join("train.csv"), cp1252_csv()).unwrap();
    std::fs::write(
        p.join("rampart.toml"),
        "[[stage]]\nname = \"data\"\n[[stage.gate]]\ngate = \"pii\"\ninputs = [\"train.csv\"]\n\n[admission]\nrequire = [\"pii\"]\n",
    )
    .unwrap();
    let o = run_in(p, &["run"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("DATA-UNREAD"), "{out}");
    let o = run_in(p, &["check", "train.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("REFUSED"));
    // --require takes the names rampart.toml uses, and the names
    // `rampart evidence` shows; anything else is refused with the list.
    let o = run_in(p, &["check", "train.csv", "--require", "pii"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run_in(p, &["check", "train.csv", "--require", "pii-scan"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run_in(p, &["check", "train.csv", "--require", "pii_scan"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("pii, risk"), "{}", stderr(&o));
    // A gate may accept reading only part of its input, as the command
    // does; its evidence then counts the records skipped, and admission
    // refuses it.
    std::fs::write(
        p.join("rampart.toml"),
        "[[stage]]\nname = \"data\"\n[[stage.gate]]\ngate = \"pii\"\ninputs = [\"train.csv\"]\nbad_input = \"skip\"\n\n[admission]\nrequire = [\"pii\"]\n",
    )
    .unwrap();
    let o = run_in(p, &["run"]);
    assert!(!stdout(&o).contains("DATA-UNREAD"), "{}", stdout(&o));
    let o = run_in(p, &["check", "train.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("skipped unread") || stdout(&o).contains("failed"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn admission_judges_evidence_by_its_own_threshold() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(run_in(p, &["init"]).status.success());
    std::fs::create_dir(p.join("model")).unwrap();
    // A global outside the allowlist: a medium finding.
    std::fs::write(
        p.join("model/m.pkl"),
        b"\x80\x02cmypkg.layers\nCustom\nq\x00)\x81q\x01.",
    )
    .unwrap();
    std::fs::write(
        p.join("rampart.toml"),
        "fail_on = \"medium\"\n[admission]\nrequire = [\"scan\"]\n",
    )
    .unwrap();
    assert_eq!(run_in(p, &["scan", "model"]).status.code(), Some(1));
    // The laxer run passes by its own lights...
    assert_eq!(
        run_in(p, &["scan", "model", "--fail-on", "critical"])
            .status
            .code(),
        Some(0)
    );
    assert!(run_in(p, &["ledger", "checkpoint"]).status.success());
    // ...but not by admission's.
    let o = run_in(p, &["check", "model"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("1 medium") && out.contains("fail_on critical"),
        "{out}"
    );
    // Admission that accepts medium admits the same evidence.
    std::fs::write(
        p.join("rampart.toml"),
        "fail_on = \"medium\"\n[admission]\nrequire = [\"scan\"]\nfail_on = \"high\"\n",
    )
    .unwrap();
    let o = run_in(p, &["check", "model"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn a_pipeline_stage_that_checks_nothing_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    for (policy, says) in [
        ("[[stage]]\nname = \"data\"\n", "has no [[stage.gate]]"),
        (
            "[[stage]]\nname = \"data\"\n[[stage.gate]]\ngate = \"pii\"\ninputs = []\n",
            "`inputs = []`",
        ),
    ] {
        std::fs::write(p.join("rampart.toml"), policy).unwrap();
        let o = run_in(p, &["run"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
    }
    // No policy at all: say how to make one.
    std::fs::remove_file(p.join("rampart.toml")).unwrap();
    let o = run_in(p, &["run"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no rampart.toml here or in a parent folder: run `rampart init`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_gate_that_cannot_run_fails_and_the_report_is_still_written() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("legacy.csv"), cp1252_csv()).unwrap();
    std::fs::write(
        p.join("rampart.toml"),
        "[[stage]]\nname = \"data\"\n[[stage.gate]]\ngate = \"pii\"\ninputs = [\"missing.csv\"]\n\n[[stage]]\nname = \"legacy\"\n[[stage.gate]]\ngate = \"pii\"\ninputs = [\"legacy.csv\"]\nencoding = \"cp1252\"\n",
    )
    .unwrap();
    // Before: the missing input aborted the run (exit 2) and --keep-going
    // wrote no report.
    let o = run_in(
        p,
        &["run", "--keep-going", "--format", "junit", "-o", "r.xml"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let report = std::fs::read_to_string(p.join("r.xml")).unwrap();
    assert!(report.contains("missing.csv"), "{report}");
    // The cp1252 export is read with the gate's encoding: its e-mail
    // address is found, so that stage fails on personal data, not on
    // unread records.
    assert!(report.contains("EMAIL_ADDRESS"), "{report}");
    assert!(!report.contains("could not be read"), "{report}");
}

#[test]
fn pipeline_gates_for_personal_data_and_reidentification_risk() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("people.csv"), PEOPLE).unwrap();
    std::fs::write(p.join("clean.csv"), "age,sex\n30,F\n30,F\n").unwrap();
    std::fs::write(
        p.join("rampart.toml"),
        "[[stage]]\nname = \"data\"\n\
         [[stage.gate]]\ngate = \"pii\"\ninputs = [\"clean.csv\"]\n\
         [[stage.gate]]\ngate = \"risk\"\ninputs = [\"clean.csv\"]\nquasi = [\"age\", \"sex\"]\nmin_k = 2\n\
         [[stage]]\nname = \"raw\"\n\
         [[stage.gate]]\ngate = \"pii\"\ninputs = [\"people.csv\"]\n\
         [[stage.gate]]\ngate = \"risk\"\ninputs = [\"clean.csv\"]\nquasi = [\"age\", \"sex\"]\nmin_k = 3\n",
    )
    .unwrap();
    let o = run_env(p, &["run", "data", "--format", "json"], &[]);
    assert!(
        o.status.success(),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run_env(p, &["run", "raw", "--keep-going", "--format", "json"], &[]);
    let v = findings_json(&o);
    let gates = &v[0]["gates"];
    assert_eq!(
        (gates[0]["gate"].as_str(), gates[0]["passed"].as_bool()),
        (Some("pii-scan"), Some(false))
    );
    assert_eq!(
        (gates[1]["gate"].as_str(), gates[1]["passed"].as_bool()),
        (Some("reid-risk"), Some(false))
    );
    assert!(
        gates[1]["summary"]
            .as_str()
            .unwrap()
            .contains("k = 2 (minimum 3)"),
        "{gates}"
    );
}

/// `run -o` never writes over the policy or anything a gate reads, and a
/// run from a subfolder records in the project's ledger above it.
#[test]
fn run_output_spares_inputs_and_subfolders_find_the_ledger() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::create_dir(p.join("model")).unwrap();
    std::fs::write(p.join("model/w.safetensors"), b"not a model").unwrap();
    std::fs::write(
        p.join("rampart.toml"),
        "[[stage]]\nname = \"m\"\n[[stage.gate]]\ngate = \"scan\"\ninputs = [\"model\"]\n",
    )
    .unwrap();
    assert!(rampart(&["ledger", "init"], p).status.success());
    for target in ["rampart.toml", "model/w.safetensors"] {
        let o = rampart(&["run", "--format", "json", "-o", target], p);
        assert_eq!(o.status.code(), Some(2), "{target}: {}", text(&o));
        assert!(text(&o).contains("the input"), "{}", text(&o));
    }
    // A new report beside what it checks is fine.
    let o = rampart(&["run", "--format", "json", "-o", "model/report.json"], p);
    assert_ne!(o.status.code(), Some(2), "{}", text(&o));
    assert!(p.join("model/report.json").is_file());
    std::fs::remove_file(p.join("model/report.json")).unwrap();
    assert!(std::fs::read_to_string(p.join("rampart.toml"))
        .unwrap()
        .starts_with("[[stage]]"));
    assert_eq!(
        std::fs::read(p.join("model/w.safetensors")).unwrap(),
        b"not a model"
    );
    std::fs::create_dir(p.join("sub")).unwrap();
    // (The run above recorded entry 0.)
    let o = rampart(&["run", "--keep-going"], &p.join("sub"));
    assert!(text(&o).contains("[ledger 1]"), "{}", text(&o));
    // `check` takes the names attestations carry as well as the gates'.
    let o = rampart(&["check", "model", "--require", "scan,pii-scan"], p);
    assert!(text(&o).contains("no pii attestation"), "{}", text(&o));
}
