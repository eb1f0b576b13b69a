//! Evidence of gate runs: an in-toto Statement v1 about the artifacts a
//! gate examined, in a DSSE envelope signed with the project's attestation
//! key, appended to the ledger; and `rampart evidence`, which finds and
//! checks every attestation about an artifact.

use anyhow::{Context, Result};
use rampart_attest::{
    Envelope, PublicKey, ResourceDescriptor, SigningKey, Statement, IN_TOTO_PAYLOAD_TYPE,
};
use rampart_core::{GateKind, Severity};
use rampart_ledger::Ledger;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// SHA-256 (hex) of some bytes.
pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// Predicate types: one per gate, versioned.
pub fn predicate_type(gate: &str) -> String {
    format!("https://rampart.dev/attestation/{gate}/v1")
}

/// The ledger folder to record in: `--ledger`, else `.rampart` when it
/// holds a ledger.
pub fn ledger_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(d) => Some(d.to_path_buf()),
        None => Some(PathBuf::from(".rampart")).filter(|d| d.join("ledger.db").is_file()),
    }
}

/// The digest that names an artifact: SHA-256 of a file, or the
/// model-signing root digest (over every file's SHA-256) of a folder,
/// leaving out git files and the signature file `model.sig`, so that a
/// folder has the same digest before and after it is signed.
pub fn artifact_digest(path: &Path) -> Result<String> {
    let mut opts = rampart_sign::Options::default();
    opts.ignore_paths.push("model.sig".into());
    let m = rampart_sign::digest(path, &opts)
        .with_context(|| format!("cannot hash {}", path.display()))?;
    if path.is_file() {
        return m
            .resources
            .first()
            .map(|r| r.digest.clone())
            .context("no digest");
    }
    Ok(m.root_digest()?)
}

fn now() -> String {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{s}")
}

/// Signs a statement about `inputs` and appends it to the ledger in
/// `dir`; returns the entry's index.
pub fn record(dir: &Path, gate: &str, inputs: &[PathBuf], mut predicate: Value) -> Result<u64> {
    if let Some(map) = predicate.as_object_mut() {
        map.entry("started").or_insert_with(|| json!(now()));
    }
    let key_path = dir.join("attest.key");
    let key = SigningKey::from_pem(
        &std::fs::read_to_string(&key_path)
            .with_context(|| format!("cannot read the attestation key {}", key_path.display()))?,
    )
    .with_context(|| format!("{}", key_path.display()))?;
    let subject: Vec<ResourceDescriptor> = inputs
        .iter()
        .map(|p| {
            Ok(ResourceDescriptor {
                name: p.display().to_string(),
                digest: BTreeMap::from([("sha256".to_string(), artifact_digest(p)?)]),
            })
        })
        .collect::<Result<_>>()?;
    if let Some(map) = predicate.as_object_mut() {
        map.insert("gate".into(), json!(gate));
        map.insert("tool_version".into(), json!(env!("CARGO_PKG_VERSION")));
        map.insert("finished".into(), json!(now()));
    }
    let st = Statement::new(subject, &predicate_type(gate), predicate);
    let mut env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, st.to_payload(), &key);
    // The key ID names the signing key (SHA-256 of its SPKI PEM, as
    // model-signing's hint), so that verifiers can pick among keys.
    let keyid = key.public().hint()?;
    for s in &mut env.signatures {
        s.keyid = keyid.clone();
    }
    let entry = serde_json::to_vec(&env)?;
    let mut l = Ledger::open(&dir.join("ledger.db"))
        .with_context(|| format!("cannot open the ledger in {}", dir.display()))?;
    let idx = l.append(&[entry.as_slice()])?;
    idx.first().copied().context("append returned no index")
}

/// One attestation found about an artifact.
struct Found {
    index: u64,
    gate: String,
    passed: Option<bool>,
    predicate: Value,
    signature_ok: bool,
    included: bool,
    time: String,
}

