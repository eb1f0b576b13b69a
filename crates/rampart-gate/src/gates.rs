//! The gates: the model scanner, signature verification, personal data
//! and re-identification risk.

use crate::{Context, Error, Gate, Outcome, Report, Verification};
use rampart_core::{Check, Severity};
use rampart_evidence::Started;
use rampart_sign::Trust;
use std::path::PathBuf;

/// `scan`: code that runs when a model is loaded.
pub struct Scan {
    pub inputs: Vec<PathBuf>,
    /// Findings at or above this fail [default: the policy's fail_on].
    pub fail_on: Option<Severity>,
}

/// The scanner's report of `paths` with the policy applied (overrides,
/// suppressions). Inputs that could not be read are in its `errors`.
pub fn scan_report(
    paths: &[PathBuf],
    policy: &rampart_core::Policy,
    progress: &dyn rampart_core::Progress,
) -> Result<rampart_core::Report, Error> {
    let scanner =
        rampart_scan::Scanner::from_policy(&policy.scan).map_err(|source| Error::Policy {
            path: policy
                .source
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            source,
        })?;
    let mut report = scanner.run(paths, progress)?;
    policy.apply(&mut report);
    Ok(report)
}

impl Gate for Scan {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        ("scan", self.inputs.clone())
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let report = scan_report(&self.inputs, ctx.policy, ctx.progress)?;
        let fail_on = self.fail_on.unwrap_or(ctx.policy.fail_on);
        let passed = !report.fails(fail_on) && report.errors.is_empty();
        let c = report.counts();
        let summary = format!(
            "{} findings ({} critical, {} high, {} medium) against fail_on {}{}",
            report.findings.len(),
            c.critical,
            c.high,
            c.medium,
            fail_on,
            if report.errors.is_empty() {
                String::new()
            } else {
                format!("; {} inputs unreadable", report.errors.len())
            }
        );
        let findings = report
            .findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .cloned()
            .collect();
        Ok(Outcome {
            gate: "scan",
            inputs: self.inputs.clone(),
            passed,
            summary,
            findings,
            warnings: Vec::new(),
            report: Report::Scan {
                report: Box::new(report),
                fail_on,
            },
            started,
        })
    }
}

/// `verify`: a model file or folder against its signature.
pub struct Verify {
    pub path: PathBuf,
    pub trust: Trust,
    pub signature: PathBuf,
    /// The signature's certificates replaced by these (DER), if given.
    pub certificates: Option<Vec<Vec<u8>>>,
    /// Paths to leave out besides those the signature lists.
    pub ignore: Vec<String>,
    /// Files the signature does not list are not a failure.
    pub ignore_unsigned: bool,
    /// Digests of unchanged files reused from this cache.
    pub cache: Option<rampart_sign::Cache>,
}

impl Verify {
    /// Trusting `key` (a public key file) or else the roots in `ca`, with
    /// the signature at `signature` or the default place.
    pub fn from_files(
        path: PathBuf,
        key: Option<&std::path::Path>,
        ca: &[PathBuf],
        signature: Option<PathBuf>,
    ) -> Result<Self, Error> {
        if key.is_some() != ca.is_empty() {
            return Err(Error::Config(
                "a verify gate needs exactly one of key or ca".into(),
            ));
        }
        let trust = rampart_sign::trust_from_files(key, ca)?;
        let signature = signature.unwrap_or_else(|| rampart_sign::default_signature(&path));
        Ok(Verify {
            path,
            trust,
            signature,
            certificates: None,
            ignore: Vec::new(),
            ignore_unsigned: false,
            cache: None,
        })
    }

    /// How the signer is trusted, for people.
    pub fn method(&self) -> String {
        match &self.trust {
            Trust::Key(k) => format!("{} key", k.kind()),
            Trust::Roots(r) => format!("certificate chain to one of {} trusted roots", r.len()),
        }
    }
}

/// Verification problems that mean "not what was signed" (the gate
/// fails) rather than "cannot tell" (the gate cannot run).
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

