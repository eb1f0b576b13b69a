//! Hashing a file or folder into a manifest: every file (or shard) on all
//! cores, streamed in 1 MiB blocks, with a check that no file changed
//! while it was read.

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use crate::cache::Cache;
use crate::manifest::{HashType, Manifest, Method, Resource, Serialization};
use crate::Error;
use rampart_core::{NoProgress, Progress};

const BLOCK: usize = 1 << 20;

/// What to hash and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub method: Method,
    pub hash_type: HashType,
    pub allow_symlinks: bool,
    /// Relative POSIX paths left out, recorded in the manifest.
    pub ignore_paths: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Files,
            hash_type: HashType::Sha256,
            allow_symlinks: false,
            ignore_paths: crate::GIT_PATHS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |error| Error::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// A file to hash: its absolute path and its name in the manifest.
struct Entry {
    path: PathBuf,
    name: String,
    /// Bytes, as listed (for progress; hashing checks it again).
    size: u64,
}

/// True when `rel` is an ignored path or lies under one.
fn ignored(rel: &str, ignore: &[String]) -> bool {
    ignore.iter().any(|i| {
        let i = i.trim_matches('/');
        !i.is_empty() && (rel == i || rel.strip_prefix(i).is_some_and(|r| r.starts_with('/')))
    })
}

/// The files of `root` (a file or a folder), refusing links unless allowed
/// and always refusing links that leave the folder.
fn entries(root: &Path, opts: &Options) -> Result<Vec<Entry>, Error> {
    let meta = std::fs::symlink_metadata(root).map_err(io(root))?;
    if meta.is_file() {
        return Ok(vec![Entry {
            path: root.to_path_buf(),
            name: ".".into(),
            size: meta.len(),
        }]);
    }
    let base = root.canonicalize().map_err(io(root))?;
    // Links into the Hugging Face cache repository the folder is a
    // snapshot of belong to the model.
    let hf_repo = rampart_core::hf_cache_repo(&base);
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.map_err(|err| {
            let path = err.path().unwrap_or(root).to_path_buf();
            Error::Io {
                path,
                error: err
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("walk failed")),
            }
        })?;
        let rel_path = e.path().strip_prefix(root).unwrap_or(e.path());
        let rel: Vec<String> = rel_path
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let name = rel.join("/");
        if name.is_empty() || ignored(&name, &opts.ignore_paths) {
            continue;
        }
        let ft = e.file_type();
        if ft.is_symlink() {
            if !opts.allow_symlinks {
                return Err(Error::Symlink(e.path().to_path_buf()));
            }
            let target = e.path().canonicalize().map_err(io(e.path()))?;
            if !target.starts_with(&base)
                && !hf_repo.as_ref().is_some_and(|r| target.starts_with(r))
            {
                return Err(Error::Escapes(e.path().to_path_buf()));
            }
            let meta = std::fs::metadata(&target).map_err(io(e.path()))?;
            if !meta.is_file() {
                return Err(Error::NotAFile(e.path().to_path_buf()));
            }
            out.push(Entry {
                path: e.path().to_path_buf(),
                name,
                size: meta.len(),
            });
        } else if ft.is_file() {
            let size = e
                .metadata()
                .map_err(|err| Error::Io {
                    path: e.path().to_path_buf(),
                    error: err
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("metadata")),
                })?
                .len();
            out.push(Entry {
                path: e.path().to_path_buf(),
                name,
                size,
            });
        } else if !ft.is_dir() {
            // A FIFO, socket or device: never read, never left out silently.
            return Err(Error::NotAFile(e.path().to_path_buf()));
        }
    }
    Ok(out)
}

/// Digest of `len` bytes from `start` of `path`, reporting progress.
fn hash_range(
    path: &Path,
    start: u64,
    len: Option<u64>,
    ty: HashType,
    progress: &dyn Progress,
) -> Result<String, Error> {
    let mut f = File::open(path).map_err(io(path))?;
    if start > 0 {
        f.seek(SeekFrom::Start(start)).map_err(io(path))?;
    }
    let mut r: Box<dyn Read> = match len {
        Some(n) => Box::new(f.take(n)),
        None => Box::new(f),
    };
    let mut buf = vec![0u8; BLOCK];
    let mut sha = Sha256::new();
    let mut b3 = blake3::Hasher::new();
    loop {
        let n = r.read(&mut buf).map_err(io(path))?;
        let Some(chunk) = buf.get(..n) else { break };
        if n == 0 {
            break;
        }
        progress.advance(n as u64);
        match ty {
            HashType::Sha256 => sha.update(chunk),
            HashType::Blake3 => {
                b3.update(chunk);
            }
        }
    }
    Ok(match ty {
        HashType::Sha256 => hex::encode(sha.finalize()),
        HashType::Blake3 => b3.finalize().to_hex().to_string(),
    })
}

