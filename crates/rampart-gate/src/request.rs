//! The signing gates as a front end asks for them: file paths rather than
//! keys and certificates. With the `clap` feature these are also
//! `rampart sign`, `verify` and `digest`'s flags; `resolve` reads the
//! files and makes the gate.

use crate::{Error, Sign, Verify};
use rampart_sign::{HashType, Method, Options};
use std::path::PathBuf;

/// How files are cut into digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum HashMethod {
    /// One digest per file.
    Files,
    /// One digest per shard of --shard-size bytes.
    Shards,
}

/// How to hash a model: shared by `sign` and `digest`.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Hashing {
    /// How files are cut into digests: one per file, or one per shard.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = HashMethod::Files))]
    pub method: HashMethod,
    /// Shard size in bytes for --method shards.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1_000_000_000, value_parser = clap::value_parser!(u64).range(1..)))]
    pub shard_size: u64,
    /// The digest of each file or shard.
    #[cfg_attr(feature = "clap", arg(long = "hash", value_enum, default_value_t = HashType::Sha256))]
    pub hash: HashType,
    /// Follow symbolic links that stay inside the folder (links that leave
    /// it are always refused).
    #[cfg_attr(feature = "clap", arg(long))]
    pub allow_symlinks: bool,
    /// Paths (relative to the folder) to leave out; repeatable.
    #[cfg_attr(feature = "clap", arg(long = "ignore-paths", value_name = "PATH"))]
    pub ignore_paths: Vec<String>,
    /// Include .git, .gitattributes, .github and .gitignore.
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_ignore_git_paths: bool,
}

impl Hashing {
    /// The hashing options these flags make: git files left out unless
    /// asked, `./` prefixes of ignored paths dropped.
    pub fn options(&self) -> Options {
        let mut o = Options {
            method: match self.method {
                HashMethod::Files => Method::Files,
                HashMethod::Shards => Method::Shards {
                    shard_size: self.shard_size,
                },
            },
            hash_type: self.hash,
            allow_symlinks: self.allow_symlinks,
            ..Options::default()
        };
        if self.no_ignore_git_paths {
            o.ignore_paths.clear();
        }
        let ignored = self.ignore_paths.iter().map(|p| p.trim_start_matches("./"));
        o.ignore_paths.extend(ignored.map(String::from));
        o
    }
}

/// `sign PATH --key KEY`: sign a model file or folder.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct SignRequest {
    /// The model file or folder.
    pub path: PathBuf,
    /// Private key (PEM: PKCS#8, or SEC1 for EC keys).
    #[cfg_attr(feature = "clap", arg(long))]
    pub key: PathBuf,
    /// Certificate method: the signing certificate (PEM) of --key, put in
    /// the signature with --chain, for verifiers that trust a root.
    #[cfg_attr(feature = "clap", arg(long))]
    pub cert: Option<PathBuf>,
    /// Intermediate certificates (PEM) between --cert and the root;
    /// repeatable.
    #[cfg_attr(feature = "clap", arg(long, requires = "cert"))]
    pub chain: Vec<PathBuf>,
    /// Signature file [default: PATH/model.sig for a folder, PATH.sig for
    /// a file].
    #[cfg_attr(feature = "clap", arg(long, short = 's'))]
    pub signature: Option<PathBuf>,
    #[cfg_attr(feature = "clap", command(flatten))]
    pub hashing: Hashing,
    /// Hash every file again instead of reusing digests of unchanged files
    /// (cached by path, size, mtime, ctime and inode under
    /// ~/.cache/rampart).
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_cache: bool,
}

/// The digest cache of `root`, unless disabled or there is no cache folder.
fn cache(root: &std::path::Path, disabled: bool) -> Option<rampart_sign::Cache> {
    let path = rampart_sign::Cache::path_for(root).filter(|_| !disabled);
    path.map(rampart_sign::Cache::open)
}

impl SignRequest {
    /// The gate: the key and certificates read.
    pub fn resolve(&self) -> Result<Sign, Error> {
        let text = std::fs::read_to_string(&self.key).map_err(|source| Error::Read {
            path: self.key.clone(),
            source,
        })?;
        let key = rampart_attest::SigningKey::from_pem(&text)
            .map_err(|e| Error::Config(format!("{}: {e}", self.key.display())))?;
        let mut chain = Vec::new();
        for c in self.cert.iter().chain(&self.chain) {
            chain.extend(rampart_sign::pem_certificates(c)?);
        }
        let signature = self.signature.clone();
        Ok(Sign {
            path: self.path.clone(),
            key,
            chain,
            signature: signature.unwrap_or_else(|| rampart_sign::default_signature(&self.path)),
            options: self.hashing.options(),
            cache: cache(&self.path, self.no_cache),
        })
    }
}

/// `verify PATH --key KEY | --ca ROOT`: check a signature and the files.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct VerifyRequest {
    /// The model file or folder.
    pub path: PathBuf,
    /// Public key (SPKI PEM): the key method.
    #[cfg_attr(
        feature = "clap",
        arg(long, required_unless_present = "ca", conflicts_with = "ca")
    )]
    pub key: Option<PathBuf>,
    /// Trusted root certificates (PEM; repeatable): the certificate
    /// method. The signature's chain must lead to one of them, and its
    /// signing certificate must be for code signing.
    #[cfg_attr(feature = "clap", arg(long))]
    pub ca: Vec<PathBuf>,
    /// The signing certificate and its chain (PEM, signing certificate
    /// first) to verify with --ca, instead of those in the signature.
    #[cfg_attr(feature = "clap", arg(long, requires = "ca"))]
    pub cert: Option<PathBuf>,
    /// Signature file [default: PATH/model.sig for a folder, PATH.sig for
    /// a file].
    #[cfg_attr(feature = "clap", arg(long, short = 's'))]
    pub signature: Option<PathBuf>,
    /// More paths to leave out, besides those the signature lists.
    #[cfg_attr(feature = "clap", arg(long = "ignore-paths", value_name = "PATH"))]
    pub ignore_paths: Vec<String>,
    /// Files the signature does not list are not an error.
    #[cfg_attr(feature = "clap", arg(long))]
    pub ignore_unsigned_files: bool,
    /// Hash every file again instead of reusing digests of unchanged files.
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_cache: bool,
}

impl VerifyRequest {
    /// The gate: the trusted key or roots (and certificates) read.
    pub fn resolve(&self) -> Result<Verify, Error> {
        let (key, signature) = (self.key.as_deref(), self.signature.clone());
        let mut gate = Verify::from_files(self.path.clone(), key, &self.ca, signature)?;
        if let Some(cert) = &self.cert {
            gate.certificates = Some(rampart_sign::pem_certificates(cert)?);
        }
        gate.ignore = self.ignore_paths.clone();
        gate.ignore_unsigned = self.ignore_unsigned_files;
        gate.cache = cache(&self.path, self.no_cache);
        Ok(gate)
    }
}
