//! ONNX models run in process with tract, batched over all cores.
//!
//! A model is read from the bytes that were hashed (the digest attested
//! is of the bytes run). Before tract builds anything, every operator of
//! the graph is looked up: one tract cannot run is an error naming it,
//! never a gate skipped.

use crate::Error;
use rayon::prelude::*;
use std::sync::Arc;
use tract_onnx::pb;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::DimLike;
use tract_onnx::tract_hir::infer::Factoid;

/// Rows per batch run on one core.
const BATCH: usize = 4096;
/// Run states kept (one per core is enough; more bound the memory).
const MAX_STATES: usize = 64;

/// A loaded, optimised model with one input of features.
pub struct Model {
    plan: Arc<TypedSimplePlan>,
    /// Run states kept for reuse: a state holds the plan's buffers, and
    /// the attacks run the model hundreds of thousands of times on a
    /// few rows, where making one each time costs more than the run.
    states: std::sync::Mutex<Vec<TypedSimpleState>>,
    /// The input's name and element type.
    input: (String, DatumType),
    /// The input's shape after the batch dimension (features: its product).
    item_shape: Vec<usize>,
    outputs: Vec<OutputSpec>,
    /// The classifier's class labels, as its ONNX node declares them.
    class_labels: Option<Vec<i64>>,
    /// A binary tree ensemble whose label tract takes from the wrong
    /// column: its two labels, to relabel by the probabilities.
    binary_trees: Option<[i64; 2]>,
    /// A graph that is one tree ensemble, run natively (see
    /// [`crate::trees`]): the ensemble and what each output carries.
    native: Option<(crate::trees::Ensemble, Vec<usize>)>,
    /// Outputs whose final Softmax was taken out of the graph (see
    /// [`final_softmax`]), to be applied to each row here.
    softmax: Vec<bool>,
    pub sha256: String,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("input", &self.input)
            .field("item_shape", &self.item_shape)
            .field("outputs", &self.outputs)
            .finish()
    }
}

/// One output as the model declares it.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub name: String,
    pub dtype: DatumType,
    /// Dimensions after the batch one (None: not fixed).
    pub item_shape: Vec<Option<usize>>,
}

/// What a model gave for a batch of rows, per output (row-major).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Integer outputs (labels).
    Int(Vec<i64>),
    /// Float outputs (probabilities, scores, values), widened to f64.
    Float(Vec<f64>),
}

impl Model {
    /// Reads a model from its bytes.
    pub fn load(bytes: &[u8]) -> Result<Model, Error> {
        guarded("reading the model", || Model::load_unguarded(bytes))
    }

