//! The manifest: serialization parameters and resources.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Files,
    Shards { shard_size: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum HashType {
    Sha256,
    Blake3,
}

impl HashType {
    /// The algorithm name resources carry: shards add the shard size, as
    /// model-signing writes it (`sha256-sharded-1000000000`).
    pub fn resource_algorithm(self, method: Method) -> String {
        match method {
            Method::Files => self.name().to_string(),
            Method::Shards { shard_size } => format!("{}-sharded-{shard_size}", self.name()),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashType::Sha256 => "sha256",
            HashType::Blake3 => "blake3",
        }
    }

    fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "sha256" => Ok(HashType::Sha256),
            "blake3" => Ok(HashType::Blake3),
            other => Err(Error::Manifest(format!(
                "hash type {other:?} is not supported (sha256, blake3)"
            ))),
        }
    }
}

/// How the folder was hashed; recorded in the signature.
#[derive(Debug, Clone, PartialEq)]
pub struct Serialization {
    pub method: Method,
    pub hash_type: HashType,
    pub allow_symlinks: bool,
    /// Relative POSIX paths left out (and everything under them).
    pub ignore_paths: Vec<String>,
}

impl Serialization {
    /// Hashing options that reproduce this serialization, leaving out
    /// `extra_ignore` too.
    pub fn options(&self, extra_ignore: &[String]) -> crate::Options {
        let mut ignore_paths = self.ignore_paths.clone();
        ignore_paths.extend(extra_ignore.iter().cloned());
        crate::Options {
            method: self.method,
            hash_type: self.hash_type,
            allow_symlinks: self.allow_symlinks,
            ignore_paths,
        }
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "method": match self.method { Method::Files => "files", Method::Shards { .. } => "shards" },
            "hash_type": self.hash_type.name(),
            "allow_symlinks": self.allow_symlinks,
        });
        if let (Method::Shards { shard_size }, Some(map)) = (self.method, v.as_object_mut()) {
            map.insert("shard_size".into(), json!(shard_size));
        }
        if let (false, Some(map)) = (self.ignore_paths.is_empty(), v.as_object_mut()) {
            map.insert("ignore_paths".into(), json!(self.ignore_paths));
        }
        v
    }

    pub fn from_json(v: &Value) -> Result<Self, Error> {
        let field = |k: &str| {
            v.get(k)
                .ok_or_else(|| Error::Manifest(format!("serialization has no {k:?}")))
        };
        let method = match field("method")?.as_str() {
            Some("files") => Method::Files,
            Some("shards") => {
                // model-signing writes it through protobuf's Struct: a
                // double (`3.0`).
                let v = field("shard_size")?;
                let shard_size = v
                    .as_u64()
                    .or_else(|| {
                        v.as_f64()
                            .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 9.0e15)
                            .map(|f| f as u64)
                    })
                    .filter(|&n| n > 0)
                    .ok_or_else(|| {
                        Error::Manifest("shard_size is not a positive integer".into())
                    })?;
                Method::Shards { shard_size }
            }
            other => {
                return Err(Error::Manifest(format!(
                    "serialization method {other:?} is not supported (files, shards)"
                )))
            }
        };
        let hash_type = HashType::parse(field("hash_type")?.as_str().unwrap_or(""))?;
        let ignore_paths = v
            .get("ignore_paths")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Serialization {
            method,
            hash_type,
            allow_symlinks: field("allow_symlinks")?.as_bool().unwrap_or(false),
            ignore_paths,
        })
    }
}

/// One file (`name`) or shard (`name:start:end`) and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub name: String,
    pub algorithm: String,
    pub digest: String,
}

/// A model's manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Final component of the model path (informative only).
    pub model_name: String,
    pub serialization: Serialization,
    /// Sorted as model-signing sorts them.
    pub resources: Vec<Resource>,
}

/// How model-signing orders resources: by path components, then by
/// shard offsets as numbers.
pub(crate) fn sort_key(name: &str, shards: bool) -> (Vec<&str>, u64, u64) {
    let (path, start, end) = match (shards, name.rsplitn(3, ':').collect::<Vec<_>>().as_slice()) {
        (true, [end, start, path]) => (*path, start.parse().unwrap_or(0), end.parse().unwrap_or(0)),
        _ => (name, 0, 0),
    };
    (
        path.split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect(),
        start,
        end,
    )
}

