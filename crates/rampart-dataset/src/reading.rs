//! How datasets are read: settings of their own, whichever command or
//! policy file gives them.

use crate::error::{invalid, Error};
use crate::Watch;
use rampart_table::{BadInput, Options, Source};
use serde::Deserialize;
use std::path::Path;

/// How a data engine reads its files. Policy files (`mask.toml`) may
/// hold these keys beside their own; command-line flags override them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Reading {
    /// Records that cannot be read: reject (the default: read on, then
    /// fail naming them), skip (accept them, counted), fail (stop at the
    /// first).
    #[serde(default)]
    pub bad_input: BadInput,
    /// The text encoding when it is not UTF-8: a WHATWG label (`cp1252`,
    /// `latin1`, `utf-16le`...), checked by [`Reading::with_encoding`].
    #[serde(default)]
    encoding: Option<String>,
    /// Most bytes read from a file after decompression [default 1 TiB].
    #[serde(default)]
    pub max_bytes: Option<u64>,
}

impl Reading {
    /// The reading keys of a policy file (`bad_input`, `encoding`,
    /// `max_bytes`); its other keys are left to its own parser.
    pub fn from_policy_text(text: &str) -> Result<Self, Error> {
        let r: Reading = toml::from_str(text).map_err(|e| Error::invalid(e.to_string()))?;
        r.encoding.as_deref().map(encoding).transpose()?;
        Ok(r)
    }

    /// With the text encoding named by `label`; an unknown label is an
    /// error here, never a silent read as UTF-8 later.
    pub fn with_encoding(mut self, label: &str) -> Result<Self, Error> {
        encoding(label)?;
        self.encoding = Some(label.to_string());
        Ok(self)
    }

    /// With the command line's flags over what a policy file said.
    pub fn with_flags(
        mut self,
        bad_input: Option<BadInput>,
        encoding: Option<&str>,
        max_bytes: Option<u64>,
    ) -> Result<Self, Error> {
        self.bad_input = bad_input.unwrap_or(self.bad_input);
        self.max_bytes = max_bytes.or(self.max_bytes);
        match encoding {
            Some(label) => self.with_encoding(label),
            None => Ok(self),
        }
    }

    pub fn encoding_label(&self) -> Option<&str> {
        self.encoding.as_deref()
    }

    /// The reader's options, with progress reported to `hook`.
    pub fn options(&self, hook: Option<rampart_table::ProgressHook>) -> Options {
        Options {
            bad_input: self.bad_input,
            max_bytes: self.max_bytes.unwrap_or(Options::default().max_bytes),
            // Checked when set.
            encoding: self.encoding.as_deref().and_then(|l| encoding(l).ok()),
            progress: hook,
            ..Options::default()
        }
    }

    /// Reads `source` through `visitor`, reporting to `watch` as
    /// `message`.
    pub(crate) fn process(
        &self,
        source: &Source,
        visitor: &mut dyn rampart_table::Visitor,
        watch: &dyn Watch,
        message: &str,
    ) -> Result<rampart_table::Summary, Error> {
        let o = self.options(watch.read(message));
        let r = rampart_table::process(source, &o, visitor, None);
        watch.done();
        Ok(r?)
    }
}

fn encoding(label: &str) -> Result<&'static rampart_table::Encoding, Error> {
    rampart_table::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        Error::invalid(format!(
            "unknown encoding {label:?}: give a WHATWG label such as cp1252, latin1, iso-8859-15, shift_jis, gbk or utf-16le"
        ))
    })
}

/// The format of a dataset file; a folder is refused.
pub fn detect(path: &Path) -> Result<Source, Error> {
    if path.is_dir() {
        invalid!("{} is a folder: give the dataset files", path.display());
    }
    Ok(rampart_table::detect(path)?)
}

