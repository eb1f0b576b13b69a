//! Datasets and models at rest in the age format (X25519 recipients or
//! an scrypt passphrase), streamed, so that files interoperate with the
//! `age` and `rage` tools. A folder is encrypted as a tar of it and
//! decrypted back into a folder. Output is written beside its destination
//! and renamed only when complete: a wrong key or a corrupted file leaves
//! no plaintext behind. Nothing here prints.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

pub use age;

/// What went wrong; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The input is refused or cannot be decrypted, said in full.
    #[error("{0}")]
    Refused(String),
}

macro_rules! refuse {
    ($($t:tt)*) => {
        return Err(Error::Refused(format!($($t)*)))
    };
}

fn read_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn write_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Who can decrypt: recipients' public keys, or a passphrase.
pub enum To {
    Recipients(Vec<age::x25519::Recipient>),
    Passphrase(age::secrecy::SecretString),
}

impl To {
    /// Recipients or a passphrase: an age file is encrypted to one kind,
    /// so both, or neither, is an error that says what to give.
    pub fn choose(
        recipients: Vec<age::x25519::Recipient>,
        passphrase: Option<age::secrecy::SecretString>,
    ) -> Result<To, Error> {
        match (passphrase, recipients.is_empty()) {
            (Some(_), false) => {
                refuse!("give recipients or a passphrase, not both (age files use one or the other)")
            }
            (None, true) => refuse!(
                "nothing to encrypt to: give --recipient age1..., --recipients-file, or a passphrase"
            ),
            (Some(p), true) => Ok(To::Passphrase(p)),
            (None, false) => Ok(To::Recipients(recipients)),
        }
    }
}

/// The X25519 recipients given on the command line (`flags`) and in a
/// recipients file (one per line, `#` comments); a bad one is named by
/// where it came from (`--recipient`, `FILE:LINE`).
pub fn recipients(
    flags: &[String],
    file: Option<&Path>,
) -> Result<Vec<age::x25519::Recipient>, Error> {
    let mut lines: Vec<(String, String)> = flags
        .iter()
        .map(|r| ("--recipient".to_string(), r.clone()))
        .collect();
    if let Some(f) = file {
        let text = std::fs::read_to_string(f).map_err(read_error(f))?;
        for (i, l) in text.lines().enumerate() {
            let l = l.trim();
            if !l.is_empty() && !l.starts_with('#') {
                lines.push((format!("{}:{}", f.display(), i + 1), l.to_string()));
            }
        }
    }
    lines
        .into_iter()
        .map(|(from, r)| {
            r.parse().map_err(|e| {
                Error::Refused(format!(
                    "{from}: {r:?} is not an age X25519 recipient (age1...): {e}"
                ))
            })
        })
        .collect()
}

/// The identities in identity files (`AGE-SECRET-KEY-1...`), and a
/// passphrase's, for [`decrypt`].
pub fn identities(
    files: &[std::path::PathBuf],
    passphrase: Option<age::secrecy::SecretString>,
) -> Result<Vec<Box<dyn age::Identity>>, Error> {
    let mut out: Vec<Box<dyn age::Identity>> = Vec::new();
    for path in files {
        let file = age::IdentityFile::from_file(path.display().to_string()).map_err(|e| {
            Error::Refused(format!(
                "cannot read the identity file {}: {e}",
                path.display()
            ))
        })?;
        out.extend(
            file.into_identities()
                .map_err(|e| Error::Refused(format!("{}: {e}", path.display())))?,
        );
    }
    if let Some(p) = passphrase {
        out.push(Box::new(age::scrypt::Identity::new(p)));
    }
    if out.is_empty() {
        refuse!("nothing to decrypt with: give --identity FILE or a passphrase");
    }
    Ok(out)
}

/// A passphrase from the environment variable `env`, else from the first
/// line of `file`; None when neither is given. An unset variable or an
/// empty passphrase is an error.
pub fn passphrase(
    env: Option<&str>,
    file: Option<&Path>,
) -> Result<Option<age::secrecy::SecretString>, Error> {
    let p = match (env, file) {
        (Some(var), _) => match std::env::var(var) {
            Ok(p) => p,
            Err(std::env::VarError::NotPresent) => {
                refuse!("the environment variable {var} is not set")
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                refuse!("the environment variable {var} is not valid UTF-8")
            }
        },
        (None, Some(f)) => std::fs::read_to_string(f)
            .map_err(read_error(f))?
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
        (None, None) => return Ok(None),
    };
    if p.is_empty() {
        refuse!("the passphrase is empty");
    }
    Ok(Some(p.into()))
}

