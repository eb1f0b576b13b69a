//! The registry's operations. Each change runs inside one transaction
//! that holds the store's write lock: catch up with the ledger, decide,
//! append the event to the ledger, apply it, commit. A crash between the
//! append and the commit loses nothing: the next run catches up with the
//! ledger before it decides anything.

use crate::event::{Artifact, Event, Lineage, APPROVAL_TYPE, PREDICATE_PREFIX, REGISTRATION_TYPE};
use crate::name::{Name, VersionRef};
use crate::store::{Backend, Tx, Val};
use crate::Error;
use rampart_attest::IN_TOTO_PAYLOAD_TYPE;
use rampart_attest::{Envelope, PublicKey, ResourceDescriptor, SigningKey, Statement};
use rampart_core::Policy;
use rampart_evidence::{Project, Started};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One registered version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    pub model: Name,
    pub version: u64,
    pub sha256: String,
    pub location: String,
    pub author: String,
    pub meta: BTreeMap<String, String>,
    pub lineage: Lineage,
    pub deprecated: bool,
    /// The ledger entry of its registration.
    pub registered_at: u64,
}

impl Version {
    /// Every field, a line each, for people.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{}@{}\n  sha256      {}\n  location    {}\n  author key  {}\n  registered  ledger entry {}{}\n",
            self.model,
            self.version,
            self.sha256,
            self.location,
            self.author,
            self.registered_at,
            if self.deprecated { "\n  DEPRECATED" } else { "" }
        );
        for (k, v) in &self.meta {
            out.push_str(&format!("  {k:<11} {v}\n"));
        }
        let l = &self.lineage;
        for (role, a) in l
            .parent
            .iter()
            .map(|p| ("parent", p))
            .chain(l.train.iter().map(|a| ("train", a)))
            .chain(l.eval.iter().map(|a| ("eval", a)))
        {
            out.push_str(&format!("  {role:<11} {} (sha256 {})\n", a.name, a.sha256));
        }
        out
    }

    pub fn reference(&self) -> VersionRef {
        VersionRef {
            model: self.model.clone(),
            version: self.version,
        }
    }
}

/// What to register.
#[derive(Clone, Default)]
pub struct Register {
    pub model: Option<Name>,
    /// The model file or folder (its bytes are hashed now).
    pub path: PathBuf,
    /// Who made it, as metadata (`who`, `commit`, `run`...).
    pub meta: BTreeMap<String, String>,
    /// The version it was fine-tuned from.
    pub parent: Option<VersionRef>,
    pub train: Vec<PathBuf>,
    pub eval: Vec<PathBuf>,
    /// The author's key; the project's attestation key when None.
    pub key: Option<SigningKey>,
}

/// A registration's result.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    pub version: Version,
    /// The same bytes were registered before: this is that version.
    pub existing: bool,
}

/// A change recorded: its ledger entry and what it was.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub ledger_index: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// Where an alias points, and since which ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AliasState {
    pub version: u64,
    pub moved_at: u64,
}

/// What a promotion expects the alias to point at when it commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Whatever it pointed at when the promotion started.
    AsRead,
    /// This version (None: the alias does not exist yet).
    Version(Option<u64>),
}

/// The registry: a store and the project whose ledger records it.
pub struct Registry {
    store: Box<dyn Backend>,
    /// The project's ledger, open for the registry's life and refreshed
    /// before each transaction (opening reads every leaf).
    ledger: rampart_ledger::Ledger,
    project: Project,
    policy: Policy,
    policy_sha256: String,
}

/// The store a project uses unless told otherwise.
pub fn default_store(project: &Project) -> String {
    project.dir().join("registry.db").display().to_string()
}