    fn load_unguarded(bytes: &[u8]) -> Result<Model, Error> {
        use sha2::Digest;
        let sha256 = hex::encode(sha2::Sha256::digest(bytes));
        let onnx = tract_onnx::onnx();
        let mut proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(|e| Error::Model(format!("not an ONNX model: {e:#}")))?;
        let version = opset(&proto.opset_import);
        let graph = proto
            .graph
            .as_mut()
            .ok_or_else(|| Error::Model("the model has no graph".into()))?;
        let native = crate::trees::plan(graph);
        let softmaxed = final_softmax(graph, version);
        regressors_as_classifiers(graph)?;
        unsupported(graph, &onnx)?;
        let class_labels = class_labels(graph);
        let binary_trees = binary_trees(graph);
        let mut model = onnx
            .model_for_proto_model(&proto)
            .map_err(|e| Error::Model(format!("tract cannot read this model: {e:#}")))?;
        if model.inputs.len() != 1 {
            let names: Vec<String> = (0..model.inputs.len())
                .filter_map(|i| model.input_outlets().ok()?.get(i).map(|o| o.node))
                .map(|n| model.node(n).name.clone())
                .collect();
            return Err(Error::Model(format!(
                "the model has {} inputs ({}); rampart eval feeds one tensor of features: export the model with a single input",
                names.len(),
                names.join(", ")
            )));
        }
        let dt = batch_dim(&mut model)?;
        let typed = model
            .into_optimized()
            .map_err(|e| Error::Model(format!("tract cannot run this model: {e:#}")))?;
        let fact = typed.input_fact(0).map_err(tract)?;
        let item_shape = fact
            .shape
            .iter()
            .skip(1)
            .map(|d| d.to_usize().ok())
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                Error::Model(
                    "the input's dimensions after the first (the batch) must be fixed".into(),
                )
            })?;
        let input_node = typed
            .input_outlets()
            .map_err(tract)?
            .first()
            .map(|o| o.node);
        let input_name = input_node
            .map(|n| typed.node(n).name.clone())
            .unwrap_or_default();
        let mut outputs = Vec::new();
        for (i, o) in typed.output_outlets().map_err(tract)?.iter().enumerate() {
            let fact = typed.output_fact(i).map_err(tract)?;
            outputs.push(OutputSpec {
                name: typed
                    .outlet_label(*o)
                    .map(str::to_string)
                    .unwrap_or_else(|| typed.node(o.node).name.clone()),
                dtype: fact.datum_type,
                item_shape: fact
                    .shape
                    .iter()
                    .skip(1)
                    .map(|d| d.to_usize().ok())
                    .collect(),
            });
        }
        let softmax = outputs
            .iter()
            .map(|o| softmaxed.contains(&o.name))
            .collect();
        let plan = typed
            .into_runnable()
            .map_err(|e| Error::Model(format!("tract cannot plan this model: {e:#}")))?;
        Ok(Model {
            plan,
            states: std::sync::Mutex::new(Vec::new()),
            input: (input_name, dt),
            item_shape,
            outputs,
            class_labels,
            binary_trees,
            native,
            softmax,
            sha256,
        })
    }

    /// Features per row: the product of the input's non-batch dimensions.
    pub fn features(&self) -> usize {
        self.item_shape.iter().product()
    }

    /// The input's dimensions after the batch one.
    pub fn item_shape(&self) -> &[usize] {
        &self.item_shape
    }

    pub fn input_name(&self) -> &str {
        &self.input.0
    }

    pub fn outputs(&self) -> &[OutputSpec] {
        &self.outputs
    }

    /// Whether the model runs on the native tree-ensemble evaluator
    /// rather than tract.
    pub fn runs_natively(&self) -> bool {
        self.native.is_some()
    }

    pub fn class_labels(&self) -> Option<&[i64]> {
        self.class_labels.as_deref()
    }

    /// Runs every row (`x`: rows × [`Model::features`], row-major) in
    /// batches on all cores; each output's values for all rows.
    pub fn predict(&self, x: &[f32]) -> Result<Vec<Column>, Error> {
        self.predict_for(x, true)
    }

    /// As [`Model::predict`]; without `scores`, a model that gives labels
    /// may leave the outputs whose Softmax was taken out of its graph
    /// empty (an attack that reads decisions only need not pay for them).
    pub fn predict_for(&self, x: &[f32], scores: bool) -> Result<Vec<Column>, Error> {
        let scores = scores || !self.outputs.iter().any(|o| !o.dtype.is_float());
        guarded("running the model", || self.predict_unguarded(x, scores))
    }

    fn predict_unguarded(&self, x: &[f32], scores: bool) -> Result<Vec<Column>, Error> {
        let width = self.features().max(1);
        if x.len() % width != 0 {
            return Err(Error::Model(format!(
                "{} values are not whole rows of {width} features",
                x.len()
            )));
        }
        let batches: Vec<Vec<Column>> = if x.is_empty() {
            Vec::new()
        } else if x.len() <= BATCH * width {
            // One batch (an attack's few rows): no fan-out to pay for.
            vec![self.run_batch(x, x.len() / width, scores)?]
        } else {
            x.par_chunks(BATCH * width)
                .map(|chunk| self.run_batch(chunk, chunk.len() / width, scores))
                .collect::<Result<_, _>>()?
        };
        let mut all: Vec<Column> = self
            .outputs
            .iter()
            .map(|o| {
                if o.dtype.is_float() {
                    Column::Float(Vec::new())
                } else {
                    Column::Int(Vec::new())
                }
            })
            .collect();
        for batch in batches {
            for (acc, part) in all.iter_mut().zip(batch) {
                match (acc, part) {
                    (Column::Int(a), Column::Int(b)) => a.extend(b),
                    (Column::Float(a), Column::Float(b)) => a.extend(b),
                    _ => return Err(Error::Model("an output changed its type".into())),
                }
            }
        }
        if let Some(labels) = self.binary_trees {
            relabel(&mut all, labels, x.len() / width);
        }
        Ok(all)
    }

    fn run_batch(&self, chunk: &[f32], rows: usize, scores: bool) -> Result<Vec<Column>, Error> {
        if let Some((ensemble, outputs)) = &self.native {
            if outputs.len() == self.outputs.len() {
                return crate::trees::columns(ensemble, outputs, chunk, self.features());
            }
        }
        let mut shape = vec![rows];
        shape.extend(&self.item_shape);
        let tensor = match self.input.1 {
            DatumType::F32 => tract_onnx::prelude::Tensor::from_shape(&shape, chunk),
            DatumType::F64 => {
                let wide: Vec<f64> = chunk.iter().map(|&v| f64::from(v)).collect();
                tract_onnx::prelude::Tensor::from_shape(&shape, &wide)
            }
            other => {
                return Err(Error::Model(format!(
                    "the input {} is of type {other:?}; rampart eval feeds float features",
                    self.input.0
                )))
            }
        }
        .map_err(tract)?;
        let kept = self.states.lock().ok().and_then(|mut s| s.pop());
        let mut state = match kept {
            Some(s) => s,
            None => self.plan.spawn().map_err(tract)?,
        };
        let outs = state
            .run(tvec!(tensor.into_tvalue()))
            .map_err(|e| Error::Model(format!("the model failed on a batch: {e:#}")))?;
        if let Ok(mut s) = self.states.lock() {
            if s.len() < MAX_STATES {
                s.push(state);
            }
        }
        outs.iter()
            .zip(&self.outputs)
            .zip(&self.softmax)
            .map(|((v, spec), &soft)| {
                if soft && !scores {
                    return Ok(Column::Float(Vec::new()));
                }
                let mut c = column(v, rows, spec)?;
                if let (true, Column::Float(values)) = (soft, &mut c) {
                    softmax_rows(values, rows);
                }
                Ok(c)
            })
            .collect()
    }
}

