//! TensorFlow graphs: `saved_model.pb` (SavedModel) and frozen `.pb`
//! GraphDefs, walked as a stream (field numbers from
//! tensorflow/core/protobuf/saved_model.proto, meta_graph.proto and
//! core/framework/graph.proto, node_def.proto, attr_value.proto,
//! function.proto, tensor.proto). Tensor contents are skipped.
//!
//! Reported: ops that run Python or touch the file system (PyFunc,
//! ReadFile, WriteFile, MatchingFiles...), Save/Restore ops whose path is a
//! constant outside the model (absolute or with `..`), and ops TensorFlow
//! does not register (custom ops, which need a library loaded).

use std::collections::{BTreeMap, BTreeSet};

use rampart_core::{Finding, Location, Severity};

use crate::protobuf::{message, string, Error, Value};
use crate::rules::{TF_CUSTOM_OP, TF_DANGEROUS_OP, TF_INVALID};
use crate::source::Stream;

/// Ops registered by TensorFlow (tools/gen_tf_ops.py).
const KNOWN_OPS: &str = include_str!("../data/tensorflow-ops.txt");
const MAX_NAME: usize = 512;
const MAX_FINDINGS: usize = 200;
/// Most constant strings remembered (paths fed to Save/Restore).
const MAX_CONSTS: usize = 10_000;

/// Ops that run Python code: critical.
const PYTHON_OPS: &[&str] = &["PyFunc", "PyFuncStateless", "EagerPyFunc"];
/// Ops that read, list or write files named at run time: high.
const FILE_OPS: &[&str] = &[
    "ReadFile",
    "WriteFile",
    "MatchingFiles",
    "ImmutableConst",
    "InitializeTableFromTextFile",
    "InitializeTableFromTextFileV2",
    "WholeFileReader",
    "WholeFileReaderV2",
    "TextLineReader",
    "TextLineReaderV2",
    "FixedLengthRecordReader",
    "FixedLengthRecordReaderV2",
    "TFRecordReader",
    "TFRecordReaderV2",
    "LMDBReader",
    "TextLineDataset",
    "TFRecordDataset",
    "TFRecordDatasetV2",
    "FixedLengthRecordDataset",
    "FixedLengthRecordDatasetV2",
    "CSVDataset",
    "CSVDatasetV2",
    "ExperimentalCSVDataset",
    "LoadDataset",
    "SaveDataset",
    "SaveDatasetV2",
    "DebugIdentityV2",
    "DebugIdentityV3",
    "WriteSummary",
    "CreateSummaryFileWriter",
    "WriteRawProtoSummary",
];
/// Checkpoint ops: every SavedModel has them; reported only when their
/// path is a constant that leaves the model folder.
const CHECKPOINT_OPS: &[&str] = &[
    "Save",
    "SaveV2",
    "SaveSlices",
    "Restore",
    "RestoreV2",
    "RestoreSlice",
    "MergeV2Checkpoints",
];

/// True when TensorFlow registers `op`.
pub fn is_registered(op: &str) -> bool {
    static OPS: std::sync::OnceLock<BTreeSet<&'static str>> = std::sync::OnceLock::new();
    OPS.get_or_init(|| KNOWN_OPS.lines().filter(|l| !l.starts_with('#')).collect())
        .contains(op)
}

/// How dangerous an op is by itself: Python ops critical, file ops high.
pub fn op_danger(op: &str) -> Option<(Severity, String)> {
    if PYTHON_OPS.contains(&op) {
        Some((
            Severity::Critical,
            format!("{op} runs a Python function when the graph executes"),
        ))
    } else if FILE_OPS.contains(&op) {
        Some((
            Severity::High,
            format!("{op} reads, lists or writes files named when the graph runs"),
        ))
    } else {
        None
    }
}

#[derive(Debug, Default)]
pub struct Summary {
    pub nodes: u64,
    pub meta_graphs: u64,
}

/// A node as far as the checks need it.
struct Node {
    name: String,
    op: String,
    inputs: Vec<String>,
    /// String values of a Const node's tensor.
    strings: Vec<String>,
}

struct Walk<'a> {
    loc: &'a Location,
    findings: Vec<Finding>,
    summary: Summary,
    /// Function names of the graph libraries: callable as ops.
    functions: BTreeSet<String>,
    /// Ops not registered, checked against `functions` at the end.
    unknown: BTreeMap<String, String>,
    /// Const node name -> its string values.
    consts: BTreeMap<String, Vec<String>>,
    /// Checkpoint nodes: (node, op, first input).
    checkpoints: Vec<(String, String, String)>,
}

/// Which message the file holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Root {
    SavedModel,
    GraphDef,
}

pub fn scan(s: &mut Stream<'_>, root: Root, loc: &Location) -> (Vec<Finding>, Summary) {
    let mut w = Walk {
        loc,
        findings: Vec::new(),
        summary: Summary::default(),
        functions: BTreeSet::new(),
        unknown: BTreeMap::new(),
        consts: BTreeMap::new(),
        checkpoints: Vec::new(),
    };
    let r = match root {
        // SavedModel: meta_graphs 2; MetaGraphDef: graph_def 2.
        Root::SavedModel => message(s, u64::MAX, 0, &mut |s, f, v| match (f, v) {
            (2, Value::Len(n)) => {
                w.summary.meta_graphs += 1;
                message(s, n, 1, &mut |s, f, v| match (f, v) {
                    (2, Value::Len(n)) => graph(s, n, 2, &mut w),
                    _ => Ok(()),
                })
            }
            _ => Ok(()),
        }),
        Root::GraphDef => graph(s, u64::MAX, 0, &mut w),
    };
    if let Err(e) = r {
        w.findings.push(e.finding(TF_INVALID, "TensorFlow", loc));
    }
    w.finish();
    (w.findings, w.summary)
}