impl Gate for Verify {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        ("verify", vec![self.path.clone()])
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let mut bundle = rampart_sign::read_bundle(&self.signature)?;
        if let Some(chain) = &self.certificates {
            bundle.set_certificates(chain);
        }
        let mut ignore = self.ignore.clone();
        ignore.extend(rampart_sign::signature_inside(&self.path, &self.signature));
        let result = rampart_sign::verify(
            &bundle,
            &self.trust,
            &self.path,
            &ignore,
            self.ignore_unsigned,
            self.cache.as_ref(),
            ctx.progress,
        );
        let (passed, summary, verified, failure) = match result {
            Ok(v) if v.diff.is_empty() => (
                true,
                format!("{} resources match the signature", v.signed.resources.len()),
                Some(v),
                None,
            ),
            Ok(v) => {
                let s = format!("does not match its signature: {}", v.diff);
                (false, s, Some(v), None)
            }
            Err(e) if is_verification_failure(&e) => {
                let s = format!("{}: {e}", self.signature.display());
                (false, s.clone(), None, Some(s))
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Outcome {
            gate: "verify",
            inputs: vec![self.path.clone()],
            passed,
            summary,
            findings: Vec::new(),
            warnings: Vec::new(),
            report: Report::Verify(Box::new(Verification {
                signature: self.signature.clone(),
                trust: self.method(),
                verified,
                failure,
            })),
            started,
        })
    }
}

/// `pii`: personal data in datasets. With the `clap` feature its public
/// fields are also `rampart data pii scan`'s flags (see
/// [`crate::Profile`]).
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct PiiScan {
    /// Datasets (CSV/TSV, JSON Lines, JSON, Parquet, text; gzip or zstd
    /// too).
    #[cfg_attr(feature = "clap", arg(required = true))]
    pub inputs: Vec<PathBuf>,
    /// Matches scoring below this are ignored.
    #[cfg_attr(feature = "clap", arg(skip = rampart_pii::transform::DEFAULT_THRESHOLD))]
    pub threshold: f32,
    #[cfg_attr(feature = "clap", arg(skip))]
    pub reading: rampart_dataset::Reading,
    /// Most matches listed (all are counted); 0 lists every one.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 10_000))]
    pub max_matches: usize,
}

impl Gate for PiiScan {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        ("pii-scan", self.inputs.clone())
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let scan = rampart_dataset::pii::scan(
            &self.inputs,
            &self.reading,
            self.threshold,
            self.max_matches,
            ctx.watch,
        )?;
        let total = scan.total();
        let summary = if total == 0 {
            format!("no personal data at or above {}", self.threshold)
        } else {
            let listed: Vec<String> = scan
                .counts
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            format!(
                "{total} matches at or above {}: {}",
                self.threshold,
                listed.join(", ")
            )
        };
        Ok(Outcome {
            gate: "pii-scan",
            inputs: self.inputs.clone(),
            passed: scan.passed(),
            summary,
            findings: Vec::new(),
            warnings: scan.warnings(),
            report: Report::Pii(Box::new(scan)),
            started,
        })
    }
}

/// `risk`: re-identification risk of one dataset. With the `clap`
/// feature its public fields are also `rampart data risk`'s flags.
#[derive(Debug)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct RiskCheck {
    /// The dataset to measure.
    pub path: PathBuf,
    /// Quasi-identifier columns, comma-separated (e.g. age,zip,sex).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',', required = true))]
    pub quasi: Vec<String>,
    /// A sensitive column whose values should be diverse in every class.
    #[cfg_attr(feature = "clap", arg(long))]
    pub sensitive: Option<String>,
    /// Smallest acceptable equivalence class.
    #[cfg_attr(
        feature = "clap",
        arg(long = "k", value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))
    )]
    pub min_k: u64,
    /// Fewest acceptable distinct sensitive values per class.
    #[cfg_attr(
        feature = "clap",
        arg(long = "l", value_name = "L", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))
    )]
    pub min_l: u64,
    /// Most row numbers listed for classes under k.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 20))]
    pub max_rows: usize,
    #[cfg_attr(feature = "clap", arg(skip))]
    pub reading: rampart_dataset::Reading,
}

impl Gate for RiskCheck {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        ("reid-risk", vec![self.path.clone()])
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let q = rampart_dataset::risk::Query {
            path: &self.path,
            quasi: &self.quasi,
            sensitive: self.sensitive.as_deref(),
            min_k: self.min_k,
            min_l: self.min_l,
            max_rows: self.max_rows,
        };
        let inputs = vec![self.path.clone()];
        let report = rampart_dataset::risk::measure(&q, &self.reading, ctx.watch)?;
        Ok(Outcome {
            gate: "reid-risk",
            inputs,
            passed: report.passed,
            summary: report.summary(),
            findings: Vec::new(),
            warnings: Vec::new(),
            report: Report::Risk(Box::new(report)),
            started,
        })
    }
}

/// `sign`: a model file or folder signed (OpenSSF model signing), the
/// signature written atomically. Not a pipeline gate (a pipeline
/// verifies), but recorded as one.
pub struct Sign {
    pub path: PathBuf,
    pub key: rampart_attest::SigningKey,
    /// The signing certificate and its chain (DER), for the certificate
    /// method; empty for the key method.
    pub chain: Vec<Vec<u8>>,
    pub signature: PathBuf,
    pub options: rampart_sign::Options,
    pub cache: Option<rampart_sign::Cache>,
}

