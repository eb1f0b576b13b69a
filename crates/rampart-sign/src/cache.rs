//! A digest cache, so that re-signing or re-verifying a large folder where
//! few files changed re-hashes only those.
//!
//! An entry is keyed on the file's canonical path, size, modification
//! time, change time (ctime), inode and device, and on how it was hashed.
//! ctime is in the key because mtime can be set back by anyone who can
//! write the file, while ctime cannot be set at all: a file rewritten in
//! place with its old mtime still misses the cache. Whoever can write the
//! cache file itself can make `verify` accept anything, so the cache lives
//! in the user's own cache folder, and `--no-cache` hashes everything.
//! Each folder has its own cache file holding only its current files.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::manifest::Resource;

const VERSION: u32 = 1;
/// Entries kept; older ones are dropped when the cache is saved.
const MAX_ENTRIES: usize = 1 << 20;

#[derive(Default, Serialize, Deserialize)]
struct Stored {
    version: u32,
    entries: HashMap<String, Vec<Resource>>,
}

/// Digests by file identity. Safe to share between hashing threads.
pub struct Cache {
    path: PathBuf,
    entries: Mutex<HashMap<String, Vec<Resource>>>,
    /// Keys read or written in this run: the only ones saved, so that a
    /// folder's cache holds its current files and nothing stale.
    used: Mutex<std::collections::HashSet<String>>,
}

impl Cache {
    /// The cache of one folder (or file):
    /// `$XDG_CACHE_HOME/rampart/digests/<hash of its canonical path>.json`,
    /// else under `~/.cache`.
    pub fn path_for(root: &Path) -> Option<PathBuf> {
        use sha2::{Digest, Sha256};
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        let canon = root.canonicalize().ok()?;
        let id = hex::encode(Sha256::digest(canon.to_string_lossy().as_bytes()));
        Some(
            base.join("rampart")
                .join("digests")
                .join(format!("{}.json", id.get(..32)?)),
        )
    }

    /// Opens the cache at `path`; an unreadable or old cache is empty.
    pub fn open(path: PathBuf) -> Cache {
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Stored>(&b).ok())
            .filter(|s| s.version == VERSION)
            .map(|s| s.entries)
            .unwrap_or_default();
        Cache {
            path,
            entries: Mutex::new(entries),
            used: Mutex::new(Default::default()),
        }
    }

    /// The key of a file hashed a given way, or `None` when the file's
    /// identity cannot be read.
    pub fn key(path: &Path, how: &str) -> Option<String> {
        let canon = path.canonicalize().ok()?;
        let m = std::fs::metadata(&canon).ok()?;
        #[cfg(unix)]
        let id = {
            use std::os::unix::fs::MetadataExt;
            format!(
                "{}.{}|{}.{}|{}|{}",
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec(),
                m.ino(),
                m.dev()
            )
        };
        #[cfg(not(unix))]
        let id = format!("{:?}", m.modified().ok()?);
        Some(format!("{}|{}|{id}|{how}", canon.display(), m.len()))
    }

    pub fn get(&self, key: &str) -> Option<Vec<Resource>> {
        let hit = self.entries.lock().ok()?.get(key).cloned();
        if hit.is_some() {
            if let Ok(mut u) = self.used.lock() {
                u.insert(key.to_string());
            }
        }
        hit
    }

    pub fn put(&self, key: String, value: Vec<Resource>) {
        if let Ok(mut u) = self.used.lock() {
            u.insert(key.clone());
        }
        if let Ok(mut e) = self.entries.lock() {
            e.insert(key, value);
        }
    }

    /// Writes the cache (whole or not at all: a temporary file renamed).
    pub fn save(&self) -> std::io::Result<()> {
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        let mut entries: HashMap<String, Vec<Resource>> = self
            .entries
            .lock()
            .map(|e| {
                e.iter()
                    .filter(|(k, _)| used.contains(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        if entries.len() > MAX_ENTRIES {
            entries.clear();
        }
        let data = serde_json::to_vec(&Stored {
            version: VERSION,
            entries,
        })
        .map_err(std::io::Error::other)?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, data)?;
        std::fs::rename(&tmp, &self.path)
    }
}
