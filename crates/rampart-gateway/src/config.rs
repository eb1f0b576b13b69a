//! `[serve]` in `rampart.toml`: what the gateway serves, who may do what,
//! and the limits. Every field has a default that denies: a project made
//! by `rampart init` serves its health endpoints and nothing else.

use crate::rbac::{Action, Role};
use crate::Error;
use rampart_core::Policy;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The gateway's settings, checked as a whole before anything listens.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Where to listen when `--listen` is not given.
    pub listen: Option<std::net::SocketAddr>,
    /// The limits every principal has on every model, unless a model
    /// sets its own.
    #[serde(default)]
    pub limits: Limits,
    /// Served name -> where it comes from.
    #[serde(default)]
    pub models: BTreeMap<String, ModelConfig>,
    /// Role name -> the actions it allows on which models.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleConfig>,
    /// Principal (`key:NAME`, `jwt:SUBJECT`, `cert:IDENTITY`) -> roles,
    /// added to the roles its credential carries.
    #[serde(default)]
    pub principals: BTreeMap<String, Vec<String>>,
    /// JWT bearer tokens, verified with keys from a JWKS file.
    pub jwt: Option<crate::jwt::JwtConfig>,
    /// Upstream model servers, by name.
    #[serde(default)]
    pub upstreams: BTreeMap<String, crate::upstream::UpstreamConfig>,
    /// Serve over TLS (and accept client certificates).
    pub tls: Option<crate::tls::TlsConfig>,
    /// Connections open at once; more are closed at accept [default 20000].
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Seconds a client has to send a request head [default 10].
    #[serde(default = "default_head_timeout")]
    pub head_timeout: u64,
    /// A JSON line per request on standard error [default true].
    #[serde(default = "default_true")]
    pub access_log: bool,
}

fn default_true() -> bool {
    true
}

fn default_max_connections() -> usize {
    20_000
}
fn default_head_timeout() -> u64 {
    10
}

/// `[serve.models.NAME]`: a registry alias to serve.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `model@alias` (or `model@3`, pinned): the registry version served.
    pub from: String,
    /// This model's own limits, replacing `[serve.limits]` field by field.
    #[serde(default)]
    pub limits: PartialLimits,
    /// Served by this upstream (`[serve.upstreams.NAME]`) through its
    /// OpenAI-compatible API, rather than in process.
    pub upstream: Option<String>,
    /// The model's name at the upstream [default: the served name].
    pub upstream_model: Option<String>,
    /// Expectations (`rampart data suggest`) that each input row must
    /// meet: ranges, whole numbers and allowed values, checked before the
    /// model runs. Relative to the policy's folder.
    pub expect: Option<PathBuf>,
    /// The expectation column of each feature of a table input, in order
    /// (without it, inputs are matched to columns by name).
    pub columns: Option<Vec<String>>,
    /// The table input `columns` describe [default: the only input].
    pub input: Option<String>,
}

/// `[serve.roles.NAME]`: actions on models matching any pattern.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub actions: Vec<Action>,
    /// Model names or glob patterns (`fraud`, `credit-*`, `*`).
    #[serde(default)]
    pub models: Vec<String>,
}

/// Limits per principal and model.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Requests per second, sustained (GCRA).
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// Requests allowed at once above the rate.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// Largest request body, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body: u64,
    /// Deepest nesting of JSON arrays and objects in a request.
    #[serde(default = "default_max_json_depth")]
    pub max_json_depth: u32,
    /// Most elements in one request's tensors, summed.
    #[serde(default = "default_max_tensor_elements")]
    pub max_tensor_elements: u64,
    /// LLM tokens per minute (from the upstream's `usage`, else
    /// estimated) [default: no limit].
    pub tokens_per_minute: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate: default_rate(),
            burst: default_burst(),
            concurrency: default_concurrency(),
            max_body: default_max_body(),
            max_json_depth: default_max_json_depth(),
            max_tensor_elements: default_max_tensor_elements(),
            tokens_per_minute: None,
        }
    }
}

