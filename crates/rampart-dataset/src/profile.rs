//! Profiles of datasets: made in one pass on all cores, read back from
//! the JSON `rampart data profile` writes, merged, and masked before they
//! are shared.

use crate::columns::{summarise, Summarised};
use crate::watch::step;
use crate::{detect, Error, Reading, Watch};
use rampart_profile::Profile;
use std::path::Path;

/// Largest profile file read (a profile is about 40 KiB per column).
const MAX_PROFILE_BYTES: u64 = 256 << 20;

/// A profile and what reading its dataset warned about.
pub struct Profiled {
    pub profile: Profile,
    pub format: rampart_table::Format,
    /// Records skipped under `bad_input = "skip"`, one line each.
    pub warnings: Vec<String>,
}

/// The profile of one dataset file, its SHA-256 in its source.
///
/// The file is hashed on a thread of its own beside the profiling: the
/// workers wait on the file's reading and decompression now and then, and
/// the hash fills those gaps.
pub fn of_dataset(path: &Path, reading: &Reading, watch: &dyn Watch) -> Result<Profiled, Error> {
    let (columns, sha256) = std::thread::scope(|scope| {
        let hash = scope.spawn(|| {
            rampart_sign::artifact_digest(path).map_err(|source| Error::Digest {
                path: path.to_path_buf(),
                source,
            })
        });
        let columns = columns_of(path, reading, watch);
        let sha256 = hash.join().unwrap_or_else(|_| {
            Err(Error::invalid(format!(
                "{}: hashing failed",
                path.display()
            )))
        });
        (columns, sha256)
    });
    let mut p = columns?;
    let sha256 = sha256?;
    p.profile.sources.push(rampart_profile::Source {
        file: path.display().to_string(),
        format: p.format.name().into(),
        sha256,
        rows: p.profile.rows,
    });
    Ok(p)
}

/// The columns of a dataset profiled, without the digest of the whole
/// file that a profile's source carries: for callers that only need the
/// columns' types and counts.
pub fn columns_of(path: &Path, reading: &Reading, watch: &dyn Watch) -> Result<Profiled, Error> {
    let format = detect(path)?.format;
    let Summarised {
        columns,
        dropped,
        summary,
    } = step(watch, &format!("profiling {}", path.display()), || {
        summarise(path, reading, crate::workers(), || {
            rampart_profile::Column::new("")
        })
    })?;
    Ok(Profiled {
        profile: Profile::from_columns(summary.records, columns, dropped),
        format,
        warnings: crate::reading::skipped_warnings(path, &summary),
    })
}

/// Expectations proposed from a dataset or its profile, as the TOML to
/// commit.
pub struct Suggested {
    pub toml: String,
    pub expectations: usize,
    pub columns: usize,
    pub warnings: Vec<String>,
}

/// Proposes expectations from `path` (a dataset or a profile), with the
/// values in which personal data is found masked unless
/// `keep_personal_data`: the file is meant to be shared and committed.
pub fn suggest(
    path: &Path,
    reading: &Reading,
    threshold: f32,
    keep_personal_data: bool,
    watch: &dyn Watch,
) -> Result<Suggested, Error> {
    let Profiled {
        mut profile,
        warnings,
        ..
    } = of_path(path, reading, watch)?;
    if !keep_personal_data {
        mask(&mut profile, threshold);
    }
    let e = rampart_profile::expect::suggest(&mut profile);
    let body = toml::to_string(&e).map_err(|e| Error::invalid(e.to_string()))?;
    Ok(Suggested {
        toml: format!(
            "# Expectations suggested by `rampart data suggest` from {} ({} rows).\n\
             # Edit them, then check data with `rampart data validate PATH --expect FILE`.\n{body}",
            path.display(),
            profile.rows,
        ),
        expectations: e.expect.len(),
        columns: e.columns.len(),
        warnings,
    })
}

/// A profile file, or the profile of a dataset.
pub fn of_path(path: &Path, reading: &Reading, watch: &dyn Watch) -> Result<Profiled, Error> {
    match read(path)? {
        Some(profile) => Ok(Profiled {
            profile,
            format: rampart_table::Format::Json,
            warnings: Vec::new(),
        }),
        None => of_dataset(path, reading, watch),
    }
}

