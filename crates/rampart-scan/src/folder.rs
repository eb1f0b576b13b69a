//! Which files a scan reads: a folder walk that follows symbolic links the
//! way loaders do, so that a link can neither hide a file nor lead the
//! scanner anywhere unnoticed.
//!
//! Why follow links at all: every model that `huggingface_hub` downloads
//! sits in `models--ORG--NAME/snapshots/REV/`, where each file is a link to
//! `../../blobs/SHA`. A walk that does not follow links sees an empty
//! folder, and a loader that does follows them straight into the payload.
//! So, for every link met in a folder:
//!
//! - a link to a file is scanned under the link's own name (what a loader
//!   opens), once per target however many links and paths reach it, with a
//!   `SCAN-SYMLINK` info finding naming both paths;
//! - a link whose target lies outside the folder given, and outside the
//!   Hugging Face cache repository (`models--*`, `datasets--*`, `spaces--*`
//!   holding `blobs/`) the folder sits in, is scanned too and reported at
//!   medium: the folder is not self-contained;
//! - a link to a folder outside the walk is walked (a folder already inside
//!   it is not walked twice);
//! - a broken link or a loop is a medium finding: the file a loader would
//!   open cannot be read, so it is not called clean.

use crate::rules::SCAN_SYMLINK;
use crate::walk::InputError;
use rampart_core::{Finding, Location, Severity};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

/// A file to scan: the name it is reached by, and its size.
#[derive(Debug, Clone)]
pub struct ListedFile {
    pub path: PathBuf,
    pub size: u64,
}

/// What the walk found: files to scan, findings about links and special
/// files, and paths that could not be read at all.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<ListedFile>,
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    /// Canonical path of every file listed, to its index in `files`.
    seen: BTreeMap<PathBuf, usize>,
    /// Canonical paths of folders walked, so that a loop ends.
    walked: BTreeSet<PathBuf>,
}

/// At most this many links are followed through folders per input: a
/// folder of links to folders of links cannot make the walk explode.
const MAX_FOLLOWED_DIRS: usize = 10_000;

impl Listing {
    /// Lists every file under `input` (a file, a folder or a link to
    /// either), following links as the module doc says.
    pub fn add(&mut self, input: &Path) {
        let meta = match std::fs::metadata(input) {
            Ok(m) => m,
            Err(error) => {
                return self.errors.push(InputError {
                    path: input.to_path_buf(),
                    error,
                })
            }
        };
        if meta.is_file() {
            self.push_file(input, meta.len());
            return;
        }
        if !meta.is_dir() {
            return self.special(input);
        }
        let Ok(root) = std::fs::canonicalize(input) else {
            return self.errors.push(InputError {
                path: input.to_path_buf(),
                error: io::Error::other("cannot resolve the folder's path"),
            });
        };
        let scope = Scope {
            hf_repo: rampart_core::hf_cache_repo(&root),
            root,
        };
        self.walk(input, &scope);
    }

    fn walk(&mut self, dir: &Path, scope: &Scope) {
        if let Ok(real) = std::fs::canonicalize(dir) {
            if !self.walked.insert(real) {
                return;
            }
        }
        let mut it = walkdir::WalkDir::new(dir)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = it.next() {
            match entry {
                Ok(e) if e.file_type().is_file() => match e.metadata() {
                    Ok(m) => {
                        self.push_file(e.path(), m.len());
                    }
                    Err(err) => self.walk_error(dir, err),
                },
                Ok(e) if e.file_type().is_symlink() => self.link(e.path(), scope),
                Ok(e) if e.file_type().is_dir() => {
                    // A folder reached again (through a followed link to
                    // one of its parents) is not walked twice.
                    let real = std::fs::canonicalize(e.path());
                    if e.depth() > 0 && real.is_ok_and(|r| !self.walked.insert(r)) {
                        it.skip_current_dir();
                    }
                }
                Ok(e) => self.special(e.path()),
                Err(err) => self.walk_error(dir, err),
            }
        }
    }

