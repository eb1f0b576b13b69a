//! `rampart encrypt | decrypt | age-keygen`: the arguments over
//! rampart-crypt (age files, interoperable with `age` and `rage`).

use anyhow::{bail, Context, Result};
use clap::Args;
use rampart_crypt::{age, Decrypted, To};
use std::path::PathBuf;
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

fn recipients(a: &EncryptArgs) -> Result<Vec<age::x25519::Recipient>> {
    let mut out = Vec::new();
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
        out.push(key);
    }
    Ok(out)
}

pub fn encrypt(a: &EncryptArgs) -> Result<ExitCode> {
    let passphrase = a.passphrase.get()?;
    let recipients = recipients(a)?;
    let to = match (passphrase, recipients.is_empty()) {
        (Some(_), false) => {
            bail!("give recipients or a passphrase, not both (age files use one or the other)")
        }
        (None, true) => bail!(
            "nothing to encrypt to: give --recipient age1..., --recipients-file, or a passphrase"
        ),
        (Some(p), true) => To::Passphrase(p),
        (None, false) => To::Recipients(recipients),
    };
    std::fs::metadata(&a.input).with_context(|| format!("cannot read {}", a.input.display()))?;
    crate::output::check_new(&a.output, std::slice::from_ref(&a.input))?;
    let e = rampart_crypt::encrypt(&a.input, &a.output, to)?;
    println!(
        "encrypted {} ({} bytes{}) to {}",
        a.input.display(),
        e.bytes,
        if e.folder { " of tar" } else { "" },
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn decrypt(a: &DecryptArgs) -> Result<ExitCode> {
    let ids = identities(a)?;
    crate::output::check_new(&a.output, std::slice::from_ref(&a.input))?;
    let by_passphrase =
        a.passphrase.passphrase_env.is_some() || a.passphrase.passphrase_file.is_some();
    let (input, output) = (a.input.display(), a.output.display());
    match rampart_crypt::decrypt(
        &a.input,
        &a.output,
        &ids,
        by_passphrase,
        !a.identities.is_empty(),
    )? {
        Decrypted::Folder => println!("decrypted {input} into the folder {output}"),
        Decrypted::File(n) => println!("decrypted {input} ({n} bytes) to {output}"),
    }
    Ok(ExitCode::SUCCESS)
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

pub fn age_keygen(a: &AgeKeygenArgs) -> Result<ExitCode> {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let text = format!(
        "# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    );
    rampart_core::write_new(&a.output, text.as_bytes(), 0o600)?;
    println!("{public}");
    eprintln!(
        "wrote the identity to {}; encrypt to it with --recipient {public}",
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
