//! Admission, fail closed: which configured models are served, and why
//! the others are not.
//!
//! A model is served only when its alias resolves (checked against the
//! ledger's last signed move), its version is not deprecated, the ledger
//! holds passing evidence on its exact digest for every gate `[admission]`
//! requires, and the bytes read now hash to the registered digest. The
//! model is then loaded from those same bytes, so what was checked is
//! what runs.

use crate::config::{Backend, Limits, Model, Source};
use crate::onnx::OnnxModel;
use rampart_core::Policy;
use rampart_evidence::admission::{decide, Bar};
use rampart_registry::{Registry, Version};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Largest model file read into memory.
pub const MAX_MODEL_BYTES: u64 = 1 << 30;

/// What runs an admitted model.
#[derive(Debug, Clone)]
pub enum Runner {
    Onnx(Arc<OnnxModel>),
    /// An upstream server, under the model name it knows; for an OIP
    /// upstream, the signature it gave, which requests are checked against.
    Upstream {
        upstream: String,
        model: String,
        signature: Option<Arc<crate::oip::Signature>>,
    },
}

/// Where a configured model stands.
#[derive(Debug)]
pub enum State {
    /// Admitted and loaded; `stamp` is what the file system said of the
    /// bytes just before they were hashed.
    Ready {
        version: Version,
        runner: Runner,
        stamp: Option<Stamp>,
    },
    /// Not served, with every reason.
    Refused {
        version: Option<Version>,
        reasons: Vec<String>,
    },
}

/// A configured model and its state.
#[derive(Debug)]
pub struct Served {
    pub name: String,
    pub source: Source,
    pub limits: Limits,
    /// Checked on every request's rows, when configured.
    pub contract: Option<Arc<crate::contract::Contract>>,
    pub state: State,
}

impl Served {
    pub fn ready(&self) -> Option<(&Version, &Runner)> {
        match &self.state {
            State::Ready {
                version, runner, ..
            } => Some((version, runner)),
            State::Refused { .. } => None,
        }
    }

    /// Why it is not served (empty when it is).
    pub fn reasons(&self) -> &[String] {
        match &self.state {
            State::Ready { .. } => &[],
            State::Refused { reasons, .. } => reasons,
        }
    }

    /// Whether the bytes of the served version changed on disk since
    /// they were hashed (then it is admitted again, and hashed): None
    /// when that cannot be told without hashing (no stamp).
    pub fn moved(&self) -> Option<bool> {
        match &self.state {
            State::Ready { version, stamp, .. } => {
                let then = stamp.as_ref()?;
                Some(Stamp::of(Path::new(&version.location)).as_ref() != Some(then))
            }
            State::Refused { .. } => Some(false),
        }
    }

    pub fn version(&self) -> Option<&Version> {
        match &self.state {
            State::Ready { version, .. } => Some(version),
            State::Refused { version, .. } => version.as_ref(),
        }
    }
}

/// What the file system says of a model's bytes: each file's (or each
/// entry's, for a folder) size, modification and change times and inode.
/// A served model whose stamp changed is hashed again: one whose bytes
/// changed on disk is not kept, even though the checked bytes are in
/// memory, so that what runs is what the disk and the registry say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp(Vec<[i64; 5]>);

/// Entries a stamp looks at; a larger folder has no stamp and is hashed
/// again at every check.
const MAX_STAMPED: usize = 10_000;

impl Stamp {
    /// The stamp of `path` (following links), or None when it cannot be
    /// read whole.
    pub fn of(path: &Path) -> Option<Stamp> {
        let mut out = Vec::new();
        let mut todo = vec![path.to_path_buf()];
        while let Some(p) = todo.pop() {
            let m = std::fs::metadata(&p).ok()?;
            if m.is_dir() {
                let mut inside = std::fs::read_dir(&p)
                    .ok()?
                    .map(|e| e.map(|e| e.path()))
                    .collect::<Result<Vec<_>, _>>()
                    .ok()?;
                inside.sort();
                todo.extend(inside);
            }
            out.push(fields(&m));
            if out.len() > MAX_STAMPED {
                return None;
            }
        }
        Some(Stamp(out))
    }
}

#[cfg(unix)]
fn fields(m: &std::fs::Metadata) -> [i64; 5] {
    use std::os::unix::fs::MetadataExt;
    // The change time cannot be set back by a user, as mtime can.
    let len = i64::try_from(m.len()).unwrap_or(i64::MAX);
    let ino = i64::try_from(m.ino()).unwrap_or(i64::MAX);
    [
        len,
        m.mtime(),
        m.mtime_nsec(),
        m.ctime() ^ m.ctime_nsec(),
        ino,
    ]
}

