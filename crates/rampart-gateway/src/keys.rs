//! API keys: 256 random bits, shown once when made, kept only as their
//! SHA-256 in a signed `gateway-key` attestation in the project's ledger.
//! The ledger is the only record: the key table is what its signed
//! events make, so nobody who can write a database but not sign with the
//! project's key can add a key or take back a revocation. Each replica
//! reads the ledger's new entries every [`RELOAD`], so a revocation or an
//! expiry takes effect everywhere within a second.

use crate::rbac::Principal;
use crate::Error;
use rampart_attest::ResourceDescriptor;
use rampart_evidence::{Outcome, Project, Started};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often a running gateway reads the ledger's new key events.
pub const RELOAD: Duration = Duration::from_millis(400);

/// What every key starts with, so that logs and secret scanners know one.
pub const PREFIX: &str = "rk_";

/// The gate name of key events in the ledger.
pub const GATE: &str = "gateway-key";

/// Most keys held in memory: a bound on what a replica holds.
const MAX_KEYS: usize = 100_000;

/// A key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub created: u64,
    pub expires: Option<u64>,
    pub revoked: Option<u64>,
}

/// A key just made: the token is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    #[serde(flatten)]
    pub info: KeyInfo,
    pub token: String,
    /// The ledger entry that records it.
    pub ledger_index: u64,
}

/// A revocation's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Revoked {
    #[serde(flatten)]
    pub key: KeyInfo,
    /// The key was revoked before this call; nothing was recorded.
    pub already: bool,
}

/// One signed change to the keys, as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum KeyEvent {
    /// A new key: its hash (the hash of 256 random bits reveals nothing).
    KeyCreated {
        id: String,
        name: String,
        sha256: String,
        roles: Vec<String>,
        created: u64,
        expires: Option<u64>,
    },
    KeyRevoked {
        id: String,
        revoked: u64,
    },
}

/// The ledger entry recording `event`: an attestation signed with
/// `signer`'s key about the key (its subject digest is the token's
/// SHA-256, `sha256`). Only the entries signed by the serving project's
/// own key are read as keys.
pub fn entry(signer: &Project, event: &KeyEvent, sha256: &str) -> Result<Vec<u8>, Error> {
    let details = serde_json::to_value(event).map_err(|e| Error::Keys(e.to_string()))?;
    let id = match event {
        KeyEvent::KeyCreated { id, .. } | KeyEvent::KeyRevoked { id, .. } => id,
    };
    let outcome = Outcome {
        gate: GATE,
        inputs: &[],
        passed: true,
        policy_sha256: "gateway",
        started: Started::now(),
        details,
    };
    let subject = vec![ResourceDescriptor {
        name: format!("api-key:{id}"),
        digest: BTreeMap::from([("sha256".to_string(), sha256.to_string())]),
    }];
    signer.attestation(&outcome, subject).map_err(evidence_err)
}

/// The keys the project's ledger records, read as far as the ledger went
/// at the last [`KeyLog::refresh`].
pub struct KeyLog {
    project: Project,
    ledger: rampart_ledger::Ledger,
    /// The next ledger entry to read.
    next: u64,
    /// Keys by id, each with its hash.
    keys: BTreeMap<String, (String, KeyInfo)>,
    /// The last checkpoint found to match the ledger (size, root).
    sealed: Option<(u64, rampart_ledger::Hash)>,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn random_hex(n: usize) -> Result<String, Error> {
    let mut b = vec![0u8; n];
    OsRng
        .try_fill_bytes(&mut b)
        .map_err(|e| Error::Keys(format!("no randomness for a key: {e}")))?;
    Ok(hex::encode(b))
}

fn evidence_err(e: rampart_evidence::Error) -> Error {
    use rampart_evidence::Error::{Ledger, Open};
    use rampart_ledger::StoreError::Tampered;
    match &e {
        Ledger {
            source: Tampered(_),
            ..
        }
        | Open {
            source: Tampered(_),
            ..
        } => Error::Tampered(e.to_string()),
        _ => Error::Keys(e.to_string()),
    }
}

impl KeyLog {
    /// The keys `project`'s ledger records.
    pub fn open(project: &Project) -> Result<KeyLog, Error> {
        let ledger = project.ledger().map_err(evidence_err)?;
        let mut log = KeyLog {
            project: project.clone(),
            ledger,
            next: 0,
            keys: BTreeMap::new(),
            sealed: None,
        };
        log.check_sealed()?;
        log.read_new()?;
        Ok(log)
    }

