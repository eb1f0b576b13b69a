//! Checks on an output path made before any work is done, so that a run
//! never overwrites its own input, and never fails at the end, after the
//! work, on an output it could have refused at the start.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Where `p` is, resolved, whether or not it exists yet.
fn resolved(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Some(c);
    }
    let parent = rampart_core::parent_dir(p).canonicalize().ok()?;
    Some(parent.join(p.file_name()?))
}

/// `output` may be written (replaced when it is a file): it is not one of
/// `inputs` (nor inside an input folder), not a folder, and its folder
/// exists.
pub fn check(output: &Path, inputs: &[PathBuf]) -> Result<()> {
    if output.is_dir() {
        bail!(
            "the output {} is a folder: give a file name",
            output.display()
        );
    }
    if let Some(kind) = rampart_core::special_file(output) {
        bail!(
            "the output {} is {kind}, not a file: renaming a new file over it would replace it; give a file path",
            output.display()
        );
    }
    let parent = rampart_core::parent_dir(output);
    if !parent.is_dir() {
        bail!(
            "cannot write {}: the folder {} does not exist",
            output.display(),
            parent.display()
        );
    }
    let out = resolved(output);
    for input in inputs {
        let inp = resolved(input);
        if out.is_some() && out == inp {
            bail!(
                "the output {} is the input {}: write to another file",
                output.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// [`check`], and `output` must not exist yet (commands that never
/// overwrite).
pub fn check_new(output: &Path, inputs: &[PathBuf]) -> Result<()> {
    check(output, inputs)?;
    if output.exists() {
        bail!(
            "{} exists: write to a new path (it is never overwritten)",
            output.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_input_a_folder_and_a_missing_folder() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.csv");
        std::fs::write(&f, "x").unwrap();
        let same = d.path().join(".").join("a.csv");
        assert!(check(&same, std::slice::from_ref(&f)).is_err());
        assert!(check(d.path(), &[]).is_err());
        assert!(check(&d.path().join("no/such/x.json"), &[]).is_err());
        assert!(check(&d.path().join("b.json"), std::slice::from_ref(&f)).is_ok());
        assert!(check_new(&f, &[]).is_err());
        #[cfg(unix)]
        assert!(check(Path::new("/dev/null"), &[])
            .unwrap_err()
            .to_string()
            .contains("a device"));
    }
}
