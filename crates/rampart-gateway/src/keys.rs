//! API keys: 256 random bits, shown once when made, kept only as their
//! SHA-256. They live in a store every replica reads (the registry's
//! SQLite file or PostgreSQL), and each replica re-reads the table every
//! [`RELOAD`], so a revocation or an expiry takes effect everywhere
//! within a second.

use crate::rbac::Principal;
use crate::Error;
use rampart_registry::store::{Backend, Val};
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often a running gateway re-reads the keys.
pub const RELOAD: Duration = Duration::from_millis(400);

/// What every key starts with, so that logs and secret scanners know one.
pub const PREFIX: &str = "rk_";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS gateway_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, roles TEXT NOT NULL, created BIGINT NOT NULL, expires BIGINT, revoked BIGINT)";

/// Most keys read into memory: a bound on what a replica holds.
const MAX_KEYS: usize = 100_000;

/// A key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

/// The keys table of a store.
pub struct KeyStore {
    store: Box<dyn Backend>,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn store_err(e: rampart_registry::Error) -> Error {
    Error::Store(e.to_string())
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn random_hex(n: usize) -> Result<String, Error> {
    let mut b = vec![0u8; n];
    OsRng
        .try_fill_bytes(&mut b)
        .map_err(|e| Error::Store(format!("no randomness for a key: {e}")))?;
    Ok(hex::encode(b))
}

impl KeyStore {
    /// The keys table of the store `url` names (made if missing).
    pub fn open(url: &str) -> Result<KeyStore, Error> {
        let mut store = rampart_registry::store::open(url).map_err(store_err)?;
        let mut tx = store.begin().map_err(store_err)?;
        tx.exec(SCHEMA, &[]).map_err(store_err)?;
        tx.commit().map_err(store_err)?;
        Ok(KeyStore { store })
    }

    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// Makes a key for `name` with `roles`, valid until `expires` (unix
    /// seconds) if given.
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
        let created = now();
        let mut tx = self.store.begin().map_err(store_err)?;
        tx.exec(
            "INSERT INTO gateway_keys (id, name, sha256, roles, created, expires, revoked) VALUES (?, ?, ?, ?, ?, ?, NULL)",
            &[
                id.as_str().into(),
                name.into(),
                sha256_hex(&token).as_str().into(),
                roles.join(",").as_str().into(),
                created.into(),
                expires.map(Val::from).unwrap_or(Val::Null),
            ],
        )
        .map_err(store_err)?;
        tx.commit().map_err(store_err)?;
        Ok(Created {
            info: KeyInfo {
                id,
                name: name.to_string(),
                roles: roles.to_vec(),
                created,
                expires,
                revoked: None,
            },
            token,
        })
    }

    /// As [`KeyStore::create`], recorded in `project`'s ledger; a key
    /// whose creation cannot be recorded is revoked again and never shown.
    pub fn create_recorded(
        &mut self,
        project: &rampart_evidence::Project,
        name: &str,
        roles: &[String],
        expires: Option<u64>,
    ) -> Result<Created, Error> {
        let made = self.create(name, roles, expires)?;
        let event = serde_json::json!({"event": "key-created", "ts": now(), "key": made.info});
        if let Err(e) = crate::audit::append(project, &[event]) {
            let _ = self.revoke(&made.info.id);
            return Err(Error::Store(format!(
                "the key could not be recorded in the ledger, so it was revoked: {e}"
            )));
        }
        Ok(made)
    }

    /// As [`KeyStore::revoke`], recorded in `project`'s ledger. The
    /// revocation stands even when the ledger cannot record it (the error
    /// says so).
    pub fn revoke_recorded(
        &mut self,
        project: &rampart_evidence::Project,
        id: &str,
    ) -> Result<KeyInfo, Error> {
        let k = self.revoke(id)?;
        let event = serde_json::json!({"event": "key-revoked", "ts": now(), "key": k});
        crate::audit::append(project, &[event]).map_err(|e| {
            Error::Store(format!(
                "key {id} is revoked, but the ledger did not record it: {e}"
            ))
        })?;
        Ok(k)
    }

    /// Revokes key `id`; an unknown or already revoked id is an error.
    pub fn revoke(&mut self, id: &str) -> Result<KeyInfo, Error> {
        let mut tx = self.store.begin().map_err(store_err)?;
        let n = tx
            .exec(
                "UPDATE gateway_keys SET revoked = ? WHERE id = ? AND revoked IS NULL",
                &[now().into(), id.into()],
            )
            .map_err(store_err)?;
        tx.commit().map_err(store_err)?;
        if n == 0 {
            return Err(Error::NotFound(format!(
                "no unrevoked key {id:?}; `rampart serve keys list` shows the keys"
            )));
        }
        self.list()?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or_else(|| Error::NotFound(format!("key {id:?} vanished")))
    }

    pub fn list(&mut self) -> Result<Vec<KeyInfo>, Error> {
        Ok(self.read()?.into_iter().map(|(_, k)| k).collect())
    }

    fn read(&mut self) -> Result<Vec<(String, KeyInfo)>, Error> {
        let mut tx = self.store.read().map_err(store_err)?;
        let rows = tx
            .query(
                "SELECT id, name, sha256, roles, created, expires, revoked FROM gateway_keys ORDER BY created, id",
                &[],
            )
            .map_err(store_err)?;
        tx.commit().map_err(store_err)?;
        if rows.len() > MAX_KEYS {
            return Err(Error::Store(format!(
                "{} holds {} keys, more than the {MAX_KEYS} a gateway reads",
                self.store.describe(),
                rows.len()
            )));
        }
        let text = |r: &[Val], i: usize| r.get(i).and_then(Val::text).unwrap_or("").to_string();
        let int = |r: &[Val], i: usize| {
            r.get(i)
                .and_then(Val::int)
                .and_then(|n| u64::try_from(n).ok())
        };
        Ok(rows
            .iter()
            .map(|r| {
                let roles = text(r, 3);
                (
                    text(r, 2),
                    KeyInfo {
                        id: text(r, 0),
                        name: text(r, 1),
                        roles: roles
                            .split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect(),
                        created: int(r, 4).unwrap_or(0),
                        expires: int(r, 5),
                        revoked: int(r, 6),
                    },
                )
            })
            .collect())
    }

    /// Every key, by hash, for checking tokens in memory.
    pub fn snapshot(&mut self) -> Result<Keys, Error> {
        Ok(Keys {
            by_hash: self.read()?.into_iter().collect(),
        })
    }
}

/// The keys as of one read.
#[derive(Debug, Default)]
pub struct Keys {
    by_hash: HashMap<String, KeyInfo>,
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
            (Some(t), _) => format!("revoked at {t}"),
            (None, Some(t)) if t <= now => format!("expired at {t}"),
            (None, Some(t)) => format!("valid until {t}"),
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