    /// The ledger the keys are read from, for messages.
    pub fn describe(&self) -> String {
        self.project.ledger_path().display().to_string()
    }

    /// Reads what was appended to the ledger since the last read. An
    /// error leaves the table as it was.
    pub fn refresh(&mut self) -> Result<(), Error> {
        self.ledger.refresh().map_err(|e| self.ledger_err(e))?;
        self.check_sealed()?;
        self.read_new()
    }

    fn ledger_err(&self, source: rampart_ledger::StoreError) -> Error {
        evidence_err(rampart_evidence::Error::Ledger {
            dir: self.project.dir().to_path_buf(),
            source,
        })
    }

    /// Refuses a ledger cut short: one whose last entry read is gone, or
    /// that no longer matches its last signed checkpoint (entries removed
    /// from the end would otherwise take back a revocation). Whoever can
    /// also delete the checkpoint can still do it: publish checkpoints to
    /// a witness to close that.
    fn check_sealed(&mut self) -> Result<(), Error> {
        let size = self.ledger.size();
        let tampered = |what: String| {
            Error::Tampered(format!(
                "the ledger {} {what}: entries were edited or removed; restore it from a copy you trust (`rampart ledger verify` shows the damage)",
                self.describe()
            ))
        };
        let last = size.checked_sub(1);
        if let Some(i) = last {
            if self
                .ledger
                .entry(i)
                .map_err(|e| self.ledger_err(e))?
                .is_none()
            {
                return Err(tampered(format!("no longer holds entry {i}, read before")));
            }
        }
        let Some((at, root, _)) = self
            .ledger
            .last_checkpoint()
            .map_err(|e| self.ledger_err(e))?
        else {
            return Ok(());
        };
        if self.sealed == Some((at, root)) {
            return Ok(());
        }
        if at > size {
            return Err(tampered(format!(
                "holds {size} entries, fewer than the {at} its last checkpoint signed"
            )));
        }
        if self.ledger.tree().root_at(at).ok() != Some(root) {
            return Err(tampered(format!(
                "does not match its checkpoint of {at} entries"
            )));
        }
        self.sealed = Some((at, root));
        Ok(())
    }

    /// Applies the key events from `next` on: all of them or none. An
    /// entry that claims to be a key event but is not signed by the
    /// project's key, or that does not make sense (a second key with one
    /// id, revoking an unknown key) is an error, never skipped.
    fn read_new(&mut self) -> Result<(), Error> {
        let (found, size) = self
            .project
            .attestations_in(
                &self.ledger,
                self.next,
                &rampart_evidence::predicate_type(GATE),
            )
            .map_err(evidence_err)?;
        let mut keys = self.keys.clone();
        for s in found {
            let at = |what: &str| {
                Error::Tampered(format!(
                    "ledger entry {} of {}: {what}; it was not written by `rampart serve keys`: restore the ledger from a copy you trust (`rampart ledger verify` lists every such entry)",
                    s.index,
                    self.describe()
                ))
            };
            if !s.signature_ok {
                return Err(at("a key event not signed by this project's key"));
            }
            let event: KeyEvent = serde_json::from_value(s.statement.predicate.clone())
                .map_err(|e| at(&format!("a key event that does not parse ({e})")))?;
            match event {
                KeyEvent::KeyCreated {
                    id,
                    name,
                    sha256,
                    roles,
                    created,
                    expires,
                } => {
                    if keys.contains_key(&id) {
                        return Err(at(&format!("a second key with id {id}")));
                    }
                    if keys.len() >= MAX_KEYS {
                        return Err(at(&format!(
                            "more than the {MAX_KEYS} keys a gateway holds"
                        )));
                    }
                    let info = KeyInfo {
                        id: id.clone(),
                        name,
                        roles,
                        created,
                        expires,
                        revoked: None,
                    };
                    keys.insert(id, (sha256, info));
                }
                KeyEvent::KeyRevoked { id, revoked } => {
                    let Some((_, k)) = keys.get_mut(&id) else {
                        return Err(at(&format!("the revocation of an unknown key {id}")));
                    };
                    // The first revocation counts.
                    k.revoked.get_or_insert(revoked);
                }
            }
        }
        self.keys = keys;
        self.next = size;
        Ok(())
    }