fn default_rate() -> f64 {
    50.0
}
fn default_burst() -> u32 {
    20
}
fn default_concurrency() -> u32 {
    16
}
fn default_max_body() -> u64 {
    1 << 20
}
fn default_max_json_depth() -> u32 {
    16
}
fn default_max_tensor_elements() -> u64 {
    100_000
}

/// A model's overrides of `[serve.limits]`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialLimits {
    pub rate: Option<f64>,
    pub burst: Option<u32>,
    pub concurrency: Option<u32>,
    pub max_body: Option<u64>,
    pub max_json_depth: Option<u32>,
    pub max_tensor_elements: Option<u64>,
    pub tokens_per_minute: Option<u64>,
}

impl PartialLimits {
    pub fn over(&self, base: &Limits) -> Limits {
        Limits {
            rate: self.rate.unwrap_or(base.rate),
            burst: self.burst.unwrap_or(base.burst),
            concurrency: self.concurrency.unwrap_or(base.concurrency),
            max_body: self.max_body.unwrap_or(base.max_body),
            max_json_depth: self.max_json_depth.unwrap_or(base.max_json_depth),
            max_tensor_elements: self.max_tensor_elements.unwrap_or(base.max_tensor_elements),
            tokens_per_minute: self.tokens_per_minute.or(base.tokens_per_minute),
        }
    }
}

/// Hard ceilings no configuration may exceed.
pub const MAX_BODY_CEILING: u64 = 256 << 20;
pub const MAX_DEPTH_CEILING: u32 = 64;

impl Limits {
    /// Every problem with these limits, each naming `whose`.
    fn problems(&self, whose: &str) -> Vec<String> {
        let checks = [
            (
                !(self.rate.is_finite() && self.rate > 0.0),
                "rate must be a positive number of requests per second".to_string(),
            ),
            (
                self.concurrency == 0,
                "concurrency must be at least 1".into(),
            ),
            (
                self.max_body == 0 || self.max_body > MAX_BODY_CEILING,
                format!("max_body must be between 1 and {MAX_BODY_CEILING} bytes"),
            ),
            (
                self.max_json_depth == 0 || self.max_json_depth > MAX_DEPTH_CEILING,
                format!("max_json_depth must be between 1 and {MAX_DEPTH_CEILING}"),
            ),
            (
                self.max_tensor_elements == 0,
                "max_tensor_elements must be at least 1".into(),
            ),
            (
                self.tokens_per_minute == Some(0),
                "tokens_per_minute must be at least 1".into(),
            ),
        ];
        checks
            .into_iter()
            .filter(|(bad, _)| *bad)
            .map(|(_, why)| format!("{whose}: {why}"))
            .collect()
    }
}

/// A served model, checked: its registry name and version selector.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub model: rampart_registry::Name,
    /// An alias name or a version number.
    pub at: String,
}

impl Source {
    pub fn parse(from: &str) -> Result<Source, String> {
        let (m, at) = from.split_once('@').ok_or_else(|| {
            format!("{from:?}: say which version to serve, as MODEL@ALIAS or MODEL@VERSION")
        })?;
        let model = m.parse().map_err(|e| format!("{from:?}: {e}"))?;
        if at.parse::<u64>().is_err() {
            at.parse::<rampart_registry::Name>()
                .map_err(|e| format!("{from:?}: {e}"))?;
        }
        Ok(Source {
            model,
            at: at.to_string(),
        })
    }
}

/// How a served model is run.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// In process, with tract (the registry version is an ONNX file).
    Onnx,
    /// By an upstream server's OpenAI-compatible API, under `model`.
    Upstream { upstream: String, model: String },
}

/// A configured model, checked.
#[derive(Debug, Clone)]
pub struct Model {
    pub source: Source,
    pub limits: Limits,
    pub backend: Backend,
    /// The input contract, when `expect` is given.
    pub contract: Option<std::sync::Arc<crate::contract::Contract>>,
}

