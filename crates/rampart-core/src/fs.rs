use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The folder a path is in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Temporary files and folders of this process not yet renamed into
/// place: removed by [`remove_pending`] when the process is interrupted.
static PENDING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// The name prefix of this process's temporary files: `.rampart-PID-`,
/// so that a later run can tell whose they are.
fn prefix() -> String {
    format!(".rampart-{}-", std::process::id())
}

/// Removes, in `dir`, the temporary files and folders (`.rampart-PID-*
/// .partial`) of processes that are no longer running: what a run killed
/// with SIGKILL (or a crash) left behind. Only on Linux, where `/proc`
/// says which processes run; elsewhere nothing is removed.
pub fn remove_stale(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(".rampart-")
            .filter(|_| name.ends_with(".partial"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let p = e.path();
            let _ = std::fs::remove_file(&p).or_else(|_| std::fs::remove_dir_all(&p));
        }
    }
}

/// Creates a temporary file or folder and remembers it, holding the list
/// meanwhile: a signal's [`remove_pending`] waits for the list, so it
/// cannot run between the creation and the remembering and miss it.
fn remembered<T>(
    create: impl FnOnce() -> io::Result<T>,
    path: impl Fn(&T) -> &Path,
) -> io::Result<T> {
    let mut list = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    let t = create()?;
    list.retain(|q| q.exists());
    list.push(path(&t).to_path_buf());
    Ok(t)
}

/// Removes every temporary file and folder this process still has: for a
/// signal handler, where destructors do not run.
pub fn remove_pending() {
    if let Ok(list) = PENDING.lock() {
        for p in list.iter() {
            let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir_all(p));
        }
    }
}

/// A temporary file in the folder `path` will be in, so that renaming it
/// into place is atomic; deleted if dropped before it is persisted, on
/// SIGINT/SIGTERM by [`remove_pending`], and after a SIGKILL by the next
/// run's [`remove_stale`]. Created with mode 0666 less the umask, as any
/// output file.
pub fn temp_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    temp_in(path, false)
}

/// [`temp_beside`] readable by its owner only (0600): for plaintext that
/// nobody else may read, even while it is being written.
pub fn private_temp_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    temp_in(path, true)
}

fn temp_in(path: &Path, private: bool) -> io::Result<tempfile::NamedTempFile> {
    let dir = parent_dir(path);
    remove_stale(dir);
    let name = prefix();
    let mut b = tempfile::Builder::new();
    b.prefix(&name).suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(if private {
            0o600
        } else {
            0o666
        }));
    }
    remembered(|| b.tempfile_in(dir), |t| t.path())
}

/// A private temporary folder beside `path` (0700), cleaned up as
/// [`temp_beside`]'s files are.
pub fn temp_dir_beside(path: &Path) -> io::Result<tempfile::TempDir> {
    let dir = parent_dir(path);
    remove_stale(dir);
    let name = prefix();
    remembered(
        || {
            tempfile::Builder::new()
                .prefix(&name)
                .suffix(".partial")
                .tempdir_in(dir)
        },
        |t| t.path(),
    )
}

/// The Hugging Face cache repository (`.../models--ORG--NAME`, or
/// `datasets--`, `spaces--`, holding `blobs/`) that `dir` lies in, if any.
/// Every file of a cache snapshot (`snapshots/REV/`) is a link to
/// `../../blobs/SHA`: links into this folder are part of the model.
pub fn hf_cache_repo(dir: &Path) -> Option<std::path::PathBuf> {
    dir.ancestors()
        .find(|a| {
            let name = a
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            ["models--", "datasets--", "spaces--"]
                .iter()
                .any(|p| name.starts_with(p))
                && a.join("blobs").is_dir()
        })
        .map(Path::to_path_buf)
}

/// What `path` is when it exists and is neither a regular file nor a
/// folder (a device such as `/dev/null`, a FIFO, a socket): renaming an
/// output over it would replace it.
pub fn special_file(path: &Path) -> Option<&'static str> {
    let meta = std::fs::metadata(path).ok()?;
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO");
        }
        if t.is_socket() {
            return Some("a socket");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// Writes `bytes` to `path` so that readers see either the old file or the
/// whole new one, never a half-written file: the bytes go to a temporary file
/// in the same directory, which is flushed, synced and renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] for output written piece by piece (a rewritten
/// dataset, a CSV of scores): `write` writes through a buffer into the
/// temporary file, which is renamed over `path` only when `write`
/// returns `Ok`; on an error it is removed and `path` is untouched.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temp_beside(path)?;
    {
        let mut w = io::BufWriter::with_capacity(1 << 20, tmp.as_file());
        write(&mut w)?;
        w.flush()?;
    }
    persist(tmp, path)
}

