//! Importing an MLflow model registry (its SQLite tracking database):
//! every registered model version whose artifacts are on this machine is
//! hashed and registered; MLflow's aliases are reported with the version
//! they would name, never promoted (promotion needs the policy's evidence
//! and approvals, which an import does not bring). Nothing is skipped
//! silently: a version that could not be imported is listed with why.

use crate::name::{Name, VersionRef};
use crate::registry::Register;
use crate::{Error, Registry};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One MLflow model version as its database records it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MlflowVersion {
    pub name: String,
    pub version: i64,
    pub source: String,
    pub storage_location: Option<String>,
    pub run_id: Option<String>,
    pub user_id: Option<String>,
    /// MLflow's workspace (`default` in a database without workspaces).
    pub workspace: String,
    /// Where the artifacts are on this machine, when they are.
    pub path: Option<PathBuf>,
}

/// One MLflow alias.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MlflowAlias {
    pub name: String,
    pub alias: String,
    pub version: i64,
}

/// What an import did, version by version.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Imported {
    pub tracking_uri: String,
    /// MLflow `name` version `v` is Rampart's `model@version`, with the
    /// gates that have evidence on its digest (empty: none yet).
    pub versions: Vec<ImportedVersion>,
    /// Versions that could not be imported, and why.
    pub failed: Vec<String>,
    /// MLflow's aliases and the Rampart version each would name; not
    /// promoted.
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedVersion {
    pub mlflow: String,
    pub rampart: String,
    pub sha256: String,
    /// The bytes were registered already (by an earlier import or by
    /// hand).
    pub existing: bool,
    pub evidence: Vec<String>,
}

impl Imported {
    /// For people: each version, then what was not imported.
    pub fn text(&self) -> String {
        let mut out = format!("import of {}\n", self.tracking_uri);
        for v in &self.versions {
            let ev = match v.evidence.is_empty() {
                true => "no evidence yet".to_string(),
                false => format!("evidence: {}", v.evidence.join(", ")),
            };
            let again = if v.existing {
                " (already registered)"
            } else {
                ""
            };
            out.push_str(&format!("  {} -> {}{again}  {ev}\n", v.mlflow, v.rampart));
        }
        for a in &self.aliases {
            out.push_str(&format!("  alias {a}\n"));
        }
        for f in &self.failed {
            out.push_str(&format!("  NOT IMPORTED {f}\n"));
        }
        out
    }
}

/// Where an MLflow registry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracking {
    /// A SQLite tracking database.
    Sqlite(PathBuf),
    /// A file store: a folder (`mlruns`) holding `models/`.
    Files(PathBuf),
}

/// What a tracking URI names: `sqlite:///PATH` (SQLAlchemy's form:
/// `sqlite:///relative.db`, `sqlite:////absolute.db`), `file:///PATH` or a
/// folder (a file store), or the path of a database file.
pub fn tracking(uri: &str) -> Result<Tracking, Error> {
    if let Some(rest) = uri.strip_prefix("sqlite:///") {
        return Ok(Tracking::Sqlite(PathBuf::from(rest)));
    }
    if let Some(p) = file_uri(uri) {
        return Ok(Tracking::Files(p));
    }
    if uri.contains("://") {
        return Err(Error::Name(format!(
            "{uri}: an MLflow registry is read from sqlite:///PATH or a file store (file:///PATH/mlruns)"
        )));
    }
    let p = PathBuf::from(uri);
    Ok(match p.is_dir() {
        true => Tracking::Files(p),
        false => Tracking::Sqlite(p),
    })
}

/// Most versions read from a file store.
const MAX_FILE_VERSIONS: usize = 100_000;

