//! What a front end asks the registry for, as it arrives: paths to keys
//! rather than keys, `KEY=VALUE` metadata. With the `clap` feature these
//! are also the command line's flags; they deserialize from JSON for the
//! gateway's REST API. One definition serves both.

use crate::name::{Name, VersionRef};
use crate::registry::Register;
use crate::Error;
use rampart_attest::SigningKey;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `register NAME PATH`: a new version of a model.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct RegisterRequest {
    /// The model's name: letters, digits, '.', '_' or '-' (fraud-detector).
    pub model: Name,
    /// The model file or folder; its bytes are hashed now, and a later
    /// read of them is checked against that digest.
    pub path: PathBuf,
    /// Metadata as KEY=VALUE (commit=..., owner=...); repeatable.
    #[cfg_attr(feature = "clap", arg(long = "meta", value_name = "KEY=VALUE", value_parser = key_value))]
    #[serde(default)]
    pub meta: Vec<(String, String)>,
    /// The run that produced it (a CI job, an MLflow run id).
    #[cfg_attr(feature = "clap", arg(long))]
    pub from_run: Option<String>,
    /// The version it was fine-tuned from (NAME@V).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME@V"))]
    pub parent: Option<VersionRef>,
    /// A training dataset (its digest is recorded); repeatable.
    #[cfg_attr(feature = "clap", arg(long))]
    #[serde(default)]
    pub train: Vec<PathBuf>,
    /// An evaluation dataset (its digest is recorded); repeatable.
    #[cfg_attr(feature = "clap", arg(long))]
    #[serde(default)]
    pub eval: Vec<PathBuf>,
    /// The author's private key (PEM); the author cannot approve the
    /// version [default: the project's attestation key].
    #[cfg_attr(feature = "clap", arg(long))]
    pub key: Option<PathBuf>,
}

/// `approve NAME@V --alias A --key KEY`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct ApproveRequest {
    /// The version (NAME@V).
    pub version: VersionRef,
    /// The alias it may go to.
    #[cfg_attr(feature = "clap", arg(long))]
    pub alias: Name,
    /// The approver's private key (PEM); its public key must be among the
    /// alias's approvers to count, and must not be the author's.
    #[cfg_attr(feature = "clap", arg(long))]
    pub key: PathBuf,
}

/// `promote NAME@V --to ALIAS`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct PromoteRequest {
    /// The version (NAME@V).
    pub version: VersionRef,
    /// The alias to point at it.
    #[cfg_attr(feature = "clap", arg(long))]
    pub to: Name,
    /// Refuse unless the alias points at this version now (`none`: does
    /// not exist yet) [default: where it pointed when the command began].
    #[cfg_attr(feature = "clap", arg(long, value_name = "V|none"))]
    pub expect_current: Option<Current>,
}

/// `rollback NAME --alias A [--to V] --reason WHY`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct RollbackRequest {
    /// The model.
    pub model: Name,
    /// The alias to move back.
    #[cfg_attr(feature = "clap", arg(long))]
    pub alias: Name,
    /// A version once promoted to the alias [default: the one promoted
    /// before the current one].
    #[cfg_attr(feature = "clap", arg(long))]
    pub to: Option<u64>,
    /// Why (recorded in the ledger).
    #[cfg_attr(feature = "clap", arg(long))]
    pub reason: String,
}

/// `deprecate NAME@V --reason WHY` and `delete NAME@V --reason WHY`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct VersionRequest {
    /// The version (NAME@V).
    pub version: VersionRef,
    /// Why (recorded in the ledger).
    #[cfg_attr(feature = "clap", arg(long))]
    pub reason: String,
}

/// Where an alias is expected to point: a version, or nowhere (`none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Current(pub Option<u64>);

impl std::str::FromStr for Current {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Current(None)),
            n => n
                .parse::<u64>()
                .map(|v| Current(Some(v)))
                .map_err(|_| format!("{s:?} is not a version number or `none`")),
        }
    }
}

impl TryFrom<String> for Current {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl PromoteRequest {
    pub fn expect(&self) -> crate::Expect {
        match self.expect_current {
            Some(Current(e)) => crate::Expect::Version(e),
            None => crate::Expect::AsRead,
        }
    }
}

/// `KEY=VALUE`, the key a non-empty word.
pub fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && k.len() <= 64 && v.len() <= 4096 => {
            Ok((k.to_string(), v.to_string()))
        }
        _ => Err(format!(
            "{s:?} is not KEY=VALUE (a key of 1 to 64 characters, a value under 4 KiB)"
        )),
    }
}

/// Reads a private key file (PEM).
pub fn read_key(path: &Path) -> Result<SigningKey, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    SigningKey::from_pem(&text).map_err(|e| Error::Key(format!("{}: {e}", path.display())))
}

impl RegisterRequest {
    /// The registration, with the author's key read and `who` (the
    /// user's name, unless given) and `run` added to the metadata.
    pub fn resolve(&self) -> Result<Register, Error> {
        if self.meta.iter().any(|(k, _)| k == "who") {
            return Err(Error::Name(
                "--meta who=... is not taken: `who` is recorded from $USER, and the author is the --key".into(),
            ));
        }
        let mut meta: BTreeMap<String, String> = self.meta.iter().cloned().collect();
        if let Some(run) = &self.from_run {
            meta.insert("run".into(), run.clone());
        }
        if let Some(user) = std::env::var("USER").ok().filter(|u| !u.is_empty()) {
            meta.entry("who".into()).or_insert(user);
        }
        Ok(Register {
            model: Some(self.model.clone()),
            path: self.path.clone(),
            meta,
            parent: self.parent.clone(),
            train: self.train.clone(),
            eval: self.eval.clone(),
            key: self.key.as_deref().map(read_key).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_key_equals_value() {
        assert_eq!(key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(key_value("a="), Ok(("a".into(), String::new())));
        for bad in ["", "=x", "novalue", &format!("{}=1", "k".repeat(65))] {
            assert!(key_value(bad).is_err(), "{bad:?}");
        }
    }
}
