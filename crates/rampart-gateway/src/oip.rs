//! The Open Inference Protocol (v2, REST) as KServe and Triton define it:
//! requests read and checked against a model's signature before anything
//! runs, and responses written. Every refusal names the field.

use serde_json::{json, Value};

/// Most input tensors in one request.
const MAX_INPUTS: usize = 64;

/// An element type (the protocol's `datatype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    Bool,
    U8,
    I32,
    I64,
    F32,
    F64,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "BOOL",
            DType::U8 => "UINT8",
            DType::I32 => "INT32",
            DType::I64 => "INT64",
            DType::F32 => "FP32",
            DType::F64 => "FP64",
        }
    }

    fn parse(s: &str) -> Option<DType> {
        [
            DType::Bool,
            DType::U8,
            DType::I32,
            DType::I64,
            DType::F32,
            DType::F64,
        ]
        .into_iter()
        .find(|d| d.name() == s)
    }
}

/// One tensor of a model's signature; `None` in a shape is any size.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<Option<usize>>,
}

impl TensorSpec {
    fn json(&self) -> Value {
        let shape: Vec<i64> = self
            .shape
            .iter()
            .map(|d| d.and_then(|n| i64::try_from(n).ok()).unwrap_or(-1))
            .collect();
        json!({"name": self.name, "datatype": self.dtype.name(), "shape": shape})
    }
}

/// What a model takes and gives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Signature {
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
}

impl Signature {
    /// Reads a model metadata response (an upstream's): every tensor's
    /// name, datatype and shape (-1 for any size).
    pub fn from_metadata(v: &Value) -> Result<Signature, String> {
        let specs = |field: &str| -> Result<Vec<TensorSpec>, String> {
            let list = v
                .get(field)
                .and_then(Value::as_array)
                .ok_or_else(|| format!("no {field} list"))?;
            list.iter()
                .take(MAX_INPUTS + 1)
                .enumerate()
                .map(|(i, t)| {
                    let name = t
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("{field}[{i}] has no name"))?;
                    let dt = t.get("datatype").and_then(Value::as_str).unwrap_or("");
                    let dtype = DType::parse(dt)
                        .ok_or_else(|| format!("{field}[{i}]: datatype {dt:?} is not served"))?;
                    let shape = t
                        .get("shape")
                        .and_then(Value::as_array)
                        .ok_or_else(|| format!("{field}[{i}] has no shape"))?
                        .iter()
                        .take(32)
                        .map(|d| d.as_u64().and_then(|n| usize::try_from(n).ok()))
                        .collect();
                    Ok(TensorSpec {
                        name: name.to_string(),
                        dtype,
                        shape,
                    })
                })
                .collect()
        };
        Ok(Signature {
            inputs: specs("inputs")?,
            outputs: specs("outputs")?,
        })
    }

    /// The model metadata response (`GET /v2/models/{name}`).
    pub fn metadata(&self, name: &str, version: u64, platform: &str) -> Value {
        json!({
            "name": name,
            "versions": [version.to_string()],
            "platform": platform,
            "inputs": self.inputs.iter().map(TensorSpec::json).collect::<Vec<_>>(),
            "outputs": self.outputs.iter().map(TensorSpec::json).collect::<Vec<_>>(),
        })
    }
}

/// A tensor's elements, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Bool(Vec<bool>),
    U8(Vec<u8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Data {
    fn json(&self) -> Value {
        match self {
            Data::Bool(v) => json!(v),
            Data::U8(v) => json!(v),
            Data::I32(v) => json!(v),
            Data::I64(v) => json!(v),
            Data::F32(v) => json!(v),
            Data::F64(v) => json!(v),
        }
    }
    fn dtype(&self) -> DType {
        match self {
            Data::Bool(_) => DType::Bool,
            Data::U8(_) => DType::U8,
            Data::I32(_) => DType::I32,
            Data::I64(_) => DType::I64,
            Data::F32(_) => DType::F32,
            Data::F64(_) => DType::F64,
        }
    }
}

/// A named tensor with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Tensor {
    pub fn json(&self) -> Value {
        json!({
            "name": self.name,
            "datatype": self.data.dtype().name(),
            "shape": self.shape,
            "data": self.data.json(),
        })
    }
}