impl Registry {
    /// The registry of `project` in `store` (see [`crate::store::open`]),
    /// judged by `policy`; catches up with the ledger.
    pub fn open(project: Project, store: &str, policy: Policy) -> Result<Registry, Error> {
        let ledger = project.ledger()?;
        let policy_sha256 = match &policy.source {
            Some(p) => {
                rampart_evidence::sha256_hex(&std::fs::read(p).map_err(|source| Error::Read {
                    path: p.clone(),
                    source,
                })?)
            }
            None => "default".into(),
        };
        let mut r = Registry {
            store: crate::store::open(store)?,
            ledger,
            project,
            policy,
            policy_sha256,
        };
        // Catch up with the ledger now only when it holds registry events
        // the store has not applied: opening waits for no writer
        // otherwise, so that a command sees the registry as it began.
        let cursor = r.snapshot(|tx| {
            let rows = tx.query("SELECT next FROM cursor WHERE id = 1", &[])?;
            Ok(rows.first().and_then(|row| row.first()).and_then(Val::int))
        })?;
        let pending = match cursor.and_then(|c| u64::try_from(c).ok()) {
            None => true,
            Some(c) => !r
                .project
                .attestations_in(&r.ledger, c, PREDICATE_PREFIX)?
                .0
                .is_empty(),
        };
        if pending {
            r.locked(|_, _| Ok(()))?;
        }
        Ok(r)
    }

    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// Runs `f` inside a locked transaction, after catching up with the
    /// ledger; commits when it succeeds.
    fn locked<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Tx, &mut Ctx) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut tx = self.store.begin()?;
        self.ledger
            .refresh()
            .map_err(|source| ledger_error(&self.project, source))?;
        let mut ctx = Ctx {
            project: &self.project,
            ledger: &mut self.ledger,
            policy_sha256: &self.policy_sha256,
        };
        catch_up(tx.as_mut(), &self.project, ctx.ledger)?;
        let out = f(tx.as_mut(), &mut ctx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on a read-only snapshot of the store, without waiting for
    /// writers (and without catching up with the ledger).
    fn snapshot<T>(&mut self, f: impl FnOnce(&mut dyn Tx) -> Result<T, Error>) -> Result<T, Error> {
        let mut tx = self.store.read()?;
        let out = f(tx.as_mut())?;
        tx.commit()?;
        Ok(out)
    }

    /// Registers the bytes at `r.path` as the next version of `r.model`,
    /// or returns the version those bytes already are.
    pub fn register(&mut self, r: &Register) -> Result<Registered, Error> {
        let model = r
            .model
            .clone()
            .ok_or_else(|| Error::Name("a model name is needed".into()))?;
        // The location as an absolute path: resolved later from anywhere.
        let path = std::path::absolute(&r.path).map_err(|source| Error::Read {
            path: r.path.clone(),
            source,
        })?;
        let project_dir = std::path::absolute(self.project.dir()).unwrap_or_default();
        if path.is_dir() && project_dir.starts_with(&path) {
            return Err(Error::Name(format!(
                "{} holds the project's {}: register the model's own file or folder",
                r.path.display(),
                self.project.dir().display()
            )));
        }
        let sha256 = digest(&path)?;
        let mut lineage = Lineage::default();
        for (paths, out) in [(&r.train, &mut lineage.train), (&r.eval, &mut lineage.eval)] {
            for p in paths {
                out.push(Artifact {
                    name: p.display().to_string(),
                    sha256: digest(p)?,
                });
            }
        }
        let key = match &r.key {
            Some(k) => k.clone(),
            None => self.project.signing_key()?,
        };
        let author = hint(&key.public())?;
        let location = path.display().to_string();
        let authorship = sign_statement(
            &key,
            &model.to_string(),
            &sha256,
            REGISTRATION_TYPE,
            serde_json::json!({"model": model, "location": location, "meta": r.meta}),
        )?;
        let parent = r.parent.clone();
        self.locked(|tx, ctx| {
            if let Some(v) = version_by_digest(tx, &model, &sha256)? {
                return Ok(Registered {
                    version: v,
                    existing: true,
                });
            }
            if let Some(p) = &parent {
                let v = version(tx, p)?;
                lineage.parent = Some(Artifact {
                    name: p.to_string(),
                    sha256: v.sha256,
                });
            }
            let next = next_version(tx, &model)?;
            let event = Event::Register {
                model: model.clone(),
                version: next,
                sha256: sha256.clone(),
                location,
                author,
                authorship,
                lineage,
                meta: r.meta.clone(),
            };
            record(tx, ctx, &event)?;
            Ok(Registered {
                version: version(
                    tx,
                    &VersionRef {
                        model: model.clone(),
                        version: next,
                    },
                )?,
                existing: false,
            })
        })
    }

    /// Records `key`'s approval of `v` for `alias`. The version's author
    /// cannot approve it.
    pub fn approve(
        &mut self,
        v: &VersionRef,
        alias: &Name,
        key: &SigningKey,
    ) -> Result<Recorded, Error> {
        let approver = hint(&key.public())?;
        // An approval that could never count is refused, not recorded.
        let what = format!("approval of {v} for {alias}");
        let no = |why: String| Error::Refused {
            what: what.clone(),
            reasons: vec![why],
        };
        let rule = self
            .policy
            .registry
            .alias
            .get(alias.as_str())
            .ok_or_else(|| no(format!("rampart.toml has no [registry.alias.{alias}] rule")))?;
        if !approver_keys(&self.policy, &rule.approvers)?.contains_key(&approver) {
            return Err(no(format!(
                "key {} is not among the approvers [registry.alias.{alias}] lists",
                crate::event::short(&approver)
            )));
        }
        self.locked(|tx, ctx| {
            let ver = version(tx, v)?;
            if ver.author == approver {
                return Err(Error::Refused {
                    what: format!("approval of {v} for {alias}"),
                    reasons: vec![format!(
                        "key {} registered {v}: the author of a version cannot approve it",
                        crate::event::short(&approver)
                    )],
                });
            }
            if ver.deprecated {
                return Err(refused(v, alias, "it is deprecated".into()));
            }
            let earlier = tx.query(
                "SELECT ledger_index FROM approvals WHERE model = ? AND version = ? AND alias = ? AND approver = ?",
                &[v.model.as_str().into(), v.version.into(), alias.as_str().into(), approver.as_str().into()],
            )?;
            if let Some(i) = earlier.first().and_then(|r| r.first()).and_then(Val::int) {
                return Err(Error::Refused {
                    what: format!("approval of {v} for {alias}"),
                    reasons: vec![format!("key {} approved it already (ledger entry {i})", crate::event::short(&approver))],
                });
            }
            let approval = sign_statement(
                key,
                &v.to_string(),
                &ver.sha256,
                APPROVAL_TYPE,
                serde_json::json!({"model": v.model, "version": v.version, "alias": alias}),
            )?;
            let event = Event::Approve {
                model: v.model.clone(),
                version: v.version,
                sha256: ver.sha256,
                alias: alias.clone(),
                approver,
                approval,
            };
            recorded(tx, ctx, event)
        })
    }

    /// Points `alias` at `v` when the policy's rule for the alias is met:
    /// passing evidence on exactly its digest for every required gate,
    /// and enough approvals by listed approvers other than its author.
    /// Refused with every reason otherwise; refused naming the winner when
    /// the alias moved while this was checked.
    pub fn promote(
        &mut self,
        v: &VersionRef,
        alias: &Name,
        expect: Expect,
    ) -> Result<Recorded, Error> {
        let rule = self.policy.registry.alias.get(alias.as_str()).cloned().ok_or_else(|| {
            refused(
                v,
                alias,
                format!(
                    "rampart.toml has no [registry.alias.{alias}] rule (an empty one lets any version in)"
                ),
            )
        })?;
        if alias.as_str().bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Name(format!(
                "{alias}: an alias cannot be a number (it would read as a version)"
            )));
        }
        let approvers = approver_keys(&self.policy, &rule.approvers)?;
        // Where the alias points as this command begins, read without
        // waiting for a writer: a promotion that commits meanwhile makes
        // this one refused, naming it.
        let expected = match expect {
            Expect::Version(e) => e,
            Expect::AsRead => self
                .snapshot(|tx| alias_state(tx, &v.model, alias))?
                .map(|a| a.version),
        };
        let ver = self.version(v)?;
        // Evidence is read outside the lock (it scans the ledger); the
        // version's digest is fixed, so what it says cannot change
        // meanwhile in a way that matters: newer runs only append.
        let mut reasons = Vec::new();
        let mut gates = Vec::new();
        if !rule.require.is_empty() {
            let ev = self
                .project
                .evidence_of(Path::new(&v.to_string()), ver.sha256.clone())?;
            let bar = rampart_evidence::admission::Bar::for_alias(&self.policy, &rule);
            let d = rampart_evidence::admission::decide(&ev, &rule.require, &bar)?;
            reasons.extend(d.reasons);
            gates = d.required.iter().map(|g| g.to_string()).collect();
        }
        if ver.deprecated {
            reasons.push("it is deprecated".into());
        }
        self.locked(|tx, ctx| {
            let counted = approvals(tx, v, alias, &ver, &approvers)?;
            if counted.len() < rule.approvals {
                reasons.push(format!(
                    "it needs {} approvals for {alias} by the approvers [registry.alias.{alias}] lists, and has {}{}",
                    rule.approvals,
                    counted.len(),
                    if counted.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (by {})",
                            counted
                                .iter()
                                .map(|a| crate::event::short(a))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ));
            }
            if !reasons.is_empty() {
                return Err(Error::Refused {
                    what: format!("promotion of {v} to {alias}"),
                    reasons,
                });
            }
            let current = alias_state(tx, &v.model, alias)?;
            if current.map(|c| c.version) == Some(v.version) {
                return Err(refused(v, alias, format!("{alias} already points at {v}")));
            }
            if current.map(|c| c.version) != expected {
                let now = match current {
                    Some(c) => format!("{}@{} (ledger entry {})", v.model, c.version, c.moved_at),
                    None => "nothing".into(),
                };
                return Err(Error::Conflict(match expect {
                    Expect::AsRead => format!(
                        "{alias} of {} moved to {now} while this promotion was checked; look at that version before you promote over it",
                        v.model
                    ),
                    Expect::Version(e) => format!(
                        "{alias} of {} points at {now}, not at {} (--expect-current)",
                        v.model,
                        e.map_or("nothing".to_string(), |e| format!("{}@{e}", v.model))
                    ),
                }));
            }
            let event = Event::Promote {
                model: v.model.clone(),
                version: v.version,
                sha256: ver.sha256.clone(),
                alias: alias.clone(),
                previous: current.map(|c| c.version),
                gates,
                approvers: counted,
            };
            recorded(tx, ctx, event)
        })
    }

    /// Moves `alias` back: to `to`, or to the latest version promoted there
    /// before the current one. Only versions once promoted to the alias
    /// qualify, so a rollback never skips the promotion policy.
    pub fn rollback(
        &mut self,
        model: &Name,
        alias: &Name,
        to: Option<u64>,
        reason: &str,
    ) -> Result<Recorded, Error> {
        if reason.trim().is_empty() {
            return Err(Error::Name("a rollback needs a reason (--reason)".into()));
        }
        self.locked(|tx, ctx| {
            let what = format!("rollback of {model}@{alias}");
            let refuse = |why: String| Error::Refused {
                what: what.clone(),
                reasons: vec![why],
            };
            let current = alias_state(tx, model, alias)?
                .ok_or_else(|| refuse(format!("{model} has no alias {alias}")))?;
            // The alias's moves in order: the versions promoted there, and
            // those a rollback moved away from (skipped until promoted
            // again, so that a second rollback never restores them).
            let moves = tx.query(
                "SELECT version, kind FROM moves WHERE model = ? AND alias = ? ORDER BY ledger_index",
                &[model.as_str().into(), alias.as_str().into()],
            )?;
            let mut promoted: Vec<u64> = Vec::new();
            let mut rolled_away = std::collections::BTreeSet::new();
            let mut at = None;
            for m in &moves {
                let (Some(v), Some(kind)) = (
                    m.first().and_then(Val::int).and_then(|v| u64::try_from(v).ok()),
                    m.get(1).and_then(Val::text),
                ) else {
                    continue;
                };
                if kind == "promote" {
                    rolled_away.remove(&v);
                    promoted.retain(|p| *p != v);
                    promoted.push(v);
                } else if let Some(from) = at {
                    rolled_away.insert(from);
                }
                at = Some(v);
            }
            let target = match to {
                Some(t) if promoted.contains(&t) => t,
                Some(t) => {
                    return Err(refuse(format!(
                        "{model}@{t} was never promoted to {alias}; promote it instead"
                    )))
                }
                None => {
                    let mut skipped = Vec::new();
                    let mut found = None;
                    for &p in promoted.iter().rev() {
                        if p == current.version {
                            continue;
                        }
                        if rolled_away.contains(&p) {
                            skipped.push(format!("{model}@{p} was rolled back from"));
                            continue;
                        }
                        let at = VersionRef { model: model.clone(), version: p };
                        if version(tx, &at)?.deprecated {
                            skipped.push(format!("{model}@{p} is deprecated"));
                            continue;
                        }
                        found = Some(p);
                        break;
                    }
                    found.ok_or_else(|| {
                        let why = match skipped.is_empty() {
                            true => String::new(),
                            false => format!(" ({})", skipped.join("; ")),
                        };
                        refuse(format!("{alias} has no earlier version to go back to{why}"))
                    })?
                }
            };
            if target == current.version {
                return Err(refuse(format!("{alias} already points at {model}@{target}")));
            }
            let ver = version(tx, &VersionRef { model: model.clone(), version: target })?;
            if ver.deprecated {
                return Err(refuse(format!("{model}@{target} is deprecated")));
            }
            let event = Event::Rollback {
                model: model.clone(),
                version: target,
                sha256: ver.sha256,
                alias: alias.clone(),
                previous: current.version,
                reason: reason.to_string(),
            };
            recorded(tx, ctx, event)
        })
    }

    /// Marks `v` deprecated: no alias may be moved to it. Refused while an
    /// alias points at it (roll that back first).
    pub fn deprecate(&mut self, v: &VersionRef, reason: &str) -> Result<Recorded, Error> {
        self.locked(|tx, ctx| {
            let ver = version(tx, v)?;
            let pointing = tx.query(
                "SELECT alias FROM aliases WHERE model = ? AND version = ? ORDER BY alias",
                &[v.model.as_str().into(), v.version.into()],
            )?;
            if let Some(a) = pointing.first().and_then(|r| r.first()).and_then(Val::text) {
                return Err(Error::Refused {
                    what: format!("deprecation of {v}"),
                    reasons: vec![format!("{a} points at it; roll {a} back first")],
                });
            }
            let event = Event::Deprecate {
                model: v.model.clone(),
                version: v.version,
                sha256: ver.sha256,
                reason: reason.to_string(),
            };
            recorded(tx, ctx, event)
        })
    }

    /// Versions are never deleted: the request is recorded and refused.
    pub fn delete(&mut self, v: &VersionRef, reason: &str) -> Result<Recorded, Error> {
        let recorded = self.locked(|tx, ctx| {
            let ver = version(tx, v)?;
            let event = Event::DeleteRefused {
                model: v.model.clone(),
                version: v.version,
                sha256: ver.sha256,
                reason: reason.to_string(),
            };
            recorded(tx, ctx, event)
        })?;
        Err(Error::Refused {
            what: format!("deletion of {v}"),
            reasons: vec![format!(
                "versions are never deleted (deprecate it instead); the request is ledger entry {}",
                recorded.ledger_index
            )],
        })
    }

    /// One version.
    pub fn version(&mut self, v: &VersionRef) -> Result<Version, Error> {
        self.locked(|tx, _| version(tx, v))
    }

    /// Every version of `model`, oldest first; every model's when None.
    pub fn versions(&mut self, model: Option<&Name>) -> Result<Vec<Version>, Error> {
        self.locked(|tx, _| {
            let rows = match model {
                Some(m) => known(tx, m).and_then(|()| {
                    tx.query(
                        &format!("{VERSION_COLUMNS} WHERE model = ? ORDER BY model, version"),
                        &[m.as_str().into()],
                    )
                })?,
                None => tx.query(&format!("{VERSION_COLUMNS} ORDER BY model, version"), &[])?,
            };
            rows.iter().map(|r| version_of(r)).collect()
        })
    }

    /// Where `alias` of `model` points.
    pub fn alias(&mut self, model: &Name, alias: &Name) -> Result<Option<AliasState>, Error> {
        self.locked(|tx, _| alias_state(tx, model, alias))
    }

    /// Where `alias` of `model` points, checked against the ledger: what
    /// the store says must be the ledger's last signed move of that alias.
    /// What serves models uses this, so that an edit of the store alone
    /// never changes what is served.
    pub fn alias_checked(
        &mut self,
        model: &Name,
        alias: &Name,
    ) -> Result<Option<AliasState>, Error> {
        let Some(st) = self.alias(model, alias)? else {
            return Ok(None);
        };
        let (events, _) =
            self.project
                .attestations_in(&self.ledger, st.moved_at, PREDICATE_PREFIX)?;
        let mut last = None;
        for s in events {
            if !s.signature_ok {
                return Err(Error::Tampered(format!(
                    "ledger entry {} holds a registry event whose signature does not verify",
                    s.index
                )));
            }
            match serde_json::from_value::<Event>(s.statement.predicate) {
                Ok(Event::Promote {
                    model: m,
                    alias: a,
                    version,
                    ..
                })
                | Ok(Event::Rollback {
                    model: m,
                    alias: a,
                    version,
                    ..
                }) if m == *model && a == *alias => last = Some((s.index, version)),
                _ => {}
            }
        }
        match last {
            Some((idx, v)) if idx == st.moved_at && v == st.version => Ok(Some(st)),
            _ => Err(Error::Tampered(format!(
                "the store says {alias} of {model} is {model}@{} (ledger entry {}), which is not the ledger's last move of it; run `rampart registry verify`",
                st.version, st.moved_at
            ))),
        }
    }

    /// Every alias of `model`, by name.
    pub fn aliases(&mut self, model: &Name) -> Result<BTreeMap<String, AliasState>, Error> {
        self.locked(|tx, _| {
            let rows = tx.query(
                "SELECT alias, version, moved_at FROM aliases WHERE model = ? ORDER BY alias",
                &[model.as_str().into()],
            )?;
            let mut out = BTreeMap::new();
            for r in rows {
                if let (Some(a), Some(v), Some(m)) = (
                    r.first().and_then(Val::text),
                    r.get(1).and_then(Val::int),
                    r.get(2).and_then(Val::int),
                ) {
                    out.insert(
                        a.to_string(),
                        AliasState {
                            version: u64::try_from(v).unwrap_or(0),
                            moved_at: u64::try_from(m).unwrap_or(0),
                        },
                    );
                }
            }
            Ok(out)
        })
    }

    /// Every event about `model`, in ledger order.
    pub fn history(&mut self, model: &Name) -> Result<Vec<Recorded>, Error> {
        self.locked(|tx, _| {
            known(tx, model)?;
            let rows = tx.query(
                "SELECT ledger_index, body FROM events WHERE model = ? ORDER BY ledger_index",
                &[model.as_str().into()],
            )?;
            rows.iter()
                .map(|r| {
                    let idx = r.first().and_then(Val::int).unwrap_or(0);
                    let body = r.get(1).and_then(Val::text).unwrap_or("");
                    Ok(Recorded {
                        ledger_index: u64::try_from(idx).unwrap_or(0),
                        event: serde_json::from_str(body)?,
                    })
                })
                .collect()
        })
    }

    /// Every version of `model` (every model's when None), each with the
    /// aliases that point at it.
    pub fn list(&mut self, model: Option<&Name>) -> Result<Vec<Listed>, Error> {
        let versions = self.versions(model)?;
        let mut aliases: BTreeMap<(Name, u64), Vec<String>> = BTreeMap::new();
        let models: std::collections::BTreeSet<Name> =
            versions.iter().map(|v| v.model.clone()).collect();
        for m in &models {
            for (a, state) in self.aliases(m)? {
                aliases
                    .entry((m.clone(), state.version))
                    .or_default()
                    .push(a);
            }
        }
        Ok(versions
            .into_iter()
            .map(|v| Listed {
                aliases: aliases
                    .remove(&(v.model.clone(), v.version))
                    .unwrap_or_default(),
                version: v,
            })
            .collect())
    }

    /// The version `at` names: a number, or an alias of `model`.
    pub fn resolve(&mut self, model: &Name, at: &str) -> Result<Version, Error> {
        self.locked(|tx, _| known(tx, model))?;
        let version = match at.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                let alias: Name = at.parse()?;
                self.alias_checked(model, &alias)?
                    .ok_or_else(|| Error::NotFound(format!("{model} has no alias {alias}")))?
                    .version
            }
        };
        self.version(&VersionRef {
            model: model.clone(),
            version,
        })
    }

    /// Whether the bytes at a version's location are still the ones
    /// registered: re-hashed, never trusted.
    pub fn check_bytes(&self, v: &Version) -> Result<(), Error> {
        let now = digest(Path::new(&v.location))?;
        if now != v.sha256 {
            return Err(Error::Changed(format!(
                "{}@{}: the bytes at {} are not the registered ones (sha256 {} registered, {} now)",
                v.model, v.version, v.location, v.sha256, now
            )));
        }
        Ok(())
    }

    /// The chain from `v` through its parents, each version with the
    /// evidence about its digest and about its datasets' digests.
    pub fn lineage(&mut self, v: &VersionRef) -> Result<Vec<Step>, Error> {
        let mut out: Vec<Step> = Vec::new();
        let mut next = Some(v.clone());
        while let Some(cur) = next.take() {
            if out.len() >= MAX_LINEAGE {
                return Err(Error::Tampered(format!(
                    "the lineage of {v} is deeper than {MAX_LINEAGE} versions"
                )));
            }
            let ver = self.version(&cur)?;
            let about = |name: &str, sha256: &str| {
                self.project
                    .evidence_of(Path::new(name), sha256.to_string())
                    .map(|e| e.attestations)
            };
            let evidence = about(&cur.to_string(), &ver.sha256)?;
            let mut datasets = Vec::new();
            for (role, arts) in [("train", &ver.lineage.train), ("eval", &ver.lineage.eval)] {
                for a in arts {
                    datasets.push(Dataset {
                        role,
                        artifact: a.clone(),
                        evidence: about(&a.name, &a.sha256)?,
                    });
                }
            }
            next = ver
                .lineage
                .parent
                .as_ref()
                .map(|p| p.name.parse())
                .transpose()?;
            out.push(Step {
                version: ver,
                evidence,
                datasets,
            });
        }
        Ok(out)
    }

    /// How far the store has applied the ledger: it changes exactly when
    /// a registry event is applied (or the ledger grows), so a cache
    /// built at one mark is current while the mark is.
    pub fn mark(&mut self) -> Result<u64, Error> {
        self.locked(|tx, _| {
            let rows = tx.query("SELECT next FROM cursor WHERE id = 1", &[])?;
            Ok(rows
                .first()
                .and_then(|r| r.first())
                .and_then(Val::int)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0))
        })
    }

    /// Every alias of every model, resolved to its version, in memory: what
    /// a server looks up per request. Rebuild it when [`Registry::mark`]
    /// moves.
    pub fn alias_cache(&mut self) -> Result<AliasCache, Error> {
        let mark = self.mark()?;
        let versions = self.versions(None)?;
        let mut map = std::collections::HashMap::new();
        let models: std::collections::BTreeSet<Name> =
            versions.iter().map(|v| v.model.clone()).collect();
        for m in &models {
            for alias in self.aliases(m)?.into_keys() {
                // Checked against the ledger, as resolve does.
                let Some(state) = self.alias_checked(m, &alias.parse()?)? else {
                    continue;
                };
                if let Some(v) = versions
                    .iter()
                    .find(|v| v.model == *m && v.version == state.version)
                {
                    map.insert((m.to_string(), alias), v.clone());
                }
            }
        }
        Ok(AliasCache { mark, map })
    }

    /// The project whose ledger records the registry.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Empties the store and rebuilds it from the ledger alone.
    pub fn rebuild(&mut self) -> Result<u64, Error> {
        let mut tx = self.store.begin()?;
        for (table, _, _) in crate::store::TABLES {
            tx.exec(&format!("DELETE FROM {table}"), &[])?;
        }
        tx.exec("DELETE FROM cursor", &[])?;
        self.ledger
            .refresh()
            .map_err(|source| ledger_error(&self.project, source))?;
        let applied = catch_up(tx.as_mut(), &self.project, &self.ledger)?;
        tx.commit()?;
        Ok(applied)
    }

    /// Compares the store with the state the ledger's events make, table
    /// by table; every difference is named.
    pub fn verify(&mut self) -> Result<Vec<String>, Error> {
        let mut tx = self.store.begin()?;
        self.ledger
            .refresh()
            .map_err(|source| ledger_error(&self.project, source))?;
        // What a crashed run appended is applied first, as every command
        // applies it; only then are the two compared.
        catch_up(tx.as_mut(), &self.project, &self.ledger)?;
        let mut fresh = crate::store::Sqlite::open(":memory:")?;
        let mut expected = fresh.begin()?;
        catch_up(expected.as_mut(), &self.project, &self.ledger)?;
        let mut problems = Vec::new();
        for (table, key, columns) in crate::store::TABLES {
            let sql = format!("SELECT {key}, {columns} FROM {table} ORDER BY {key}");
            let nkey = key.split(',').count();
            let keyed = |rows: Vec<Vec<Val>>| -> BTreeMap<Vec<Val>, Vec<Val>> {
                rows.into_iter()
                    .map(|mut r| {
                        let rest = r.split_off(nkey.min(r.len()));
                        (r, rest)
                    })
                    .collect()
            };
            let have = keyed(tx.query(&sql, &[])?);
            let want = keyed(expected.query(&sql, &[])?);
            let show = |k: &[Val]| k.iter().map(Val::to_string).collect::<Vec<_>>().join(", ");
            let names: Vec<&str> = columns.split(',').map(str::trim).collect();
            for (k, w) in &want {
                match have.get(k) {
                    None => problems.push(format!(
                        "{table} ({key}) = ({}): in the ledger, missing from the store",
                        show(k)
                    )),
                    Some(h) if h != w => {
                        let diffs: Vec<String> = names
                            .iter()
                            .zip(h.iter().zip(w))
                            .filter(|(_, (a, b))| a != b)
                            .map(|(n, (a, b))| {
                                format!("{n} is {a} in the store, {b} in the ledger")
                            })
                            .collect();
                        problems.push(format!(
                            "{table} ({key}) = ({}): {}",
                            show(k),
                            diffs.join("; ")
                        ));
                    }
                    Some(_) => {}
                }
            }
            for k in have.keys().filter(|k| !want.contains_key(*k)) {
                problems.push(format!(
                    "{table} ({key}) = ({}): in the store, but no ledger event made it",
                    show(k)
                ));
            }
        }
        drop(expected);
        tx.commit()?;
        Ok(problems)
    }
}

