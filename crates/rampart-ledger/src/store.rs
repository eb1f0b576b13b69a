//! The log in one SQLite file: leaves (the entries and their leaf hashes)
//! and the checkpoints signed so far.
//!
//! WAL with `synchronous=FULL`: an append returns only once it is durable.
//! Appends run in `BEGIN IMMEDIATE` transactions, so several processes
//! appending at once are serialised by SQLite; each first catches up with
//! leaves other processes added. Before a checkpoint is signed, the tree
//! must extend the last signed one (same root at its size): the log never
//! signs two inconsistent checkpoints.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;

use crate::checkpoint::{Checkpoint, NoteKey, NoteVerifier};
use crate::merkle::{leaf_hash, Hash, Tree};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("ledger database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{0} is not a Rampart ledger (run `rampart ledger init`)")]
    NotALedger(String),
    #[error("the ledger was tampered with: {0}")]
    Tampered(String),
    #[error("{0}")]
    Checkpoint(String),
}

/// What `verify` found wrong, entry by entry.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Audit {
    pub entries: u64,
    pub checkpoints: u64,
    pub problems: Vec<String>,
}

pub struct Ledger {
    db: Connection,
    tree: Tree,
    origin: String,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn hash_of(blob: Vec<u8>) -> Option<Hash> {
    blob.try_into().ok()
}

/// A column as bytes whatever SQLite type a direct edit gave it, so that
/// an edited row is reported as edited rather than failing the read.
fn bytes(row: &rusqlite::Row<'_>, i: usize) -> Result<Vec<u8>, rusqlite::Error> {
    use rusqlite::types::ValueRef;
    Ok(match row.get_ref(i)? {
        ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
        ValueRef::Integer(n) => n.to_string().into_bytes(),
        ValueRef::Real(f) => f.to_string().into_bytes(),
        ValueRef::Null => Vec::new(),
    })
}

impl Ledger {
    fn connect(path: &Path) -> Result<Connection, StoreError> {
        let db = Connection::open(path)?;
        db.busy_timeout(std::time::Duration::from_secs(60))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        Ok(db)
    }