/// `[serve]` read, with every name resolved and every limit checked.
#[derive(Debug, Clone)]
pub struct Checked {
    pub listen: Option<std::net::SocketAddr>,
    pub limits: Limits,
    pub models: BTreeMap<String, Model>,
    pub upstreams: BTreeMap<String, crate::upstream::UpstreamConfig>,
    /// The upstreams' clients, made while checking their settings.
    pub clients: BTreeMap<String, std::sync::Arc<crate::upstream::Upstream>>,
    pub roles: BTreeMap<String, Role>,
    pub principals: BTreeMap<String, Vec<String>>,
    pub jwt: Option<crate::jwt::JwtSettings>,
    /// Paths resolved against the policy's folder.
    pub tls: Option<crate::tls::TlsConfig>,
    pub max_connections: usize,
    pub head_timeout: std::time::Duration,
    pub access_log: bool,
    /// Where the policy came from, for messages.
    pub source: PathBuf,
}

impl Checked {
    /// Reads `[serve]` from a loaded policy; every problem is named.
    pub fn from_policy(policy: &Policy) -> Result<Checked, Error> {
        let source = policy
            .source
            .clone()
            .unwrap_or_else(|| PathBuf::from(rampart_core::POLICY_FILE_NAME));
        let bad = |message: String| Error::Config {
            path: source.clone(),
            message,
        };
        // The path to the bad field, so that the message names its table.
        let raw: ServeConfig = serde_path_to_error::deserialize(toml::Value::Table(
            policy.serve.clone(),
        ))
        .map_err(|e: serde_path_to_error::Error<toml::de::Error>| {
            let message = e.inner().message();
            let mut path = e.path().to_string();
            // An unknown field's path ends with the field: name
            // the table it is in.
            if message.starts_with("unknown field") {
                path = path.rsplit_once('.').map_or(".", |(t, _)| t).to_string();
            }
            let table = match path.as_str() {
                "." | "" => "[serve]".to_string(),
                p => format!("[serve.{p}]"),
            };
            bad(format!("{table}: {message}"))
        })?;
        let mut problems = Vec::new();
        let global = raw.limits.problems("[serve.limits]");
        problems.extend(global.iter().cloned());
        // Paths in [serve] are relative to the policy's folder.
        let dir = source.parent().unwrap_or(std::path::Path::new("."));
        let mut models = BTreeMap::new();
        for (name, m) in &raw.models {
            if let Err(e) = name.parse::<rampart_registry::Name>() {
                problems.push(format!("[serve.models.{name}]: {e}"));
            }
            let limits = m.limits.over(&raw.limits);
            // A problem in [serve.limits] is named once, not per model.
            if global.is_empty() {
                problems.extend(limits.problems(&format!("[serve.models.{name}.limits]")));
            }
            let backend = match (&m.upstream, &m.upstream_model) {
                (None, None) => Backend::Onnx,
                (None, Some(_)) => {
                    problems.push(format!(
                        "[serve.models.{name}] upstream_model needs upstream"
                    ));
                    Backend::Onnx
                }
                (Some(u), um) => {
                    if !raw.upstreams.contains_key(u) {
                        problems.push(format!(
                            "[serve.models.{name}] upstream {u:?}: no [serve.upstreams.{u}] defines it"
                        ));
                    }
                    Backend::Upstream {
                        upstream: u.clone(),
                        model: um.clone().unwrap_or_else(|| name.clone()),
                    }
                }
            };
            let contract = match &m.expect {
                None if m.columns.is_some() || m.input.is_some() => {
                    problems.push(format!(
                        "[serve.models.{name}] columns and input describe the expectations in expect: give expect too"
                    ));
                    None
                }
                None => None,
                Some(path) => crate::contract::Contract::read(
                    &dir.join(path),
                    m.columns.as_deref(),
                    m.input.as_deref(),
                )
                .map_err(|e| problems.push(format!("[serve.models.{name}] expect: {e}")))
                .ok()
                .map(std::sync::Arc::new),
            };
            match Source::parse(&m.from) {
                Ok(source) => {
                    models.insert(
                        name.clone(),
                        Model {
                            source,
                            limits,
                            backend,
                            contract,
                        },
                    );
                }
                Err(e) => problems.push(format!("[serve.models.{name}] from: {e}")),
            }
        }
        let mut roles = BTreeMap::new();
        for (name, r) in &raw.roles {
            match Role::new(name, &r.actions, &r.models) {
                Ok(role) => {
                    roles.insert(name.clone(), role);
                }
                Err(e) => problems.push(e),
            }
        }
        for (who, rs) in &raw.principals {
            if !who.contains(':') {
                problems.push(format!(
                    "[serve.principals] {who:?}: name the credential kind, as key:NAME, jwt:SUBJECT or cert:IDENTITY"
                ));
            }
            for r in rs.iter().filter(|r| !roles.contains_key(*r)) {
                problems.push(format!(
                    "[serve.principals] {who:?} has role {r:?}, which no [serve.roles.{r}] defines"
                ));
            }
        }
        let mut clients = BTreeMap::new();
        for (name, u) in &raw.upstreams {
            match crate::upstream::Upstream::new(name, u) {
                Ok(up) => {
                    clients.insert(name.clone(), std::sync::Arc::new(up));
                }
                Err(e) => problems.push(e),
            }
        }
        if !(1..=1_000_000).contains(&raw.max_connections) {
            problems.push("[serve] max_connections must be between 1 and 1000000".into());
        }
        if !(1..=300).contains(&raw.head_timeout) {
            problems.push("[serve] head_timeout must be between 1 and 300 seconds".into());
        }
        let jwt = match raw.jwt.as_ref().map(|j| j.check(dir)).transpose() {
            Ok(j) => j,
            Err(e) => {
                problems.push(e);
                None
            }
        };
        if !problems.is_empty() {
            return Err(bad(problems.join("\n")));
        }
        Ok(Checked {
            listen: raw.listen,
            limits: raw.limits,
            models,
            upstreams: raw.upstreams,
            clients,
            roles,
            principals: raw.principals,
            jwt,
            tls: raw.tls.as_ref().map(|t| t.resolve(dir)),
            max_connections: raw.max_connections,
            head_timeout: std::time::Duration::from_secs(raw.head_timeout),
            access_log: raw.access_log,
            source,
        })
    }