impl Walk<'_> {
    fn push(&mut self, f: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(f);
        }
    }

    fn node(&mut self, n: Node) {
        self.summary.nodes += 1;
        let op = n.op.as_str();
        let finding = |rule, sev, msg: String| {
            Finding::new(rule, sev, self.loc.clone(), msg)
                .with("node", n.name.clone())
                .with("op", op.to_string())
        };
        if let Some((sev, why)) = op_danger(op) {
            let f = finding(TF_DANGEROUS_OP, sev, why);
            self.push(f);
        } else if CHECKPOINT_OPS.contains(&op) {
            let input = n.inputs.first().cloned().unwrap_or_default();
            self.checkpoints.push((n.name.clone(), n.op.clone(), input));
        } else if !is_registered(op) && self.unknown.len() < MAX_FINDINGS {
            self.unknown.insert(n.op.clone(), n.name.clone());
        }
        if op == "Const" && !n.strings.is_empty() && self.consts.len() < MAX_CONSTS {
            self.consts.insert(n.name, n.strings);
        }
    }

    fn finish(&mut self) {
        for (op, node) in std::mem::take(&mut self.unknown) {
            if self.functions.contains(&op) {
                continue;
            }
            let f = Finding::new(
                TF_CUSTOM_OP,
                Severity::Medium,
                self.loc.clone(),
                format!("op {op} is not registered by TensorFlow: running the graph needs a custom-op library loaded"),
            )
            .with("node", node)
            .with("op", op);
            self.push(f);
        }
        for (node, op, input) in std::mem::take(&mut self.checkpoints) {
            // Inputs are "name", "name:1" or "^name" (control).
            let src = input.trim_start_matches('^');
            let src = src.split(':').next().unwrap_or(src);
            let Some(paths) = self.consts.get(src) else {
                continue;
            };
            let bad: Vec<&String> = paths
                .iter()
                .filter(|p| {
                    p.starts_with('/')
                        || p.starts_with('\\')
                        || p.get(1..2) == Some(":")
                        || p.split(['/', '\\']).any(|c| c == "..")
                })
                .collect();
            if let Some(p) = bad.first() {
                let f = Finding::new(
                    TF_DANGEROUS_OP,
                    Severity::High,
                    self.loc.clone(),
                    format!(
                        "{op} reads or writes the checkpoint path {p:?}, outside the model folder"
                    ),
                )
                .with("node", node)
                .with("op", op);
                self.push(f);
            }
        }
    }
}

/// GraphDef: node 1, library 2 (FunctionDefLibrary: function 1).
fn graph(s: &mut Stream<'_>, len: u64, depth: u32, w: &mut Walk<'_>) -> Result<(), Error> {
    message(s, len, depth, &mut |s, f, v| match (f, v) {
        (1, Value::Len(n)) => {
            let node = node_def(s, n, depth + 1)?;
            w.node(node);
            Ok(())
        }
        (2, Value::Len(n)) => message(s, n, depth + 1, &mut |s, f, v| match (f, v) {
            (1, Value::Len(n)) => function(s, n, depth + 2, w),
            _ => Ok(()),
        }),
        _ => Ok(()),
    })
}

/// FunctionDef: signature 1 (OpDef: name 1), node_def 3.
fn function(s: &mut Stream<'_>, len: u64, depth: u32, w: &mut Walk<'_>) -> Result<(), Error> {
    message(s, len, depth, &mut |s, f, v| match (f, v) {
        (1, Value::Len(n)) => message(s, n, depth + 1, &mut |s, f, v| {
            if let (1, Value::Len(n)) = (f, v) {
                let name = string(s, n, MAX_NAME)?;
                w.functions.insert(name);
            }
            Ok(())
        }),
        (3, Value::Len(n)) => {
            let node = node_def(s, n, depth + 1)?;
            w.node(node);
            Ok(())
        }
        _ => Ok(()),
    })
}

/// NodeDef: name 1, op 2, input 3, attr 5 (map entry: key 1, value 2).
fn node_def(s: &mut Stream<'_>, len: u64, depth: u32) -> Result<Node, Error> {
    let mut node = Node {
        name: String::new(),
        op: String::new(),
        inputs: Vec::new(),
        strings: Vec::new(),
    };
    message(s, len, depth, &mut |s, f, v| {
        match (f, v) {
            (1, Value::Len(n)) => node.name = string(s, n, MAX_NAME)?,
            (2, Value::Len(n)) => node.op = string(s, n, MAX_NAME)?,
            (3, Value::Len(n)) if node.inputs.len() < 4 => {
                node.inputs.push(string(s, n, MAX_NAME)?)
            }
            (5, Value::Len(n)) => message(s, n, depth + 1, &mut |s, f, v| match (f, v) {
                (2, Value::Len(n)) => attr_value(s, n, depth + 2, &mut node.strings),
                _ => Ok(()),
            })?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(node)
}

/// AttrValue: tensor 8 (TensorProto: string_val 8). Only the strings of
/// constant tensors are kept (few, short).
fn attr_value(
    s: &mut Stream<'_>,
    len: u64,
    depth: u32,
    out: &mut Vec<String>,
) -> Result<(), Error> {
    message(s, len, depth, &mut |s, f, v| match (f, v) {
        (8, Value::Len(n)) => message(s, n, depth + 1, &mut |s, f, v| {
            if let (8, Value::Len(n)) = (f, v) {
                if out.len() < 16 {
                    out.push(string(s, n, 4096)?);
                }
            }
            Ok(())
        }),
        _ => Ok(()),
    })
}
