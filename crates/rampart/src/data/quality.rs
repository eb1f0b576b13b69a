//! `rampart data risk | profile | suggest | validate`.

use super::{settings, warn, Masking, ProfileArgs, RiskArgs, SuggestArgs, ValidateArgs};
use crate::common::{print_json, record, record_details, verdict};
use anyhow::{bail, Context, Result};
use rampart_dataset::skipped_note;
use rampart_gate::{Context as GateContext, Gate, Report};
use std::process::ExitCode;

pub(super) fn risk(a: &RiskArgs) -> Result<ExitCode> {
    let watch = crate::progress::Watch::default();
    let gate = rampart_gate::RiskCheck {
        path: a.path.clone(),
        quasi: a.quasi.clone(),
        sensitive: a.sensitive.clone(),
        min_k: a.k,
        min_l: a.l,
        max_rows: a.max_rows,
        reading: a.common.reading()?,
    };
    let ctx = GateContext {
        policy: &rampart_core::Policy::default(),
        progress: &rampart_core::NoProgress,
        watch: &watch,
    };
    let outcome = gate.run(&ctx)?;
    let Report::Risk(r) = &outcome.report else {
        bail!("the risk gate gave no report");
    };
    if a.json {
        print_json(r)?;
    } else {
        print_risk(r);
    }
    record(a.common.ledger(), &outcome, "default")?;
    Ok(verdict(r.passed))
}

fn print_risk(r: &rampart_dataset::risk::Report) {
    println!(
        "{}: {} rows in {} classes over {}{}",
        r.file,
        r.rows,
        r.classes,
        r.quasi_identifiers.join(", "),
        skipped_note(r.skipped)
    );
    println!(
        "k-anonymity: k = {} (minimum {}); {} classes and {} rows ({:.1}%) below it",
        r.k,
        r.min_k,
        r.classes_below_k,
        r.rows_below_k,
        r.share_below_k * 100.0
    );
    if let Some(s) = &r.sensitive {
        println!(
            "l-diversity of {s}: l = {} (minimum {}); {} classes below it",
            r.l.unwrap_or(0),
            r.min_l.unwrap_or(0),
            r.classes_below_l.unwrap_or(0)
        );
    }
    if !r.rows_at_risk.is_empty() {
        let list: Vec<String> = r.rows_at_risk.iter().map(u64::to_string).collect();
        println!(
            "rows at risk (line numbers, first {}): {}",
            list.len(),
            list.join(", ")
        );
    }
    println!("{}", if r.passed { "PASS" } else { "FAIL" });
}