/// Creates `path`, which must not exist yet, with `bytes` and (on Unix)
/// `mode`, synced before it returns: keys, policies and other files that
/// are never overwritten. An existing file is an `AlreadyExists` error
/// whose message says so and what to do.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = o.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            io::Error::new(
                e.kind(),
                format!(
                    "{} exists, and is never overwritten: write to a new path, or move it away first",
                    path.display()
                ),
            )
        } else {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
        }
    })?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}

/// Syncs a temporary file and renames it to `path`, which must not exist
/// (a concurrent writer that got there first is never replaced).
pub fn persist_new(tmp: tempfile::NamedTempFile, path: &Path) -> io::Result<()> {
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| {
        io::Error::new(
            e.error.kind(),
            format!(
                "cannot write {} (it must not exist yet): {}",
                path.display(),
                e.error
            ),
        )
    })?;
    Ok(())
}

/// Syncs a temporary file and renames it over `path`, unless `path` is a
/// device, FIFO or socket (a rename would replace `/dev/null` itself).
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> io::Result<()> {
    if let Some(kind) = special_file(path) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is {kind}, not a file: it is never replaced",
                path.display()
            ),
        ));
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// An output a command refuses before doing any work.
fn refused(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Where `p` is, resolved, whether or not it exists yet.
fn resolved(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Some(c);
    }
    let parent = parent_dir(p).canonicalize().ok()?;
    Some(parent.join(p.file_name()?))
}

/// `output` may be written (replaced when it is a file): it is not one of
/// `inputs` (nor an existing file inside an input folder), not a folder,
/// and its folder exists.
pub fn check_output(output: &Path, inputs: &[PathBuf]) -> io::Result<()> {
    if output.is_dir() {
        return Err(refused(format!(
            "the output {} is a folder: give a file name",
            output.display()
        )));
    }
    if let Some(kind) = special_file(output) {
        return Err(refused(format!("the output {} is {kind}, not a file: renaming a new file over it would replace it; give a file path",
            output.display()
        )));
    }
    let parent = parent_dir(output);
    if !parent.is_dir() {
        return Err(refused(format!(
            "cannot write {}: the folder {} does not exist",
            output.display(),
            parent.display()
        )));
    }
    let Some(out) = resolved(output) else {
        return Ok(());
    };
    for input in inputs {
        let Some(inp) = resolved(input) else {
            continue;
        };
        if out == inp {
            return Err(refused(format!(
                "the output {} is the input {}: write to another file",
                output.display(),
                input.display()
            )));
        }
        // A new file inside an input folder (a report beside what it
        // checks) is fine; replacing one of the files checked is not.
        if inp.is_dir() && out.starts_with(&inp) && output.exists() {
            return Err(refused(format!(
                "the output {} is a file of the input folder {}: writing it would replace what is checked; write to a new path",
                output.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// [`check_output`], and `output` must not exist yet (commands that never
/// overwrite).
pub fn check_new_output(output: &Path, inputs: &[PathBuf]) -> io::Result<()> {
    check_output(output, inputs)?;
    if output.exists() {
        return Err(refused(format!(
            "{} exists: write to a new path (it is never overwritten)",
            output.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.json");
        std::fs::write(&p, b"old contents that are longer").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn write_new_never_overwrites() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("key");
        write_new(&p, b"first", 0o600).unwrap();
        let e = write_new(&p, b"second", 0o600).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(e.to_string().contains("never overwritten"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let tmp = temp_beside(&p).unwrap();
        assert!(persist_new(tmp, &p).is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
    }

    #[test]
    fn a_failed_writer_leaves_the_old_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.csv");
        std::fs::write(&p, b"old").unwrap();
        let e = write_atomic_with(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("stopped"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "stopped");
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        write_atomic_with(&p, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
    }

    #[test]
    fn missing_directory_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("no/such/dir/out.json");
        assert!(write_atomic(&p, b"x").is_err());
    }

    #[test]
    fn refuses_the_input_a_folder_and_a_missing_folder() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.csv");
        std::fs::write(&f, "x").unwrap();
        let same = d.path().join(".").join("a.csv");
        assert!(check_output(&same, std::slice::from_ref(&f)).is_err());
        assert!(check_output(d.path(), &[]).is_err());
        assert!(check_output(&d.path().join("no/such/x.json"), &[]).is_err());
        assert!(check_output(&d.path().join("b.json"), std::slice::from_ref(&f)).is_ok());
        // A file of an input folder would be replaced; a new one is fine.
        let folder = d.path().to_path_buf();
        let e = check_output(&f, std::slice::from_ref(&folder)).unwrap_err();
        assert!(e.to_string().contains("a file of the input folder"), "{e}");
        assert!(check_output(&d.path().join("report.json"), std::slice::from_ref(&folder)).is_ok());
        assert!(check_new_output(&f, &[]).is_err());
        #[cfg(unix)]
        assert!(check_output(Path::new("/dev/null"), &[])
            .unwrap_err()
            .to_string()
            .contains("a device"));
    }
}