/// What [`encrypt`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct Encrypted {
    /// Plaintext bytes (of the tar, for a folder).
    pub bytes: u64,
    pub folder: bool,
}

/// Encrypts the file or folder `input` to `output`, which must not exist.
pub fn encrypt(input: &Path, output: &Path, to: To) -> Result<Encrypted, Error> {
    let encryptor = match to {
        To::Passphrase(p) => age::Encryptor::with_user_passphrase(p),
        To::Recipients(r) if r.is_empty() => refuse!(
            "nothing to encrypt to: give --recipient age1..., --recipients-file, or a passphrase"
        ),
        To::Recipients(r) => {
            age::Encryptor::with_recipients(r.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| Error::Refused(e.to_string()))?
        }
    };
    let meta = std::fs::metadata(input).map_err(read_error(input))?;
    let tmp = rampart_core::temp_beside(output).map_err(write_error(output))?;
    let file = tmp.as_file().try_clone().map_err(write_error(output))?;
    let out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut writer = encryptor.wrap_output(out).map_err(write_error(output))?;
    let bytes = if meta.is_dir() {
        tar_folder(input, &mut writer)?
    } else if meta.is_file() {
        let mut f = std::fs::File::open(input).map_err(read_error(input))?;
        std::io::copy(&mut f, &mut writer).map_err(read_error(input))?
    } else {
        refuse!("{} is neither a file nor a folder", input.display());
    };
    writer
        .finish()
        .and_then(|mut w| w.flush())
        .map_err(write_error(output))?;
    rampart_core::persist_new(tmp, output).map_err(write_error(output))?;
    Ok(Encrypted {
        bytes,
        folder: meta.is_dir(),
    })
}

/// A tar of the folder's regular files and folders, in name order. A
/// link to a file inside the folder, or inside the Hugging Face cache
/// repository the folder is a snapshot of, is stored as the file it
/// points to (so that `decrypt` gives back a self-contained folder); any
/// other link, a link to a folder, and special files are refused, never
/// left out. Returns the bytes written.
fn tar_folder(dir: &Path, w: &mut dyn Write) -> Result<u64, Error> {
    let root = dir.canonicalize().map_err(read_error(dir))?;
    let hf_repo = rampart_core::hf_cache_repo(&root);
    let mut counter = Counting { inner: w, n: 0 };
    {
        let mut b = tar::Builder::new(&mut counter);
        b.follow_symlinks(false);
        let werr = |e: std::io::Error| Error::Refused(format!("cannot write the archive: {e}"));
        b.append_pax_extensions([FOLDER_MARK]).map_err(werr)?;
        b.append_dir(".", dir).map_err(werr)?;
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name().min_depth(1) {
            let entry =
                entry.map_err(|e| Error::Refused(format!("cannot list {}: {e}", dir.display())))?;
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            let t = entry.file_type();
            if t.is_dir() {
                b.append_dir(rel, entry.path()).map_err(werr)?;
            } else if t.is_file() || t.is_symlink() {
                if t.is_symlink() {
                    let target = entry.path().canonicalize().map_err(|e| {
                        Error::Refused(format!(
                            "{}: a broken or looping link: {e}",
                            entry.path().display()
                        ))
                    })?;
                    let inside = target.starts_with(&root)
                        || hf_repo.as_ref().is_some_and(|r| target.starts_with(r));
                    if !inside || !target.is_file() {
                        refuse!(
                            "{} links to {}, {}: refused (copy the file into the folder)",
                            entry.path().display(),
                            target.display(),
                            if inside {
                                "which is not a file"
                            } else {
                                "outside the folder"
                            }
                        );
                    }
                }
                let mut f = std::fs::File::open(entry.path()).map_err(read_error(entry.path()))?;
                b.append_file(rel, &mut f).map_err(werr)?;
            } else {
                refuse!(
                    "{} is a FIFO, socket or device: refused (nothing is left out of an archive silently)",
                    entry.path().display()
                );
            }
        }
        b.finish().map_err(werr)?;
    }
    Ok(counter.n)
}

