//! `rampart keygen | sign | verify | digest`: thin commands over
//! rampart-sign, with verification run as the pipeline's verify gate.

use crate::common::{load_policy, record};
use crate::progress::{run_gate, with_bar};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use rampart_attest::{KeyKind, SigningKey};
use rampart_gate::Report;
use rampart_sign::{default_signature, signature_inside, HashType, Method, Options};
use std::path::{Path, PathBuf};
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

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum MethodArg {
    /// One digest per file.
    Files,
    /// One digest per shard of --shard-size bytes.
    Shards,
}

/// How to hash: shared by `sign` and `digest`.
#[derive(Args, Debug)]
pub struct HashArgs {
    /// How files are cut into digests: one per file, or one per shard.
    #[arg(long, value_enum, default_value_t = MethodArg::Files)]
    method: MethodArg,
    /// Shard size in bytes for --method shards.
    #[arg(long, default_value_t = 1_000_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    shard_size: u64,
    /// The digest of each file or shard.
    #[arg(long = "hash", value_enum, default_value_t = HashType::Sha256)]
    hash: HashType,
    /// Follow symbolic links that stay inside the folder (links that leave
    /// it are always refused).
    #[arg(long)]
    allow_symlinks: bool,
    /// Paths (relative to the folder) to leave out; repeatable.
    #[arg(long = "ignore-paths", value_name = "PATH")]
    ignore_paths: Vec<String>,
    /// Include .git, .gitattributes, .github and .gitignore.
    #[arg(long)]
    no_ignore_git_paths: bool,
}

#[derive(Args, Debug)]
pub struct SignArgs {
    /// The model file or folder.
    path: PathBuf,
    /// Private key (PEM: PKCS#8, or SEC1 for EC keys).
    #[arg(long)]
    key: PathBuf,
    /// Certificate method: the signing certificate (PEM) of --key, put in
    /// the signature with --chain, for verifiers that trust a root.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Intermediate certificates (PEM) between --cert and the root;
    /// repeatable.
    #[arg(long, requires = "cert")]
    chain: Vec<PathBuf>,
    /// Signature file [default: PATH/model.sig for a folder, PATH.sig for a file].
    #[arg(long, short = 's')]
    signature: Option<PathBuf>,
    #[command(flatten)]
    hash: HashArgs,
    /// Hash every file again instead of reusing digests of unchanged files
    /// (cached by path, size, mtime, ctime and inode under ~/.cache/rampart).
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The model file or folder.
    path: PathBuf,
    /// Public key (SPKI PEM): the key method.
    #[arg(long, required_unless_present = "ca", conflicts_with = "ca")]
    key: Option<PathBuf>,
    /// Trusted root certificates (PEM; repeatable): the certificate
    /// method. The signature's chain must lead to one of them, and its
    /// signing certificate must be for code signing.
    #[arg(long)]
    ca: Vec<PathBuf>,
    /// The signing certificate and its chain (PEM, signing certificate
    /// first) to verify with --ca, instead of those in the signature.
    #[arg(long, requires = "ca")]
    cert: Option<PathBuf>,
    /// Signature file [default: PATH/model.sig for a folder, PATH.sig for a file].
    #[arg(long, short = 's')]
    signature: Option<PathBuf>,
    /// More paths to leave out, besides those the signature lists.
    #[arg(long = "ignore-paths", value_name = "PATH")]
    ignore_paths: Vec<String>,
    /// Files the signature does not list are not an error.
    #[arg(long)]
    ignore_unsigned_files: bool,
    /// After a good verification, scan exactly the verified bytes: the
    /// files are copied to a private snapshot, verified again, and scanned
    /// (`rampart scan`); exit 1 if the scan fails the gate.
    #[arg(long)]
    scan: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Hash every file again instead of reusing digests of unchanged files.
    #[arg(long)]
    no_cache: bool,
}

/// The digest cache of `root`, unless disabled or there is no cache folder.
fn cache(root: &Path, disabled: bool) -> Option<rampart_sign::Cache> {
    let path = rampart_sign::Cache::path_for(root).filter(|_| !disabled);
    path.map(rampart_sign::Cache::open)
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
    hash: HashArgs,
}

