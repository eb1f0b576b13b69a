//! The files around a signature: where it lives by default, reading it and
//! the keys or roots that verify it, and the digest that names an artifact
//! in evidence. Shared by `rampart sign`/`verify`, the pipeline's verify
//! gate and the evidence ledger, so that all of them name things alike.

use crate::{Error, Options, Trust};
use rampart_attest::{Bundle, PublicKey};
use std::path::{Path, PathBuf};

/// The signature file a folder or file has when none is named:
/// `FOLDER/model.sig`, or `FILE.sig`.
pub fn default_signature(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("model.sig")
    } else {
        let mut s = path.as_os_str().to_owned();
        s.push(".sig");
        PathBuf::from(s)
    }
}

/// The signature's path relative to the folder `root`, when it lies
/// inside it (so that it is left out of what it signs).
pub fn signature_inside(root: &Path, sig: &Path) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let parent = sig
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = parent.canonicalize().ok()?;
    let rel = dir.strip_prefix(&root).ok()?.join(sig.file_name()?);
    Some(rel.to_string_lossy().replace('\\', "/"))
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|error| Error::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// Reads and parses a signature file.
pub fn read_bundle(path: &Path) -> Result<Bundle, Error> {
    let bytes = std::fs::read(path).map_err(|error| Error::Io {
        path: path.to_path_buf(),
        error,
    })?;
    Bundle::from_json(&bytes).map_err(|e| Error::File {
        path: path.to_path_buf(),
        error: e,
    })
}

/// The certificates of a PEM file.
pub fn pem_certificates(path: &Path) -> Result<Vec<Vec<u8>>, Error> {
    rampart_attest::certificates_from_pem(&read(path)?).map_err(|e| Error::File {
        path: path.to_path_buf(),
        error: e,
    })
}

/// What a verifier trusts: the public key in `key`, else the root
/// certificates in `ca`.
pub fn trust_from_files(key: Option<&Path>, ca: &[PathBuf]) -> Result<Trust, Error> {
    Ok(match key {
        Some(k) => Trust::Key(PublicKey::from_pem(&read(k)?).map_err(|e| Error::File {
            path: k.to_path_buf(),
            error: e,
        })?),
        None => {
            let mut roots = Vec::new();
            for c in ca {
                roots.extend(pem_certificates(c)?);
            }
            Trust::Roots(roots)
        }
    })
}

/// The digest that names an artifact in evidence: SHA-256 of a file, or
/// the model-signing root digest (over every file's SHA-256) of a folder,
/// leaving out git files and the signature file `model.sig`, so that a
/// folder has the same digest before and after it is signed. Links to
/// files inside the folder (or inside the Hugging Face cache repository
/// of a snapshot) are followed, as the scanner follows them: the bytes
/// named are the bytes checked. Links that leave are refused.
pub fn artifact_digest(path: &Path) -> Result<String, Error> {
    let mut opts = Options {
        allow_symlinks: true,
        ..Options::default()
    };
    opts.ignore_paths.push("model.sig".into());
    let m = crate::digest(path, &opts)?;
    if path.is_file() {
        return m
            .resources
            .first()
            .map(|r| r.digest.clone())
            .ok_or_else(|| Error::Manifest(format!("{}: no digest", path.display())));
    }
    m.root_digest()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_keeps_its_digest_when_signed() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("w.bin"), b"weights").unwrap();
        let before = artifact_digest(d.path()).unwrap();
        std::fs::write(default_signature(d.path()), b"{}").unwrap();
        assert_eq!(artifact_digest(d.path()).unwrap(), before);
        std::fs::write(d.path().join("w.bin"), b"other").unwrap();
        assert_ne!(artifact_digest(d.path()).unwrap(), before);
        let f = d.path().join("w.bin");
        // A file is named by its SHA-256.
        assert_eq!(
            artifact_digest(&f).unwrap(),
            "d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa"
        );
        assert_eq!(
            signature_inside(d.path(), &default_signature(d.path())).as_deref(),
            Some("model.sig")
        );
        assert!(signature_inside(d.path(), Path::new("/elsewhere.sig")).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn links_inside_a_folder_are_named_by_their_targets_bytes() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("w.bin"), b"weights").unwrap();
        let before = artifact_digest(d.path()).unwrap();
        std::os::unix::fs::symlink(d.path().join("w.bin"), d.path().join("link.bin")).unwrap();
        let linked = artifact_digest(d.path()).unwrap();
        assert_ne!(before, linked, "the link's bytes are part of the folder");
        let out = tempfile::tempdir().unwrap();
        std::fs::write(out.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(out.path().join("secret"), d.path().join("escape")).unwrap();
        assert!(artifact_digest(d.path()).is_err(), "a link out is refused");
    }

    #[test]
    fn unreadable_files_name_themselves() {
        let e = read_bundle(Path::new("/no/such.sig")).unwrap_err();
        assert!(e.to_string().contains("/no/such.sig"), "{e}");
        let d = tempfile::tempdir().unwrap();
        let k = d.path().join("k.pub");
        std::fs::write(&k, "not a key").unwrap();
        let Err(e) = trust_from_files(Some(&k), &[]) else {
            panic!("a file that is not a key was read as one");
        };
        assert!(e.to_string().contains("k.pub"), "{e}");
    }
}