#[cfg(not(unix))]
fn fields(m: &std::fs::Metadata) -> [i64; 5] {
    let len = i64::try_from(m.len()).unwrap_or(i64::MAX);
    let t = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(-1, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    [len, t, 0, 0, 0]
}

/// Served name -> its state; swapped whole, so a request sees one table.
pub type Table = HashMap<String, Arc<Served>>;

/// Decides one model's state. `current` is what is served now: when the
/// alias still names the same version, the loaded model is kept (its
/// bytes were checked when it was loaded and are held in memory).
pub fn admit(
    reg: &mut Registry,
    policy: &Policy,
    upstreams: &std::collections::BTreeMap<String, crate::upstream::UpstreamConfig>,
    name: &str,
    m: &Model,
    current: Option<&Served>,
) -> Served {
    let source = &m.source;
    let state = match reg.resolve(&source.model, &source.at) {
        Err(e) => State::Refused {
            version: None,
            reasons: vec![format!("{}@{}: {e}", source.model, source.at)],
        },
        Ok(version) => {
            let kept = current
                .filter(|c| c.moved() == Some(false))
                .and_then(|c| match &c.state {
                    State::Ready {
                        version: v,
                        runner,
                        stamp,
                    } if v.version == version.version && v.sha256 == version.sha256 => {
                        Some((runner, stamp))
                    }
                    _ => None,
                });
            let reasons = evidence_reasons(reg, policy, &version);
            match (kept, reasons.is_empty()) {
                (Some((runner, stamp)), true) => State::Ready {
                    runner: runner.clone(),
                    stamp: stamp.clone(),
                    version,
                },
                (_, false) => State::Refused {
                    version: Some(version),
                    reasons,
                },
                (None, true) => {
                    // Taken before hashing: a change while hashing shows
                    // at the next check.
                    let stamp = Stamp::of(Path::new(&version.location));
                    match load(reg, &version, &m.backend, upstreams)
                        .and_then(|runner| fits(m, &runner).map(|()| runner))
                    {
                        Ok(runner) => State::Ready {
                            version,
                            runner,
                            stamp,
                        },
                        Err(reason) => State::Refused {
                            version: Some(version),
                            reasons: vec![reason],
                        },
                    }
                }
            }
        }
    };
    Served {
        name: name.to_string(),
        source: source.clone(),
        limits: m.limits,
        contract: m.contract.clone(),
        state,
    }
}

/// Whether the model's input contract describes the model loaded: a
/// contract that cannot be checked is a reason not to serve.
fn fits(m: &Model, runner: &Runner) -> Result<(), String> {
    let Some(c) = &m.contract else {
        return Ok(());
    };
    let sig = match runner {
        Runner::Onnx(model) => &model.signature,
        Runner::Upstream {
            signature: Some(s), ..
        } => s.as_ref(),
        Runner::Upstream {
            signature: None, ..
        } => {
            return Err(
                "expect is set, but an OpenAI-compatible upstream takes no tensors to check".into(),
            )
        }
    };
    c.misfit(sig)
        .map_or(Ok(()), |why| Err(format!("expect: {why}")))
}

/// What keeps `version` from being served on its evidence: empty when
/// nothing does.
fn evidence_reasons(reg: &mut Registry, policy: &Policy, version: &Version) -> Vec<String> {
    let at = format!("{}@{}", version.model, version.version);
    if version.deprecated {
        return vec![format!("{at} is deprecated")];
    }
    let required = &policy.admission.require;
    if required.is_empty() {
        return vec![
            "[admission] requires no gate, and the gateway serves only models with evidence: list the gates in [admission] require (scan, at least)".into(),
        ];
    }
    let evidence = match reg
        .project()
        .evidence_of(Path::new(&at), version.sha256.clone())
    {
        Ok(e) => e,
        Err(e) => return vec![format!("{at}: cannot read its evidence: {e}")],
    };
    match decide(&evidence, required, &Bar::from_policy(policy)) {
        Ok(d) => d
            .reasons
            .into_iter()
            .map(|r| format!("{at}: {r}"))
            .collect(),
        Err(e) => vec![format!("{at}: cannot judge its evidence: {e}")],
    }
}

/// Checks the version's bytes and prepares what runs it.
fn load(
    reg: &Registry,
    version: &Version,
    backend: &Backend,
    upstreams: &std::collections::BTreeMap<String, crate::upstream::UpstreamConfig>,
) -> Result<Runner, String> {
    match backend {
        Backend::Onnx => load_onnx(version).map(|m| Runner::Onnx(Arc::new(m))),
        Backend::Upstream { upstream, model } => {
            // The upstream serves the weights at the version's location:
            // they are hashed again (a file or a folder) before any
            // request is routed to it.
            reg.check_bytes(version).map_err(|e| e.to_string())?;
            let config = upstreams
                .get(upstream)
                .ok_or_else(|| format!("upstream {upstream} is not configured"))?;
            let signature = match config.protocol {
                crate::upstream::Protocol::Openai => None,
                crate::upstream::Protocol::Oip => Some(Arc::new(
                    crate::upstream::oip_signature(config, model)
                        .map_err(|e| format!("upstream {upstream}: {e}"))?,
                )),
            };
            Ok(Runner::Upstream {
                upstream: upstream.clone(),
                model: model.clone(),
                signature,
            })
        }
    }
}

/// Reads the version's file once, checks its digest, and loads the model
/// from the bytes checked.
fn load_onnx(version: &Version) -> Result<OnnxModel, String> {
    let at = format!("{}@{}", version.model, version.version);
    let path = Path::new(&version.location);
    if path.is_dir() {
        return Err(format!(
            "{at}: {} is a folder; the gateway serves a single .onnx file in process",
            path.display()
        ));
    }
    let f = std::fs::File::open(path)
        .map_err(|e| format!("{at}: cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(MAX_MODEL_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{at}: cannot read {}: {e}", path.display()))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_MODEL_BYTES {
        return Err(format!(
            "{at}: {} is larger than {MAX_MODEL_BYTES} bytes",
            path.display()
        ));
    }
    let now = hex::encode(Sha256::digest(&bytes));
    if now != version.sha256 {
        return Err(format!(
            "{at}: the bytes at {} are not the registered ones (sha256 {} registered, {now} now)",
            path.display(),
            version.sha256
        ));
    }
    OnnxModel::load(&bytes).map_err(|e| format!("{at}: {e}"))
}