/// The default ONNX opset the model imports (1 when it names none).
fn opset(imports: &[pb::OperatorSetIdProto]) -> i64 {
    imports
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(1, |o| o.version)
}

/// Takes a classifier's final Softmax out of the graph, to be applied to
/// the rows here: tract's Softmax kernel works on a vector at a time with
/// a scratch buffer each, and on the attacks' rows of ten classes it was
/// a quarter of an attack's time (measured with `perf`). Only a Softmax
/// over the last axis whose output is a graph output read by nothing but
/// ArgMax over that axis (the label, as skl2onnx computes it) is taken
/// out; the ArgMax then reads the scores, whose largest is the largest
/// probability's. Returns the outputs so changed.
fn final_softmax(graph: &mut pb::GraphProto, opset: i64) -> Vec<String> {
    let int =
        |n: &pb::NodeProto, name: &str| n.attribute.iter().find(|a| a.name == name).map(|a| a.i);
    let rank = |name: &str| {
        graph
            .output
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.r#type.as_ref())
            .and_then(|t| match &t.value {
                Some(pb::type_proto::Value::TensorType(t)) => t.shape.as_ref(),
                _ => None,
            })
            .map(|s| s.dim.len() as i64)
    };
    let mut found = None;
    for (i, node) in graph.node.iter().enumerate() {
        if node.op_type != "Softmax" || node.output.len() != 1 || node.input.len() != 1 {
            continue;
        }
        let Some(out) = node.output.first() else {
            continue;
        };
        // The Softmax's values, under every name Identity gives them.
        let mut names = vec![out.clone()];
        let mut k = 0;
        while let Some(name) = names.get(k).cloned() {
            k += 1;
            for n in graph.node.iter().filter(|n| n.input.contains(&name)) {
                if n.op_type == "Identity" && names.len() < 16 {
                    names.extend(n.output.iter().cloned());
                }
            }
        }
        let outputs: Vec<&String> = names.iter().filter(|n| rank(n).is_some()).collect();
        let Some(r) = outputs.first().and_then(|n| rank(n)) else {
            continue;
        };
        let default = if opset >= 13 { -1 } else { 1 };
        let axis = int(node, "axis").unwrap_or(default);
        // Before opset 13, Softmax flattens from `axis`: over the last
        // axis only when that is the last.
        if r < 2 || !(axis == -1 || axis == r - 1) || outputs.iter().any(|n| rank(n) != Some(r)) {
            continue;
        }
        let readers_ok = graph
            .node
            .iter()
            .filter(|n| n.input.iter().any(|i| names.contains(i)))
            .all(|n| match n.op_type.as_str() {
                "Identity" => true,
                "ArgMax" => {
                    int(n, "select_last_index").unwrap_or(0) == 0
                        && matches!(int(n, "axis"), Some(a) if a == -1 || a == r - 1)
                }
                _ => false,
            });
        if readers_ok {
            found = Some((i, outputs.into_iter().cloned().collect::<Vec<_>>()));
            break;
        }
    }
    let Some((i, outputs)) = found else {
        return Vec::new();
    };
    match graph.node.get_mut(i) {
        Some(node) => {
            node.op_type = "Identity".into();
            node.attribute.clear();
            outputs
        }
        None => Vec::new(),
    }
}