    /// Appends `event` to the ledger as a signed attestation about the
    /// key (its subject digest is the token's SHA-256); returns its index.
    fn append(&mut self, event: &KeyEvent, sha256: &str) -> Result<u64, Error> {
        let entry = entry(&self.project, event, sha256)?;
        let idx = self
            .project
            .append_entry(&mut self.ledger, &entry)
            .map_err(evidence_err)?;
        // Sealed at once: a checkpoint past the event makes cutting it
        // off the ledger's end detectable (see `check_sealed`).
        let sealed = self
            .project
            .checkpoint_key()
            .map_err(evidence_err)
            .and_then(|key| self.ledger.checkpoint(&key).map_err(|e| self.ledger_err(e)));
        if let Err(e) = sealed {
            return Err(Error::Keys(format!(
                "recorded at ledger entry {idx}, but no checkpoint could be signed ({e}); run `rampart ledger checkpoint`"
            )));
        }
        self.refresh()?;
        Ok(idx)
    }

    /// Makes a key for `name` with `roles`, valid until `expires` (unix
    /// seconds) if given, and records it in the ledger. The token exists
    /// only in the answer.
    pub fn create(
        &mut self,
        name: &str,
        roles: &[String],
        expires: Option<u64>,
    ) -> Result<Created, Error> {
        if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
            return Err(Error::Usage(
                "a key's name is 1 to 128 printable characters".into(),
            ));
        }
        let id = random_hex(8)?;
        let token = format!("{PREFIX}{id}_{}", random_hex(32)?);
        let sha256 = sha256_hex(&token);
        let info = KeyInfo {
            id: id.clone(),
            name: name.to_string(),
            roles: roles.to_vec(),
            created: now(),
            expires,
            revoked: None,
        };
        let event = KeyEvent::KeyCreated {
            id,
            name: info.name.clone(),
            sha256: sha256.clone(),
            roles: info.roles.clone(),
            created: info.created,
            expires,
        };
        let ledger_index = self.append(&event, &sha256)?;
        Ok(Created {
            info,
            token,
            ledger_index,
        })
    }

    /// Revokes key `id` by recording its revocation in the ledger. A key
    /// revoked already stays as it was (`already` says so: revoking is
    /// idempotent, so that scripts can repeat it); an unknown id is an
    /// error.
    pub fn revoke(&mut self, id: &str) -> Result<Revoked, Error> {
        self.refresh()?;
        let Some((sha256, k)) = self.keys.get(id).cloned() else {
            return Err(Error::NotFound(format!(
                "no key {id:?}; `rampart serve keys list` shows the keys"
            )));
        };
        if k.revoked.is_some() {
            return Ok(Revoked {
                key: k,
                already: true,
            });
        }
        self.append(
            &KeyEvent::KeyRevoked {
                id: id.to_string(),
                revoked: now(),
            },
            &sha256,
        )?;
        let key = self
            .keys
            .get(id)
            .map(|(_, k)| k.clone())
            .ok_or_else(|| Error::NotFound(format!("key {id:?} vanished")))?;
        Ok(Revoked {
            key,
            already: false,
        })
    }

    /// Every key, oldest first.
    pub fn list(&self) -> Vec<KeyInfo> {
        let mut all: Vec<KeyInfo> = self.keys.values().map(|(_, k)| k.clone()).collect();
        all.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        all
    }

    /// Every key, by hash, for checking tokens in memory.
    pub fn snapshot(&self) -> Keys {
        Keys {
            by_hash: self
                .keys
                .values()
                .map(|(h, k)| (h.clone(), k.clone()))
                .collect(),
            untrusted: None,
        }
    }
}

/// A time for people: `2026-12-07 03:43:11 UTC`.
pub fn when(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("{unix} (unix seconds)"))
}

/// The keys as of one read.
#[derive(Debug, Default)]
pub struct Keys {
    by_hash: HashMap<String, KeyInfo>,
    /// Why no key is trusted (the ledger could not be read), if so.
    untrusted: Option<String>,
}

