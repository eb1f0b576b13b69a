//! `rampart keygen | sign | verify | digest`: thin commands over
//! rampart-sign and rampart-attest.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use rampart_attest::{Bundle, KeyKind, PublicKey, SigningKey};
use rampart_sign::{HashType, Method, Options, Trust};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const SIGN_EXIT_CODES: &str = "\
Exit codes:
  0  signed / verified: the signature is good and every file matches
  1  verification failed: wrong key, bad signature, changed payload type,
     or files modified, added, removed or renamed
  2  usage or input error: a key, signature or file that cannot be read";

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Algorithm {
    /// ECDSA on NIST P-256 with SHA-256 (model-signing's default curve).
    P256,
    /// ECDSA on NIST P-384 with SHA-384.
    P384,
    /// Ed25519 (not read by model-signing's key method).
    Ed25519,
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Writes PREFIX.key (private, mode 0600) and PREFIX.pub.
    #[arg(default_value = "rampart")]
    prefix: PathBuf,
    /// The signature algorithm: P-256 ECDSA (what OpenSSF model signing
    /// verifies) or Ed25519.
    #[arg(long, value_enum, default_value_t = Algorithm::P256)]
    algorithm: Algorithm,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum MethodArg {
    /// One digest per file.
    Files,
    /// One digest per shard of --shard-size bytes.
    Shards,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum HashArg {
    Sha256,
    Blake3,
}

/// How to hash: shared by `sign` and `digest`.
#[derive(Args, Debug)]
pub struct HashArgs {
    /// How files are cut into digests: one per file, or one per shard.
    #[arg(long, value_enum, default_value_t = MethodArg::Files)]
    method: MethodArg,
    /// Shard size in bytes for --method shards.
    #[arg(long, default_value_t = 1_000_000_000)]
    shard_size: u64,
    /// The digest of each file or shard.
    #[arg(long = "hash", value_enum, default_value_t = HashArg::Sha256)]
    hash: HashArg,
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
    if disabled {
        return None;
    }
    rampart_sign::Cache::path_for(root).map(rampart_sign::Cache::open)
}

fn save(cache: Option<&rampart_sign::Cache>) {
    if let Some(Err(e)) = cache.map(rampart_sign::Cache::save) {
        eprintln!("warning: cannot save the digest cache: {e}");
    }
}

#[derive(Args, Debug)]
pub struct DigestArgs {
    /// The model file or folder.
    path: PathBuf,
    #[command(flatten)]
    hash: HashArgs,
}

pub fn default_signature(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("model.sig")
    } else {
        let mut s = path.as_os_str().to_owned();
        s.push(".sig");
        PathBuf::from(s)
    }
}

/// The signature's path relative to the folder, when it lies inside it.
pub fn inside(root: &Path, sig: &Path) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let parent = sig
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = parent.canonicalize().ok()?;
    let rel = dir.strip_prefix(&root).ok()?.join(sig.file_name()?);
    Some(rel.to_string_lossy().replace('\\', "/"))
}

fn options(h: &HashArgs) -> Result<Options> {
    if h.method == MethodArg::Shards && h.shard_size == 0 {
        bail!("--shard-size must be positive");
    }
    let mut ignore: Vec<String> = if h.no_ignore_git_paths {
        Vec::new()
    } else {
        rampart_sign::GIT_PATHS
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    ignore.extend(
        h.ignore_paths
            .iter()
            .map(|p| p.trim_start_matches("./").to_string()),
    );
    Ok(Options {
        method: match h.method {
            MethodArg::Files => Method::Files,
            MethodArg::Shards => Method::Shards {
                shard_size: h.shard_size,
            },
        },
        hash_type: match h.hash {
            HashArg::Sha256 => HashType::Sha256,
            HashArg::Blake3 => HashType::Blake3,
        },
        allow_symlinks: h.allow_symlinks,
        ignore_paths: ignore,
    })
}

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))
}

