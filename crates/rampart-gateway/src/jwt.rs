//! JWT bearer tokens, verified against keys from a JWKS file that the
//! gateway re-reads when it changes.
//!
//! Only asymmetric algorithms are accepted (ES256, RS256, EdDSA, as the
//! policy pins them): a token's `alg` is checked against that list before
//! anything else, and a JWKS holding a symmetric (`oct`) key is refused
//! whole, so neither `alg: none` nor an HMAC signed with a public key can
//! pass. Issuer, audience and expiry are always checked.

use crate::rbac::Principal;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Largest JWKS file read.
const MAX_JWKS_BYTES: u64 = 1 << 20;

/// `[serve.jwt]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The JWKS file (relative to the policy file).
    pub jwks: PathBuf,
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must carry.
    pub audience: String,
    /// Accepted algorithms [default: ES256, RS256, EdDSA].
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// A claim holding a list of role names (or one name).
    pub roles_claim: Option<String>,
    /// Seconds of clock skew allowed on `exp` and `nbf` [default 30].
    #[serde(default = "default_leeway")]
    pub leeway: u64,
}

fn default_algorithms() -> Vec<String> {
    vec!["ES256".into(), "RS256".into(), "EdDSA".into()]
}

fn default_leeway() -> u64 {
    30
}

/// A checked `[serve.jwt]`: the algorithms parsed, the path resolved.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    pub jwks: PathBuf,
    pub issuer: String,
    pub audience: String,
    pub algorithms: Vec<Algorithm>,
    pub roles_claim: Option<String>,
    pub leeway: u64,
}

impl JwtConfig {
    pub fn check(&self, policy_dir: &Path) -> Result<JwtSettings, String> {
        let mut algorithms = Vec::new();
        for a in &self.algorithms {
            let alg = match a.as_str() {
                "ES256" => Algorithm::ES256,
                "ES384" => Algorithm::ES384,
                "RS256" => Algorithm::RS256,
                "RS384" => Algorithm::RS384,
                "RS512" => Algorithm::RS512,
                "PS256" => Algorithm::PS256,
                "EdDSA" => Algorithm::EdDSA,
                other => {
                    return Err(format!(
                        "[serve.jwt] algorithms: {other:?} is not accepted; use ES256, ES384, RS256, RS384, RS512, PS256 or EdDSA (symmetric algorithms and none never are)"
                    ))
                }
            };
            algorithms.push(alg);
        }
        if algorithms.is_empty() {
            return Err("[serve.jwt] algorithms: list at least one".into());
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return Err("[serve.jwt]: issuer and audience must not be empty".into());
        }
        Ok(JwtSettings {
            jwks: policy_dir.join(&self.jwks),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            algorithms,
            roles_claim: self.roles_claim.clone(),
            leeway: self.leeway,
        })
    }
}

/// The keys of one read of the JWKS file, and what it was.
#[derive(Default)]
pub struct Jwks {
    keys: Vec<(Option<String>, Jwk, DecodingKey)>,
    /// The file's modification time and length when read.
    pub stamp: Option<(SystemTime, u64)>,
    /// Why the file could not be used: every token is refused meanwhile.
    pub problem: Option<String>,
}

/// The file's modification time and length, to notice a change.
pub fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

impl Jwks {
    /// Reads the JWKS file; a file that cannot be used gives a set that
    /// refuses every token and says why.
    pub fn read(path: &Path) -> Jwks {
        let stamp = stamp(path);
        match Jwks::parse(path) {
            Ok(keys) => Jwks {
                keys,
                stamp,
                problem: None,
            },
            Err(problem) => Jwks {
                keys: Vec::new(),
                stamp,
                problem: Some(problem),
            },
        }
    }

    fn parse(path: &Path) -> Result<Vec<(Option<String>, Jwk, DecodingKey)>, String> {
        let shown = path.display();
        let size = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the JWKS {shown}: {e}"))?
            .len();
        if size > MAX_JWKS_BYTES {
            return Err(format!(
                "the JWKS {shown} is larger than {MAX_JWKS_BYTES} bytes"
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the JWKS {shown}: {e}"))?;
        let set: JwkSet = serde_json::from_str(&text)
            .map_err(|e| format!("the JWKS {shown} is not a JWK set: {e}"))?;
        let mut keys = Vec::new();
        for (i, jwk) in set.keys.into_iter().enumerate() {
            if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
                return Err(format!(
                    "the JWKS {shown} holds a symmetric (oct) key at position {i}: the gateway accepts only public keys"
                ));
            }
            let key = DecodingKey::from_jwk(&jwk)
                .map_err(|e| format!("the JWKS {shown}, key {i}: {e}"))?;
            keys.push((jwk.common.key_id.clone(), jwk, key));
        }
        Ok(keys)
    }

    /// The principal a token names, or why not (for the log only).
    pub fn check(&self, token: &str, s: &JwtSettings) -> Result<Principal, String> {
        if let Some(p) = &self.problem {
            return Err(p.clone());
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
        if !s.algorithms.contains(&header.alg) {
            return Err(format!("alg {:?} is not accepted", header.alg));
        }
        let candidates: Vec<&(Option<String>, Jwk, DecodingKey)> = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .filter(|(k, _, _)| k.as_deref() == Some(kid))
                .collect(),
            None if self.keys.len() == 1 => self.keys.iter().collect(),
            None => return Err("the token names no kid and the JWKS holds several keys".into()),
        };
        let (_, jwk, key) = candidates
            .first()
            .ok_or_else(|| format!("no key {:?} in the JWKS", header.kid))?;
        if let Some(a) = &jwk.common.key_algorithm {
            if a.to_string() != format!("{:?}", header.alg) {
                return Err(format!(
                    "key {:?} is for {a}, the token says {:?}",
                    header.kid, header.alg
                ));
            }
        }
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&s.issuer]);
        v.set_audience(&[&s.audience]);
        v.leeway = s.leeway;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(token, key, &v)
            .map_err(|e| format!("token refused: {e}"))?;
        let claims = data.claims;
        let sub = claims
            .get("sub")
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or("the token's sub is not a string of 1 to 256 bytes")?;
        let roles = match s.roles_claim.as_ref().and_then(|c| claims.get(c)) {
            None => Vec::new(),
            Some(serde_json::Value::String(r)) => vec![r.clone()],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(serde_json::Value::as_str)
                .take(64)
                .map(str::to_string)
                .collect(),
            Some(_) => return Err("the roles claim is not a string or a list".into()),
        };
        Ok(Principal {
            id: format!("jwt:{sub}"),
            roles,
        })
    }
}