/// The profile in `path`, or None when it is not a profile (a dataset).
pub fn read(path: &Path) -> Result<Option<Profile>, Error> {
    // Only a JSON object of bounded size can be a profile: anything else
    // is a dataset, and is not read whole here.
    let small = std::fs::metadata(path).is_ok_and(|m| m.len() < MAX_PROFILE_BYTES);
    let object = small
        && rampart_table::detect(path).is_ok_and(|s| {
            s.format == rampart_table::Format::Json
                && s.compression == rampart_table::Compression::None
        });
    let bytes = object.then(|| std::fs::read(path).ok()).flatten();
    if let Some(p) = bytes.as_deref().and_then(|b| Profile::from_slice(b).ok()) {
        return Ok(Some(p));
    }
    // Not a well-formed profile: a JSON dataset, or a profile whose error
    // the JSON tree names.
    let profile = bytes
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter(|v| v.get("sketches").is_some());
    profile
        .map(|v| {
            Profile::from_json(&v).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
        })
        .transpose()
}

/// A profile file given to be merged: it must be one.
pub fn read_for_merge(path: &Path) -> Result<Profile, Error> {
    let text = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    match Profile::from_slice(&text) {
        Ok(p) => Ok(p),
        // The JSON tree's reading names what is wrong.
        Err(_) => {
            let v: serde_json::Value = serde_json::from_slice(&text)
                .map_err(|e| Error::invalid(format!("{}: not JSON: {e}", path.display())))?;
            Profile::from_json(&v).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
        }
    }
}

/// Masks the personal data among a profile's top values
/// ([`crate::pii::mask_personal`]): profiles and suggestions are shared
/// and committed.
pub fn mask(profile: &mut Profile, threshold: f32) {
    for c in &mut profile.columns {
        let name = c.name.clone();
        c.mask_top(&|v| crate::pii::mask_personal(&name, v, threshold));
    }
}

/// The columns of a profile's summary ([`Profile::to_json_text`]) as a
/// table for people: type, nulls, distinct values, range and mean.
pub fn summary_table(summary: &[serde_json::Value]) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "{:<24} {:<8} {:>7} {:>10} {:>12} {:>12} {:>12}\n",
        "column", "type", "null%", "distinct", "min", "max", "mean"
    );
    for c in summary {
        let num = |k: &str| {
            c.get(k)
                .and_then(serde_json::Value::as_f64)
                .map_or("-".to_string(), |x| format!("{x:.4}"))
        };
        let text = |k: &str| c.get(k).and_then(serde_json::Value::as_str).unwrap_or("");
        let _ = writeln!(
            out,
            "{:<24} {:<8} {:>6.1}% {:>10} {:>12} {:>12} {:>12}",
            text("name"),
            text("type"),
            c.get("null_share")
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0)
                * 100.0,
            c.get("distinct").cloned().unwrap_or_default(),
            num("min"),
            num("max"),
            num("mean")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dataset_is_profiled_and_its_profile_read_back() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("d.csv");
        std::fs::write(&data, "city,n\nParis,1\nLyon,2\nParis,3\n").unwrap();
        let mut p = of_path(&data, &Reading::default(), &crate::Quiet)
            .unwrap()
            .profile;
        assert_eq!(p.rows, 3);
        assert_eq!(p.columns.len(), 2);
        assert_eq!(p.sources.len(), 1);
        assert_eq!(p.sources[0].sha256.len(), 64);
        let (text, _) = p.to_json_text().unwrap();
        let file = d.path().join("d.profile.json");
        std::fs::write(&file, text).unwrap();
        let back = read(&file).unwrap().expect("a profile");
        assert_eq!(back.rows, 3);
        assert!(read(&data).unwrap().is_none());
        let mut merged = read_for_merge(&file).unwrap();
        merged.merge(&back).unwrap();
        assert_eq!(merged.rows, 6);
        let bad = d.path().join("bad.json");
        std::fs::write(&bad, r#"{"sketches": 3}"#).unwrap();
        assert!(read(&bad).unwrap_err().to_string().contains("bad.json"));
    }
}
