//! `rampart encrypt` / `rampart decrypt`: datasets and models at rest in
//! the age format (X25519 recipients or an scrypt passphrase), streamed,
//! so that files interoperate with the `age` and `rage` tools. A folder is
//! encrypted as a tar of it and decrypted back into a folder. Output is
//! written beside its destination and renamed only when complete: a wrong
//! key or a corrupted file leaves no plaintext behind.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct EncryptArgs {
    /// A file or a folder (encrypted as a tar of it).
    input: PathBuf,
    /// The encrypted file to write.
    #[arg(short, long)]
    output: PathBuf,
    /// A recipient's public key (age1...); repeat for several.
    #[arg(short, long = "recipient")]
    recipients: Vec<String>,
    /// A file of recipients, one per line (# comments allowed).
    #[arg(short = 'R', long)]
    recipients_file: Option<PathBuf>,
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

#[derive(Args, Debug)]
pub struct DecryptArgs {
    /// An age-encrypted file.
    input: PathBuf,
    /// Where to write the plaintext: a file, or for an encrypted folder a
    /// new folder. Must not exist yet.
    #[arg(short, long)]
    output: PathBuf,
    /// An identity file (AGE-SECRET-KEY-1..., as `rampart age-keygen` or
    /// `age-keygen` write).
    #[arg(short, long = "identity")]
    identities: Vec<PathBuf>,
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

#[derive(Args, Debug)]
struct PassphraseArgs {
    /// Use a passphrase (scrypt) read from this environment variable.
    #[arg(long, value_name = "VAR")]
    passphrase_env: Option<String>,
    /// Use a passphrase (scrypt) read from the first line of this file.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
}

impl PassphraseArgs {
    fn get(&self) -> Result<Option<age::secrecy::SecretString>> {
        let p = match (&self.passphrase_env, &self.passphrase_file) {
            (Some(var), _) => match std::env::var(var) {
                Ok(p) => p,
                Err(std::env::VarError::NotPresent) => {
                    bail!("the environment variable {var} is not set")
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    bail!("the environment variable {var} is not valid UTF-8")
                }
            },
            (None, Some(f)) => std::fs::read_to_string(f)
                .with_context(|| format!("cannot read {}", f.display()))?
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
            (None, None) => return Ok(None),
        };
        if p.is_empty() {
            bail!("the passphrase is empty");
        }
        Ok(Some(p.into()))
    }
}

#[derive(Args, Debug)]
pub struct AgeKeygenArgs {
    /// Where to write the identity (mode 0600; never overwritten). Its
    /// public key is printed.
    output: PathBuf,
}

/// A temporary file beside `dest`, renamed into place by [`commit`].
pub fn partial_beside(dest: &Path) -> Result<tempfile::NamedTempFile> {
    rampart_core::temp_beside(dest).with_context(|| {
        format!(
            "cannot create a temporary file in {}",
            rampart_core::parent_dir(dest).display()
        )
    })
}

/// [`partial_beside`] readable by its owner only, for plaintext.
fn private_partial_beside(dest: &Path) -> Result<tempfile::NamedTempFile> {
    rampart_core::private_temp_beside(dest).with_context(|| {
        format!(
            "cannot create a temporary file in {}",
            rampart_core::parent_dir(dest).display()
        )
    })
}

/// Syncs the temporary file and renames it to `dest`, which must not
/// exist.
pub fn commit(tmp: tempfile::NamedTempFile, dest: &Path) -> Result<()> {
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(dest)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {} (it must not exist yet)", dest.display()))?;
    Ok(())
}

fn recipients(a: &EncryptArgs) -> Result<Vec<Box<dyn age::Recipient + Send>>> {
    let mut out: Vec<Box<dyn age::Recipient + Send>> = Vec::new();
    let mut lines: Vec<(String, String)> = a
        .recipients
        .iter()
        .map(|r| ("--recipient".to_string(), r.clone()))
        .collect();
    if let Some(f) = &a.recipients_file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        for (i, l) in text.lines().enumerate() {
            let l = l.trim();
            if !l.is_empty() && !l.starts_with('#') {
                lines.push((format!("{}:{}", f.display(), i + 1), l.to_string()));
            }
        }
    }
    for (from, r) in lines {
        let key: age::x25519::Recipient = r.parse().map_err(|e| {
            anyhow::anyhow!("{from}: {r:?} is not an age X25519 recipient (age1...): {e}")
        })?;
        out.push(Box::new(key));
    }
    Ok(out)
}

