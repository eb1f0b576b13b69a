//! `rampart keygen | sign | verify | digest`: thin commands over
//! rampart-sign, with verification run as the pipeline's verify gate.

use crate::common::{load_policy, record};
use crate::progress::{run_gate, with_bar};
use anyhow::{bail, Result};
use clap::Args;
use rampart_attest::{KeyKind, SigningKey};
use rampart_gate::Report;
use rampart_sign::{default_signature, signature_inside};
use std::path::PathBuf;
use std::process::ExitCode;

pub const SIGN_EXIT_CODES: &str = "\
Exit codes:
  0  signed / verified: the signature is good and every file matches
  1  verification failed: wrong key, bad signature, changed payload type,
     or files modified, added, removed or renamed
  2  usage or input error: a key, signature or file that cannot be read";

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Writes PREFIX.key (private, mode 0600) and PREFIX.pub.
    #[arg(default_value = "rampart")]
    prefix: PathBuf,
    /// The signature algorithm: P-256 ECDSA (what OpenSSF model signing
    /// verifies) or Ed25519.
    #[arg(long, value_enum, default_value_t = KeyKind::P256)]
    algorithm: KeyKind,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    request: rampart_gate::VerifyRequest,
    /// After a good verification, scan exactly the verified bytes: the
    /// files are copied to a private snapshot, verified again, and scanned
    /// (`rampart scan`); exit 1 if the scan fails the gate.
    #[arg(long)]
    scan: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn save(cache: Option<&rampart_sign::Cache>) {
    let Some(Err(e)) = cache.map(rampart_sign::Cache::save) else {
        return;
    };
    eprintln!("warning: cannot save the digest cache: {e}");
}

#[derive(Args, Debug)]
pub struct DigestArgs {
    /// The model file or folder.
    path: PathBuf,
    #[command(flatten)]
    hash: rampart_gate::Hashing,
}

pub fn keygen(a: &KeygenArgs) -> Result<ExitCode> {
    let kind = a.algorithm;
    let key = SigningKey::generate(kind);
    let private = PathBuf::from(format!("{}.key", a.prefix.display()));
    let public = PathBuf::from(format!("{}.pub", a.prefix.display()));
    for p in [&private, &public] {
        if p.exists() {
            bail!(
                "{} exists; refusing to overwrite a key (choose another prefix)",
                p.display()
            );
        }
    }
    rampart_core::write_new(&private, key.to_pem()?.as_bytes(), 0o600)?;
    rampart_core::write_new(&public, key.public().to_pem()?.as_bytes(), 0o644)?;
    println!(
        "{kind} key pair: {} (private, keep it secret) and {} (public)",
        private.display(),
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn sign(a: &rampart_gate::SignRequest) -> Result<ExitCode> {
    let project = crate::common::project(None)?;
    let gate = a.resolve()?;
    let outcome = run_gate(&gate, &Default::default(), true)?;
    save(gate.cache.as_ref());
    record(project.as_ref(), &outcome, "default")?;
    print!("{}", outcome.report.text());
    Ok(ExitCode::SUCCESS)
}

pub fn digest(a: &DigestArgs) -> Result<ExitCode> {
    // The folder's own signature is left out, as `sign` leaves it out:
    // the digest printed is the root that was (or will be) signed.
    let mut opts = a.hash.options();
    opts.ignore_paths
        .extend(signature_inside(&a.path, &default_signature(&a.path)));
    let m = with_bar(true, |bar| {
        rampart_sign::digest_with(&a.path, &opts, None, bar)
    })?;
    println!("{}", serde_json::to_string_pretty(&m.to_json()?)?);
    Ok(ExitCode::SUCCESS)
}

pub fn verify(a: &VerifyArgs) -> Result<ExitCode> {
    let project = crate::common::project(None)?;
    let gate = a.request.resolve()?;
    let outcome = run_gate(&gate, &Default::default(), true);
    save(gate.cache.as_ref());
    let outcome = outcome?;
    record(project.as_ref(), &outcome, "default")?;
    let Report::Verify(v) = &outcome.report else {
        bail!("the verify gate gave no verification");
    };
    let failed = |msg: &str| -> Result<ExitCode> {
        if a.json {
            crate::common::print_json(&v.json(&a.request.path, Some(msg), None)?)?;
        }
        eprintln!("verification FAILED: {msg}");
        Ok(ExitCode::from(1))
    };
    let verified = match (&v.verified, outcome.passed) {
        (Some(verified), true) => verified,
        (Some(_), false) => {
            return failed(&format!("{} {}", a.request.path.display(), outcome.summary))
        }
        (None, _) => return failed(&outcome.summary),
    };
    // With --scan, a private copy of the files, verified again, is
    // scanned: the bytes scanned are the bytes verified, whatever happens
    // to the folder meanwhile.
    let policy = match a.scan {
        true => load_policy(None)?,
        false => rampart_core::Policy::default(),
    };
    let report = match a
        .scan
        .then(|| v.scan_copy(&a.request.path, &gate.ignore, &policy))
    {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(rampart_gate::Error::Config(msg))) => return failed(&msg),
        Some(Err(e)) => return Err(e.into()),
    };
    let fail_on = policy.fail_on;
    if a.json {
        let scan = report.as_ref().map(|r| (r, fail_on));
        crate::common::print_json(&v.json(&a.request.path, None, scan)?)?;
    } else {
        println!(
            "verified {}: {} resources match the signature {} ({})",
            a.request.path.display(),
            verified.signed.resources.len(),
            gate.signature.display(),
            gate.method()
        );
        if let Some(r) = &report {
            print!("{}", rampart_core::render::table(r, fail_on, false));
        }
    }
    match report {
        None => Ok(ExitCode::SUCCESS),
        Some(r) if !r.errors.is_empty() => Ok(ExitCode::from(2)),
        Some(r) => Ok(crate::common::verdict(!r.fails(fail_on))),
    }
}