/// Aliases resolved in memory, as of one [`Registry::mark`].
#[derive(Debug, Clone)]
pub struct AliasCache {
    pub mark: u64,
    map: std::collections::HashMap<(String, String), Version>,
}

impl AliasCache {
    /// The version `model@alias` points at.
    pub fn get(&self, model: &str, alias: &str) -> Option<&Version> {
        self.map.get(&(model.to_string(), alias.to_string()))
    }
}

/// Deepest lineage followed (a chain of fine-tunes).
const MAX_LINEAGE: usize = 64;

/// A version with the aliases pointing at it.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub version: Version,
    pub aliases: Vec<String>,
}

/// One version of a lineage with its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub version: Version,
    pub evidence: Vec<rampart_evidence::Attestation>,
    pub datasets: Vec<Dataset>,
}

/// A dataset a version names, with the evidence about its digest.
#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    pub role: &'static str,
    pub artifact: Artifact,
    pub evidence: Vec<rampart_evidence::Attestation>,
}

/// Versions, a line each, for people.
pub fn list_text(items: &[Listed]) -> String {
    let mut out = String::new();
    for l in items {
        let v = &l.version;
        let aliases = if l.aliases.is_empty() {
            String::new()
        } else {
            format!("  [{}]", l.aliases.join(", "))
        };
        out.push_str(&format!(
            "{}@{}  sha256 {}  {}{}{}\n",
            v.model,
            v.version,
            crate::event::short(&v.sha256),
            v.location,
            aliases,
            if v.deprecated { "  deprecated" } else { "" }
        ));
    }
    if items.is_empty() {
        out.push_str("no versions registered\n");
    }
    out
}

