//! ONNX models run in process with tract: loaded from bytes already
//! hashed (so the bytes checked are the bytes run), their signature read
//! for validation, and run on checked tensors.

use crate::oip::{DType, Data, Signature, Tensor, TensorSpec};
use std::sync::Arc;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::DimLike;
use tract_onnx::tract_hir::infer::Factoid;

/// A loaded, optimised model and its signature.
pub struct OnnxModel {
    plan: Arc<TypedSimplePlan>,
    pub signature: Signature,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("signature", &self.signature)
            .finish()
    }
}

fn dtype(d: DatumType) -> Option<DType> {
    Some(match d {
        DatumType::Bool => DType::Bool,
        DatumType::U8 => DType::U8,
        DatumType::I32 => DType::I32,
        DatumType::I64 => DType::I64,
        DatumType::F32 => DType::F32,
        DatumType::F64 => DType::F64,
        _ => return None,
    })
}

fn spec(name: String, fact: &TypedFact) -> Result<TensorSpec, String> {
    let dt = dtype(fact.datum_type)
        .ok_or_else(|| format!("{name}: the datatype {:?} is not served", fact.datum_type))?;
    Ok(TensorSpec {
        name,
        dtype: dt,
        shape: fact.shape.iter().map(|d| d.to_usize().ok()).collect(),
    })
}

impl OnnxModel {
    /// Loads a model from its bytes; an operator tract cannot run, or a
    /// datatype the protocol cannot carry, is an error naming it.
    pub fn load(bytes: &[u8]) -> Result<OnnxModel, String> {
        let mut model = tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(|e| format!("not a model tract can read: {e:#}"))?;
        name_free_dims(&mut model)?;
        let typed = model
            .into_optimized()
            .map_err(|e| format!("tract cannot run this model: {e:#}"))?;
        let mut signature = Signature::default();
        for (i, o) in typed
            .input_outlets()
            .map_err(|e| e.to_string())?
            .iter()
            .enumerate()
        {
            let name = typed.node(o.node).name.clone();
            let fact = typed.input_fact(i).map_err(|e| e.to_string())?;
            signature.inputs.push(spec(name, fact)?);
        }
        for (i, o) in typed
            .output_outlets()
            .map_err(|e| e.to_string())?
            .iter()
            .enumerate()
        {
            let name = typed
                .outlet_label(*o)
                .map(str::to_string)
                .unwrap_or_else(|| typed.node(o.node).name.clone());
            let fact = typed.output_fact(i).map_err(|e| e.to_string())?;
            signature.outputs.push(spec(name, fact)?);
        }
        let plan = typed
            .into_runnable()
            .map_err(|e| format!("tract cannot plan this model: {e:#}"))?;
        Ok(OnnxModel { plan, signature })
    }

    /// Runs checked inputs (in the signature's order); returns the outputs
    /// asked for (all when `wanted` is empty).
    pub fn run(&self, inputs: &[Tensor], wanted: &[String]) -> Result<Vec<Tensor>, String> {
        let mut values: TVec<TValue> = TVec::new();
        for t in inputs {
            let tensor = match &t.data {
                Data::Bool(v) => tract_onnx::prelude::Tensor::from_shape(&t.shape, v),
                Data::U8(v) => tract_onnx::prelude::Tensor::from_shape(&t.shape, v),
                Data::I32(v) => tract_onnx::prelude::Tensor::from_shape(&t.shape, v),
                Data::I64(v) => tract_onnx::prelude::Tensor::from_shape(&t.shape, v),
                Data::F32(v) => tract_onnx::prelude::Tensor::from_shape(&t.shape, v),
                Data::F64(v) => tract_onnx::prelude::Tensor::from_shape(&t.shape, v),
            }
            .map_err(|e| format!("{}: {e}", t.name))?;
            values.push(tensor.into_tvalue());
        }
        let outs = self
            .plan
            .run(values)
            .map_err(|e| format!("the model failed on this input: {e:#}"))?;
        let mut result = Vec::new();
        for (spec, v) in self.signature.outputs.iter().zip(outs.iter()) {
            if !wanted.is_empty() && !wanted.contains(&spec.name) {
                continue;
            }
            result.push(tensor_out(&spec.name, v).map_err(|e| format!("{}: {e}", spec.name))?);
        }
        Ok(result)
    }
}

/// Gives each input dimension the model leaves free (skl2onnx's batch
/// size) a symbol, so that tract plans for any size there; an input of
/// unknown rank or type is an error naming it.
fn name_free_dims(model: &mut InferenceModel) -> Result<(), String> {
    for i in 0..model.inputs.len() {
        let fact = model.input_fact(i).map_err(|e| e.to_string())?.clone();
        let dt = fact
            .datum_type
            .concretize()
            .ok_or_else(|| format!("input {i} has no declared datatype"))?;
        if fact.shape.is_open() {
            return Err(format!("input {i} has no declared rank"));
        }
        let dims: Vec<TDim> = fact
            .shape
            .dims()
            .enumerate()
            .map(|(k, d)| {
                d.concretize()
                    .unwrap_or_else(|| model.symbols.sym(&format!("in{i}_dim{k}")).into())
            })
            .collect();
        model
            .set_input_fact(i, InferenceFact::dt_shape(dt, dims))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn tensor_out(name: &str, v: &TValue) -> TractResult<Tensor> {
    let view = v.try_as_plain_ram()?;
    let data = match v.datum_type() {
        DatumType::Bool => Data::Bool(view.as_slice::<bool>()?.to_vec()),
        DatumType::U8 => Data::U8(view.as_slice::<u8>()?.to_vec()),
        DatumType::I32 => Data::I32(view.as_slice::<i32>()?.to_vec()),
        DatumType::I64 => Data::I64(view.as_slice::<i64>()?.to_vec()),
        DatumType::F32 => Data::F32(view.as_slice::<f32>()?.to_vec()),
        DatumType::F64 => Data::F64(view.as_slice::<f64>()?.to_vec()),
        other => {
            return Err(tract_onnx::prelude::TractError::msg(format!(
                "the datatype {other:?} is not served"
            )))
        }
    };
    Ok(Tensor {
        name: name.to_string(),
        shape: v.shape().to_vec(),
        data,
    })
}
