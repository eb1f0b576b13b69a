//! Model-artifact scanner for the pickle family.
//!
//! [`Scanner`] walks files, folders and archives, identifies every stream
//! by its content (never its name), unwraps compression and archives to a
//! bounded depth, and runs the symbolic pickle VM ([`pickle::vm`]) on every
//! pickle it finds: raw pickles, PyTorch zip and legacy checkpoints, NumPy
//! object arrays and joblib files. Verdicts on imported globals are
//! allowlist-first ([`pickle::globals`]). Findings use the rules in
//! [`RULES`].

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        unsafe_code
    )
)]

pub mod expect;
pub mod pickle;
pub mod rules;
pub mod safetensors;
pub mod source;
pub mod template;

mod gguf;
mod hdf5;
mod keras;
mod npy;
mod onnx;
mod protobuf;
mod repo;
mod tf;
mod tflite;
mod torchscript;
mod walk;
mod zip;

pub use rules::RULES;
pub use walk::{ScanLimits, Scanner};
