//! Model and alias names, and references to versions (`fraud@3`) and
//! aliases (`fraud@production`): validated once, so that every name the
//! registry stores is one a path, a URL and a log line can carry safely.

use crate::Error;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest model or alias name.
pub const MAX_NAME: usize = 64;

/// A model or alias name: 1 to 64 ASCII letters, digits, `.`, `_` or `-`,
/// starting with a letter or digit. No path separators, no spaces, no
/// `@`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Name {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        let ok_start = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if s.is_empty() || s.len() > MAX_NAME || !ok_start || !ok_chars {
            return Err(Error::Name(format!(
                "{s:?} is not a valid name: use 1 to {MAX_NAME} letters, digits, '.', '_' or '-', starting with a letter or digit"
            )));
        }
        Ok(Name(s))
    }
}

impl std::str::FromStr for Name {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Name::try_from(s.to_string())
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `NAME@V`: one version of a model (a string in JSON too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VersionRef {
    pub model: Name,
    pub version: u64,
}

impl std::str::FromStr for VersionRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let (model, version) = s.split_once('@').ok_or_else(|| {
            Error::Name(format!("{s:?}: name a version as MODEL@VERSION (fraud@3)"))
        })?;
        let digits = !version.is_empty()
            && version.bytes().all(|b| b.is_ascii_digit())
            && !version.starts_with('0');
        let version = digits
            .then(|| version.parse::<u64>().ok())
            .flatten()
            .filter(|v| *v > 0)
            .ok_or_else(|| {
                Error::Name(format!(
                    "{s:?}: the version after '@' is a number from 1 (fraud@3)"
                ))
            })?;
        Ok(VersionRef {
            model: model.parse()?,
            version,
        })
    }
}

impl TryFrom<String> for VersionRef {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<VersionRef> for String {
    fn from(v: VersionRef) -> String {
        v.to_string()
    }
}

impl fmt::Display for VersionRef {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}@{}", self.model, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_carry_no_separators() {
        for good in ["fraud", "fraud-v2", "a", "m.1_x", &"a".repeat(MAX_NAME)] {
            assert!(good.parse::<Name>().is_ok(), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/b",
            "a\\b",
            "-x",
            ".x",
            "a b",
            "a@b",
            "é",
            &"a".repeat(MAX_NAME + 1),
        ] {
            assert!(bad.parse::<Name>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn version_refs_need_a_positive_number() {
        let v: VersionRef = "fraud@3".parse().unwrap();
        assert_eq!((v.model.as_str(), v.version), ("fraud", 3));
        assert_eq!(v.to_string(), "fraud@3");
        for bad in [
            "fraud", "fraud@", "fraud@0", "fraud@x", "@3", "a/b@1", "f@-1", "f@01", "f@+1",
        ] {
            assert!(bad.parse::<VersionRef>().is_err(), "{bad:?}");
        }
    }
}