pub fn keygen(a: &KeygenArgs) -> Result<ExitCode> {
    let kind = match a.algorithm {
        Algorithm::P256 => KeyKind::P256,
        Algorithm::P384 => KeyKind::P384,
        Algorithm::Ed25519 => KeyKind::Ed25519,
    };
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
    write_new(&private, key.to_pem()?.as_bytes(), 0o600)?;
    write_new(&public, key.public().to_pem()?.as_bytes(), 0o644)?;
    println!(
        "{kind} key pair: {} (private, keep it secret) and {} (public)",
        private.display(),
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Creates a file that must not exist yet, with `mode` on Unix.
pub fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = match o.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "{} exists, and is never overwritten: write to a new path, or move it away first",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

pub fn sign(a: &SignArgs) -> Result<ExitCode> {
    let key = SigningKey::from_pem(&read(&a.key, "private key")?)
        .with_context(|| format!("{}", a.key.display()))?;
    let sig_path = a
        .signature
        .clone()
        .unwrap_or_else(|| default_signature(&a.path));
    let mut opts = options(&a.hash)?;
    if let Some(rel) = inside(&a.path, &sig_path) {
        opts.ignore_paths.push(rel);
    }
    let cache = cache(&a.path, a.no_cache);
    let bar = crate::progress::Bar::new(true);
    let manifest = rampart_sign::digest_with(&a.path, &opts, cache.as_ref(), &bar);
    bar.finish();
    let manifest = manifest?;
    save(cache.as_ref());
    let bundle = match &a.cert {
        None => rampart_sign::sign(&manifest, &key)?,
        Some(cert) => {
            let mut chain = pem_certificates(cert)?;
            for c in &a.chain {
                chain.extend(pem_certificates(c)?);
            }
            rampart_sign::sign_with_certificate(&manifest, &key, &chain)
                .with_context(|| format!("{}", cert.display()))?
        }
    };
    rampart_core::write_atomic(&sig_path, &bundle.to_json())
        .with_context(|| format!("cannot write the signature {}", sig_path.display()))?;
    if let Some(dir) = crate::attest::ledger_dir(None) {
        let predicate = serde_json::json!({
            "passed": true,
            "signature": sig_path,
            "resources": manifest.resources.len(),
            "root_digest": manifest.root_digest()?,
        });
        let idx = crate::attest::record(&dir, "sign", std::slice::from_ref(&a.path), predicate)?;
        eprintln!(
            "attestation: entry {idx} of the ledger in {}",
            dir.display()
        );
    }
    println!(
        "signed {} ({} resources, root sha256 {}) with a {} key: {}",
        a.path.display(),
        manifest.resources.len(),
        manifest.root_digest()?,
        key.kind(),
        sig_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn digest(a: &DigestArgs) -> Result<ExitCode> {
    let bar = crate::progress::Bar::new(true);
    // The folder's own signature is left out, as `sign` leaves it out:
    // the digest printed is the root that was (or will be) signed.
    let mut opts = options(&a.hash)?;
    opts.ignore_paths
        .extend(inside(&a.path, &default_signature(&a.path)));
    let m = rampart_sign::digest_with(&a.path, &opts, None, &bar);
    bar.finish();
    let m = m?;
    println!("{}", serde_json::to_string_pretty(&m.to_json()?)?);
    Ok(ExitCode::SUCCESS)
}

/// Verification problems that mean "not what was signed" (exit 1) rather
/// than "cannot tell" (exit 2).
fn is_verification_failure(e: &rampart_sign::Error) -> bool {
    use rampart_attest::Error as A;
    match e {
        rampart_sign::Error::Attest(a) => matches!(
            a,
            A::BadSignature(_)
                | A::WrongKey(_)
                | A::PayloadType { .. }
                | A::Statement(_)
                | A::Certificate(_)
        ),
        // A link or special file the signature's rules refuse is content
        // that was not signed: a failed verification, named.
        rampart_sign::Error::Manifest(_)
        | rampart_sign::Error::Symlink(_)
        | rampart_sign::Error::Escapes(_)
        | rampart_sign::Error::NotAFile(_) => true,
        _ => false,
    }
}

fn pem_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    rampart_attest::certificates_from_pem(&read(path, "certificate")?)
        .with_context(|| format!("{}", path.display()))
}

/// What a verifier trusts: the public key in `key`, else the root
/// certificates in `ca`.
pub fn trust(key: Option<&Path>, ca: &[PathBuf]) -> Result<Trust> {
    Ok(match key {
        Some(k) => Trust::Key(
            PublicKey::from_pem(&read(k, "public key")?)
                .with_context(|| format!("{}", k.display()))?,
        ),
        None => {
            let mut roots = Vec::new();
            for c in ca {
                roots.extend(pem_certificates(c)?);
            }
            Trust::Roots(roots)
        }
    })
}

/// Reads and parses a signature file.
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the signature {}", path.display()))?;
    Bundle::from_json(&bytes).with_context(|| format!("{}", path.display()))
}

pub fn verify(a: &VerifyArgs) -> Result<ExitCode> {
    let trust = trust(a.key.as_deref(), &a.ca)?;
    let method = match &trust {
        Trust::Key(k) => format!("{} key", k.kind()),
        Trust::Roots(r) => format!("certificate chain to one of {} trusted roots", r.len()),
    };
    let sig_path = a
        .signature
        .clone()
        .unwrap_or_else(|| default_signature(&a.path));
    let mut bundle = read_bundle(&sig_path)?;
    if let Some(cert) = &a.cert {
        let chain = pem_certificates(cert)?;
        bundle.set_certificates(&chain);
    }
    let mut ignore = a.ignore_paths.clone();
    if let Some(rel) = inside(&a.path, &sig_path) {
        ignore.push(rel);
    }
    let cache = cache(&a.path, a.no_cache);
    let bar = crate::progress::Bar::new(true);
    let result = rampart_sign::verify(
        &bundle,
        &trust,
        &a.path,
        &ignore,
        a.ignore_unsigned_files,
        cache.as_ref(),
        &bar,
    );
    bar.finish();
    save(cache.as_ref());
    let verified = match result {
        Ok(v) => v,
        Err(e) if is_verification_failure(&e) => {
            return failed(a, &format!("{}: {e}", sig_path.display()), None)
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(dir) = crate::attest::ledger_dir(None) {
        let predicate = serde_json::json!({
            "passed": verified.diff.is_empty(),
            "signature": sig_path,
            "trust": method,
            "diff": verified.diff,
        });
        let idx = crate::attest::record(&dir, "verify", std::slice::from_ref(&a.path), predicate)?;
        eprintln!(
            "attestation: entry {idx} of the ledger in {}",
            dir.display()
        );
    }
    if !verified.diff.is_empty() {
        let msg = format!(
            "{} does not match its signature: {}",
            a.path.display(),
            verified.diff
        );
        return failed(a, &msg, Some(&verified.diff));
    }
    if a.json {
        let v = serde_json::json!({"verified": true, "path": a.path, "signature": sig_path, "resources": verified.signed.resources.len(), "root_digest": verified.signed.root_digest()?});
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "verified {}: {} resources match the signature {} ({method})",
            a.path.display(),
            verified.signed.resources.len(),
            sig_path.display(),
        );
    }
    if !a.scan {
        return Ok(ExitCode::SUCCESS);
    }
    // Scan a private copy of the files, verified again: the bytes scanned
    // are the bytes verified, whatever happens to the folder meanwhile.
    let tmp = tempfile::tempdir().context("cannot create a temporary folder for the snapshot")?;
    let opts = verified.signed.serialization.options(&ignore);
    let snap = rampart_sign::snapshot(&a.path, tmp.path(), &opts)?;
    let copy = rampart_sign::digest(&snap, &opts)?;
    if copy.resources != verified.actual.resources {
        return failed(
            a,
            "the files changed while they were copied for the scan; verify again",
            None,
        );
    }
    let policy = crate::cli::load_policy(None)?;
    let mut report = crate::cli::scan_report(std::slice::from_ref(&snap), &policy, true)?;
    let (from, to) = (snap.display().to_string(), a.path.display().to_string());
    for f in &mut report.findings {
        if let Some(rest) = f.location.path.strip_prefix(&from) {
            f.location.path = format!("{to}{rest}");
        }
    }
    report.inputs = vec![to];
    report.inventory.clear();
    print!(
        "{}",
        rampart_core::render::table(&report, policy.fail_on, false)
    );
    if !report.errors.is_empty() {
        return Ok(ExitCode::from(2));
    }
    Ok(if report.fails(policy.fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn failed(a: &VerifyArgs, msg: &str, diff: Option<&rampart_sign::Diff>) -> Result<ExitCode> {
    if a.json {
        let v = serde_json::json!({"verified": false, "path": a.path, "error": msg, "diff": diff});
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    eprintln!("verification FAILED: {msg}");
    Ok(ExitCode::from(1))
}