pub(super) fn profile(a: &ProfileArgs) -> Result<ExitCode> {
    let started = rampart_evidence::Started::now();
    crate::output::check(&a.output, &a.paths)?;
    let s = settings(&a.masking, &a.common)?;
    let watch = crate::progress::Watch::default();
    let mut profile = rampart_profile::Profile::default();
    for path in &a.paths {
        let other = if a.merge {
            rampart_dataset::profile::read_for_merge(path)?
        } else {
            let p = rampart_dataset::profile::of_dataset(path, &s.reading, &watch)?;
            warn(&p.warnings);
            p.profile
        };
        profile
            .merge(&other)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    if !a.keep_personal_data {
        rampart_dataset::profile::mask(&mut profile, s.masking.threshold);
    }
    let (mut text, summary) = profile.to_json_text()?;
    text.push('\n');
    rampart_core::write_atomic(&a.output, text.as_bytes())
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    println!(
        "{} rows, {} columns -> {}",
        profile.rows,
        profile.columns.len(),
        a.output.display()
    );
    println!(
        "{:<24} {:<8} {:>7} {:>10} {:>12} {:>12} {:>12}",
        "column", "type", "null%", "distinct", "min", "max", "mean"
    );
    for c in &summary {
        let num = |k: &str| c[k].as_f64().map_or("-".to_string(), |x| format!("{x:.4}"));
        println!(
            "{:<24} {:<8} {:>6.1}% {:>10} {:>12} {:>12} {:>12}",
            c["name"].as_str().unwrap_or(""),
            c["type"].as_str().unwrap_or(""),
            c["null_share"].as_f64().unwrap_or(0.0) * 100.0,
            c["distinct"],
            num("min"),
            num("max"),
            num("mean")
        );
    }
    let details = serde_json::json!({
        "rows": profile.rows,
        "columns": profile.columns.len(),
        "merged": a.merge,
        "profile_sha256": rampart_evidence::sha256_hex(text.as_bytes()),
    });
    let mut inputs = a.paths.clone();
    inputs.push(a.output.clone());
    let (ledger, policy) = (a.common.ledger(), &s.policy_sha256);
    record_details(
        ledger,
        "data-profile",
        &inputs,
        true,
        policy,
        started,
        details,
    )
    .map(|()| ExitCode::SUCCESS)
}

pub(super) fn suggest(a: &SuggestArgs) -> Result<ExitCode> {
    crate::output::check_new(&a.output, std::slice::from_ref(&a.path))?;
    let s = settings(&a.masking, &a.common)?;
    let watch = crate::progress::Watch::default();
    let p = rampart_dataset::profile::of_path(&a.path, &s.reading, &watch)?;
    warn(&p.warnings);
    let mut profile = p.profile;
    if !a.keep_personal_data {
        rampart_dataset::profile::mask(&mut profile, s.masking.threshold);
    }
    let e = rampart_profile::expect::suggest(&mut profile);
    let text = format!(
        "# Expectations suggested by `rampart data suggest` from {} ({} rows).\n\
         # Edit them, then check data with `rampart data validate PATH --expect FILE`.\n{}",
        a.path.display(),
        profile.rows,
        toml::to_string(&e)?
    );
    rampart_core::write_new(&a.output, text.as_bytes(), 0o644)?;
    println!(
        "{} expectations on {} columns -> {}",
        e.expect.len(),
        e.columns.len(),
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn validate(a: &ValidateArgs) -> Result<ExitCode> {
    let started = rampart_evidence::Started::now();
    let s = settings(&Masking::default(), &a.common)?;
    let text = std::fs::read_to_string(&a.expect)
        .with_context(|| format!("cannot read {}", a.expect.display()))?;
    let expectations = rampart_profile::expect::Expectations::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.expect.display()))?;
    let watch = crate::progress::Watch::default();
    let threshold = s.masking.threshold;
    let r =
        rampart_dataset::validate::validate(&a.path, expectations, threshold, &s.reading, &watch)
            .map_err(|e| match e {
            rampart_dataset::Error::Invalid(_) => {
                anyhow::Error::new(e).context(format!("in {}", a.expect.display()))
            }
            e => e.into(),
        })?;
    if a.json {
        print_json(&r)?;
    } else {
        for f in &r.failures {
            let rows: Vec<String> = f
                .rows
                .iter()
                .map(|(l, v)| format!("line {l}: {v}"))
                .collect();
            println!(
                "FAIL {}{}: {}{}",
                f.column
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default(),
                f.expectation,
                f.observed,
                if rows.is_empty() {
                    String::new()
                } else {
                    format!(" (e.g. {})", rows.join("; "))
                }
            );
        }
        println!(
            "{}: {} rows, {} expectations, {} failed{}",
            a.path.display(),
            r.rows,
            r.checked,
            r.failures.len(),
            skipped_note(r.skipped)
        );
    }
    let mut details = r.details();
    if let Some(map) = details.as_object_mut() {
        let digest = rampart_evidence::sha256_hex(text.as_bytes());
        map.insert("expectations_sha256".into(), digest.into());
    }
    let inputs = std::slice::from_ref(&a.path);
    let ledger = a.common.ledger();
    record_details(
        ledger,
        "data-validate",
        inputs,
        r.passed(),
        "default",
        started,
        details,
    )?;
    Ok(verdict(r.passed()))
}