    /// Creates a ledger for the log named `origin`.
    pub fn init(path: &Path, origin: &str) -> Result<Ledger, StoreError> {
        let db = Ledger::connect(path)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS leaves (idx INTEGER PRIMARY KEY, data BLOB NOT NULL, hash BLOB NOT NULL, time INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, time INTEGER NOT NULL);",
        )?;
        db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('origin', ?1)",
            params![origin],
        )?;
        drop(db);
        Ledger::open(path)
    }

    /// Opens an existing ledger and loads its tree.
    pub fn open(path: &Path) -> Result<Ledger, StoreError> {
        if !path.is_file() {
            return Err(StoreError::NotALedger(path.display().to_string()));
        }
        let db = Ledger::connect(path)?;
        let origin: Option<String> = db
            .query_row("SELECT value FROM meta WHERE key = 'origin'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|_| StoreError::NotALedger(path.display().to_string()))?;
        let origin = origin.ok_or_else(|| StoreError::NotALedger(path.display().to_string()))?;
        let mut l = Ledger {
            db,
            tree: Tree::new(),
            origin,
        };
        l.catch_up()?;
        Ok(l)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Reads what other processes appended since this ledger was opened
    /// or last refreshed (a long-lived handle stays current without
    /// reading every leaf again).
    pub fn refresh(&mut self) -> Result<(), StoreError> {
        self.catch_up()
    }

    /// Loads leaves appended since the tree was last read (by this or
    /// another process). Stored hashes are trusted here; `verify`
    /// recomputes them.
    fn catch_up(&mut self) -> Result<(), StoreError> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT idx, hash FROM leaves WHERE idx >= ?1 ORDER BY idx")?;
        let mut rows = stmt.query(params![self.tree.size() as i64])?;
        while let Some(row) = rows.next()? {
            let idx: i64 = row.get(0)?;
            let hash = hash_of(bytes(row, 1)?).ok_or_else(|| {
                StoreError::Tampered(format!("entry {idx}: stored leaf hash is not 32 bytes"))
            })?;
            if idx as u64 != self.tree.size() {
                return Err(StoreError::Tampered(format!(
                    "entry {} is missing (found {idx} next)",
                    self.tree.size()
                )));
            }
            self.tree.push(hash);
        }
        Ok(())
    }

    /// Appends entries in one durable transaction; returns their indexes.
    pub fn append(&mut self, entries: &[&[u8]]) -> Result<Vec<u64>, StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Other processes may have appended: start from the stored end.
        // The stored end by the rowid's maximum, not COUNT(*): counting
        // walks every page of entries (milliseconds at 10^4 entries). A
        // deleted entry leaves a gap that opening and `verify` name.
        let stored: i64 =
            tx.query_row("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves", [], |r| {
                r.get(0)
            })?;
        // Never write past a cut: entries this handle read, or that a
        // checkpoint signed, must all still be there (appending would
        // refill the gap with new entries and hide the removal).
        let signed: i64 =
            tx.query_row("SELECT COALESCE(MAX(size), 0) FROM checkpoints", [], |r| {
                r.get(0)
            })?;
        let held = i64::try_from(self.tree.size()).unwrap_or(i64::MAX);
        if stored < signed.max(held) {
            return Err(StoreError::Tampered(format!(
                "the ledger holds {stored} entries, fewer than the {} {}: entries were removed; nothing was appended (restore the ledger from a copy you trust)",
                signed.max(held),
                if signed >= held { "its last checkpoint signed" } else { "read before" }
            )));
        }
        let mut pending: Vec<(u64, Hash)> = Vec::new();
        let base = stored as u64;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO leaves (idx, data, hash, time) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let t = now();
            for (i, e) in entries.iter().enumerate() {
                let idx = base + i as u64;
                let h = leaf_hash(e);
                ins.execute(params![idx as i64, e, h.as_slice(), t])?;
                pending.push((idx, h));
            }
        }
        tx.commit()?;
        self.catch_up()?;
        Ok(pending.into_iter().map(|(i, _)| i).collect())
    }

    /// The entry at `index`, checked against the leaf hash this handle
    /// read for it (or, past what it read, the stored one): an entry
    /// edited in place, or one put where a removed entry was, is an
    /// error, never data.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self
            .db
            .query_row(
                "SELECT data, hash FROM leaves WHERE idx = ?1",
                params![index as i64],
                // Whatever SQLite type an edit left, read as bytes.
                |r| Ok((bytes(r, 0)?, bytes(r, 1)?)),
            )
            .optional()?;
        let Some((data, stored)) = row else {
            return Ok(None);
        };
        let h = leaf_hash(&data);
        if h.as_slice() != stored.as_slice() {
            return Err(StoreError::Tampered(format!(
                "entry {index}: its data does not match its leaf hash (edited); `rampart ledger verify` names the damage"
            )));
        }
        if self.tree.leaf(index).is_some_and(|read| read != h) {
            return Err(StoreError::Tampered(format!(
                "entry {index} is not the entry read before (edited, or removed and replaced)"
            )));
        }
        Ok(Some(data))
    }

    /// The last signed checkpoint, if any: (size, root, note).
    pub fn last_checkpoint(&self) -> Result<Option<(u64, Hash, String)>, StoreError> {
        let row: Option<(i64, Vec<u8>, String)> = self
            .db
            .query_row(
                "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.and_then(|(s, r, n)| Some((s as u64, hash_of(r)?, n))))
    }

    /// Signs a checkpoint of the current tree, after checking that it
    /// extends the last one signed.
    pub fn checkpoint(&mut self, key: &NoteKey) -> Result<String, StoreError> {
        self.catch_up()?;
        let size = self.tree.size();
        if let Some((old, root, _)) = self.last_checkpoint()? {
            let now_root = self
                .tree
                .root_at(old)
                .map_err(|e| StoreError::Tampered(e.to_string()))?;
            if now_root != root {
                return Err(StoreError::Tampered(format!(
                    "the first {old} entries no longer hash to the root signed in checkpoint {old}; refusing to sign an inconsistent checkpoint"
                )));
            }
            if old == size {
                return Ok(self.db.query_row(
                    "SELECT note FROM checkpoints WHERE size = ?1",
                    params![size as i64],
                    |r| r.get(0),
                )?);
            }
        }
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size,
            root: self.tree.root(),
            extensions: vec![],
        };
        let note = cp.sign(key);
        self.db.execute(
            "INSERT INTO checkpoints (size, root, note, time) VALUES (?1, ?2, ?3, ?4)",
            params![size as i64, cp.root.as_slice(), note, now()],
        )?;
        Ok(note)
    }

    /// An offline proof that entry `index` is in the log, as of the last
    /// signed checkpoint.
    pub fn proof(&mut self, index: u64) -> Result<crate::proof::TlogProof, StoreError> {
        self.catch_up()?;
        let (size, root, note) = self.last_checkpoint()?.ok_or_else(|| {
            StoreError::Checkpoint(
                "no checkpoint yet; run `rampart ledger checkpoint` first".into(),
            )
        })?;
        if index >= self.size() {
            return Err(StoreError::Checkpoint(format!(
                "no entry {index}: the ledger has {} entries",
                self.size()
            )));
        }
        if index >= size {
            return Err(StoreError::Checkpoint(format!(
                "entry {index} is not covered by the last checkpoint (size {size}); run `rampart ledger checkpoint`"
            )));
        }
        if self.tree.root_at(size).ok() != Some(root) {
            return Err(StoreError::Tampered(format!(
                "the entries no longer hash to checkpoint {size}"
            )));
        }
        let path = self
            .tree
            .inclusion_proof(index, size)
            .map_err(|e| StoreError::Checkpoint(e.to_string()))?;
        Ok(crate::proof::TlogProof {
            extra: None,
            index,
            path,
            checkpoint: note,
        })
    }

    /// Recomputes the whole tree from the stored entries and checks every
    /// leaf hash, the order, and every stored checkpoint (root and, with
    /// `verifiers`, signature). Problems are named by entry or checkpoint.
    pub fn verify(&self, verifiers: &[NoteVerifier]) -> Result<Audit, StoreError> {
        let mut audit = Audit::default();
        let mut tree = Tree::new();
        let mut stmt = self
            .db
            .prepare("SELECT idx, data, hash FROM leaves ORDER BY idx")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let idx: i64 = row.get(0)?;
            let data = bytes(row, 1)?;
            let stored = bytes(row, 2)?;
            let expect = tree.size();
            if idx as u64 != expect {
                audit.problems.push(if (idx as u64) > expect {
                    format!("entries {expect} to {} are missing (deleted?)", idx - 1)
                } else {
                    format!("entry {idx} appears twice")
                });
            }
            let h = leaf_hash(&data);
            if stored.as_slice() != h.as_slice() {
                audit.problems.push(format!(
                    "entry {idx}: its data does not match its leaf hash (edited)"
                ));
            }
            tree.push(h);
        }
        audit.entries = tree.size();
        let mut cps = self
            .db
            .prepare("SELECT size, root, note FROM checkpoints ORDER BY size")?;
        let mut rows = cps.query([])?;
        while let Some(row) = rows.next()? {
            let size: i64 = row.get(0)?;
            let root = bytes(row, 1)?;
            let note = String::from_utf8_lossy(&bytes(row, 2)?).into_owned();
            audit.checkpoints += 1;
            match tree.root_at(size as u64) {
                Ok(r) if r.as_slice() == root.as_slice() => {}
                Ok(_) => audit.problems.push(format!(
                    "checkpoint {size}: the entries no longer hash to its root"
                )),
                Err(_) => audit.problems.push(format!(
                    "checkpoint {size}: the log has only {} entries",
                    tree.size()
                )),
            }
            if !verifiers.is_empty() {
                match Checkpoint::verify(&note, verifiers) {
                    Ok((cp, _)) if cp.size == size as u64 && cp.root.as_slice() == root.as_slice() && cp.origin == self.origin => {}
                    Ok(_) => audit.problems.push(format!("checkpoint {size}: the signed note says something else than the stored row")),
                    Err(e) => audit.problems.push(format!("checkpoint {size}: {e}")),
                }
            }
        }
        Ok(audit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn key() -> NoteKey {
        NoteKey::new(
            "test.example/log",
            ed25519_dalek::SigningKey::generate(&mut OsRng),
        )
        .unwrap()
    }

    #[test]
    fn appends_checkpoints_and_a_clean_audit() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ledger.db");
        let mut l = Ledger::init(&p, "test.example/log").unwrap();
        let k = key();
        assert_eq!(l.append(&[b"a", b"b", b"c"]).unwrap(), vec![0, 1, 2]);
        let note = l.checkpoint(&k).unwrap();
        assert!(note.starts_with("test.example/log\n3\n"));
        l.append(&[b"d"]).unwrap();
        l.checkpoint(&k).unwrap();
        // Reopened: same tree.
        let again = Ledger::open(&p).unwrap();
        assert_eq!(again.tree().root(), l.tree().root());
        let audit = again.verify(&[k.verifier()]).unwrap();
        assert_eq!(
            audit,
            Audit {
                entries: 4,
                checkpoints: 2,
                problems: vec![]
            }
        );
    }

    /// A new ledger at `p` holding `entries`, with a checkpoint of them.
    fn sealed(p: &Path, entries: &[&[u8]]) -> (Ledger, NoteKey) {
        let mut l = Ledger::init(p, "o").unwrap();
        let k = key();
        l.append(entries).unwrap();
        l.checkpoint(&k).unwrap();
        (l, k)
    }

    #[test]
    fn edits_deletions_and_reorders_in_the_file_are_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ledger.db");
        let (l, k) = sealed(&p, &[b"a", b"b", b"c", b"d"]);
        let raw = Connection::open(&p).unwrap();
        raw.execute("UPDATE leaves SET data = x'00' WHERE idx = 2", [])
            .unwrap();
        let audit = l.verify(&[k.verifier()]).unwrap();
        assert!(
            audit
                .problems
                .iter()
                .any(|p| p.contains("entry 2") && p.contains("edited")),
            "{audit:?}"
        );
        assert!(
            audit.problems.iter().any(|p| p.contains("checkpoint 4")),
            "{audit:?}"
        );
        // Recomputing the hash too still breaks the checkpoint.
        let h = leaf_hash(b"\x00");
        raw.execute(
            "UPDATE leaves SET hash = ?1 WHERE idx = 2",
            params![h.as_slice()],
        )
        .unwrap();
        let audit = l.verify(&[k.verifier()]).unwrap();
        assert_eq!(
            audit.problems,
            vec!["checkpoint 4: the entries no longer hash to its root".to_string()]
        );
        raw.execute("DELETE FROM leaves WHERE idx = 1", []).unwrap();
        let audit = l.verify(&[]).unwrap();
        assert!(
            audit
                .problems
                .iter()
                .any(|p| p.contains("entries 1 to 1 are missing")),
            "{audit:?}"
        );
        // A swapped checkpoint row is caught by its signature.
        raw.execute("UPDATE checkpoints SET root = zeroblob(32)", [])
            .unwrap();
        let audit = l.verify(&[k.verifier()]).unwrap();
        assert!(
            audit
                .problems
                .iter()
                .any(|p| p.contains("says something else")),
            "{audit:?}"
        );
    }

    /// An entry edited in place is an error to every reader, not data;
    /// a ledger cut short takes no appends, so that nothing refills the
    /// gap and hides the removal.
    #[test]
    fn edited_entries_are_not_read_and_a_cut_ledger_takes_no_appends() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ledger.db");
        let (mut l, _) = sealed(&p, &[b"a", b"b", b"c", b"d"]);
        assert_eq!(l.entry(1).unwrap().as_deref(), Some(&b"b"[..]));
        let raw = Connection::open(&p).unwrap();
        raw.execute("UPDATE leaves SET data = '{}' WHERE idx = 1", [])
            .unwrap();
        let e = l.entry(1).unwrap_err().to_string();
        assert!(e.contains("entry 1") && e.contains("edited"), "{e}");
        // Data and hash both rewritten: the handle that read the entry
        // knows it is not the same one.
        let h = leaf_hash(b"{}");
        raw.execute(
            "UPDATE leaves SET hash = ?1 WHERE idx = 1",
            params![h.as_slice()],
        )
        .unwrap();
        let e = l.entry(1).unwrap_err().to_string();
        assert!(e.contains("not the entry read before"), "{e}");
        // Cut below the checkpoint: no append, by this handle or a new one.
        raw.execute("DELETE FROM leaves WHERE idx >= 2", [])
            .unwrap();
        let e = l.append(&[b"e"]).unwrap_err().to_string();
        assert!(e.contains("holds 2 entries, fewer than the 4"), "{e}");
        let n: i64 = raw
            .query_row("SELECT COUNT(*) FROM leaves", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2, "nothing was appended");
    }

    #[test]
    fn an_inconsistent_checkpoint_is_never_signed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ledger.db");
        let (_, k) = sealed(&p, &[b"a", b"b"]);
        let raw = Connection::open(&p).unwrap();
        let h = leaf_hash(b"evil");
        raw.execute(
            "UPDATE leaves SET data = 'evil', hash = ?1 WHERE idx = 0",
            params![h.as_slice()],
        )
        .unwrap();
        let mut reopened = Ledger::open(&p).unwrap();
        reopened.append(&[b"c"]).unwrap();
        let err = reopened.checkpoint(&k).unwrap_err();
        assert!(err.to_string().contains("inconsistent"), "{err}");
    }

    #[test]
    fn offline_proofs_round_trip_and_fail_for_other_entries() {
        let d = tempfile::tempdir().unwrap();
        let mut l = Ledger::init(&d.path().join("l.db"), "o").unwrap();
        let k = key();
        let entries: Vec<Vec<u8>> = (0..13u8).map(|i| vec![i; 3]).collect();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        l.append(&refs).unwrap();
        assert!(l.proof(0).is_err(), "no checkpoint yet");
        l.checkpoint(&k).unwrap();
        for i in 0..13u64 {
            let p = l.proof(i).unwrap();
            let back = crate::proof::TlogProof::parse(&p.to_text()).unwrap();
            assert_eq!(back, p);
            let cp = back.verify(&entries[i as usize], &[k.verifier()]).unwrap();
            assert_eq!(cp.size, 13);
            assert!(back.verify(b"other", &[k.verifier()]).is_err());
        }
        let other = key();
        assert!(l
            .proof(3)
            .unwrap()
            .verify(&entries[3], &[other.verifier()])
            .is_err());
    }

    #[test]
    fn not_a_ledger_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.db");
        std::fs::write(&p, b"this is not sqlite").unwrap();
        assert!(Ledger::open(&p).is_err());
        assert!(matches!(
            Ledger::open(&d.path().join("missing.db")),
            Err(StoreError::NotALedger(_))
        ));
    }
}