/// Softmax over each row of `values` (rows × classes), in `f32` as the
/// graph computed it. A class more than 87 below the row's largest score
/// gets 0 rather than a subnormal `f32` (below 1.2e-38): arithmetic on
/// subnormals takes the processor's slow path, and a confident model's
/// rows are full of them.
fn softmax_rows(values: &mut [f64], rows: usize) {
    let k = values.len() / rows.max(1);
    for row in values.chunks_mut(k.max(1)) {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v as f32));
        let mut sum = 0f32;
        for v in row.iter_mut() {
            let d = *v as f32 - max;
            let e = if d < -87.0 { 0.0 } else { d.exp() };
            sum += e;
            *v = f64::from(e);
        }
        for v in row.iter_mut() {
            *v = f64::from(*v as f32 / sum);
        }
    }
}

/// Runs `f`, turning a panic inside tract (an assertion its optimiser
/// or kernels did not expect of this model) into an error: a hostile or
/// unusual model must not take the process down.
fn guarded<T>(doing: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let why = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            Err(Error::Model(format!(
                "tract failed while {doing} ({why}): this model cannot be evaluated in process"
            )))
        }
    }
}

fn column(v: &TValue, rows: usize, spec: &OutputSpec) -> Result<Column, Error> {
    let dt = v.datum_type();
    let out = if dt.is_integer() || dt == DatumType::TDim || dt == DatumType::Bool {
        let t = v.cast_to::<i64>().map_err(tract)?;
        Column::Int(
            t.try_as_plain_ram()
                .map_err(tract)?
                .as_slice::<i64>()
                .map_err(tract)?
                .to_vec(),
        )
    } else if dt.is_float() {
        let t = v.cast_to::<f64>().map_err(tract)?;
        Column::Float(
            t.try_as_plain_ram()
                .map_err(tract)?
                .as_slice::<f64>()
                .map_err(tract)?
                .to_vec(),
        )
    } else {
        return Err(Error::Model(format!(
            "output {} is of type {dt:?}: rampart eval reads integer labels and float scores (export class labels as integers)",
            spec.name
        )));
    };
    let len = match &out {
        Column::Int(v) => v.len(),
        Column::Float(v) => v.len(),
    };
    if rows == 0 || len % rows != 0 {
        return Err(Error::Model(format!(
            "output {} gave {len} values for {rows} rows",
            spec.name
        )));
    }
    Ok(out)
}