    /// The principal a token names, or why not.
    pub fn check(&self, token: &str, now: u64) -> Result<Principal, Denied> {
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

    #[test]
    fn keys_are_checked_by_hash_and_revocation_and_expiry_count() {
        let d = tempfile::tempdir().unwrap();
        let url = d.path().join("k.db").display().to_string();
        let mut ks = KeyStore::open(&url).unwrap();
        let a = ks.create("bot", &["scorer".into()], None).unwrap();
        let b = ks.create("old", &[], Some(now() + 3600)).unwrap();
        assert!(a.token.starts_with(PREFIX) && a.token.len() == 3 + 16 + 1 + 64);
        let keys = ks.snapshot().unwrap();
        let p = keys.check(&a.token, now()).unwrap();
        assert_eq!(
            (p.id.as_str(), p.roles.clone()),
            ("key:bot", vec!["scorer".to_string()])
        );
        assert!(keys
            .check(&b.token, now() + 7200)
            .unwrap_err()
            .0
            .contains("expired"));
        assert!(keys.check("rk_nope", now()).is_err());
        // The secret is nowhere in the store.
        let raw = std::fs::read(d.path().join("k.db")).unwrap();
        let hex_secret = a.token.rsplit('_').next().unwrap();
        assert!(!raw
            .windows(hex_secret.len())
            .any(|w| w == hex_secret.as_bytes()));
        ks.revoke(&a.info.id).unwrap();
        let again = KeyStore::open(&url).unwrap().snapshot().unwrap();
        assert!(again
            .check(&a.token, now())
            .unwrap_err()
            .0
            .contains("revoked"));
        assert!(ks.revoke(&a.info.id).is_err());
    }
}
