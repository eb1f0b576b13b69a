//! Every registry operation as one request and one reply, so that each
//! front end (the command line, the gateway's REST API) asks the same way
//! and gets the same answer: the reply's JSON is what machines read, its
//! text what people read. A request deserializes from JSON (`"op":
//! "promote"`) and, with the `clap` feature, parses from the command line.

use crate::name::{Name, VersionRef};
use crate::request::{
    ApproveRequest, PromoteRequest, RegisterRequest, RollbackRequest, VersionRequest,
};
use crate::{lineage_text, list_text, Error, Recorded, Registry};
use serde::{Deserialize, Serialize};

/// One operation.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
#[cfg_attr(feature = "clap", derive(clap::Subcommand))]
pub enum Request {
    /// Register a model file or folder as the next version of NAME (the
    /// same bytes again give the same version).
    ///
    /// Example: rampart registry register fraud model/ --train data/train.csv --meta commit=3f2a
    Register(RegisterRequest),
    /// Versions (of NAME, or of every model) with their aliases.
    List {
        /// The model [default: every model].
        model: Option<Name>,
    },
    /// One version: digest, location, author, metadata, lineage.
    Show {
        /// The version (NAME@V).
        version: VersionRef,
    },
    /// The chain of parents of NAME@V, with the evidence about each
    /// version's digest and its datasets' digests.
    Lineage {
        /// The version (NAME@V).
        version: VersionRef,
    },
    /// Approve NAME@V for an alias with your key; the version's author
    /// cannot approve it.
    Approve(ApproveRequest),
    /// Point an alias at NAME@V when [registry.alias.ALIAS] in
    /// rampart.toml is met (evidence on its exact digest, approvals).
    ///
    /// Example: rampart registry promote fraud@3 --to production
    Promote(PromoteRequest),
    /// Move an alias back to the version promoted there before (or to
    /// --to V, once promoted there); needs no approvals, is recorded.
    Rollback(RollbackRequest),
    /// Mark NAME@V so that no alias may point at it.
    Deprecate(VersionRequest),
    /// Versions are never deleted: the request is refused and recorded.
    Delete(VersionRequest),
    /// Every change to NAME, in ledger order.
    History {
        /// The model.
        model: Name,
    },
    /// The version an alias of NAME (or a version number) names, its
    /// bytes hashed again and compared with the registered digest.
    ///
    /// Example: rampart registry resolve fraud production
    Resolve {
        /// The model.
        model: Name,
        /// An alias (production) or a version number.
        at: String,
    },
    /// Check that the store agrees with the ledger; every difference is
    /// named.
    Verify,
    /// Rebuild the store from the ledger alone.
    Rebuild,
    /// Register every model version of an MLflow registry whose artifacts
    /// are on this machine, and report its aliases (not promoted) and
    /// what could not be imported (exit 1).
    ///
    /// Example: rampart registry import-mlflow --tracking-uri sqlite:///mlflow.db
    ImportMlflow {
        /// The MLflow registry: sqlite:///PATH/mlflow.db, or a file store
        /// (file:///PATH/mlruns, or the folder).
        #[cfg_attr(feature = "clap", arg(long))]
        tracking_uri: String,
    },
}

/// An answer: `ok` false only for a `verify` that found differences
/// (refusals are [`Error::Refused`] and kin).
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub ok: bool,
    pub json: serde_json::Value,
    #[serde(skip)]
    pub text: String,
}

fn reply<T: Serialize>(value: &T, text: String) -> Result<Reply, Error> {
    Ok(Reply {
        ok: true,
        json: serde_json::to_value(value)?,
        text,
    })
}

fn recorded(x: Recorded) -> Result<Reply, Error> {
    let text = format!("{} (ledger entry {})\n", x.event.text(), x.ledger_index);
    reply(&x, text)
}

impl Registry {
    /// Carries out one request.
    pub fn execute(&mut self, request: &Request) -> Result<Reply, Error> {
        match request {
            Request::Register(req) => {
                let reg = self.register(&req.resolve()?)?;
                let v = &reg.version;
                let was = match reg.existing {
                    true => " (these bytes were registered already; --key, --meta and lineage apply to new versions only)",
                    false => "",
                };
                let text = format!("{}@{}  sha256 {}{was}\n", v.model, v.version, v.sha256);
                reply(&reg, text)
            }
            Request::List { model } => {
                let items = self.list(model.as_ref())?;
                reply(&items, list_text(&items))
            }
            Request::Show { version } => {
                let v = self.version(version)?;
                reply(&v, v.text())
            }
            Request::Lineage { version } => {
                let steps = self.lineage(version)?;
                reply(&steps, lineage_text(&steps))
            }
            Request::Approve(a) => {
                let key = crate::read_key(&a.key)?;
                recorded(self.approve(&a.version, &a.alias, &key)?)
            }
            Request::Promote(p) => recorded(self.promote(&p.version, &p.to, p.expect())?),
            Request::Rollback(b) => recorded(self.rollback(&b.model, &b.alias, b.to, &b.reason)?),
            Request::Deprecate(d) => recorded(self.deprecate(&d.version, &d.reason)?),
            Request::Delete(d) => recorded(self.delete(&d.version, &d.reason)?),
            Request::History { model } => {
                let events = self.history(model)?;
                let lines: Vec<String> = events
                    .iter()
                    .map(|e| format!("{:>6}  {}\n", e.ledger_index, e.event.text()))
                    .collect();
                reply(&events, lines.concat())
            }
            Request::Resolve { model, at } => {
                let v = self.resolve(model, at)?;
                self.check_bytes(&v)?;
                let text = format!(
                    "{}@{}  {}  sha256 {} (bytes checked)\n",
                    v.model, v.version, v.location, v.sha256
                );
                reply(&v, text)
            }
            Request::Verify => {
                let problems = self.verify()?;
                let text = match problems.is_empty() {
                    true => format!("registry OK: {} agrees with the ledger\n", self.describe()),
                    false => problems
                        .iter()
                        .map(|p| format!("MISMATCH: {p}\n"))
                        .collect(),
                };
                Ok(Reply {
                    ok: problems.is_empty(),
                    json: serde_json::json!({"agrees": problems.is_empty(), "problems": problems}),
                    text,
                })
            }
            Request::ImportMlflow { tracking_uri } => {
                let report = self.import_mlflow(tracking_uri)?;
                Ok(Reply {
                    ok: report.failed.is_empty(),
                    json: serde_json::to_value(&report)?,
                    text: report.text(),
                })
            }
            Request::Rebuild => {
                let n = self.rebuild()?;
                let text = format!(
                    "rebuilt {} from the ledger: {n} events applied\n",
                    self.describe()
                );
                reply(&serde_json::json!({"applied": n}), text)
            }
        }
    }
}
