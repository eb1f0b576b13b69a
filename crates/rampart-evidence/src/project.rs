//! The `.rampart/` folder of a project: the ledger database, its
//! checkpoint key pair and the attestation key pair.

use crate::Error;
use rampart_ledger::checkpoint::{NoteKey, NoteVerifier};
use rampart_ledger::Ledger;
use std::path::{Path, PathBuf};

/// A project's evidence folder. The files in it:
///
/// | file | what |
/// |---|---|
/// | `ledger.db` | the append-only Merkle log (SQLite) |
/// | `ledger.key`, `ledger.vkey` | the checkpoint signing key (Ed25519, C2SP note) and its verifier |
/// | `attest.key`, `attest.pub` | the key that signs attestations (Ed25519, PEM) |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    dir: PathBuf,
}

impl Project {
    /// The folder a project's evidence lives in unless told otherwise.
    pub const DEFAULT_DIR: &'static str = ".rampart";
    /// The checkpoint origin `init` gives a ledger unless told otherwise.
    pub const DEFAULT_ORIGIN: &'static str = "rampart.local/ledger";

    /// The project whose evidence is in `dir` (which may not exist yet).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Project { dir: dir.into() }
    }

    /// Where to record: `explicit` when given, else the `.rampart` that
    /// holds a ledger here or in the nearest parent folder (as
    /// `rampart.toml` is found), else nowhere (recording is then skipped).
    pub fn find(explicit: Option<&Path>) -> Option<Self> {
        if let Some(d) = explicit {
            return Some(Project::at(d));
        }
        let here = Project::at(Self::DEFAULT_DIR);
        if here.ledger_path().is_file() {
            return Some(here);
        }
        let cwd = std::env::current_dir().ok()?;
        cwd.ancestors()
            .skip(1)
            .map(|a| Project::at(a.join(Self::DEFAULT_DIR)))
            .find(|p| p.ledger_path().is_file())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn ledger_path(&self) -> PathBuf {
        self.dir.join("ledger.db")
    }
    pub fn checkpoint_key_path(&self) -> PathBuf {
        self.dir.join("ledger.key")
    }
    pub fn verifier_key_path(&self) -> PathBuf {
        self.dir.join("ledger.vkey")
    }
    pub fn attest_key_path(&self) -> PathBuf {
        self.dir.join("attest.key")
    }
    pub fn attest_pub_path(&self) -> PathBuf {
        self.dir.join("attest.pub")
    }

    /// Creates the folder, both key pairs and an empty ledger named
    /// `origin`. Never overwrites: an existing ledger or key is an error.
    /// Returns the checkpoint verifier key (`name+id+key`).
    pub fn init(&self, origin: &str) -> Result<NoteVerifier, Error> {
        let db = self.ledger_path();
        if db.exists() {
            return Err(Error::Exists { path: db });
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            Error::Write(std::io::Error::new(
                e.kind(),
                format!("cannot create {}: {e}", self.dir.display()),
            ))
        })?;
        let key = NoteKey::new(
            origin,
            ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng),
        )
        .map_err(|e| Error::Origin {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        let new = |path: PathBuf, bytes: &[u8], mode| {
            rampart_core::write_new(&path, bytes, mode).map_err(Error::Write)
        };
        new(
            self.checkpoint_key_path(),
            key.to_string_secret().as_bytes(),
            0o600,
        )?;
        new(
            self.verifier_key_path(),
            format!("{}\n", key.verifier()).as_bytes(),
            0o644,
        )?;
        let attest = rampart_attest::SigningKey::generate(rampart_attest::KeyKind::Ed25519);
        let pem = |r: Result<String, rampart_attest::Error>, path: PathBuf| {
            r.map_err(|source| Error::Key { path, source })
        };
        new(
            self.attest_key_path(),
            pem(attest.to_pem(), self.attest_key_path())?.as_bytes(),
            0o600,
        )?;
        new(
            self.attest_pub_path(),
            pem(attest.public().to_pem(), self.attest_pub_path())?.as_bytes(),
            0o644,
        )?;
        Ledger::init(&db, origin).map_err(|source| Error::Ledger {
            dir: self.dir.clone(),
            source,
        })?;
        Ok(key.verifier())
    }

    /// Starts a project: writes `policy_text` to `policy` and makes the
    /// ledger and keys with the default origin, unless a ledger is there
    /// already (kept as it is: None). Refuses, writing nothing, when the
    /// policy exists.
    pub fn start(&self, policy: &Path, policy_text: &str) -> Result<Option<NoteVerifier>, Error> {
        if policy.exists() {
            return Err(Error::Exists {
                path: policy.to_path_buf(),
            });
        }
        let has_ledger = self.ledger_path().exists();
        rampart_core::write_new(policy, policy_text.as_bytes(), 0o644).map_err(Error::Write)?;
        match has_ledger {
            true => Ok(None),
            false => self.init(Self::DEFAULT_ORIGIN).map(Some),
        }
    }

    /// Whether gate runs can be recorded here: the ledger opens and the
    /// attestation key reads. Checked before a run, so that a run that
    /// could not be attested is refused before it writes anything.
    pub fn ready(&self) -> Result<(), Error> {
        self.ledger()?;
        self.signing_key().map(drop)
    }

    /// Opens the ledger; a project without one says how to make it.
    pub fn ledger(&self) -> Result<Ledger, Error> {
        if !self.ledger_path().exists() {
            return Err(Error::Refused(format!(
                "no ledger in {}: run `rampart init` (or `rampart ledger init`) first, or give the ledger's folder",
                self.dir.display()
            )));
        }
        Ledger::open(&self.ledger_path()).map_err(|source| Error::Open {
            dir: self.dir.clone(),
            source,
        })
    }

    /// The checkpoint signing key.
    pub fn checkpoint_key(&self) -> Result<NoteKey, Error> {
        let path = self.checkpoint_key_path();
        let text = read(&path, "the checkpoint key")?;
        NoteKey::parse(&text).map_err(|e| Error::Origin {
            origin: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Signs a checkpoint of the ledger; returns its size.
    pub fn checkpoint(&self) -> Result<u64, Error> {
        let key = self.checkpoint_key()?;
        let mut l = self.ledger()?;
        l.checkpoint(&key).map_err(|source| Error::Ledger {
            dir: self.dir.clone(),
            source,
        })?;
        Ok(l.size())
    }

    pub fn signing_key(&self) -> Result<rampart_attest::SigningKey, Error> {
        let path = self.attest_key_path();
        let text = read(&path, "the attestation key")?;
        rampart_attest::SigningKey::from_pem(&text).map_err(|source| Error::Key { path, source })
    }

    pub fn public_key(&self) -> Result<rampart_attest::PublicKey, Error> {
        let path = self.attest_pub_path();
        let text = read(&path, "the attestation public key")?;
        rampart_attest::PublicKey::from_pem(&text).map_err(|source| Error::Key { path, source })
    }
}

fn read(path: &Path, what: &'static str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_makes_every_file_once_and_find_sees_it() {
        let d = tempfile::tempdir().unwrap();
        let p = Project::at(d.path().join(".rampart"));
        let v = p.init(Project::DEFAULT_ORIGIN).unwrap();
        assert!(v.to_string().starts_with("rampart.local/ledger+"), "{v}");
        for f in [
            p.ledger_path(),
            p.checkpoint_key_path(),
            p.verifier_key_path(),
            p.attest_key_path(),
            p.attest_pub_path(),
        ] {
            assert!(f.is_file(), "{}", f.display());
        }
        assert!(matches!(p.init("x"), Err(Error::Exists { .. })));
        assert_eq!(p.checkpoint().unwrap(), 0);
        assert_eq!(Project::find(Some(p.dir())), Some(p.clone()));
        // Without a ledger at the default place, nothing is found.
        let here = std::env::current_dir().unwrap();
        if !here.join(".rampart/ledger.db").exists() {
            assert_eq!(Project::find(None), None);
        }
    }
}