/// Attestations in brief: `scan passed (entry 4)`.
fn brief(evidence: &[rampart_evidence::Attestation]) -> String {
    if evidence.is_empty() {
        return "no evidence".into();
    }
    let items: Vec<String> = evidence
        .iter()
        .map(|a| {
            let verdict = match (a.signature_ok, a.passed) {
                (false, _) => "BAD SIGNATURE",
                _ if a.gate.starts_with("registry-") => "recorded",
                (true, Some(true)) => "passed",
                (true, Some(false)) => "FAILED",
                (true, None) => "recorded",
            };
            format!("{} {verdict} (entry {})", a.gate, a.index)
        })
        .collect();
    items.join(", ")
}

/// A lineage for people: each version, its evidence, its datasets'.
pub fn lineage_text(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        let v = &s.version;
        out.push_str(&format!(
            "{}@{}  sha256 {}  {}\n  evidence: {}\n",
            v.model,
            v.version,
            v.sha256,
            v.location,
            brief(&s.evidence)
        ));
        for d in &s.datasets {
            out.push_str(&format!(
                "  {} {} (sha256 {}): {}\n",
                d.role,
                d.artifact.name,
                crate::event::short(&d.artifact.sha256),
                brief(&d.evidence)
            ));
        }
        if let Some(p) = &v.lineage.parent {
            out.push_str(&format!("  fine-tuned from {}\n", p.name));
        }
    }
    out
}