    /// What the configuration allows but was probably not meant, given
    /// the keys the ledger holds: `serve check-config` prints these.
    pub fn warnings(&self, keys: &[crate::keys::KeyInfo], now: u64) -> Vec<String> {
        let mut out = Vec::new();
        for (name, role) in &self.roles {
            for p in role.patterns() {
                let one = crate::rbac::Role::new(name, &[], std::slice::from_ref(p));
                let used = one.is_ok_and(|r| self.models.keys().any(|m| r.covers(m)));
                if !used && p != "*" {
                    out.push(format!(
                        "[serve.roles.{name}] model pattern {p:?} matches no [serve.models]"
                    ));
                }
            }
        }
        let live = keys
            .iter()
            .filter(|k| k.revoked.is_none() && k.expires.is_none_or(|t| t > now));
        let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for k in live {
            by_name.entry(&k.name).or_default().push(&k.id);
            for r in k.roles.iter().filter(|r| !self.roles.contains_key(*r)) {
                out.push(format!(
                    "API key {} ({}) has role {r:?}, which no [serve.roles.{r}] defines: it grants nothing",
                    k.id, k.name
                ));
            }
            let extra = self.principals.get(&format!("key:{}", k.name));
            if k.roles.is_empty() && extra.is_none() {
                out.push(format!(
                    "API key {} ({}) has no role, here or in [serve.principals]: every call with it is refused",
                    k.id, k.name
                ));
            }
        }
        for (name, ids) in by_name.iter().filter(|(_, ids)| ids.len() > 1) {
            out.push(format!(
                "API keys {} share the name {name:?}: they are one principal (key:{name}) and share its limits",
                ids.join(", ")
            ));
        }
        out
    }