/// Keys as a table, for people.
pub fn list_text(keys: &[KeyInfo]) -> String {
    if keys.is_empty() {
        return "no API keys: `rampart serve keys create NAME --role ROLE` makes one\n".into();
    }
    let now = now();
    let mut out = format!(
        "{:<16}  {:<20}  {:<24}  {}\n",
        "ID", "NAME", "ROLES", "STATE"
    );
    for k in keys {
        let state = match (k.revoked, k.expires) {
            (Some(t), _) => format!("revoked {}", when(t)),
            (None, Some(t)) if t <= now => format!("expired {}", when(t)),
            (None, Some(t)) => format!("valid until {}", when(t)),
            (None, None) => "valid, no expiry".into(),
        };
        out.push_str(&format!(
            "{:<16}  {:<20}  {:<24}  {state}\n",
            k.id,
            k.name,
            k.roles.join(",")
        ));
    }
    out
}

/// Why a credential was refused: logged, never sent to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl Keys {
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Every key, never its hash.
    pub fn infos(&self) -> Vec<KeyInfo> {
        self.by_hash.values().cloned().collect()
    }

    /// No key at all, because of `why` (logged with every refusal).
    pub fn untrusted(why: String) -> Keys {
        Keys {
            by_hash: HashMap::new(),
            untrusted: Some(why),
        }
    }

    /// The principal a token names, or why not.
    pub fn check(&self, token: &str, now: u64) -> Result<Principal, Denied> {
        if let Some(why) = &self.untrusted {
            return Err(Denied(format!("no API key is trusted: {why}")));
        }
        let Some(k) = self.by_hash.get(&sha256_hex(token)) else {
            return Err(Denied("unknown API key".into()));
        };
        if let Some(t) = k.revoked {
            return Err(Denied(format!("API key {} was revoked at {t}", k.id)));
        }
        if let Some(t) = k.expires.filter(|t| *t <= now) {
            return Err(Denied(format!("API key {} expired at {t}", k.id)));
        }
        Ok(Principal {
            id: format!("key:{}", k.name),
            roles: k.roles.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(d: &tempfile::TempDir) -> Project {
        let p = Project::at(d.path().join(".rampart"));
        p.init("test.rampart.dev/keys").unwrap();
        p
    }

    #[test]
    fn keys_are_checked_by_hash_and_revocation_and_expiry_count() {
        let d = tempfile::tempdir().unwrap();
        let p = project(&d);
        let mut ks = KeyLog::open(&p).unwrap();
        let a = ks.create("bot", &["scorer".into()], None).unwrap();
        let b = ks.create("old", &[], Some(now() + 3600)).unwrap();
        assert!(a.token.starts_with(PREFIX) && a.token.len() == 3 + 16 + 1 + 64);
        let keys = ks.snapshot();
        let who = keys.check(&a.token, now()).unwrap();
        assert_eq!(
            (who.id.as_str(), who.roles.clone()),
            ("key:bot", vec!["scorer".to_string()])
        );
        assert!(keys
            .check(&b.token, now() + 7200)
            .unwrap_err()
            .0
            .contains("expired"));
        assert!(keys.check("rk_nope", now()).is_err());
        // The secret is nowhere in the ledger, only its hash.
        let raw = std::fs::read(p.ledger_path()).unwrap();
        let hex_secret = a.token.rsplit('_').next().unwrap();
        assert!(!raw
            .windows(hex_secret.len())
            .any(|w| w == hex_secret.as_bytes()));
        assert!(!ks.revoke(&a.info.id).unwrap().already);
        // Another reader (another replica) sees the revocation.
        let again = KeyLog::open(&p).unwrap().snapshot();
        assert!(again
            .check(&a.token, now())
            .unwrap_err()
            .0
            .contains("revoked"));
        let size = p.ledger().unwrap().size();
        let twice = ks.revoke(&a.info.id).unwrap();
        assert!(twice.already && twice.key.revoked.is_some());
        assert_eq!(p.ledger().unwrap().size(), size, "nothing recorded twice");
        assert!(ks.revoke("nope").is_err());
    }

    #[test]
    fn a_long_lived_reader_sees_keys_made_elsewhere_after_refresh() {
        let d = tempfile::tempdir().unwrap();
        let p = project(&d);
        let mut gateway = KeyLog::open(&p).unwrap();
        let made = KeyLog::open(&p).unwrap().create("ci", &[], None).unwrap();
        assert!(gateway.snapshot().check(&made.token, now()).is_err());
        gateway.refresh().unwrap();
        assert!(gateway.snapshot().check(&made.token, now()).is_ok());
        KeyLog::open(&p).unwrap().revoke(&made.info.id).unwrap();
        gateway.refresh().unwrap();
        assert!(gateway.snapshot().check(&made.token, now()).is_err());
    }

    #[test]
    fn a_key_event_signed_by_another_key_is_an_error_not_a_key() {
        let d = tempfile::tempdir().unwrap();
        let p = project(&d);
        let other = tempfile::tempdir().unwrap();
        let q = project(&other);
        // A forger with write access to the ledger but another signing
        // key appends a key event of their own.
        let mut ledger = p.ledger().unwrap();
        let forged = KeyEvent::KeyCreated {
            id: "f0f0f0f0f0f0f0f0".into(),
            name: "forged".into(),
            sha256: sha256_hex("rk_f0f0f0f0f0f0f0f0_x"),
            roles: vec!["admin".into()],
            created: now(),
            expires: None,
        };
        let entry = entry(&q, &forged, &sha256_hex("rk_f0f0f0f0f0f0f0f0_x")).unwrap();
        p.append_entry(&mut ledger, &entry).unwrap();
        let e = KeyLog::open(&p).err().unwrap().to_string();
        assert!(e.contains("not signed by this project's key"), "{e}");
        // `rampart ledger verify`, where the error sends the user, names
        // the same entry.
        let audit = p.audit(&[]).unwrap();
        let idx = format!("entry {}:", p.ledger().unwrap().size() - 1);
        assert!(
            audit
                .problems
                .iter()
                .any(|x| x.starts_with(&idx) && x.contains("does not verify")),
            "{:?}",
            audit.problems
        );
    }

    /// Cutting the revocation off the ledger's end does not bring the key
    /// back: every key event is sealed by a checkpoint, and a ledger that
    /// no longer matches its checkpoint is refused, by a new reader and
    /// by a running one.
    #[test]
    fn a_ledger_cut_short_is_refused_not_a_revocation_undone() {
        let d = tempfile::tempdir().unwrap();
        let p = project(&d);
        let mut ks = KeyLog::open(&p).unwrap();
        let k = ks.create("victim", &["scorer".into()], None).unwrap();
        let mut running = KeyLog::open(&p).unwrap();
        let before = p.ledger().unwrap().size();
        assert!(!ks.revoke(&k.info.id).unwrap().already);
        running.refresh().unwrap();
        let (sealed, _, _) = p.ledger().unwrap().last_checkpoint().unwrap().unwrap();
        assert_eq!(sealed, before + 1, "the revocation is checkpointed");
        let db = rusqlite::Connection::open(p.ledger_path()).unwrap();
        db.execute(
            "DELETE FROM leaves WHERE idx >= ?1",
            [i64::try_from(before).unwrap()],
        )
        .unwrap();
        let e = KeyLog::open(&p).err().unwrap().to_string();
        assert!(e.contains("fewer than the"), "{e}");
        let e = running.refresh().unwrap_err().to_string();
        assert!(e.contains("entries were edited or removed"), "{e}");
        // Cut below the checkpoint's size with the checkpoint gone too:
        // nothing in the ledger can tell (a witness must), but the
        // running reader still refuses the missing entry it read.
        db.execute("DELETE FROM checkpoints", []).unwrap();
        assert!(running.refresh().is_err());
    }

    #[test]
    fn untrusted_keys_say_why() {
        let e = Keys::untrusted("the ledger is gone".into())
            .check("rk_x", now())
            .unwrap_err()
            .0;
        assert!(e.contains("the ledger is gone"), "{e}");
    }

    #[test]
    fn times_read_as_dates() {
        assert_eq!(when(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(when(u64::MAX), format!("{} (unix seconds)", u64::MAX));
    }
}