/// What recording needs besides the transaction.
struct Ctx<'a> {
    project: &'a Project,
    ledger: &'a mut rampart_ledger::Ledger,
    policy_sha256: &'a str,
}

fn ledger_error(project: &Project, source: rampart_ledger::StoreError) -> Error {
    Error::Evidence(rampart_evidence::Error::Ledger {
        dir: project.dir().to_path_buf(),
        source,
    })
}

fn refused(v: &VersionRef, alias: &Name, why: String) -> Error {
    Error::Refused {
        what: format!("promotion of {v} to {alias}"),
        reasons: vec![why],
    }
}

fn digest(path: &Path) -> Result<String, Error> {
    rampart_sign::artifact_digest(path).map_err(|source| Error::Digest {
        path: path.to_path_buf(),
        source,
    })
}

fn hint(key: &PublicKey) -> Result<String, Error> {
    key.hint().map_err(|e| Error::Key(e.to_string()))
}

/// An in-toto statement about `name`'s digest, signed by `key` in a DSSE
/// envelope whose key id is the key's hint.
fn sign_statement(
    key: &SigningKey,
    name: &str,
    sha256: &str,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Result<Envelope, Error> {
    let st = Statement::new(
        vec![ResourceDescriptor {
            name: name.to_string(),
            digest: BTreeMap::from([("sha256".to_string(), sha256.to_string())]),
        }],
        predicate_type,
        predicate,
    );
    let mut env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, st.to_payload(), key);
    let keyid = hint(&key.public())?;
    for s in &mut env.signatures {
        s.keyid = keyid.clone();
    }
    Ok(env)
}