    fn walk_error(&mut self, dir: &Path, err: walkdir::Error) {
        let path = err
            .path()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.to_path_buf());
        let error = err
            .into_io_error()
            .unwrap_or_else(|| io::Error::other("directory walk failed"));
        self.errors.push(InputError { path, error });
    }

    /// FIFOs, sockets, devices: never read (a FIFO would block), but never
    /// skipped silently either.
    fn special(&mut self, p: &Path) {
        self.findings.push(Finding::new(
            crate::rules::SCAN_UNKNOWN_FORMAT,
            Severity::Info,
            Location::file(p.display().to_string()),
            "not a regular file (FIFO, socket or device); not read",
        ));
    }

    /// Adds a file unless its target is already listed; returns the name
    /// it is listed under when it was.
    fn push_file(&mut self, path: &Path, size: u64) -> Option<PathBuf> {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(&i) = self.seen.get(&real) {
            return self.files.get(i).map(|f| f.path.clone());
        }
        self.seen.insert(real, self.files.len());
        self.files.push(ListedFile {
            path: path.to_path_buf(),
            size,
        });
        None
    }

    fn link(&mut self, link: &Path, scope: &Scope) {
        let target = match std::fs::canonicalize(link) {
            Ok(t) => t,
            Err(e) => {
                let why = if e.raw_os_error() == Some(40) {
                    "a loop of symbolic links".to_string()
                } else {
                    format!("its target cannot be read ({e})")
                };
                return self.findings.push(link_finding(
                    link,
                    Severity::Medium,
                    format!("symbolic link not scanned: {why}; a loader opening it fails or reads something else"),
                ));
            }
        };
        let inside = scope.contains(&target);
        let meta = match std::fs::metadata(&target) {
            Ok(m) => m,
            Err(e) => {
                return self.findings.push(link_finding(
                    link,
                    Severity::Medium,
                    format!("symbolic link to {} not scanned: {e}", target.display()),
                ))
            }
        };
        let outside = if inside {
            String::new()
        } else {
            format!(
                " outside the folder scanned ({}){}",
                scope.root.display(),
                if scope.hf_repo.is_some() {
                    " and its Hugging Face cache repository"
                } else {
                    ""
                }
            )
        };
        let severity = if inside {
            Severity::Info
        } else {
            Severity::Medium
        };
        if meta.is_file() {
            let msg = match self.push_file(link, meta.len()) {
                Some(first) => format!(
                    "symbolic link to {}{outside}: the same file as {}, scanned once under that name",
                    target.display(),
                    first.display()
                ),
                None => format!(
                    "symbolic link to {}{outside}: scanned as {}",
                    target.display(),
                    link.display()
                ),
            };
            self.findings.push(link_finding(link, severity, msg));
        } else if meta.is_dir() {
            if self.walked.contains(&target) || (inside && target.starts_with(&scope.root)) {
                self.findings.push(link_finding(
                    link,
                    Severity::Info,
                    format!(
                        "symbolic link to the folder {}, whose files are scanned under their own names",
                        target.display()
                    ),
                ));
            } else if self.walked.len() >= MAX_FOLLOWED_DIRS {
                self.findings.push(link_finding(
                    link,
                    Severity::High,
                    format!("symbolic link to the folder {} not followed: more than {MAX_FOLLOWED_DIRS} folders walked", target.display()),
                ));
            } else {
                self.findings.push(link_finding(
                    link,
                    severity,
                    format!(
                        "symbolic link to the folder {}{outside}: its files are scanned under {}",
                        target.display(),
                        link.display()
                    ),
                ));
                self.walk(link, scope);
            }
        } else {
            self.special(link);
        }
    }
}

/// The region links may point into without being reported: the folder
/// given, or the Hugging Face cache repository it belongs to.
struct Scope {
    root: PathBuf,
    hf_repo: Option<PathBuf>,
}

impl Scope {
    fn contains(&self, target: &Path) -> bool {
        target.starts_with(&self.root)
            || self.hf_repo.as_ref().is_some_and(|r| target.starts_with(r))
    }
}

fn link_finding(link: &Path, severity: Severity, message: String) -> Finding {
    Finding::new(
        SCAN_SYMLINK,
        severity,
        Location::file(link.display().to_string()),
        message,
    )
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn listing(p: &Path) -> Listing {
        let mut l = Listing::default();
        l.add(p);
        l
    }

    #[test]
    fn hf_cache_snapshot_links_are_scanned_once_and_not_reported() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("models--org--name");
        std::fs::create_dir_all(repo.join("blobs")).unwrap();
        std::fs::create_dir_all(repo.join("snapshots/rev")).unwrap();
        std::fs::write(repo.join("blobs/abc"), b"x").unwrap();
        symlink(
            "../../blobs/abc",
            repo.join("snapshots/rev/pytorch_model.bin"),
        )
        .unwrap();
        symlink("../../blobs/abc", repo.join("snapshots/rev/again.bin")).unwrap();
        let l = listing(&repo.join("snapshots/rev"));
        assert_eq!(l.files.len(), 1, "{:?}", l.files);
        assert!(l.files[0].path.ends_with("again.bin"));
        assert!(l.findings.iter().all(|f| f.severity == Severity::Info));
        assert_eq!(l.findings.len(), 2);
        assert!(l.findings[1].message.contains("the same file as"));
    }

    #[test]
    fn link_out_of_the_folder_is_scanned_and_medium() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("m")).unwrap();
        std::fs::write(d.path().join("evil.pkl"), b"x").unwrap();
        symlink("../evil.pkl", d.path().join("m/model.bin")).unwrap();
        let l = listing(&d.path().join("m"));
        assert_eq!(l.files.len(), 1);
        assert_eq!(l.findings.len(), 1);
        assert_eq!(l.findings[0].severity, Severity::Medium);
        assert!(l.findings[0].message.contains("outside the folder"));
    }

    #[test]
    fn loops_broken_links_and_folder_links_end() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("m");
        std::fs::create_dir_all(m.join("sub")).unwrap();
        std::fs::write(m.join("sub/w.bin"), b"x").unwrap();
        symlink("a", m.join("b")).unwrap();
        symlink("b", m.join("a")).unwrap();
        symlink("missing", m.join("gone")).unwrap();
        symlink("..", m.join("sub/up")).unwrap();
        symlink(d.path(), m.join("outside")).unwrap();
        let l = listing(&m);
        // w.bin once; the outer folder holds m itself, walked already.
        assert_eq!(l.files.len(), 1, "{:?}", l.files);
        let medium = l
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Medium)
            .count();
        // a, b, gone, and the folder link out of m.
        assert_eq!(medium, 4, "{:#?}", l.findings);
        assert!(l.findings.iter().any(|f| f.message.contains("loop")));
    }
}