impl Manifest {
    pub fn sort(&mut self) {
        let shards = matches!(self.serialization.method, Method::Shards { .. });
        self.resources
            .sort_by(|a, b| sort_key(&a.name, shards).cmp(&sort_key(&b.name, shards)));
    }

    /// SHA-256 over the concatenated raw digests, in manifest order.
    pub fn root_digest(&self) -> Result<String, Error> {
        let mut h = Sha256::new();
        for r in &self.resources {
            let raw = hex::decode(&r.digest)
                .map_err(|_| Error::Manifest(format!("digest of {} is not hex", r.name)))?;
            h.update(raw);
        }
        Ok(hex::encode(h.finalize()))
    }

    /// The manifest as JSON (what `rampart digest` prints).
    pub fn to_json(&self) -> Result<Value, Error> {
        Ok(json!({
            "model_name": self.model_name,
            "root_digest": { "sha256": self.root_digest()? },
            "serialization": self.serialization.to_json(),
            "resources": self.resources,
        }))
    }

    /// What differs from `expected` (the signed manifest) to `self` (the
    /// files now). `ignore_unsigned` drops files the signature does not
    /// list.
    pub fn diff(&self, expected: &Manifest, ignore_unsigned: bool) -> Diff {
        let file_of = |name: &str| -> String {
            match expected.serialization.method {
                Method::Shards { .. } => name.rsplitn(3, ':').nth(2).unwrap_or(name).to_string(),
                Method::Files => name.to_string(),
            }
        };
        let group = |m: &Manifest| {
            let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in &m.resources {
                by_file
                    .entry(file_of(&r.name))
                    .or_default()
                    .push(format!("{}={}", r.name, r.digest));
            }
            by_file
        };
        let (want, have) = (group(expected), group(self));
        let mut d = Diff::default();
        for (file, digests) in &want {
            match have.get(file) {
                None => d.removed.push(file.clone()),
                Some(h) if h != digests => d.modified.push(file.clone()),
                Some(_) => {}
            }
        }
        if !ignore_unsigned {
            d.added = have
                .keys()
                .filter(|f| !want.contains_key(*f))
                .cloned()
                .collect();
        }
        // A removed and an added file with the same content: renamed.
        let content = |m: &BTreeMap<String, Vec<String>>, f: &str| -> Vec<String> {
            m.get(f)
                .map(|v| {
                    v.iter()
                        .map(|x| x.rsplit('=').next().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut renamed = Vec::new();
        d.removed.retain(|r| {
            let c = content(&want, r);
            match d.added.iter().position(|a| content(&have, a) == c) {
                Some(i) => {
                    renamed.push((r.clone(), d.added.remove(i)));
                    false
                }
                None => true,
            }
        });
        d.renamed = renamed;
        d
    }
}

/// Differences between a signed manifest and the files.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub modified: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub renamed: Vec<(String, String)>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.modified.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.renamed.is_empty()
    }
}

impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[String]| v.join(", ");
        let mut parts = Vec::new();
        if !self.modified.is_empty() {
            parts.push(format!("modified: {}", list(&self.modified)));
        }
        if !self.added.is_empty() {
            parts.push(format!("added (not signed): {}", list(&self.added)));
        }
        if !self.removed.is_empty() {
            parts.push(format!("removed: {}", list(&self.removed)));
        }
        for (from, to) in &self.renamed {
            parts.push(format!("renamed: {from} -> {to}"));
        }
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_components_like_model_signing() {
        let mut names = vec!["a.txt", "a/b", "a/b:10:20", "a/b:2:10"];
        names.sort_by(|a, b| sort_key(a, true).cmp(&sort_key(b, true)));
        // "a" < "a.txt" as a component, and offsets compare as numbers.
        assert_eq!(names, vec!["a/b", "a/b:2:10", "a/b:10:20", "a.txt"]);
    }
}
