//! in-toto Statement v1.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::Error;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// What a statement is about: a name and its digests by algorithm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<ResourceDescriptor>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: serde_json::Value,
}

impl Statement {
    pub fn new(
        subject: Vec<ResourceDescriptor>,
        predicate_type: &str,
        predicate: serde_json::Value,
    ) -> Self {
        Statement {
            statement_type: STATEMENT_TYPE.to_string(),
            subject,
            predicate_type: predicate_type.to_string(),
            predicate,
        }
    }

    /// The JSON bytes that are signed.
    pub fn to_payload(&self) -> Vec<u8> {
        // Serializing plain data cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Parses a payload, checking the statement type and, when given, the
    /// predicate type.
    pub fn from_payload(payload: &[u8], predicate_type: Option<&str>) -> Result<Self, Error> {
        let st: Statement =
            serde_json::from_slice(payload).map_err(|e| Error::Statement(e.to_string()))?;
        if st.statement_type != STATEMENT_TYPE {
            return Err(Error::Statement(format!(
                "statement type {:?}, expected {STATEMENT_TYPE}",
                st.statement_type
            )));
        }
        if let Some(want) = predicate_type {
            if st.predicate_type != want {
                return Err(Error::Statement(format!(
                    "predicate type {:?}, expected {want}",
                    st.predicate_type
                )));
            }
        }
        Ok(st)
    }
}