/// The flat `key: value` lines of an MLflow `meta.yaml` (what MLflow
/// writes for model versions: scalars, quoted or not); nested keys are
/// not read. Files over 64 KiB are refused.
fn meta_yaml(path: &Path) -> Result<BTreeMap<String, String>, Error> {
    let read = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read)?.len();
    if size > 64 * 1024 {
        return Err(Error::Store(format!(
            "{}: {size} bytes is too big for an MLflow meta.yaml",
            path.display()
        )));
    }
    Ok(parse_meta_yaml(
        &std::fs::read_to_string(path).map_err(read)?,
    ))
}

/// The top-level `key: value` scalars of a `meta.yaml` (quotes removed;
/// `null` and empty values left out).
pub fn parse_meta_yaml(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with(' ')) {
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim().trim_matches('\'').trim_matches('"');
            if !v.is_empty() && v != "null" {
                out.insert(k.trim().to_string(), v.to_string());
            }
        }
    }
    out
}

/// Reads the versions and aliases of an MLflow file store (`models/NAME/
/// version-N/meta.yaml`, `models/NAME/aliases/ALIAS`).
pub fn read_files(root: &Path) -> Result<(Vec<MlflowVersion>, Vec<MlflowAlias>), Error> {
    let models = root.join("models");
    let list = |dir: &Path| -> Result<Vec<PathBuf>, Error> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| Error::Read {
                path: dir.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        Ok(v)
    };
    let (mut versions, mut aliases) = (Vec::new(), Vec::new());
    for model in list(&models)?.into_iter().filter(|p| p.is_dir()) {
        for entry in list(&model)? {
            let file = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if file.starts_with("version-") && entry.join("meta.yaml").is_file() {
                if versions.len() >= MAX_FILE_VERSIONS {
                    return Err(Error::Store(format!(
                        "{}: more than {MAX_FILE_VERSIONS} model versions",
                        root.display()
                    )));
                }
                let m = meta_yaml(&entry.join("meta.yaml"))?;
                let get = |k: &str| m.get(k).cloned();
                let version = get("version").and_then(|v| v.parse().ok()).ok_or_else(|| {
                    Error::Store(format!("{}: no version number", entry.display()))
                })?;
                let storage_location = get("storage_location");
                let source = get("source").unwrap_or_default();
                let path = storage_location
                    .as_deref()
                    .and_then(file_uri)
                    .or_else(|| file_uri(&source));
                versions.push(MlflowVersion {
                    name: get("name").unwrap_or_default(),
                    version,
                    source,
                    storage_location,
                    run_id: get("run_id"),
                    user_id: get("user_id"),
                    workspace: get("workspace").unwrap_or_else(|| "default".into()),
                    path,
                });
            }
        }
        let name = model.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let alias_dir = model.join("aliases");
        if alias_dir.is_dir() {
            for a in list(&alias_dir)? {
                let text = std::fs::read_to_string(&a).unwrap_or_default();
                if let (Some(alias), Ok(version)) = (
                    a.file_name().and_then(|n| n.to_str()),
                    text.trim().parse::<i64>(),
                ) {
                    aliases.push(MlflowAlias {
                        name: format!("default/{name}"),
                        alias: alias.to_string(),
                        version,
                    });
                }
            }
        }
    }
    versions.sort_by(|a, b| (&a.name, a.version).cmp(&(&b.name, b.version)));
    Ok((versions, aliases))
}

/// `file:///a%20b/c` as a path; None for other schemes.
fn file_uri(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let mut bytes = Vec::with_capacity(rest.len());
    let mut it = rest.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex: Vec<u8> = it.by_ref().take(2).collect();
            let v = std::str::from_utf8(&hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())?;
            bytes.push(v);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok().map(PathBuf::from)
}

