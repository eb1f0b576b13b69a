//! `rampart encrypt | decrypt | age-keygen`: the arguments over
//! rampart-crypt (age files, interoperable with `age` and `rage`).

use anyhow::{Context, Result};
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
        let (env, file) = (
            self.passphrase_env.as_deref(),
            self.passphrase_file.as_deref(),
        );
        Ok(rampart_crypt::passphrase(env, file)?)
    }
}

#[derive(Args, Debug)]
pub struct AgeKeygenArgs {
    /// Where to write the identity (mode 0600; never overwritten). Its
    /// public key is printed.
    output: PathBuf,
}

pub fn encrypt(a: &EncryptArgs) -> Result<ExitCode> {
    let recipients = rampart_crypt::recipients(&a.recipients, a.recipients_file.as_deref())?;
    let to = To::choose(recipients, a.passphrase.get()?)?;
    std::fs::metadata(&a.input).with_context(|| format!("cannot read {}", a.input.display()))?;
    rampart_core::check_new_output(&a.output, std::slice::from_ref(&a.input))?;
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
    let ids = rampart_crypt::identities(&a.identities, a.passphrase.get()?)?;
    rampart_core::check_new_output(&a.output, std::slice::from_ref(&a.input))?;
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