    /// The largest body any model accepts: what is read before routing.
    pub fn max_body(&self) -> u64 {
        self.models
            .values()
            .map(|m| m.limits.max_body)
            .chain([self.limits.max_body])
            .max()
            .unwrap_or(self.limits.max_body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Policy {
        Policy::parse(text, std::path::Path::new("rampart.toml")).unwrap()
    }

    #[test]
    fn an_empty_policy_serves_nothing() {
        let c = Checked::from_policy(&policy("")).unwrap();
        assert!(c.models.is_empty() && c.roles.is_empty() && c.principals.is_empty());
    }

    #[test]
    fn every_problem_is_named() {
        let e = Checked::from_policy(&policy(
            r#"
[serve.limits]
rate = 0
[serve.models.fraud]
from = "fraud"
[serve.roles.r]
actions = ["infer"]
models = ["[bad"]
[serve.principals]
"alice" = ["nobody"]
"#,
        ))
        .unwrap_err()
        .to_string();
        for want in [
            "rate must be a positive",
            "MODEL@ALIAS",
            "[bad",
            "name the credential kind",
            "no [serve.roles.nobody]",
        ] {
            assert!(e.contains(want), "{want:?} not in {e}");
        }
    }

    #[test]
    fn a_global_limit_problem_is_named_once_not_per_model() {
        let e = Checked::from_policy(&policy(
            "[serve.limits]\nrate = -1.0\nmax_body = 0\n[serve.models.a]\nfrom = \"a@p\"\n[serve.models.b]\nfrom = \"b@p\"\n",
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(e.matches("rate must be").count(), 1, "{e}");
        // Every problem of one table at once, not the first only.
        assert_eq!(e.matches("max_body must be").count(), 1, "{e}");
    }

    #[test]
    fn warnings_name_dead_patterns_roleless_and_shared_keys() {
        use crate::keys::KeyInfo;
        let c = Checked::from_policy(&policy(
            "[serve.models.fraud]\nfrom = \"fraud@p\"\n[serve.roles.r]\nactions = [\"infer\"]\nmodels = [\"fraud\", \"frau\", \"*\"]\n",
        ))
        .unwrap();
        let k = |id: &str, name: &str, roles: &[&str], revoked: Option<u64>| KeyInfo {
            id: id.into(),
            name: name.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            created: 1,
            expires: None,
            revoked,
        };
        let keys = [
            k("a1", "bot", &["r"], None),
            k("a2", "bot", &["r"], None),
            k("a3", "lost", &["ghost"], None),
            k("a4", "bare", &[], None),
            k("a5", "gone", &["ghost"], Some(5)),
        ];
        let w = c.warnings(&keys, 10).join("\n");
        for want in [
            "pattern \"frau\" matches no",
            "a3 (lost) has role \"ghost\"",
            "a4 (bare) has no role",
            "API keys a1, a2 share the name \"bot\"",
        ] {
            assert!(w.contains(want), "{want:?} not in {w}");
        }
        assert!(!w.contains("a5") && !w.contains("\"fraud\" matches") && !w.contains("\"*\""));
    }

    #[test]
    fn unknown_fields_and_actions_are_refused() {
        let e = Checked::from_policy(&policy("[serve]\nlisten = \"127.0.0.1:1\"\nport = 3\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("[serve]: unknown field `port`"), "{e}");
        let e = Checked::from_policy(&policy(
            "[serve.models.m]\nfrom = \"m@p\"\nlimits = { rat = 1.0 }\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("[serve.models.m.limits]: unknown field `rat`"),
            "{e}"
        );
        let e = Checked::from_policy(&policy("[serve.roles.r]\nactions = [\"fly\"]\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("fly"), "{e}");
    }

    #[test]
    fn a_model_overrides_limits_field_by_field() {
        let c = Checked::from_policy(&policy(
            "[serve.limits]\nrate = 10.0\n[serve.models.fraud]\nfrom = \"fraud@production\"\nlimits = { burst = 3, max_body = 4194304 }\n",
        ))
        .unwrap();
        let m = &c.models["fraud"];
        let (s, l) = (&m.source, &m.limits);
        assert_eq!((s.model.as_str(), s.at.as_str()), ("fraud", "production"));
        assert_eq!(m.backend, Backend::Onnx);
        assert_eq!((l.rate, l.burst, l.max_body), (10.0, 3, 4194304));
        assert_eq!(c.max_body(), 4194304);
    }
}