/// Every attestation in the ledger about `path`'s digest, each with its
/// signature and checkpoint inclusion checked.
fn collect(path: &Path, dir: &Path) -> Result<(String, Vec<Found>)> {
    let digest = artifact_digest(path)?;
    let l = Ledger::open(&dir.join("ledger.db"))
        .with_context(|| format!("cannot open the ledger in {}", dir.display()))?;
    let pub_path = dir.join("attest.pub");
    let key = PublicKey::from_pem(
        &std::fs::read_to_string(&pub_path)
            .with_context(|| format!("cannot read {}", pub_path.display()))?,
    )
    .with_context(|| format!("{}", pub_path.display()))?;
    let checkpoint = l.last_checkpoint()?;
    let mut found = Vec::new();
    for index in 0..l.size() {
        let Some(entry) = l.entry(index)? else {
            continue;
        };
        let Ok(env) = serde_json::from_slice::<Envelope>(&entry) else {
            continue;
        };
        let Ok(st) = Statement::from_payload(&env.payload, None) else {
            continue;
        };
        if !st
            .subject
            .iter()
            .any(|s| s.digest.get("sha256") == Some(&digest))
        {
            continue;
        }
        let signature_ok = env.verify(&key, IN_TOTO_PAYLOAD_TYPE).is_ok();
        // Included: covered by the last checkpoint, whose root the entry
        // still hashes to.
        let included = checkpoint.as_ref().is_some_and(|(size, root, _)| {
            index < *size
                && l.tree()
                    .inclusion_proof(index, *size)
                    .ok()
                    .is_some_and(|p| {
                        rampart_ledger::verify_inclusion(
                            &rampart_ledger::leaf_hash(&entry),
                            index,
                            *size,
                            &p,
                            root,
                        )
                        .is_ok()
                    })
        });
        found.push(Found {
            index,
            gate: st
                .predicate
                .get("gate")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            passed: st.predicate.get("passed").and_then(Value::as_bool),
            predicate: st.predicate.clone(),
            signature_ok,
            included,
            time: st
                .predicate
                .get("finished")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
    }
    Ok((digest, found))
}

/// `rampart evidence ARTIFACT`: every attestation about its digest.
pub fn evidence(path: &Path, dir: &Path, json_out: bool) -> Result<ExitCode> {
    let (digest, found) = collect(path, dir)?;
    if json_out {
        let list: Vec<Value> = found
            .iter()
            .map(|f| json!({"index": f.index, "gate": f.gate, "passed": f.passed, "signature_verified": f.signature_ok, "in_checkpoint": f.included, "time": f.time}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"artifact": path, "sha256": digest, "attestations": list})
            )?
        );
    } else {
        println!(
            "{} (sha256 {digest}): {} attestations",
            path.display(),
            found.len()
        );
        for f in &found {
            let verdict = match f.passed {
                Some(true) => "passed",
                Some(false) => "FAILED",
                None => "-",
            };
            println!(
                "  entry {:>6}  {:<8} {:<7} signature {}  {}",
                f.index,
                f.gate,
                verdict,
                if f.signature_ok { "ok" } else { "BAD" },
                if f.included {
                    "in the last checkpoint"
                } else {
                    "not in a checkpoint yet"
                }
            );
        }
    }
    Ok(if found.iter().all(|f| f.signature_ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What admission judges evidence by: `[admission]` with its defaults.
pub struct Bar {
    pub fail_on: Severity,
    pub threshold: f32,
    pub min_k: u64,
    pub min_l: u64,
}

impl Bar {
    pub fn new(policy: &rampart_core::Policy) -> Self {
        let a = &policy.admission;
        Bar {
            fail_on: a.fail_on.unwrap_or(policy.fail_on),
            threshold: a.threshold.unwrap_or(0.5),
            min_k: a.min_k.unwrap_or(5),
            min_l: a.min_l.unwrap_or(2),
        }
    }
}

/// Why the newest evidence of `gate` does not meet the bar, judged from
/// what it measured rather than from the pass flag its run chose.
fn short_of(gate: GateKind, p: &Value, bar: &Bar) -> Option<String> {
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64);
    match gate {
        GateKind::Scan => {
            let Some(counts) = p.get("counts") else {
                return Some("it records no counts by severity".into());
            };
            let over: Vec<String> = Severity::ALL
                .iter()
                .filter(|s| **s >= bar.fail_on)
                .filter_map(|s| {
                    let c = n(counts, s.as_str())?;
                    (c > 0).then(|| format!("{c} {s}"))
                })
                .collect();
            if !over.is_empty() {
                let ran = p.get("fail_on").and_then(Value::as_str).unwrap_or("?");
                return Some(format!(
                    "it has {} findings, at or above admission's fail_on {} (the run used fail_on {ran})",
                    over.join(", "),
                    bar.fail_on
                ));
            }
        }
        GateKind::Pii => {
            let t = p.get("threshold").and_then(Value::as_f64);
            match t {
                None => return Some("it records no score threshold".into()),
                Some(t) if t > f64::from(bar.threshold) + 1e-6 => {
                    return Some(format!(
                        "it was made with threshold {t}, laxer than admission's {}",
                        bar.threshold
                    ))
                }
                _ => {}
            }
            let skipped: u64 = p
                .get("files")
                .and_then(Value::as_array)
                .map_or(0, |f| f.iter().filter_map(|f| n(f, "skipped")).sum());
            if skipped > 0 {
                return Some(format!("{skipped} records were skipped unread"));
            }
        }
        GateKind::Risk => {
            let k = n(p, "k").unwrap_or(0);
            if k < bar.min_k {
                return Some(format!("k = {k}, under admission's min_k {}", bar.min_k));
            }
            if p.get("sensitive").is_some_and(|s| !s.is_null()) {
                let l = n(p, "l").unwrap_or(0);
                if l < bar.min_l {
                    return Some(format!("l = {l}, under admission's min_l {}", bar.min_l));
                }
            }
            if n(p, "skipped").unwrap_or(0) > 0 {
                return Some("records were skipped unread".into());
            }
        }
        GateKind::Sign | GateKind::Verify => {}
    }
    None
}

/// `rampart check ARTIFACT --require gates`: does this exact artifact have
/// valid, passing evidence for every required gate? The newest attestation
/// of each gate decides; it must verify, be in the last checkpoint, have
/// passed, and meet admission's own bar ([`Bar`]).
pub fn check(path: &Path, dir: &Path, required: &[GateKind], bar: &Bar) -> Result<ExitCode> {
    if required.is_empty() {
        anyhow::bail!("no gate required: pass --require scan,verify or set [admission] require in rampart.toml");
    }
    let (digest, found) = collect(path, dir)?;
    let mut reasons = Vec::new();
    for &kind in required {
        let gate = kind.name();
        match found.iter().rev().find(|f| f.gate == kind.attested_as()) {
            None => reasons.push(format!("no {gate} attestation for this artifact")),
            Some(f) if !f.signature_ok => reasons.push(format!("the {gate} attestation (entry {}) has a bad signature", f.index)),
            Some(f) if !f.included => reasons.push(format!(
                "the {gate} attestation (entry {}) is not in a checkpoint yet (run `rampart ledger checkpoint`)",
                f.index
            )),
            Some(f) if f.passed != Some(true) => reasons.push(format!("the latest {gate} run (entry {}) failed", f.index)),
            Some(f) => {
                if let Some(why) = short_of(kind, &f.predicate, bar) {
                    reasons.push(format!("the latest {gate} run (entry {}) does not meet the admission policy: {why}", f.index));
                }
            }
        }
    }
    let names: Vec<&str> = required.iter().map(|g| g.name()).collect();
    if reasons.is_empty() {
        println!(
            "ADMITTED {} (sha256 {digest}): passing evidence for {}",
            path.display(),
            names.join(", ")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "REFUSED {} (sha256 {digest}): {}",
            path.display(),
            reasons.join("; ")
        );
        Ok(ExitCode::from(1))
    }
}
