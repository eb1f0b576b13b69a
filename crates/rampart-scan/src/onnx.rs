//! ONNX models: a streaming walk of `ModelProto` (field numbers from
//! onnx/onnx.proto, IR version 11) that never reads tensor payloads.
//!
//! Reported: `external_data` locations that are absolute or leave the model
//! folder (CVE-2022-25882, CVE-2024-27318), links and missing files among
//! them; operators from domains that are neither standard nor defined by
//! the model's own functions (they need a custom-op library loaded);
//! tensors whose declared shape x type disagrees with the bytes present.
//! Subgraphs of If/Loop/Scan (graph attributes), functions and training
//! graphs are walked like the main graph.

use std::collections::BTreeSet;
use std::path::{Component, Path};

use rampart_core::{Finding, Location, Severity};

use crate::protobuf::{self, message, string, Error, Value};
use crate::rules::{ONNX_CUSTOM_OP, ONNX_EXTERNAL_DATA, ONNX_INVALID, ONNX_TENSOR_SIZE};
use crate::source::Stream;

/// Domains of the ONNX standard and of ONNX Runtime's built-in contrib
/// operators (they ship with the runtime, no library to load).
const KNOWN_DOMAINS: &[&str] = &[
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.training",
    "ai.onnx.preview.training",
    "com.microsoft",
    "com.microsoft.nchwc",
    "com.microsoft.experimental",
    "com.ms.internal.nhwc",
];
/// Longest name kept.
const MAX_NAME: usize = 512;
const MAX_FINDINGS: usize = 200;

/// Summary for the inventory.
#[derive(Debug, Default)]
pub struct Summary {
    pub ir_version: u64,
    pub nodes: u64,
    pub tensors: u64,
}

struct Walk<'a> {
    loc: &'a Location,
    /// Folder external data is resolved against (files only).
    dir: Option<&'a Path>,
    findings: Vec<Finding>,
    summary: Summary,
    /// (domain, op, graph path, node name) of nodes outside known domains.
    custom: Vec<(String, String, String, String)>,
    /// (domain, name) of the model's own functions.
    functions: BTreeSet<(String, String)>,
}

/// Walks the model in `s`; returns the findings and a summary.
pub fn scan(s: &mut Stream<'_>, loc: &Location, dir: Option<&Path>) -> (Vec<Finding>, Summary) {
    let mut w = Walk {
        loc,
        dir,
        findings: Vec::new(),
        summary: Summary::default(),
        custom: Vec::new(),
        functions: BTreeSet::new(),
    };
    if let Err(e) = model(s, &mut w) {
        w.findings.push(e.finding(ONNX_INVALID, "ONNX", loc));
    }
    let custom = std::mem::take(&mut w.custom);
    for (domain, op, graph, node) in custom {
        if w.functions.contains(&(domain.clone(), op.clone())) {
            continue;
        }
        w.push(
            Finding::new(
                ONNX_CUSTOM_OP,
                Severity::Medium,
                loc.clone(),
                format!("operator {domain}::{op} is not standard ONNX: running the model needs a custom-op library loaded into the runtime"),
            )
            .with("graph", graph)
            .with("node", node)
            .with("domain", domain),
        );
    }
    (w.findings, w.summary)
}

impl Walk<'_> {
    fn push(&mut self, f: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(f);
        }
    }
}

/// ModelProto: ir_version 1, graph 7, training_info 20, functions 25.
fn model(s: &mut Stream<'_>, w: &mut Walk<'_>) -> Result<(), Error> {
    message(s, u64::MAX, 0, &mut |s, field, v| match (field, v) {
        (1, Value::Varint(n)) => {
            w.summary.ir_version = n;
            Ok(())
        }
        (7, Value::Len(n)) => graph(s, n, 1, "graph", w),
        (20, Value::Len(n)) => message(s, n, 1, &mut |s, f, v| match (f, v) {
            (1 | 2, Value::Len(n)) => graph(s, n, 2, "training_info", w),
            _ => Ok(()),
        }),
        (25, Value::Len(n)) => function(s, n, 1, w),
        _ => Ok(()),
    })
}

/// GraphProto: node 1, initializer 5, sparse_initializer 15.
fn graph(
    s: &mut Stream<'_>,
    len: u64,
    depth: u32,
    path: &str,
    w: &mut Walk<'_>,
) -> Result<(), Error> {
    // The graph's name (field 2) is written after its nodes: paths name
    // graphs by where they hang (graph, node.attribute).
    message(s, len, depth, &mut |s, field, v| match (field, v) {
        (1, Value::Len(n)) => node(s, n, depth + 1, path, w),
        (5, Value::Len(n)) => tensor(s, n, depth + 1, path, w),
        // SparseTensorProto: values 1 and indices 2 are tensors.
        (15, Value::Len(n)) => message(s, n, depth + 1, &mut |s, f, v| match (f, v) {
            (1 | 2, Value::Len(n)) => tensor(s, n, depth + 2, path, w),
            _ => Ok(()),
        }),
        _ => Ok(()),
    })
}