fn tract(e: impl std::fmt::Display) -> Error {
    Error::Model(e.to_string())
}

/// Operators of the graph tract has no implementation of, named.
fn unsupported(graph: &pb::GraphProto, onnx: &tract_onnx::Onnx) -> Result<(), Error> {
    let mut missing: Vec<String> = graph
        .node
        .iter()
        .filter(|n| !onnx.op_register.0.contains_key(&n.op_type))
        .map(|n| {
            if n.domain.is_empty() {
                n.op_type.clone()
            } else {
                format!("{} ({})", n.op_type, n.domain)
            }
        })
        .collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let hint = if missing.iter().any(|m| m.starts_with("ZipMap")) {
        "; export classifiers without ZipMap (skl2onnx: options={\"zipmap\": False})"
    } else if missing.iter().any(|m| m.starts_with("Scaler")) {
        "; scale the features before the model rather than inside it"
    } else {
        ""
    };
    Err(Error::Model(format!(
        "tract cannot run the operator{} {}: the model cannot be evaluated in process{hint}",
        if missing.len() > 1 { "s" } else { "" },
        missing.join(", "),
    )))
}

/// A binary tree ensemble as scikit-learn, xgboost and lightgbm export
/// it: two class labels, every leaf scoring the first class id (the
/// positive class's score), one base value or none. tract wants a base
/// value per class: the missing one is 0 (onnxruntime adds the one there
/// is to the score, which is what tract does with [b, 0]). tract then
/// takes the label from the unlaid scores, the wrong column; the labels
/// are set again from the probabilities ([`relabel`]). Returns the two
/// labels.
fn binary_trees(graph: &mut pb::GraphProto) -> Option<[i64; 2]> {
    let mut found = None;
    for node in graph
        .node
        .iter_mut()
        .filter(|n| n.op_type == "TreeEnsembleClassifier")
    {
        let attr = |name: &str| node.attribute.iter().find(|a| a.name == name);
        let labels = match attr("classlabels_int64s").map(|a| a.ints.as_slice()) {
            Some(&[a, b]) => [a, b],
            _ => continue,
        };
        if !attr("class_ids").is_some_and(|a| a.ints.iter().all(|&c| c == 0)) {
            continue;
        }
        if let Some(base) = node.attribute.iter_mut().find(|a| a.name == "base_values") {
            if base.floats.len() == 1 {
                base.floats.push(0.0);
            }
        }
        found = Some(labels);
    }
    found
}

/// onnxruntime's label of a binary tree ensemble: the second class when
/// its probability is above one half. Applies when the model gives one
/// integer output (labels) and one two-column float output.
fn relabel(outputs: &mut [Column], labels: [i64; 2], rows: usize) {
    let proba: Option<Vec<f64>> = outputs.iter().find_map(|c| match c {
        Column::Float(v) if v.len() == 2 * rows => Some(v.clone()),
        _ => None,
    });
    let Some(proba) = proba else { return };
    for c in outputs.iter_mut() {
        if let Column::Int(v) = c {
            if v.len() == rows {
                for (l, p) in v.iter_mut().zip(proba.chunks(2)) {
                    let p1 = p.get(1).copied().unwrap_or(0.0);
                    *l = if p1 > 0.5 { labels[1] } else { labels[0] };
                }
            }
        }
    }
}