fn options(h: &HashArgs) -> Options {
    let mut o = Options {
        method: match h.method {
            MethodArg::Files => Method::Files,
            MethodArg::Shards => Method::Shards {
                shard_size: h.shard_size,
            },
        },
        hash_type: h.hash,
        allow_symlinks: h.allow_symlinks,
        ..Options::default()
    };
    if h.no_ignore_git_paths {
        o.ignore_paths.clear();
    }
    let ignored = h.ignore_paths.iter().map(|p| p.trim_start_matches("./"));
    o.ignore_paths.extend(ignored.map(String::from));
    o
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

pub fn sign(a: &SignArgs) -> Result<ExitCode> {
    let project = crate::common::project(None)?;
    let text = std::fs::read_to_string(&a.key)
        .with_context(|| format!("cannot read the private key {}", a.key.display()))?;
    let key = SigningKey::from_pem(&text).with_context(|| format!("{}", a.key.display()))?;
    let mut chain = Vec::new();
    for c in a.cert.iter().chain(&a.chain) {
        chain.extend(rampart_sign::pem_certificates(c)?);
    }
    let gate = rampart_gate::Sign {
        path: a.path.clone(),
        key,
        chain,
        signature: a
            .signature
            .clone()
            .unwrap_or_else(|| default_signature(&a.path)),
        options: options(&a.hash),
        cache: cache(&a.path, a.no_cache),
    };
    let outcome = run_gate(&gate, &Default::default(), true)?;
    save(gate.cache.as_ref());
    record(project.as_ref(), &outcome, "default")?;
    print!("{}", outcome.report.text());
    Ok(ExitCode::SUCCESS)
}

pub fn digest(a: &DigestArgs) -> Result<ExitCode> {
    // The folder's own signature is left out, as `sign` leaves it out:
    // the digest printed is the root that was (or will be) signed.
    let mut opts = options(&a.hash);
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
    let mut gate = rampart_gate::Verify::from_files(
        a.path.clone(),
        a.key.as_deref(),
        &a.ca,
        a.signature.clone(),
    )?;
    if let Some(cert) = &a.cert {
        gate.certificates = Some(rampart_sign::pem_certificates(cert)?);
    }
    gate.ignore = a.ignore_paths.clone();
    gate.ignore_unsigned = a.ignore_unsigned_files;
    gate.cache = cache(&a.path, a.no_cache);
    let outcome = run_gate(&gate, &Default::default(), true);
    save(gate.cache.as_ref());
    let outcome = outcome?;
    record(project.as_ref(), &outcome, "default")?;
    let Report::Verify(v) = &outcome.report else {
        bail!("the verify gate gave no verification");
    };
    let failed = |msg: &str| -> Result<ExitCode> {
        if a.json {
            crate::common::print_json(&v.json(&a.path, Some(msg), None)?)?;
        }
        eprintln!("verification FAILED: {msg}");
        Ok(ExitCode::from(1))
    };
    let verified = match (&v.verified, outcome.passed) {
        (Some(verified), true) => verified,
        (Some(_), false) => return failed(&format!("{} {}", a.path.display(), outcome.summary)),
        (None, _) => return failed(&outcome.summary),
    };
    // With --scan, a private copy of the files, verified again, is
    // scanned: the bytes scanned are the bytes verified, whatever happens
    // to the folder meanwhile.
    let policy = match a.scan {
        true => load_policy(None)?,
        false => rampart_core::Policy::default(),
    };
    let report = match a.scan.then(|| v.scan_copy(&a.path, &gate.ignore, &policy)) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(rampart_gate::Error::Config(msg))) => return failed(&msg),
        Some(Err(e)) => return Err(e.into()),
    };
    let fail_on = policy.fail_on;
    if a.json {
        let scan = report.as_ref().map(|r| (r, fail_on));
        crate::common::print_json(&v.json(&a.path, None, scan)?)?;
    } else {
        println!(
            "verified {}: {} resources match the signature {} ({})",
            a.path.display(),
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