/// Appends `event` to the ledger as an attestation about the version's
/// digest, then applies it to the store; returns its ledger index.
fn record(tx: &mut dyn Tx, ctx: &mut Ctx, event: &Event) -> Result<u64, Error> {
    let outcome = rampart_evidence::Outcome {
        gate: event.gate(),
        inputs: &[],
        passed: true,
        policy_sha256: ctx.policy_sha256,
        started: Started::now(),
        details: serde_json::to_value(event)?,
    };
    let subject = vec![ResourceDescriptor {
        name: format!("{}@{}", event.model(), event.version()),
        digest: BTreeMap::from([("sha256".to_string(), event.sha256().to_string())]),
    }];
    let entry = ctx.project.attestation(&outcome, subject)?;
    let idx = ctx.project.append_entry(ctx.ledger, &entry)?;
    apply(tx, idx, event)?;
    tx.exec(
        "UPDATE cursor SET next = ? WHERE id = 1 AND next <= ?",
        &[(idx + 1).into(), idx.into()],
    )?;
    Ok(idx)
}

/// Records `event` ([`record`]) and returns it with its ledger index.
fn recorded(tx: &mut dyn Tx, ctx: &mut Ctx, event: Event) -> Result<Recorded, Error> {
    let ledger_index = record(tx, ctx, &event)?;
    Ok(Recorded {
        ledger_index,
        event,
    })
}