/// Reads a name field into `slot`.
fn set(s: &mut Stream<'_>, len: u64, slot: &mut String) -> Result<(), Error> {
    *slot = string(s, len, MAX_NAME)?;
    Ok(())
}

/// FunctionProto: name 1, node 7, domain 10.
fn function(s: &mut Stream<'_>, len: u64, depth: u32, w: &mut Walk<'_>) -> Result<(), Error> {
    let (mut name, mut domain) = (String::new(), String::new());
    message(s, len, depth, &mut |s, field, v| match (field, v) {
        (1, Value::Len(n)) => set(s, n, &mut name),
        (10, Value::Len(n)) => set(s, n, &mut domain),
        (7, Value::Len(n)) => node(s, n, depth + 1, "function", w),
        _ => Ok(()),
    })?;
    w.functions.insert((domain, name));
    Ok(())
}

/// NodeProto: name 3, op_type 4, attribute 5, domain 7.
fn node(
    s: &mut Stream<'_>,
    len: u64,
    depth: u32,
    path: &str,
    w: &mut Walk<'_>,
) -> Result<(), Error> {
    w.summary.nodes += 1;
    let (mut name, mut op, mut domain) = (String::new(), String::new(), String::new());
    message(s, len, depth, &mut |s, field, v| match (field, v) {
        (3, Value::Len(n)) => set(s, n, &mut name),
        (4, Value::Len(n)) => set(s, n, &mut op),
        (7, Value::Len(n)) => set(s, n, &mut domain),
        (5, Value::Len(n)) => attribute(s, n, depth + 1, &format!("{path}/{name}"), w),
        _ => Ok(()),
    })?;
    if !KNOWN_DOMAINS.contains(&domain.as_str()) && w.custom.len() < MAX_FINDINGS {
        w.custom.push((domain, op, path.to_string(), name));
    }
    Ok(())
}

/// AttributeProto: name 1, t 5, g 6, tensors 10, graphs 11.
fn attribute(
    s: &mut Stream<'_>,
    len: u64,
    depth: u32,
    path: &str,
    w: &mut Walk<'_>,
) -> Result<(), Error> {
    let mut name = String::new();
    message(s, len, depth, &mut |s, field, v| match (field, v) {
        (1, Value::Len(n)) => set(s, n, &mut name),
        (5 | 10, Value::Len(n)) => tensor(s, n, depth + 1, path, w),
        (6 | 11, Value::Len(n)) => graph(s, n, depth + 1, &format!("{path}.{name}"), w),
        _ => Ok(()),
    })
}

/// What a TensorProto declares and holds.
#[derive(Default)]
struct Tensor {
    name: String,
    dims: Vec<u64>,
    data_type: u64,
    raw: Option<u64>,
    /// Elements in the typed fields (float_data, int32_data...).
    typed: u64,
    external: bool,
    location: Option<String>,
    length: Option<u64>,
    offset: Option<u64>,
}

/// TensorProto: dims 1, data_type 2, float_data 4, int32_data 5,
/// string_data 6, int64_data 7, name 8, raw_data 9, double_data 10,
/// uint64_data 11, external_data 13, data_location 14.
fn tensor(
    s: &mut Stream<'_>,
    len: u64,
    depth: u32,
    path: &str,
    w: &mut Walk<'_>,
) -> Result<(), Error> {
    w.summary.tensors += 1;
    let mut t = Tensor::default();
    message(s, len, depth, &mut |s, field, v| {
        match (field, v) {
            (1, Value::Varint(d)) => t.dims.push(d),
            (1, Value::Len(n)) => t.dims.extend(protobuf::varints(s, n, 64)?),
            (2, Value::Varint(d)) => t.data_type = d,
            (4, Value::Len(n)) => t.typed += n / 4,
            (10, Value::Len(n)) => t.typed += n / 8,
            (5 | 7 | 11, Value::Len(n)) => t.typed += protobuf::count_varints(s, n)?,
            (4 | 5 | 6 | 7 | 10 | 11, _) => t.typed += 1,
            (8, Value::Len(n)) => t.name = string(s, n, MAX_NAME)?,
            (9, Value::Len(n)) => t.raw = Some(n),
            (13, Value::Len(n)) => external_entry(s, n, depth + 1, &mut t)?,
            (14, Value::Varint(1)) => t.external = true,
            _ => {}
        }
        Ok(())
    })?;
    check_tensor(&t, path, w);
    Ok(())
}