/// An inference request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct InferRequest {
    pub id: Option<String>,
    /// In the signature's order.
    pub inputs: Vec<Tensor>,
    /// The outputs asked for (all when empty).
    pub outputs: Vec<String>,
}

/// Why a request was refused (400), naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that `body` nests arrays and objects no deeper than `max`,
/// before any parser builds it: a deep document costs nothing to refuse.
pub fn check_depth(body: &[u8], max: u32) -> Result<(), Invalid> {
    let (mut depth, mut in_string, mut escaped) = (0u32, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(Invalid(format!(
                        "the request nests JSON deeper than {max} levels"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Reads an inference request and checks it against `sig`: names,
/// datatypes, shapes and element counts (`max_elements` over all inputs).
pub fn parse_infer(
    body: &[u8],
    sig: &Signature,
    max_depth: u32,
    max_elements: u64,
) -> Result<InferRequest, Invalid> {
    check_depth(body, max_depth)?;
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Invalid(format!("the request is not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| Invalid("the request must be a JSON object".into()))?;
    let id = match obj.get("id") {
        None => None,
        Some(Value::String(s)) if s.len() <= 256 => Some(s.clone()),
        Some(_) => return Err(Invalid("id: must be a string of at most 256 bytes".into())),
    };
    if let Some(p) = obj.get("parameters") {
        if !p.is_object() {
            return Err(Invalid("parameters: must be an object".into()));
        }
    }
    let inputs = obj
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| Invalid("inputs: required, an array of tensors".into()))?;
    if inputs.len() > MAX_INPUTS {
        return Err(Invalid(format!("inputs: more than {MAX_INPUTS} tensors")));
    }
    let mut budget = max_elements;
    let mut read: Vec<Option<Tensor>> = vec![None; sig.inputs.len()];
    for (i, t) in inputs.iter().enumerate() {
        let (slot, tensor) = input(i, t, sig, &mut budget, max_elements)?;
        let Some(place) = read.get_mut(slot) else {
            return Err(Invalid(format!("inputs[{i}]: no such input")));
        };
        if place.is_some() {
            return Err(Invalid(format!(
                "inputs[{i}].name: {:?} is given twice",
                tensor.name
            )));
        }
        *place = Some(tensor);
    }
    let mut ordered = Vec::with_capacity(read.len());
    for (spec, t) in sig.inputs.iter().zip(read) {
        ordered.push(t.ok_or_else(|| Invalid(format!("inputs: {:?} is missing", spec.name)))?);
    }
    let outputs = match obj.get("outputs") {
        None => Vec::new(),
        Some(Value::Array(a)) => {
            let mut names = Vec::new();
            for (i, o) in a.iter().take(MAX_INPUTS + 1).enumerate() {
                let n = o
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Invalid(format!("outputs[{i}].name: required, a string")))?;
                if !sig.outputs.iter().any(|s| s.name == n) {
                    return Err(Invalid(format!(
                        "outputs[{i}].name: the model has no output {n:?}"
                    )));
                }
                names.push(n.to_string());
            }
            names
        }
        Some(_) => return Err(Invalid("outputs: must be an array".into())),
    };
    Ok(InferRequest {
        id,
        inputs: ordered,
        outputs,
    })
}

/// One input tensor, checked; returns its position in the signature.
fn input(
    i: usize,
    t: &Value,
    sig: &Signature,
    budget: &mut u64,
    max_elements: u64,
) -> Result<(usize, Tensor), Invalid> {
    let field = |f: &str, m: String| Invalid(format!("inputs[{i}].{f}: {m}"));
    let name = t
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| field("name", "required, a string".into()))?;
    let (slot, spec) = sig
        .inputs
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = sig.inputs.iter().map(|s| s.name.as_str()).collect();
            field(
                "name",
                format!("the model has no input {name:?}; its inputs are {names:?}"),
            )
        })?;
    let dt = t
        .get("datatype")
        .and_then(Value::as_str)
        .ok_or_else(|| field("datatype", "required, a string".into()))?;
    match DType::parse(dt) {
        Some(d) if d == spec.dtype => {}
        _ => {
            return Err(field(
                "datatype",
                format!("{dt:?} given, the model takes {}", spec.dtype.name()),
            ))
        }
    }
    let shape = t
        .get("shape")
        .and_then(Value::as_array)
        .ok_or_else(|| field("shape", "required, an array of sizes".into()))?;
    if shape.len() != spec.shape.len() {
        return Err(field(
            "shape",
            format!(
                "{} dimensions given, the model takes {}",
                shape.len(),
                spec.shape.len()
            ),
        ));
    }
    let mut dims = Vec::with_capacity(shape.len());
    let mut count: u64 = 1;
    for (d, (given, want)) in shape.iter().zip(&spec.shape).enumerate() {
        let n = given
            .as_u64()
            .ok_or_else(|| field("shape", format!("dimension {d} is not a size")))?;
        if let Some(w) = want.filter(|w| u64::try_from(*w).ok() != Some(n)) {
            return Err(field(
                "shape",
                format!("dimension {d} is {n}, the model takes {w}"),
            ));
        }
        count = count.saturating_mul(n);
        dims.push(usize::try_from(n).map_err(|_| field("shape", "too large".into()))?);
    }
    if count > *budget {
        return Err(field(
            "shape",
            format!("the request's tensors hold more than {max_elements} elements"),
        ));
    }
    *budget -= count;
    let data = t
        .get("data")
        .ok_or_else(|| field("data", "required".into()))?;
    let mut flat = Vec::new();
    flatten(data, &mut flat, count).map_err(|m| field("data", m))?;
    if u64::try_from(flat.len()).ok() != Some(count) {
        return Err(field(
            "data",
            format!(
                "{} elements given, the shape {dims:?} holds {count}",
                flat.len()
            ),
        ));
    }
    let data = elements(&flat, spec.dtype).map_err(|m| field("data", m))?;
    Ok((
        slot,
        Tensor {
            name: name.to_string(),
            shape: dims,
            data,
        },
    ))
}

/// The leaves of `v` (a flat or nested array), at most `max` of them.
fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>, max: u64) -> Result<(), String> {
    match v {
        Value::Array(a) => {
            for x in a {
                flatten(x, out, max)?;
            }
            Ok(())
        }
        _ if u64::try_from(out.len()).unwrap_or(u64::MAX) >= max => {
            Err(format!("more elements than the shape's {max}"))
        }
        _ => {
            out.push(v);
            Ok(())
        }
    }
}

fn elements(flat: &[&Value], dtype: DType) -> Result<Data, String> {
    fn each<T>(
        flat: &[&Value],
        what: &str,
        f: impl Fn(&Value) -> Option<T>,
    ) -> Result<Vec<T>, String> {
        flat.iter()
            .enumerate()
            .map(|(i, v)| f(v).ok_or_else(|| format!("element {i} ({v}) is not {what}")))
            .collect()
    }
    Ok(match dtype {
        DType::Bool => Data::Bool(each(flat, "a boolean", Value::as_bool)?),
        DType::U8 => Data::U8(each(flat, "an integer 0..=255", |v| {
            v.as_u64().and_then(|n| u8::try_from(n).ok())
        })?),
        DType::I32 => Data::I32(each(flat, "a 32-bit integer", |v| {
            v.as_i64().and_then(|n| i32::try_from(n).ok())
        })?),
        DType::I64 => Data::I64(each(flat, "a 64-bit integer", Value::as_i64)?),
        DType::F32 => Data::F32(each(flat, "a 32-bit float", |v| {
            v.as_f64()
                .filter(|x| x.abs() <= f64::from(f32::MAX))
                .map(|x| x as f32)
        })?),
        DType::F64 => Data::F64(each(flat, "a number", Value::as_f64)?),
    })
}

/// The inference response.
pub fn response(model: &str, version: u64, id: Option<&str>, outputs: &[Tensor]) -> Value {
    let mut v = json!({
        "model_name": model,
        "model_version": version.to_string(),
        "outputs": outputs.iter().map(Tensor::json).collect::<Vec<_>>(),
    });
    if let (Some(id), Some(o)) = (id, v.as_object_mut()) {
        o.insert("id".into(), json!(id));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig() -> Signature {
        Signature {
            inputs: vec![TensorSpec {
                name: "X".into(),
                dtype: DType::F32,
                shape: vec![None, Some(4)],
            }],
            outputs: vec![TensorSpec {
                name: "label".into(),
                dtype: DType::I64,
                shape: vec![None],
            }],
        }
    }

    fn parse(s: &str) -> Result<InferRequest, Invalid> {
        parse_infer(s.as_bytes(), &sig(), 8, 100)
    }

    #[test]
    fn a_good_request_is_read_flat_or_nested() {
        let flat = parse(r#"{"id":"a","inputs":[{"name":"X","datatype":"FP32","shape":[2,4],"data":[1,2,3,4,5,6,7,8]}]}"#).unwrap();
        let nested = parse(r#"{"inputs":[{"name":"X","datatype":"FP32","shape":[2,4],"data":[[1,2,3,4],[5,6,7,8]]}],"outputs":[{"name":"label"}]}"#).unwrap();
        assert_eq!(flat.inputs, nested.inputs);
        assert_eq!(flat.inputs[0].shape, vec![2, 4]);
        assert_eq!(nested.outputs, vec!["label".to_string()]);
    }

    #[test]
    fn every_refusal_names_its_field() {
        for (body, want) in [
            (r#"[]"#, "JSON object"),
            (
                r#"{"inputs":[{"name":"Y","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}"#,
                "inputs[0].name",
            ),
            (
                r#"{"inputs":[{"name":"X","datatype":"FP64","shape":[1,4],"data":[1,2,3,4]}]}"#,
                "inputs[0].datatype",
            ),
            (
                r#"{"inputs":[{"name":"X","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}"#,
                "dimension 1 is 3",
            ),
            (
                r#"{"inputs":[{"name":"X","datatype":"FP32","shape":[4],"data":[1,2,3,4]}]}"#,
                "1 dimensions given",
            ),
            (
                r#"{"inputs":[{"name":"X","datatype":"FP32","shape":[1,4],"data":[1,2,3]}]}"#,
                "3 elements given",
            ),
            (
                r#"{"inputs":[{"name":"X","datatype":"FP32","shape":[1,4],"data":[1,2,3,"x"]}]}"#,
                "element 3",
            ),
            (
                r#"{"inputs":[{"name":"X","datatype":"FP32","shape":[1,4],"data":[1,2,3,1e39]}]}"#,
                "32-bit float",
            ),
            (
                r#"{"inputs":[{"name":"X","datatype":"FP32","shape":[100,4],"data":[]}]}"#,
                "more than 100 elements",
            ),
            (
                r#"{"inputs":[{"name":"X","datatype":"FP32","shape":[1,4],"data":[1,2,3,4,5]}]}"#,
                "more elements than",
            ),
            (r#"{"inputs":[]}"#, "\"X\" is missing"),
            (
                r#"{"inputs":[{"name":"X","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"outputs":[{"name":"p"}]}"#,
                "outputs[0].name",
            ),
            (r#"{"inputs":[[[[[[[[[[1]]]]]]]]]]}"#, "deeper than 8"),
            (r#"{"id":5,"inputs":[]}"#, "id:"),
        ] {
            let e = parse(body).unwrap_err().0;
            assert!(e.contains(want), "{body}: {want:?} not in {e:?}");
        }
    }

    #[test]
    fn depth_ignores_brackets_in_strings() {
        check_depth(br#"{"a":"[[[[[[[[[[[[\"[[[["}"#, 2).unwrap();
        assert!(check_depth(b"[[[", 2).is_err());
    }
}