/// Applies the registry events the ledger holds past the store's cursor;
/// returns how many. An entry that claims to be a registry event but is
/// not signed by the project's key is an error, never skipped.
fn catch_up(
    tx: &mut dyn Tx,
    project: &Project,
    ledger: &rampart_ledger::Ledger,
) -> Result<u64, Error> {
    let next = tx
        .query("SELECT next FROM cursor WHERE id = 1", &[])?
        .first()
        .and_then(|r| r.first())
        .and_then(Val::int);
    if next.is_none() {
        tx.exec("INSERT INTO cursor (id, next) VALUES (1, 0)", &[])?;
    }
    let start = next.and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
    let (found, size) = project.attestations_in(ledger, start, PREDICATE_PREFIX)?;
    let mut applied = 0;
    for s in found {
        if !s.signature_ok {
            return Err(Error::Tampered(format!(
                "ledger entry {} holds a registry event whose signature does not verify with the project's key",
                s.index
            )));
        }
        let event: Event = serde_json::from_value(s.statement.predicate).map_err(|e| {
            Error::Tampered(format!(
                "ledger entry {} is not a registry event this version reads: {e}",
                s.index
            ))
        })?;
        // An event already applied (a cursor set back) is not applied
        // twice: each event's row is written with its effects.
        let seen = tx.query(
            "SELECT 1 FROM events WHERE ledger_index = ?",
            &[s.index.into()],
        )?;
        if seen.is_empty() {
            apply(tx, s.index, &event)?;
            applied += 1;
        }
    }
    tx.exec("UPDATE cursor SET next = ? WHERE id = 1", &[size.into()])?;
    Ok(applied)
}

/// Writes what `event` (ledger entry `idx`) changes.
fn apply(tx: &mut dyn Tx, idx: u64, event: &Event) -> Result<(), Error> {
    let (m, v) = (event.model().as_str(), event.version());
    tx.exec(
        "INSERT INTO events (ledger_index, model, version, kind, body) VALUES (?, ?, ?, ?, ?)",
        &[
            idx.into(),
            m.into(),
            v.into(),
            event.gate().into(),
            serde_json::to_string(event)?.as_str().into(),
        ],
    )?;
    match event {
        Event::Register {
            sha256,
            location,
            author,
            lineage,
            meta,
            ..
        } => {
            tx.exec(
                "INSERT INTO versions (model, version, sha256, location, author, meta, lineage, deprecated, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                &[
                    m.into(),
                    v.into(),
                    sha256.as_str().into(),
                    location.as_str().into(),
                    author.as_str().into(),
                    serde_json::to_string(meta)?.as_str().into(),
                    serde_json::to_string(lineage)?.as_str().into(),
                    idx.into(),
                ],
            )?;
        }
        Event::Approve {
            alias,
            approver,
            approval,
            ..
        } => {
            tx.exec(
                "INSERT INTO approvals (ledger_index, model, version, alias, approver, body) VALUES (?, ?, ?, ?, ?, ?)",
                &[
                    idx.into(),
                    m.into(),
                    v.into(),
                    alias.as_str().into(),
                    approver.as_str().into(),
                    serde_json::to_string(approval)?.as_str().into(),
                ],
            )?;
        }
        Event::Promote { alias, .. } | Event::Rollback { alias, .. } => {
            let kind = if matches!(event, Event::Promote { .. }) {
                "promote"
            } else {
                "rollback"
            };
            tx.exec(
                "INSERT INTO moves (ledger_index, model, alias, version, kind) VALUES (?, ?, ?, ?, ?)",
                &[idx.into(), m.into(), alias.as_str().into(), v.into(), kind.into()],
            )?;
            tx.exec(
                "DELETE FROM aliases WHERE model = ? AND alias = ?",
                &[m.into(), alias.as_str().into()],
            )?;
            tx.exec(
                "INSERT INTO aliases (model, alias, version, moved_at) VALUES (?, ?, ?, ?)",
                &[m.into(), alias.as_str().into(), v.into(), idx.into()],
            )?;
        }
        Event::Deprecate { .. } => {
            tx.exec(
                "UPDATE versions SET deprecated = 1 WHERE model = ? AND version = ?",
                &[m.into(), v.into()],
            )?;
        }
        Event::DeleteRefused { .. } => {}
    }
    Ok(())
}