/// (size, mtime) of a file, to detect changes during hashing.
fn stamp(path: &Path) -> Result<(u64, Option<std::time::SystemTime>), Error> {
    let m = std::fs::metadata(path).map_err(io(path))?;
    Ok((m.len(), m.modified().ok()))
}

/// Hashes `root` into a manifest.
pub fn digest(root: &Path, opts: &Options) -> Result<Manifest, Error> {
    digest_cached(root, opts, None)
}

/// Hashes `root`, reusing and recording digests in `cache`.
pub fn digest_cached(
    root: &Path,
    opts: &Options,
    cache: Option<&Cache>,
) -> Result<Manifest, Error> {
    digest_with(root, opts, cache, &NoProgress)
}

/// Hashes `root` with a cache and a progress report (in bytes).
pub fn digest_with(
    root: &Path,
    opts: &Options,
    cache: Option<&Cache>,
    progress: &dyn Progress,
) -> Result<Manifest, Error> {
    let files = entries(root, opts)?;
    progress.add_total(files.iter().map(|e| e.size).sum());
    let alg = opts.hash_type.resource_algorithm(opts.method);
    let resources: Vec<Vec<Resource>> = files
        .par_iter()
        .map(|e| {
            let key = cache.and_then(|_| Cache::key(&e.path, &format!("{}|{}", alg, e.name)));
            if let (Some(c), Some(k)) = (cache, &key) {
                if let Some(hit) = c.get(k) {
                    progress.advance(e.size);
                    return Ok(hit);
                }
            }
            let before = stamp(&e.path)?;
            let out = match opts.method {
                Method::Files => vec![Resource {
                    name: e.name.clone(),
                    algorithm: alg.clone(),
                    digest: hash_range(&e.path, 0, None, opts.hash_type, progress)?,
                }],
                Method::Shards { shard_size } => shards(&e.path, &e.name, before.0, shard_size)
                    .par_iter()
                    .map(|&(start, end)| {
                        Ok(Resource {
                            name: format!("{}:{start}:{end}", e.name),
                            algorithm: alg.clone(),
                            digest: hash_range(
                                &e.path,
                                start,
                                Some(end - start),
                                opts.hash_type,
                                progress,
                            )?,
                        })
                    })
                    .collect::<Result<Vec<_>, Error>>()?,
            };
            if stamp(&e.path)? != before {
                return Err(Error::Changed(e.path.clone()));
            }
            if let (Some(c), Some(k)) = (cache, key) {
                c.put(k, out.clone());
            }
            Ok(out)
        })
        .collect::<Result<_, Error>>()?;
    let model_name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut m = Manifest {
        model_name,
        serialization: Serialization {
            method: opts.method,
            hash_type: opts.hash_type,
            allow_symlinks: opts.allow_symlinks,
            ignore_paths: opts.ignore_paths.clone(),
        },
        resources: resources.into_iter().flatten().collect(),
    };
    m.sort();
    Ok(m)
}

/// Copies the files `root` is made of (as `opts` selects them) into the
/// empty folder `dest`, and returns the copy's root: a private snapshot
/// that can be verified and then scanned without anyone changing it in
/// between.
pub fn snapshot(root: &Path, dest: &Path, opts: &Options) -> Result<PathBuf, Error> {
    let files = entries(root, opts)?;
    let single = std::fs::symlink_metadata(root).map_err(io(root))?.is_file();
    let base = match (single, root.file_name()) {
        (true, Some(name)) => dest.join(name),
        _ => dest.to_path_buf(),
    };
    for e in &files {
        let to = if single {
            base.clone()
        } else {
            base.join(&e.name)
        };
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::copy(&e.path, &to).map_err(io(&e.path))?;
    }
    Ok(base)
}

/// Shard boundaries as model-signing draws them: [0, s), [s, 2s), ... the
/// last ending at the file size; an empty file has none.
fn shards(_path: &Path, _name: &str, size: u64, shard: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < size {
        let end = start.saturating_add(shard).min(size);
        out.push((start, end));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_boundaries() {
        assert_eq!(
            shards(Path::new(""), "", 9, 2),
            vec![(0, 2), (2, 4), (4, 6), (6, 8), (8, 9)]
        );
        assert_eq!(shards(Path::new(""), "", 8, 2).len(), 4);
        assert!(shards(Path::new(""), "", 0, 2).is_empty());
    }

    #[test]
    fn ignore_is_by_component() {
        let ig = vec![".git".to_string(), "model.sig".to_string()];
        assert!(ignored(".git", &ig));
        assert!(ignored(".git/config", &ig));
        assert!(!ignored(".github2/x", &ig));
        assert!(!ignored(".gitx", &ig));
        assert!(ignored("model.sig", &ig));
    }
}