struct Counting<'a> {
    inner: &'a mut dyn Write,
    n: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The PAX extension that marks a tar as a folder `rampart encrypt`
/// packed: tar readers ignore keys they do not know, so `age -d` still
/// gives an ordinary tar.
const FOLDER_MARK: (&str, &[u8]) = ("RAMPART.folder", b"1");

/// Whether the first header of `head` is a PAX header with FOLDER_MARK.
fn is_folder_archive(head: &[u8]) -> bool {
    let record = format!(" {}={}\n", FOLDER_MARK.0, "1");
    head.get(156) == Some(&b'x')
        && head
            .get(512..1024)
            .is_some_and(|d| d.windows(record.len()).any(|w| w == record.as_bytes()))
}

/// Most entries and bytes unpacked from an encrypted folder.
const MAX_ENTRIES: u64 = 1_000_000;

/// What [`decrypt`] wrote.
#[derive(Debug, Clone, Copy)]
pub enum Decrypted {
    /// A file of this many bytes.
    File(u64),
    /// A folder `encrypt` packed.
    Folder,
}

/// Decrypts `input` into `output` (a file, or a folder for an encrypted
/// folder), which must not exist. `identities` are X25519 identities and
/// scrypt passphrases; `by_passphrase` says whether a passphrase was
/// given, to name the right missing one.
pub fn decrypt(
    input: &Path,
    output: &Path,
    identities: &[Box<dyn age::Identity>],
    by_passphrase: bool,
    by_key: bool,
) -> Result<Decrypted, Error> {
    let file = std::fs::File::open(input).map_err(read_error(input))?;
    let decryptor = age::Decryptor::new_buffered(BufReader::new(file)).map_err(|e| {
        Error::Refused(format!("{}: not a readable age file: {e}", input.display()))
    })?;
    if decryptor.is_scrypt() && !by_passphrase {
        refuse!(
            "{}: it was encrypted with a passphrase, not to a key: give --passphrase-env VAR or --passphrase-file FILE",
            input.display()
        );
    }
    if !decryptor.is_scrypt() && !by_key {
        refuse!(
            "{}: it was encrypted to recipients' keys, not with a passphrase: give --identity FILE (the key of one of its recipients)",
            input.display()
        );
    }
    let reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| Error::Refused(match e {
            age::DecryptError::NoMatchingKeys => format!(
                "{}: none of the identities or passphrases given can decrypt it (it was encrypted to other recipients)",
                input.display()
            ),
            age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed => format!(
                "{}: cannot decrypt it: the passphrase is wrong, or the identity is not one it was encrypted to (nothing was written)",
                input.display()
            ),
            age::DecryptError::InvalidMac | age::DecryptError::InvalidHeader => format!(
                "{}: its header was altered or is damaged, or the passphrase is wrong (nothing was written)",
                input.display()
            ),
            other => format!("{}: {other}", input.display()),
        }))?;
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let corrupt = |e: std::io::Error| {
        Error::Refused(format!(
            "{}: {e} (the file is corrupted or was altered; nothing was written)",
            input.display()
        ))
    };
    let head = reader.fill_buf().map_err(corrupt)?;
    // Only a tar that `encrypt` made of a folder comes back as a folder
    // (its first entry carries the FOLDER_MARK extension); an encrypted
    // .tar file comes back as the file it was.
    if head.get(257..262) == Some(b"ustar") && is_folder_archive(head) {
        untar(reader, output).map_err(|e| {
            Error::Refused(format!("{}: {e} (nothing was written)", input.display()))
        })?;
        return Ok(Decrypted::Folder);
    }
    // The age reader hands out a chunk only once it authenticated it, so
    // the partial file never holds unauthenticated plaintext; it is
    // private, and removed on any error or interruption.
    let tmp = rampart_core::private_temp_beside(output).map_err(write_error(output))?;
    let file = tmp.as_file().try_clone().map_err(write_error(output))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let n = std::io::copy(&mut reader, &mut out).map_err(corrupt)?;
    out.flush().map_err(write_error(output))?;
    drop(out);
    rampart_core::persist_new(tmp, output).map_err(write_error(output))?;
    Ok(Decrypted::File(n))
}