/// StringStringEntryProto: key 1, value 2.
fn external_entry(s: &mut Stream<'_>, len: u64, depth: u32, t: &mut Tensor) -> Result<(), Error> {
    let (mut key, mut value) = (String::new(), String::new());
    message(s, len, depth, &mut |s, field, v| {
        match (field, v) {
            (1, Value::Len(n)) => key = string(s, n, MAX_NAME)?,
            (2, Value::Len(n)) => value = string(s, n, 4096)?,
            _ => {}
        }
        Ok(())
    })?;
    match key.as_str() {
        "location" => t.location = Some(value),
        "length" => t.length = value.trim().parse().ok(),
        "offset" => t.offset = value.trim().parse().ok(),
        _ => {}
    }
    Ok(())
}

/// Bytes per element ×2 (to express 4-bit and 2-bit types), by
/// TensorProto.DataType; `None` for strings and unknown types.
fn double_width(data_type: u64) -> Option<u64> {
    Some(match data_type {
        2 | 3 | 9 | 17..=20 | 24 => 2,
        4 | 5 | 10 | 16 => 4,
        1 | 6 | 12 => 8,
        7 | 11 | 13 | 14 => 16,
        15 => 32,
        21..=23 => 1,
        _ => return None,
    })
}

fn check_tensor(t: &Tensor, path: &str, w: &mut Walk<'_>) {
    let finding = |rule, sev, msg: String| {
        Finding::new(rule, sev, w.loc.clone(), msg)
            .with("tensor", t.name.clone())
            .with("graph", path.to_string())
    };
    let elements = t.dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
    let expected = match (elements, double_width(t.data_type)) {
        (Some(n), Some(w2)) => n.checked_mul(w2).map(|b| b.div_ceil(2)),
        _ => None,
    };
    if t.external || t.location.is_some() {
        let f = external(t, expected, w.dir);
        if let Some((sev, msg)) = f {
            let f = finding(ONNX_EXTERNAL_DATA, sev, msg);
            w.push(f.with("location", t.location.clone().unwrap_or_default()));
        }
        return;
    }
    let Some(expected) = expected else {
        return;
    };
    let held = match (t.raw, t.typed) {
        (Some(raw), _) => Some((raw, "raw_data bytes")),
        (None, 0) => None,
        (None, n) => {
            // Typed fields hold one value per element (two for complex
            // types); for the 4-bit types, two elements per int32.
            let per = match t.data_type {
                14 | 15 => 2,
                _ => 1,
            };
            let elems = elements.unwrap_or(0);
            let want = if matches!(t.data_type, 21..=23) {
                elems.div_ceil(2)
            } else {
                elems * per
            };
            if n != want {
                let f = finding(
                    ONNX_TENSOR_SIZE,
                    Severity::High,
                    format!(
                        "tensor declares {elems} elements (shape {:?}) but holds {n} typed values",
                        t.dims
                    ),
                );
                w.push(f);
            }
            return;
        }
    };
    if let Some((have, what)) = held {
        if have != expected {
            let f = finding(
                ONNX_TENSOR_SIZE,
                Severity::High,
                format!("tensor declares {expected} bytes (shape {:?}, type {}) but holds {have} {what}", t.dims, t.data_type),
            );
            w.push(f);
        }
    }
}

/// Problems of an external-data reference, if any.
fn external(t: &Tensor, expected: Option<u64>, dir: Option<&Path>) -> Option<(Severity, String)> {
    let Some(location) = &t.location else {
        return Some((
            Severity::High,
            "data_location is EXTERNAL but no location is given".into(),
        ));
    };
    let p = Path::new(location);
    let escapes = p.is_absolute()
        || location.starts_with('/')
        || location.starts_with('\\')
        || location.get(1..3) == Some(":\\")
        || location.get(1..3) == Some(":/")
        || location.split(['/', '\\']).any(|c| c == "..");
    if escapes {
        return Some((
            Severity::Critical,
            format!("external data location {location:?} is absolute or leaves the model folder: loading reads (or with onnx.save, writes) any file (CVE-2022-25882, CVE-2024-27318)"),
        ));
    }
    if let (Some(len), Some(exp)) = (t.length, expected) {
        if len != exp {
            return Some((
                Severity::High,
                format!(
                    "external data length {len} differs from the {exp} bytes the tensor declares"
                ),
            ));
        }
    }
    let dir = dir?;
    if !p
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    let file = dir.join(p);
    match std::fs::symlink_metadata(&file) {
        Ok(m) if m.file_type().is_symlink() => Some((
            Severity::Critical,
            format!("external data file {location:?} is a symbolic link: loading follows it out of the model folder"),
        )),
        Ok(m) => {
            let end = t.offset.unwrap_or(0).saturating_add(t.length.or(expected).unwrap_or(0));
            (end > m.len()).then(|| {
                (
                    Severity::High,
                    format!("external data [{}, {end}) runs past the end of {location:?} ({} bytes)", t.offset.unwrap_or(0), m.len()),
                )
            })
        }
        Err(_) => Some((Severity::Medium, format!("external data file {location:?} is missing: the model cannot load as shipped"))),
    }
}