/// tract has no TreeEnsembleRegressor. A regressor's trees are a
/// classifier's with one column per target; so each regressor node
/// becomes a TreeEnsembleClassifier with three or more labels (tract's
/// classifier lays out two-label ensembles otherwise), its raw scores cut
/// to the targets by a Slice that writes the regressor's output. tract's
/// classifier sums its trees: an AVERAGE ensemble (a random forest) has
/// its leaf weights divided by its number of trees first, as onnxruntime
/// divides the sum.
fn regressors_as_classifiers(graph: &mut pb::GraphProto) -> Result<(), Error> {
    let mut added_nodes = Vec::new();
    let mut added_inits = Vec::new();
    for (k, node) in graph
        .node
        .iter_mut()
        .enumerate()
        .filter(|(_, n)| n.op_type == "TreeEnsembleRegressor")
    {
        let targets = node
            .attribute
            .iter()
            .find(|a| a.name == "n_targets")
            .map_or(1, |a| a.i)
            .clamp(1, 1 << 20);
        let trees = node
            .attribute
            .iter()
            .find(|a| a.name == "nodes_treeids")
            .map_or(0, |a| {
                let mut ids = a.ints.clone();
                ids.sort_unstable();
                ids.dedup();
                ids.len()
            });
        let aggregate = node
            .attribute
            .iter()
            .find(|a| a.name == "aggregate_function")
            .map_or_else(
                || "SUM".to_string(),
                |a| String::from_utf8_lossy(&a.s).into_owned(),
            );
        let scale = match aggregate.as_str() {
            "SUM" => 1.0,
            "AVERAGE" if trees > 0 => 1.0 / trees as f32,
            other => {
                return Err(Error::Model(format!(
                    "TreeEnsembleRegressor with aggregate_function {other}: rampart eval runs SUM and AVERAGE ensembles"
                )))
            }
        };
        let labels = targets.max(3);
        for a in node.attribute.iter_mut() {
            if let Some(rest) = a.name.strip_prefix("target_") {
                a.name = format!("class_{rest}");
            }
            if a.name == "class_weights" {
                a.floats.iter_mut().for_each(|w| *w *= scale);
            }
            if a.name == "base_values" {
                a.floats.resize(labels as usize, 0.0);
            }
        }
        node.attribute
            .retain(|a| a.name != "n_targets" && a.name != "aggregate_function");
        node.attribute.push(pb::AttributeProto {
            name: "classlabels_int64s".into(),
            r#type: pb::attribute_proto::AttributeType::Ints as i32,
            ints: (0..labels).collect(),
            ..Default::default()
        });
        node.op_type = "TreeEnsembleClassifier".into();
        let output = node.output.first().cloned().unwrap_or_default();
        let scores = format!("{output}__rampart_scores{k}");
        node.output = vec![format!("{output}__rampart_label{k}"), scores.clone()];
        let int = |name: String, v: i64| pb::TensorProto {
            name,
            dims: vec![1],
            data_type: pb::tensor_proto::DataType::Int64 as i32,
            int64_data: vec![v],
            ..Default::default()
        };
        let bounds = [("starts", 0), ("ends", targets), ("axes", 1)];
        let names: Vec<String> = bounds
            .iter()
            .map(|(b, _)| format!("{output}__rampart_{b}{k}"))
            .collect();
        for ((_, v), name) in bounds.iter().zip(&names) {
            added_inits.push(int(name.clone(), *v));
        }
        added_nodes.push(pb::NodeProto {
            name: format!("{output}__rampart_slice{k}"),
            op_type: "Slice".into(),
            input: std::iter::once(scores).chain(names).collect(),
            output: vec![output],
            ..Default::default()
        });
    }
    graph.node.extend(added_nodes);
    graph.initializer.extend(added_inits);
    Ok(())
}

/// `classlabels_int64s` of the graph's classifier node, if any.
fn class_labels(graph: &pb::GraphProto) -> Option<Vec<i64>> {
    graph
        .node
        .iter()
        .flat_map(|n| &n.attribute)
        .find(|a| a.name == "classlabels_int64s" || a.name == "classlabels_ints")
        .map(|a| a.ints.clone())
}