const VERSION_COLUMNS: &str = "SELECT model, version, sha256, location, author, meta, lineage, deprecated, registered_at FROM versions";

fn version_of(r: &[Val]) -> Result<Version, Error> {
    let text = |i: usize| r.get(i).and_then(Val::text).unwrap_or("").to_string();
    let int = |i: usize| {
        r.get(i)
            .and_then(Val::int)
            .and_then(|x| u64::try_from(x).ok())
            .unwrap_or(0)
    };
    Ok(Version {
        model: text(0).parse()?,
        version: int(1),
        sha256: text(2),
        location: text(3),
        author: text(4),
        meta: serde_json::from_str(&text(5))?,
        lineage: serde_json::from_str(&text(6))?,
        deprecated: int(7) != 0,
        registered_at: int(8),
    })
}

fn version(tx: &mut dyn Tx, v: &VersionRef) -> Result<Version, Error> {
    let rows = tx.query(
        &format!("{VERSION_COLUMNS} WHERE model = ? AND version = ?"),
        &[v.model.as_str().into(), v.version.into()],
    )?;
    match rows.first() {
        Some(r) => version_of(r),
        None => {
            let n = next_version(tx, &v.model)? - 1;
            Err(Error::NotFound(if n == 0 {
                format!("no model {} in the registry (register it first)", v.model)
            } else {
                format!("no version {v}: {} has versions 1 to {n}", v.model)
            }))
        }
    }
}

/// An error naming `model` when no version of it is registered.
fn known(tx: &mut dyn Tx, model: &Name) -> Result<(), Error> {
    match next_version(tx, model)? {
        1 => Err(Error::NotFound(format!(
            "no model {model} in the registry (register it first)"
        ))),
        _ => Ok(()),
    }
}

fn version_by_digest(
    tx: &mut dyn Tx,
    model: &Name,
    sha256: &str,
) -> Result<Option<Version>, Error> {
    let rows = tx.query(
        &format!("{VERSION_COLUMNS} WHERE model = ? AND sha256 = ?"),
        &[model.as_str().into(), sha256.into()],
    )?;
    rows.first().map(|r| version_of(r)).transpose()
}

fn next_version(tx: &mut dyn Tx, model: &Name) -> Result<u64, Error> {
    let rows = tx.query(
        "SELECT MAX(version) FROM versions WHERE model = ?",
        &[model.as_str().into()],
    )?;
    let max = rows
        .first()
        .and_then(|r| r.first())
        .and_then(Val::int)
        .and_then(|x| u64::try_from(x).ok())
        .unwrap_or(0);
    Ok(max + 1)
}

fn alias_state(tx: &mut dyn Tx, model: &Name, alias: &Name) -> Result<Option<AliasState>, Error> {
    let rows = tx.query(
        "SELECT version, moved_at FROM aliases WHERE model = ? AND alias = ?",
        &[model.as_str().into(), alias.as_str().into()],
    )?;
    Ok(rows.first().and_then(|r| {
        Some(AliasState {
            version: u64::try_from(r.first()?.int()?).ok()?,
            moved_at: u64::try_from(r.get(1)?.int()?).ok()?,
        })
    }))
}

/// The policy's approver keys, by key id.
fn approver_keys(policy: &Policy, paths: &[PathBuf]) -> Result<BTreeMap<String, PublicKey>, Error> {
    let base = policy
        .source
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for p in paths {
        let path = base.join(p);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let key = PublicKey::from_pem(&text)
            .map_err(|e| Error::Key(format!("approver key {}: {e}", path.display())))?;
        out.insert(hint(&key)?, key);
    }
    Ok(out)
}

/// The distinct approvers of `v` for `alias` whose approval verifies with
/// a key the policy lists, is over exactly this digest, model, version
/// and alias, and is not by the version's author.
fn approvals(
    tx: &mut dyn Tx,
    v: &VersionRef,
    alias: &Name,
    ver: &Version,
    keys: &BTreeMap<String, PublicKey>,
) -> Result<Vec<String>, Error> {
    let rows = tx.query(
        "SELECT approver, body FROM approvals WHERE model = ? AND version = ? AND alias = ? ORDER BY ledger_index",
        &[v.model.as_str().into(), v.version.into(), alias.as_str().into()],
    )?;
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        let (Some(approver), Some(body)) =
            (r.first().and_then(Val::text), r.get(1).and_then(Val::text))
        else {
            continue;
        };
        let Some(key) = keys.get(approver) else {
            continue;
        };
        if approver == ver.author || out.iter().any(|a| a == approver) {
            continue;
        }
        let Ok(env) = serde_json::from_str::<Envelope>(body) else {
            continue;
        };
        let Ok(payload) = env.verify(key, IN_TOTO_PAYLOAD_TYPE) else {
            continue;
        };
        let Ok(st) = Statement::from_payload(payload, Some(APPROVAL_TYPE)) else {
            continue;
        };
        let about = st
            .subject
            .iter()
            .any(|s| s.digest.get("sha256") == Some(&ver.sha256));
        let p = &st.predicate;
        let matches = p.get("model").and_then(|m| m.as_str()) == Some(v.model.as_str())
            && p.get("version").and_then(|m| m.as_u64()) == Some(v.version)
            && p.get("alias").and_then(|m| m.as_str()) == Some(alias.as_str());
        if about && matches {
            out.push(approver.to_string());
        }
    }
    Ok(out)
}