/// Columns a command line, policy or expectation names must be columns
/// of the file: a typo is an error naming the column, where it was named
/// (`--label`, `[columns]` of mask.toml...) and the nearest real name,
/// never a check that silently sees nothing.
pub fn require_columns<'a>(
    path: &Path,
    have: &[String],
    named: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), Error> {
    for (from, column) in named {
        if have.is_empty() {
            invalid!(
                "{}: {from} {column:?}: the file has no columns (is it empty, or plain text?)",
                path.display()
            );
        }
        if !have.iter().any(|h| h == column) {
            invalid!(
                "{}: {from} {column:?}: no such column{}; the columns are {}",
                path.display(),
                rampart_core::did_you_mean(column, have.iter().map(String::as_str)),
                have.join(", ")
            );
        }
    }
    Ok(())
}

/// "; N records skipped" when `--bad-input skip` left records out: every
/// report says how much of its input it did not read.
pub fn skipped_note(skipped: u64) -> String {
    match skipped {
        0 => String::new(),
        1 => "; 1 record skipped (--bad-input skip)".into(),
        n => format!("; {n} records skipped (--bad-input skip)"),
    }
}

/// The records of a file that were skipped, one warning each.
pub(crate) fn skipped_warnings(path: &Path, summary: &rampart_table::Summary) -> Vec<String> {
    summary
        .problems
        .iter()
        .map(|p| format!("{}:{}: {} (skipped)", path.display(), p.line, p.message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_files_give_their_reading_keys_only() {
        let r = Reading::from_policy_text(
            "threshold = 0.7\nbad_input = \"skip\"\nencoding = \"cp1252\"\n[columns]\nssn = \"drop\"\n",
        )
        .unwrap();
        assert_eq!(r.bad_input, BadInput::Skip);
        assert_eq!(r.encoding_label(), Some("cp1252"));
        let e = Reading::from_policy_text("bad_input = \"sometimes\"").unwrap_err();
        assert!(e.to_string().contains("sometimes"), "{e}");
        let e = Reading::from_policy_text("encoding = \"klingon\"").unwrap_err();
        assert!(e.to_string().contains("WHATWG"), "{e}");
        assert!(Reading::default().with_encoding("utf-16le").is_ok());
    }

    #[test]
    fn a_misnamed_column_is_named_with_the_nearest() {
        let have = vec!["label".to_string(), "age".to_string()];
        let e = require_columns(Path::new("d.csv"), &have, [("--label", "lable")]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("--label \"lable\"") && text.contains("label, age"),
            "{text}"
        );
        assert!(require_columns(Path::new("d.csv"), &[], [("--label", "x")]).is_err());
        assert!(require_columns(Path::new("d.csv"), &have, [("--label", "age")]).is_ok());
    }
}

/// A masking policy file (`mask.toml`): what to mask and how, how to
/// read the data, and the file's digest for the attestation.
#[derive(Debug, Clone)]
pub struct MaskingPolicy {
    pub masking: rampart_pii::transform::Policy,
    pub reading: Reading,
    /// SHA-256 of the file, or `default` without one.
    pub policy_sha256: String,
}

impl Default for MaskingPolicy {
    fn default() -> Self {
        MaskingPolicy {
            masking: Default::default(),
            reading: Default::default(),
            policy_sha256: "default".into(),
        }
    }
}

impl MaskingPolicy {
    /// The policy with its score threshold replaced by `threshold` (a
    /// flag's), which must be between 0 and 1.
    pub fn with_threshold(mut self, threshold: Option<f32>) -> Result<Self, Error> {
        if let Some(t) = threshold {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::invalid(format!(
                    "--threshold {t} is not between 0 and 1"
                )));
            }
            self.masking.threshold = t;
        }
        Ok(self)
    }

    /// Reads and checks a masking policy file; errors name it.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let named = |e: String| Error::invalid(format!("{}: {e}", path.display()));
        Ok(MaskingPolicy {
            masking: rampart_pii::transform::Policy::parse(&text)
                .map_err(|e| named(e.to_string()))?,
            reading: Reading::from_policy_text(&text).map_err(|e| named(e.to_string()))?,
            policy_sha256: {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(text.as_bytes()))
            },
        })
    }
}