/// Reads the versions and aliases of an MLflow tracking database
/// (read-only), each version's artifacts located when they are local.
pub fn read(db: &Path) -> Result<(Vec<MlflowVersion>, Vec<MlflowAlias>), Error> {
    if !db.is_file() {
        return Err(Error::Read {
            path: db.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let shown = db.display().to_string();
    let err = |e: rusqlite::Error| {
        Error::Store(format!("{shown}: {e} (is it an MLflow tracking database?)"))
    };
    let conn = rusqlite::Connection::open_with_flags(db, flags).map_err(err)?;
    // Older databases lack these columns.
    let has = |column: &str| {
        conn.prepare(&format!("SELECT {column} FROM model_versions LIMIT 0"))
            .is_ok()
    };
    let column = |c: &'static str, otherwise: &'static str| if has(c) { c } else { otherwise };
    let sql = format!(
        "SELECT name, version, source, {}, run_id, user_id, {} FROM model_versions ORDER BY 7, name, version",
        column("storage_location", "NULL"),
        column("workspace", "'default'")
    );
    let mut stmt = conn.prepare(&sql).map_err(err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(MlflowVersion {
                name: r.get(0)?,
                version: r.get(1)?,
                source: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                storage_location: r.get(3)?,
                run_id: r.get(4)?,
                user_id: r.get(5)?,
                workspace: r.get(6)?,
                path: None,
            })
        })
        .map_err(err)?;
    let mut versions = Vec::new();
    for row in rows {
        let mut v = row.map_err(err)?;
        v.path = locate(&conn, &v);
        versions.push(v);
    }
    let mut aliases = Vec::new();
    let workspace = match conn
        .prepare("SELECT workspace FROM registered_model_aliases LIMIT 0")
        .is_ok()
    {
        true => "workspace",
        false => "'default'",
    };
    let sql = format!(
        "SELECT {workspace} || '/' || name, alias, version FROM registered_model_aliases ORDER BY 1, alias"
    );
    if let Ok(mut stmt) = conn.prepare(&sql) {
        let rows = stmt
            .query_map([], |r| {
                Ok(MlflowAlias {
                    name: r.get(0)?,
                    alias: r.get(1)?,
                    version: r.get(2)?,
                })
            })
            .map_err(err)?;
        for row in rows {
            aliases.push(row.map_err(err)?);
        }
    }
    Ok((versions, aliases))
}

/// Where a version's artifacts are on this machine: its storage location
/// or source when a `file://` URI or a path, or a `runs:/RUN/PATH` source
/// under that run's artifact URI.
fn locate(conn: &rusqlite::Connection, v: &MlflowVersion) -> Option<PathBuf> {
    let local =
        |uri: &str| file_uri(uri).or_else(|| (!uri.contains(':')).then(|| PathBuf::from(uri)));
    if let Some(p) = v.storage_location.as_deref().and_then(local) {
        return Some(p);
    }
    if let Some(p) = local(&v.source) {
        return Some(p);
    }
    if let Some(id) = v
        .source
        .strip_prefix("models:/m-")
        .map(|id| format!("m-{id}"))
    {
        let base: String = conn
            .query_row(
                "SELECT artifact_location FROM logged_models WHERE model_id = ?1",
                [id],
                |r| r.get(0),
            )
            .ok()?;
        return local(&base);
    }
    let rest = v.source.strip_prefix("runs:/")?;
    let (run, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let base: String = conn
        .query_row(
            "SELECT artifact_uri FROM runs WHERE run_uuid = ?1",
            [run],
            |r| r.get(0),
        )
        .ok()?;
    local(&base).map(|b| b.join(sub))
}

impl Registry {
    /// Imports the MLflow registry in `tracking_uri` (see module docs).
    pub fn import_mlflow(&mut self, tracking_uri: &str) -> Result<Imported, Error> {
        let (versions, aliases) = match tracking(tracking_uri)? {
            Tracking::Sqlite(db) => read(&db)?,
            Tracking::Files(root) => read_files(&root)?,
        };
        let mut out = Imported {
            tracking_uri: tracking_uri.to_string(),
            ..Default::default()
        };
        let mut mapped: BTreeMap<(String, i64), VersionRef> = BTreeMap::new();
        for v in &versions {
            let label = format!("{} version {}", v.name, v.version);
            // Models of other workspaces keep their workspace in the name.
            let name = match v.workspace.as_str() {
                "default" => v.name.clone(),
                w => format!("{w}.{}", v.name),
            };
            let model: Name = match name.parse() {
                Ok(n) => n,
                Err(e) => {
                    out.failed.push(format!("{label}: {e}"));
                    continue;
                }
            };
            let Some(path) = v.path.clone().filter(|p| p.exists()) else {
                out.failed.push(format!(
                    "{label}: its artifacts ({}) are not on this machine",
                    v.storage_location.as_deref().unwrap_or(&v.source)
                ));
                continue;
            };
            let mut meta = BTreeMap::from([
                ("mlflow_model".to_string(), v.name.clone()),
                ("mlflow_version".to_string(), v.version.to_string()),
                ("mlflow_source".to_string(), v.source.clone()),
                ("imported_from".to_string(), tracking_uri.to_string()),
            ]);
            for (k, val) in [("run", &v.run_id), ("who", &v.user_id)] {
                if let Some(val) = val.as_ref().filter(|s| !s.is_empty()) {
                    meta.insert(k.to_string(), val.clone());
                }
            }
            let reg = Register {
                model: Some(model),
                path,
                meta,
                ..Default::default()
            };
            match self.register(&reg) {
                Ok(r) => {
                    let vref = r.version.reference();
                    let evidence = self.gates_with_evidence(&r.version)?;
                    out.versions.push(ImportedVersion {
                        mlflow: label,
                        rampart: vref.to_string(),
                        sha256: r.version.sha256.clone(),
                        existing: r.existing,
                        evidence,
                    });
                    mapped.insert((format!("{}/{}", v.workspace, v.name), v.version), vref);
                }
                Err(e @ (Error::Digest { .. } | Error::Read { .. })) => {
                    out.failed.push(format!("{label}: {e}"))
                }
                Err(e) => return Err(e),
            }
        }
        for a in &aliases {
            let to = match mapped.get(&(a.name.clone(), a.version)) {
                Some(v) => {
                    format!("{v} (not promoted: promote it once its evidence and approvals are in)")
                }
                None => format!("version {} (not imported)", a.version),
            };
            let shown = a.name.strip_prefix("default/").unwrap_or(&a.name);
            out.aliases
                .push(format!("{shown}@{} in MLflow -> {to}", a.alias));
        }
        Ok(out)
    }

    /// The gates with passing evidence on a version's digest.
    fn gates_with_evidence(&self, v: &crate::Version) -> Result<Vec<String>, Error> {
        let label = format!("{}@{}", v.model, v.version);
        let ev = self
            .project()
            .evidence_of(Path::new(&label), v.sha256.clone())?;
        let mut gates: Vec<String> = ev
            .attestations
            .iter()
            .filter(|a| {
                !a.gate.starts_with("registry-") && a.passed == Some(true) && a.signature_ok
            })
            .map(|a| a.gate.clone())
            .collect();
        gates.dedup();
        Ok(gates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_uris_and_file_uris_are_paths() {
        let sqlite = |p: &str| Tracking::Sqlite(PathBuf::from(p));
        assert_eq!(
            tracking("sqlite:///mlflow.db").unwrap(),
            sqlite("mlflow.db")
        );
        assert_eq!(
            tracking("sqlite:////tmp/m.db").unwrap(),
            sqlite("/tmp/m.db")
        );
        assert_eq!(
            tracking("file:///tmp/mlruns").unwrap(),
            Tracking::Files(PathBuf::from("/tmp/mlruns"))
        );
        assert!(tracking("postgresql://h/db").is_err());
        assert_eq!(file_uri("file:///a%20b/c"), Some(PathBuf::from("/a b/c")));
        assert_eq!(file_uri("s3://bucket/x"), None);
        assert_eq!(file_uri("file:///bad%zz"), None);
    }
}
