//! Model-artifact scanner for the pickle family.
//!
//! [`Scanner`] walks files, folders and archives, identifies every stream
//! by its content (never its name), unwraps compression and archives to a
//! bounded depth, and runs the symbolic pickle VM ([`pickle::vm`]) on every
//! pickle it finds: raw pickles, PyTorch zip and legacy checkpoints, NumPy
//! object arrays and joblib files. Verdicts on imported globals are
//! allowlist-first ([`pickle::globals`]). Findings use the rules in
//! [`RULES`].

pub mod expect;
pub mod pickle;
pub mod rules;
pub mod safetensors;
pub mod source;
pub mod template;

mod folder;
mod gguf;
mod hdf5;
mod keras;
mod lzma;
mod npy;
mod onnx;
mod protobuf;
mod repo;
mod tf;
mod tflite;
mod torchscript;
mod walk;
mod yaml;
mod zip;

pub use rules::RULES;

/// What the scanner's library calls refuse, said in full.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Scanner settings of a policy that cannot be used.
    #[error("{0}")]
    Policy(String),
    /// An expectations file (`examples/expected.json`) that cannot be read.
    #[error("{0}")]
    Expectations(String),
    /// A header a format reader could not parse.
    #[error("{0}")]
    Format(String),
}
pub use walk::{ScanLimits, Scanner};

/// Entry points of each format parser on bytes in memory, for fuzz
/// targets and property tests: each must return, never panic, on any
/// input.
pub mod fuzzing {
    use crate::source::Stream;
    use rampart_core::{Finding, Location};
    use std::io::Cursor;

    fn loc() -> Location {
        Location::file("fuzz")
    }

    /// The GGUF header reader and template analysis.
    pub fn gguf(data: &[u8]) -> Vec<Finding> {
        let mut cur = Cursor::new(data);
        crate::gguf::scan(&mut Stream::new(&mut cur), Some(data.len() as u64), &loc()).0
    }

    /// The ONNX walker (no folder: external data is not resolved).
    pub fn onnx(data: &[u8]) -> Vec<Finding> {
        let mut cur = Cursor::new(data);
        crate::onnx::scan(&mut Stream::new(&mut cur), &loc(), None).0
    }

    /// The TensorFlow walker, as a SavedModel and as a GraphDef.
    pub fn tensorflow(data: &[u8]) -> Vec<Finding> {
        let mut out = Vec::new();
        for root in [crate::tf::Root::SavedModel, crate::tf::Root::GraphDef] {
            let mut cur = Cursor::new(data);
            out.extend(crate::tf::scan(&mut Stream::new(&mut cur), root, &loc()).0);
        }
        out
    }

    /// The TFLite FlatBuffer reader.
    pub fn tflite(data: &[u8]) -> Vec<Finding> {
        let mut cur = Cursor::new(data);
        crate::tflite::scan(&mut cur, data.len() as u64, &loc()).0
    }

    /// The HDF5 root-attribute reader; the attribute names it found.
    pub fn hdf5(data: &[u8]) -> Result<Vec<String>, crate::Error> {
        let mut cur = Cursor::new(data);
        crate::hdf5::read_root(&mut cur, data.len() as u64)
            .map(|r| r.attributes.into_iter().map(|a| a.name).collect())
            .map_err(crate::Error::Format)
    }

    /// A Keras model config (JSON text).
    pub fn keras_config(data: &[u8]) -> Vec<Finding> {
        match serde_json::from_slice::<serde_json::Value>(data) {
            Ok(v) => crate::keras::findings(&v, &loc(), &Default::default()),
            Err(_) => Vec::new(),
        }
    }

    /// The Jinja template analyser.
    pub fn template(text: &str) -> Vec<Finding> {
        crate::template::findings(text, "fuzz", &loc())
    }

    /// The finder of Python tags in YAML documents.
    pub fn yaml_tags(text: &str) -> Vec<Finding> {
        crate::yaml::python_tags(text, &loc(), &crate::pickle::globals::Classifier::default())
    }

    /// TorchScript source checks: the calls found.
    pub fn torchscript(text: &str) -> usize {
        crate::torchscript::check(text).len()
    }
}
