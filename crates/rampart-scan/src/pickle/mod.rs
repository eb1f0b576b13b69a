//! The pickle family: a symbolic VM and verdicts on the globals it sees.

pub mod globals;
pub mod vm;