pub fn encrypt(a: &EncryptArgs) -> Result<ExitCode> {
    let passphrase = a.passphrase.get()?;
    let recipients = recipients(a)?;
    let encryptor = match (passphrase, recipients.is_empty()) {
        (Some(_), false) => {
            bail!("give recipients or a passphrase, not both (age files use one or the other)")
        }
        (None, true) => bail!(
            "nothing to encrypt to: give --recipient age1..., --recipients-file, or a passphrase"
        ),
        (Some(p), true) => age::Encryptor::with_user_passphrase(p),
        (None, false) => age::Encryptor::with_recipients(
            recipients.iter().map(|r| r.as_ref() as &dyn age::Recipient),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let meta = std::fs::metadata(&a.input)
        .with_context(|| format!("cannot read {}", a.input.display()))?;
    crate::output::check_new(&a.output, std::slice::from_ref(&a.input))?;
    let tmp = partial_beside(&a.output)?;
    let out = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone()?);
    let mut writer = encryptor.wrap_output(out)?;
    let bytes = if meta.is_dir() {
        tar_folder(&a.input, &mut writer)?
    } else if meta.is_file() {
        let mut f = std::fs::File::open(&a.input)
            .with_context(|| format!("cannot read {}", a.input.display()))?;
        std::io::copy(&mut f, &mut writer)
            .with_context(|| format!("cannot read {}", a.input.display()))?
    } else {
        bail!("{} is neither a file nor a folder", a.input.display());
    };
    writer.finish()?.flush()?;
    commit(tmp, &a.output)?;
    println!(
        "encrypted {} ({bytes} bytes{}) to {}",
        a.input.display(),
        if meta.is_dir() { " of tar" } else { "" },
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A tar of the folder's regular files and folders, in name order. A
/// link to a file inside the folder, or inside the Hugging Face cache
/// repository the folder is a snapshot of, is stored as the file it
/// points to (so that `decrypt` gives back a self-contained folder); any
/// other link, a link to a folder, and special files are refused, never
/// left out. Returns the bytes written.
fn tar_folder(dir: &Path, w: &mut dyn Write) -> Result<u64> {
    let root = dir
        .canonicalize()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    let hf_repo = rampart_core::hf_cache_repo(&root);
    let mut counter = Counting { inner: w, n: 0 };
    {
        let mut b = tar::Builder::new(&mut counter);
        b.follow_symlinks(false);
        b.append_pax_extensions([FOLDER_MARK])?;
        b.append_dir(".", dir)?;
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name().min_depth(1) {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            let t = entry.file_type();
            if t.is_dir() {
                b.append_dir(rel, entry.path())?;
            } else if t.is_file() || t.is_symlink() {
                if t.is_symlink() {
                    let target = entry.path().canonicalize().with_context(|| {
                        format!("{}: a broken or looping link", entry.path().display())
                    })?;
                    let inside = target.starts_with(&root)
                        || hf_repo.as_ref().is_some_and(|r| target.starts_with(r));
                    if !inside || !target.is_file() {
                        bail!(
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
                let mut f = std::fs::File::open(entry.path())
                    .with_context(|| format!("cannot read {}", entry.path().display()))?;
                b.append_file(rel, &mut f)?;
            } else {
                bail!(
                    "{} is a FIFO, socket or device: refused (nothing is left out of an archive silently)",
                    entry.path().display()
                );
            }
        }
        b.finish()?;
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

fn identities(a: &DecryptArgs) -> Result<Vec<Box<dyn age::Identity>>> {
    let mut out: Vec<Box<dyn age::Identity>> = Vec::new();
    for path in &a.identities {
        let file = age::IdentityFile::from_file(path.display().to_string())
            .with_context(|| format!("cannot read the identity file {}", path.display()))?;
        out.extend(
            file.into_identities()
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        );
    }
    if let Some(p) = a.passphrase.get()? {
        out.push(Box::new(age::scrypt::Identity::new(p)));
    }
    if out.is_empty() {
        bail!("nothing to decrypt with: give --identity FILE or a passphrase");
    }
    Ok(out)
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

pub fn decrypt(a: &DecryptArgs) -> Result<ExitCode> {
    let ids = identities(a)?;
    crate::output::check_new(&a.output, std::slice::from_ref(&a.input))?;
    let file = std::fs::File::open(&a.input)
        .with_context(|| format!("cannot read {}", a.input.display()))?;
    let decryptor = age::Decryptor::new_buffered(BufReader::new(file))
        .map_err(|e| anyhow::anyhow!("{}: not a readable age file: {e}", a.input.display()))?;
    let has_passphrase =
        a.passphrase.passphrase_env.is_some() || a.passphrase.passphrase_file.is_some();
    if decryptor.is_scrypt() && !has_passphrase {
        bail!(
            "{}: it was encrypted with a passphrase, not to a key: give --passphrase-env VAR or --passphrase-file FILE",
            a.input.display()
        );
    }
    if !decryptor.is_scrypt() && a.identities.is_empty() {
        bail!(
            "{}: it was encrypted to recipients' keys, not with a passphrase: give --identity FILE (the key of one of its recipients)",
            a.input.display()
        );
    }
    let reader = decryptor.decrypt(ids.iter().map(|i| i.as_ref() as &dyn age::Identity)).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => anyhow::anyhow!(
            "{}: none of the identities or passphrases given can decrypt it (it was encrypted to other recipients)",
            a.input.display()
        ),
        age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed => anyhow::anyhow!(
            "{}: cannot decrypt it: the passphrase is wrong, or the identity is not one it was encrypted to (nothing was written)",
            a.input.display()
        ),
        age::DecryptError::InvalidMac | age::DecryptError::InvalidHeader => anyhow::anyhow!(
            "{}: its header was altered or is damaged, or the passphrase is wrong (nothing was written)",
            a.input.display()
        ),
        other => anyhow::anyhow!("{}: {other}", a.input.display()),
    })?;
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let corrupt = |e: std::io::Error| {
        anyhow::anyhow!(
            "{}: {e} (the file is corrupted or was altered; nothing was written)",
            a.input.display()
        )
    };
    let head = reader.fill_buf().map_err(corrupt)?;
    // Only a tar that `rampart encrypt` made of a folder comes back as a
    // folder (its first entry carries the FOLDER_MARK extension); an
    // encrypted .tar file comes back as the file it was.
    let is_tar = head.get(257..262) == Some(b"ustar") && is_folder_archive(head);
    if is_tar {
        untar(reader, &a.output)
            .map_err(|e| anyhow::anyhow!("{}: {e:#} (nothing was written)", a.input.display()))?;
        println!(
            "decrypted {} into the folder {}",
            a.input.display(),
            a.output.display()
        );
    } else {
        // The age reader hands out a chunk only once it authenticated it,
        // so the partial file never holds unauthenticated plaintext; it is
        // private, and removed on any error or interruption.
        let tmp = private_partial_beside(&a.output)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone()?);
        let n = std::io::copy(&mut reader, &mut out).map_err(corrupt)?;
        out.flush()?;
        commit(tmp, &a.output)?;
        println!(
            "decrypted {} ({n} bytes) to {}",
            a.input.display(),
            a.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Unpacks regular files and folders into a temporary folder beside
/// `dest` and renames it into place when the whole archive has been
/// read (and so authenticated). Entries that would leave the folder
/// (absolute, `..`) and links are refused.
fn untar(reader: impl Read, dest: &Path) -> Result<()> {
    let tmp = rampart_core::temp_dir_beside(dest)?;
    let mut archive = tar::Archive::new(reader);
    let mut n = 0u64;
    for entry in archive.entries()? {
        let mut entry = entry?;
        n += 1;
        if n > MAX_ENTRIES {
            bail!("more than {MAX_ENTRIES} entries");
        }
        let path = entry.path()?.into_owned();
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            bail!("{} is a link or special file: refused", path.display());
        }
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail!(
                "{} would be written outside the folder: refused",
                path.display()
            );
        }
        if !entry.unpack_in(tmp.path())? {
            bail!(
                "{} would be written outside the folder: refused",
                path.display()
            );
        }
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, dest).with_context(|| format!("cannot create {}", dest.display()))?;
    Ok(())
}

pub fn age_keygen(a: &AgeKeygenArgs) -> Result<ExitCode> {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let text = format!(
        "# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    );
    crate::signing::write_new(&a.output, text.as_bytes(), 0o600)?;
    println!("{public}");
    eprintln!(
        "wrote the identity to {}; encrypt to it with --recipient {public}",
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