/// What signing wrote.
#[derive(Debug)]
pub struct Signed {
    pub path: PathBuf,
    pub signature: PathBuf,
    pub resources: usize,
    pub root_digest: String,
    pub key: String,
}

impl Gate for Sign {
    fn attested(&self) -> (&'static str, Vec<PathBuf>) {
        ("sign", vec![self.path.clone()])
    }

    fn run(&self, ctx: &Context) -> Result<Outcome, Error> {
        let started = Started::now();
        let mut opts = self.options.clone();
        opts.ignore_paths
            .extend(rampart_sign::signature_inside(&self.path, &self.signature));
        let manifest =
            rampart_sign::digest_with(&self.path, &opts, self.cache.as_ref(), ctx.progress)?;
        let bundle = if self.chain.is_empty() {
            rampart_sign::sign(&manifest, &self.key)?
        } else {
            rampart_sign::sign_with_certificate(&manifest, &self.key, &self.chain)?
        };
        rampart_core::write_atomic(&self.signature, &bundle.to_json()).map_err(|source| {
            Error::Write {
                path: self.signature.clone(),
                source,
            }
        })?;
        let summary = format!(
            "{} resources signed, root sha256 {}",
            manifest.resources.len(),
            manifest.root_digest()?
        );
        let signed = Signed {
            path: self.path.clone(),
            signature: self.signature.clone(),
            resources: manifest.resources.len(),
            root_digest: manifest.root_digest()?,
            key: self.key.kind().to_string(),
        };
        Ok(Outcome {
            gate: "sign",
            inputs: vec![self.path.clone()],
            passed: true,
            summary,
            findings: Vec::new(),
            warnings: Vec::new(),
            report: Report::Sign(Box::new(signed)),
            started,
        })
    }
}

impl crate::Verification {
    /// `rampart verify --json` of `path`: one document, verified or not
    /// (`error`, with the files that differ), with the scan of the
    /// verified copy in it when one ran.
    pub fn json(
        &self,
        path: &std::path::Path,
        error: Option<&str>,
        scan: Option<(&rampart_core::Report, Severity)>,
    ) -> Result<serde_json::Value, Error> {
        let verified = self.verified.as_ref();
        let Some(v) = verified.filter(|_| error.is_none()) else {
            let diff = verified.map(|v| &v.diff).filter(|d| !d.is_empty());
            let msg = error.or(self.failure.as_deref());
            return Ok(
                serde_json::json!({"verified": false, "path": path, "error": msg, "diff": diff}),
            );
        };
        let mut doc = serde_json::json!({"verified": true, "path": path, "signature": self.signature, "resources": v.signed.resources.len(), "root_digest": v.signed.root_digest()?});
        if let (Some((r, fail_on)), Some(map)) = (scan, doc.as_object_mut()) {
            let scan = serde_json::from_str(&rampart_core::render::json(r, fail_on))
                .map_err(|e| Error::Config(e.to_string()))?;
            map.insert("scan".into(), scan);
        }
        Ok(doc)
    }

    /// Scans exactly the bytes that were verified: the files are copied
    /// to a private snapshot, hashed again and compared with what was
    /// verified, then scanned; findings name the original paths. An
    /// error when the files changed while they were copied.
    pub fn scan_copy(
        &self,
        path: &std::path::Path,
        ignore: &[String],
        policy: &rampart_core::Policy,
    ) -> Result<rampart_core::Report, Error> {
        let Some(verified) = &self.verified else {
            return Err(Error::Config("nothing was verified to scan".into()));
        };
        let tmp = tempfile::tempdir().map_err(|source| Error::Write {
            path: std::env::temp_dir(),
            source,
        })?;
        let mut ignore = ignore.to_vec();
        ignore.extend(rampart_sign::signature_inside(path, &self.signature));
        let opts = verified.signed.serialization.options(&ignore);
        let snap = rampart_sign::snapshot(path, tmp.path(), &opts)?;
        let copy = rampart_sign::digest(&snap, &opts)?;
        if copy.resources != verified.actual.resources {
            return Err(Error::Config(
                "the files changed while they were copied for the scan; verify again".into(),
            ));
        }
        let mut report = scan_report(
            std::slice::from_ref(&snap),
            policy,
            &rampart_core::NoProgress,
        )?;
        let (from, to) = (snap.display().to_string(), path.display().to_string());
        for f in &mut report.findings {
            if let Some(rest) = f.location.path.strip_prefix(&from) {
                f.location.path = format!("{to}{rest}");
            }
        }
        report.inputs = vec![to];
        report.inventory.clear();
        Ok(report)
    }
}
