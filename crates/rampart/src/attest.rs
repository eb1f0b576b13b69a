//! Evidence of gate runs: an in-toto Statement v1 about the artifacts a
//! gate examined, in a DSSE envelope signed with the project's attestation
//! key, appended to the ledger; and `rampart evidence`, which finds and
//! checks every attestation about an artifact.

use anyhow::{Context, Result};
use rampart_attest::{
    Envelope, PublicKey, ResourceDescriptor, SigningKey, Statement, IN_TOTO_PAYLOAD_TYPE,
};
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

/// `rampart check ARTIFACT --require gates`: does this exact artifact have
/// valid, passing evidence for every required gate? The newest attestation
/// of each gate counts; it must verify and be in the last checkpoint.
pub fn check(path: &Path, dir: &Path, required: &[String]) -> Result<ExitCode> {
    if required.is_empty() {
        anyhow::bail!("no gate required: pass --require scan,verify or set [admission] require in rampart.toml");
    }
    let (digest, found) = collect(path, dir)?;
    let mut reasons = Vec::new();
    for gate in required {
        match found.iter().rev().find(|f| &f.gate == gate) {
            None => reasons.push(format!("no {gate} attestation for this artifact")),
            Some(f) if !f.signature_ok => reasons.push(format!("the {gate} attestation (entry {}) has a bad signature", f.index)),
            Some(f) if !f.included => reasons.push(format!(
                "the {gate} attestation (entry {}) is not in a checkpoint yet (run `rampart ledger checkpoint`)",
                f.index
            )),
            Some(f) if f.passed != Some(true) => reasons.push(format!("the latest {gate} run (entry {}) failed", f.index)),
            Some(_) => {}
        }
    }
    if reasons.is_empty() {
        println!(
            "ADMITTED {} (sha256 {digest}): passing evidence for {}",
            path.display(),
            required.join(", ")
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