/// Unpacks regular files and folders into a temporary folder beside
/// `dest` and renames it into place when the whole archive has been
/// read (and so authenticated). Entries that would leave the folder
/// (absolute, `..`) and links are refused.
fn untar(reader: impl Read, dest: &Path) -> Result<(), String> {
    let tmp = rampart_core::temp_dir_beside(dest).map_err(|e| e.to_string())?;
    let mut archive = tar::Archive::new(reader);
    let mut n = 0u64;
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        n += 1;
        if n > MAX_ENTRIES {
            return Err(format!("more than {MAX_ENTRIES} entries"));
        }
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            return Err(format!(
                "{} is a link or special file: refused",
                path.display()
            ));
        }
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!(
                "{} would be written outside the folder: refused",
                path.display()
            ));
        }
        if !entry.unpack_in(tmp.path()).map_err(|e| e.to_string())? {
            return Err(format!(
                "{} would be written outside the folder: refused",
                path.display()
            ));
        }
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (age::x25519::Identity, To) {
        let id = age::x25519::Identity::generate();
        let to = To::Recipients(vec![id.to_public()]);
        (id, to)
    }

    #[test]
    fn a_folder_comes_back_as_the_folder() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("data");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("a.csv"), b"x,y\n1,2\n").unwrap();
        std::fs::write(src.join("sub/b.bin"), [0u8, 1, 2]).unwrap();
        let (id, to) = key();
        let sealed = d.path().join("data.age");
        let e = encrypt(&src, &sealed, to).unwrap();
        assert!(e.folder && e.bytes > 0);
        let back = d.path().join("back");
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(id)];
        assert!(matches!(
            decrypt(&sealed, &back, &ids, false, true).unwrap(),
            Decrypted::Folder
        ));
        assert_eq!(std::fs::read(back.join("sub/b.bin")).unwrap(), [0u8, 1, 2]);
        // Never over an existing output.
        assert!(decrypt(&sealed, &back, &ids, false, true).is_err());
    }

    #[test]
    fn a_wrong_key_or_an_altered_file_writes_nothing() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("a.txt");
        std::fs::write(&src, vec![7u8; 200_000]).unwrap();
        let (id, to) = key();
        let sealed = d.path().join("a.age");
        encrypt(&src, &sealed, to).unwrap();
        let right: Vec<Box<dyn age::Identity>> = vec![Box::new(id)];
        let other: Vec<Box<dyn age::Identity>> = vec![Box::new(age::x25519::Identity::generate())];
        let out = d.path().join("out.txt");
        let e = decrypt(&sealed, &out, &other, false, true).unwrap_err();
        assert!(e.to_string().contains("none of the identities"), "{e}");
        assert!(!out.exists());
        let e = decrypt(&sealed, &out, &other, true, false).unwrap_err();
        assert!(e.to_string().contains("encrypted to recipients"), "{e}");
        let mut bytes = std::fs::read(&sealed).unwrap();
        let at = bytes.len() - 100;
        bytes[at] ^= 1;
        std::fs::write(&sealed, bytes).unwrap();
        let e = decrypt(&sealed, &out, &right, false, true).unwrap_err();
        assert!(e.to_string().contains("corrupted or was altered"), "{e}");
        assert!(!out.exists());
        let pass: age::secrecy::SecretString = "pw".to_string().into();
        let p = d.path().join("p.age");
        encrypt(&src, &p, To::Passphrase(pass.clone())).unwrap();
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(age::scrypt::Identity::new(pass))];
        assert!(matches!(
            decrypt(&p, &out, &ids, true, false).unwrap(),
            Decrypted::File(200_000)
        ));
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.to_string_lossy().ends_with(".partial")),
            "{names:?}"
        );
    }

    #[test]
    fn links_out_of_the_folder_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("data");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(d.path().join("secret"), b"s").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path().join("secret"), src.join("l")).unwrap();
            let (_, to) = key();
            let e = encrypt(&src, &d.path().join("x.age"), to).unwrap_err();
            assert!(e.to_string().contains("outside the folder"), "{e}");
            assert!(!d.path().join("x.age").exists());
        }
    }
}