/// Gives the input's free first dimension a symbol (skl2onnx and
/// torch.onnx declare it as `None` or a name), so that tract plans for
/// any batch size; the input's element type.
fn batch_dim(model: &mut InferenceModel) -> Result<DatumType, Error> {
    let fact = model.input_fact(0).map_err(tract)?.clone();
    let dt = fact
        .datum_type
        .concretize()
        .ok_or_else(|| Error::Model("the input has no declared element type".into()))?;
    if fact.shape.is_open() {
        return Err(Error::Model("the input has no declared rank".into()));
    }
    let mut dims: Vec<TDim> = Vec::new();
    for (k, d) in fact.shape.dims().enumerate() {
        dims.push(match d.concretize() {
            Some(d) if k > 0 => d,
            _ if k == 0 => model.symbols.sym("batch").into(),
            _ => {
                return Err(Error::Model(format!(
                    "the input's dimension {k} is not fixed: rampart eval needs the features' shape"
                )))
            }
        });
    }
    if dims.is_empty() {
        return Err(Error::Model(
            "the input is a scalar, not a batch of rows".into(),
        ));
    }
    model
        .set_input_fact(0, InferenceFact::dt_shape(dt, dims))
        .map_err(tract)?;
    Ok(dt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str, inputs: &[&str], output: &str, axis: Option<i64>) -> pb::NodeProto {
        pb::NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            attribute: axis
                .map(|a| pb::AttributeProto {
                    name: "axis".into(),
                    i: a,
                    ..Default::default()
                })
                .into_iter()
                .collect(),
            ..Default::default()
        }
    }

    fn output(name: &str, rank: usize) -> pb::ValueInfoProto {
        pb::ValueInfoProto {
            name: name.into(),
            r#type: Some(pb::TypeProto {
                value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                    elem_type: 1,
                    shape: Some(pb::TensorShapeProto {
                        dim: vec![Default::default(); rank],
                    }),
                })),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// skl2onnx's multiclass head: Softmax, Identity to the output, and
    /// ArgMax of it for the label.
    fn head(softmax_axis: Option<i64>, reader: &str) -> pb::GraphProto {
        pb::GraphProto {
            node: vec![
                node("Softmax", &["logits"], "soft", softmax_axis),
                node("Identity", &["soft"], "probabilities", None),
                node(reader, &["probabilities"], "argmax", Some(1)),
            ],
            output: vec![output("probabilities", 2), output("argmax", 1)],
            ..Default::default()
        }
    }

    #[test]
    fn only_a_final_softmax_read_by_argmax_leaves_the_graph() {
        let mut g = head(None, "ArgMax");
        assert_eq!(final_softmax(&mut g, 15), vec!["probabilities"]);
        assert_eq!(g.node[0].op_type, "Identity");
        // Opset 11's default axis (1) is the last of two.
        assert_eq!(
            final_softmax(&mut head(None, "ArgMax"), 11),
            vec!["probabilities"]
        );
        // Read by something other than ArgMax: its values matter.
        let mut g = head(None, "Mul");
        assert!(final_softmax(&mut g, 15).is_empty());
        assert_eq!(g.node[0].op_type, "Softmax");
        // Over the batch axis: not per row.
        assert!(final_softmax(&mut head(Some(0), "ArgMax"), 15).is_empty());
    }

    #[test]
    fn softmax_rows_sum_to_one_without_subnormals() {
        let mut v = vec![1.0, 2.0, 3.0, 0.0, -200.0, 5.0];
        softmax_rows(&mut v, 2);
        let e: Vec<f64> = [1f32, 2.0, 3.0]
            .iter()
            .map(|x| f64::from((x - 3.0).exp()))
            .collect();
        let s: f64 = e.iter().sum();
        for (a, b) in v.iter().zip(&e) {
            assert!((a - b / s).abs() < 1e-6, "{v:?}");
        }
        assert_eq!(v[4], 0.0);
        assert!((v[3] + v[5] - 1.0).abs() < 1e-6);
    }
}
