//! Keras model configs: `config.json` of a `.keras` v3 archive, the
//! `model_config` attribute of a legacy HDF5 `.h5`, or `model.to_json()`.
//!
//! Loading a config imports and calls what it names. The walk reports
//! Lambda layers (marshalled Python bytecode, run on load by legacy HDF5
//! loaders whatever `safe_mode` says: CVE-2024-3660, CVE-2025-9905),
//! objects whose `module` or `registered_name` lies outside Keras (Keras
//! imports that module: CVE-2025-1550), and the Keras functions abused as
//! gadgets (`get_file` downloading files, CVE-2025-8747;
//! `enable_unsafe_deserialization` turning safe mode off, CVE-2025-9906).

use base64::Engine;
use rampart_core::{Finding, Location, Severity};
use serde_json::Value;

use crate::pickle::globals::{Classifier, Verdict};
use crate::rules::{KERAS_EXTERNAL_MODULE, KERAS_GADGET, KERAS_LAMBDA};

/// Deepest JSON nesting walked (serde_json refuses beyond 128 anyway).
const MAX_DEPTH: u32 = 256;
/// Most findings per config.
const MAX_FINDINGS: usize = 200;

/// Module prefixes that are Keras itself or its official packages.
const KERAS_MODULES: &[&str] = &[
    "keras",
    "tf_keras",
    "tensorflow.keras",
    "tensorflow.python.keras",
    "keras_hub",
    "keras_nlp",
    "keras_cv",
    "keras_rs",
];

/// Functions reachable from a config that do more than compute: they
/// fetch or read files, load further models, or turn safe mode off.
const GADGETS: &[(&str, &str)] = &[
    ("get_file", "downloads a file from a URL (CVE-2025-8747)"),
    (
        "enable_unsafe_deserialization",
        "turns Keras safe mode off for what is loaded next (CVE-2025-9906)",
    ),
    ("load_model", "loads another model file"),
    ("load_weights", "reads another weights file"),
    ("load_img", "reads a file from disk"),
    ("save_img", "writes a file to disk"),
    ("array_to_img", "writes a file to disk"),
    ("image_dataset_from_directory", "reads files from disk"),
    ("text_dataset_from_directory", "reads files from disk"),
    ("audio_dataset_from_directory", "reads files from disk"),
    ("set_image_data_format", "changes global Keras settings"),
    ("set_floatx", "changes global Keras settings"),
];

/// TensorFlow functions a `TFOpLambda` layer may call that reach outside
/// the graph (files, Python).
const TF_GADGETS: &[&str] = &[
    "io.read_file",
    "io.write_file",
    "io.matching_files",
    "io.gfile",
    "py_function",
    "numpy_function",
    "compat.v1.py_func",
    "print",
    "debugging.",
    "summary.",
    "saved_model.",
    "keras.utils.get_file",
];

/// True when a JSON document looks like a Keras model config (so that a
/// plain `config.json` of another framework is not judged as one).
pub fn looks_like_keras(v: &Value) -> bool {
    let class = v.get("class_name").and_then(Value::as_str);
    let has_config = v.get("config").is_some_and(Value::is_object);
    let module = v.get("module").and_then(Value::as_str);
    // A serialized Keras object: a class name with a config object; a
    // subclassed model names its own module (`my_pkg`, class `MyModel`).
    has_config && (module.is_some() || class.is_some_and(|c| !c.is_empty()))
}

/// Findings for one config document at `loc`.
pub fn findings(config: &Value, loc: &Location, classifier: &Classifier) -> Vec<Finding> {
    let mut w = Walker {
        loc,
        classifier,
        out: Vec::new(),
    };
    w.value(config, "$", None, 0);
    w.out
}

struct Walker<'a> {
    loc: &'a Location,
    classifier: &'a Classifier,
    out: Vec<Finding>,
}

fn is_keras_module(m: &str) -> bool {
    KERAS_MODULES
        .iter()
        .any(|k| m == *k || m.strip_prefix(k).is_some_and(|r| r.starts_with('.')))
}

impl Walker<'_> {
    fn push(
        &mut self,
        rule: &'static str,
        sev: Severity,
        msg: String,
        path: &str,
        layer: Option<&str>,
    ) {
        if self.out.len() >= MAX_FINDINGS {
            return;
        }
        let mut f = Finding::new(rule, sev, self.loc.clone(), msg).with("json_path", path);
        if let Some(l) = layer {
            f = f.with("layer", l);
        }
        self.out.push(f);
    }

    fn value(&mut self, v: &Value, path: &str, layer: Option<&str>, depth: u32) {
        if depth > MAX_DEPTH {
            return;
        }
        match v {
            Value::Object(map) => {
                // The layer a finding belongs to: the nearest config.name.
                let here = map
                    .get("config")
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .or(layer);
                self.object(v, path, here);
                for (k, child) in map {
                    self.value(child, &format!("{path}.{k}"), here, depth + 1);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.value(child, &format!("{path}[{i}]"), layer, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn object(&mut self, v: &Value, path: &str, layer: Option<&str>) {
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        let class = s("class_name").unwrap_or("");
        if class == "Lambda" {
            self.lambda_layer(v, path, layer);
        }
        if class == "__lambda__" {
            let code = v
                .get("config")
                .and_then(|c| c.get("code"))
                .and_then(Value::as_str);
            self.lambda(code, path, layer);
        }
        if class == "TFOpLambda" || class == "SlicingOpLambda" {
            let func = v
                .get("config")
                .and_then(|c| c.get("function"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if let Some(g) = TF_GADGETS.iter().find(|g| func.starts_with(**g)) {
                self.push(
                    KERAS_GADGET,
                    Severity::Critical,
                    format!("{class} layer calls tf.{func}, which reaches outside the graph ({g})"),
                    path,
                    layer,
                );
            }
        }
        let module = s("module");
        // Keras 2 configs have no `module`; a dotted class name is a path.
        if let (None, Some((m, name))) = (module, class.rsplit_once('.')) {
            self.reference(m, name, path, layer);
        }
        if let Some(module) = module {
            let name = match (class, v.get("config")) {
                ("function", Some(Value::String(f))) => f.as_str(),
                _ => class,
            };
            self.reference(module, name, path, layer);
        }
        // `package>Name`: reported unless it repeats the module.
        if let Some((package, name)) = s("registered_name").and_then(|r| r.split_once('>')) {
            if module != Some(package) {
                self.reference(package, name, path, layer);
            }
        }
    }

    /// A `module` + name the loader imports and resolves.
    fn reference(&mut self, module: &str, name: &str, path: &str, layer: Option<&str>) {
        let full = format!("{module}.{name}");
        if let Some((_, why)) = GADGETS.iter().find(|(g, _)| *g == name) {
            self.push(
                KERAS_GADGET,
                Severity::Critical,
                format!("the config calls {full}, which {why}"),
                path,
                layer,
            );
            return;
        }
        if is_keras_module(module) || module == "builtins" && name == "function" {
            return;
        }
        match self.classifier.classify(module, name) {
            Verdict::Dangerous(d) => self.push(
                KERAS_EXTERNAL_MODULE,
                Severity::Critical,
                format!("the config names {full} ({}); Keras imports the module and resolves the name when loading", d.what()),
                path,
                layer,
            ),
            Verdict::Safe if module == "builtins" => {}
            _ => self.push(
                KERAS_EXTERNAL_MODULE,
                Severity::Medium,
                format!("the config names {full}, outside Keras: loading imports {module} (custom code)"),
                path,
                layer,
            ),
        }
    }

    /// A Keras 2 Lambda layer: `function` is `[code, defaults, closure]`
    /// (marshalled bytecode in base64) when `function_type` is `lambda`,
    /// or a function name.
    fn lambda_layer(&mut self, v: &Value, path: &str, layer: Option<&str>) {
        let Some(cfg) = v.get("config") else {
            return;
        };
        let ftype = cfg.get("function_type").and_then(Value::as_str);
        match cfg.get("function") {
            Some(Value::Array(parts)) => {
                let code = parts.first().and_then(Value::as_str);
                self.lambda(code, path, layer);
            }
            Some(Value::String(code)) if ftype == Some("lambda") => {
                self.lambda(Some(code), path, layer)
            }
            Some(Value::String(name)) => {
                let module = cfg
                    .get("module")
                    .and_then(Value::as_str)
                    .unwrap_or("__main__");
                self.reference(module, name, path, layer);
            }
            // Keras 3 nests a `__lambda__` object: reported by `object`.
            _ => {}
        }
    }

    fn lambda(&mut self, code: Option<&str>, path: &str, layer: Option<&str>) {
        let names = code.map(bytecode_names).unwrap_or_default();
        let shown = if names.is_empty() {
            String::new()
        } else {
            format!("; its bytecode names {}", names.join(", "))
        };
        self.push(
            KERAS_LAMBDA,
            Severity::Critical,
            format!(
                "Lambda layer with serialized Python bytecode, run when the model is loaded{shown}"
            ),
            path,
            layer,
        );
    }
}

/// Names in a marshalled code object that matter to a reviewer: modules
/// and functions that run commands or touch files.
fn bytecode_names(b64: &str) -> Vec<String> {
    const WATCH: &[&str] = &[
        "os",
        "system",
        "popen",
        "subprocess",
        "eval",
        "exec",
        "__import__",
        "open",
        "socket",
        "builtins",
        "getattr",
        "compile",
        "urllib",
        "requests",
        "shutil",
    ];
    // Python's base64 writes lines of 76 characters.
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let Ok(code) = base64::engine::general_purpose::STANDARD.decode(compact) else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    for word in code.split(|b| !(b.is_ascii_alphanumeric() || *b == b'_')) {
        if let Ok(w) = std::str::from_utf8(word) {
            if WATCH.contains(&w) && !found.iter().any(|f| f == w) {
                found.push(w.to_string());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(v: &Value) -> Vec<(String, Severity)> {
        findings(v, &Location::file("c.json"), &Classifier::default())
            .into_iter()
            .map(|f| (f.rule, f.severity))
            .collect()
    }

    #[test]
    fn dense_model_is_clean() {
        let v = json!({"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4]}, "registered_name": null},
            {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "relu",
              "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
              "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}}}]}});
        assert!(looks_like_keras(&v));
        // A subclassed model from its own package is a Keras config too,
        // and its module is reported.
        let sub = json!({"module": "my_pkg.models", "class_name": "MyModel", "config": {"units": 2}, "registered_name": "my_pkg>MyModel"});
        assert!(looks_like_keras(&sub));
        assert!(!looks_like_keras(
            &json!({"architectures": ["BertModel"], "hidden_size": 768})
        ));
        assert_eq!(rules(&v), vec![]);
    }

    #[test]
    fn lambda_layers_in_both_generations() {
        let k2 = json!({"class_name": "Lambda", "config": {"name": "l", "function": ["4wAAAG9zAHN5c3RlbQ==", null, null], "function_type": "lambda"}});
        assert_eq!(
            rules(&k2),
            vec![(KERAS_LAMBDA.to_string(), Severity::Critical)]
        );
        let k3 = json!({"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l",
            "function": {"class_name": "__lambda__", "config": {"code": "4wEA\nAAAA\n", "defaults": null, "closure": null}}}});
        let r = rules(&k3);
        assert!(r.iter().any(|(id, _)| id == KERAS_LAMBDA), "{r:?}");
    }

    #[test]
    fn outside_modules_and_gadgets() {
        let popen =
            json!({"module": "subprocess", "class_name": "Popen", "config": {"args": "id"}});
        assert_eq!(
            rules(&popen),
            vec![(KERAS_EXTERNAL_MODULE.to_string(), Severity::Critical)]
        );
        let custom = json!({"module": "my_layers", "class_name": "Fancy", "config": {}, "registered_name": "my_layers>Fancy"});
        assert!(rules(&custom)
            .iter()
            .all(|(id, s)| id == KERAS_EXTERNAL_MODULE && *s == Severity::Medium));
        let get_file = json!({"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": null});
        assert_eq!(
            rules(&get_file),
            vec![(KERAS_GADGET.to_string(), Severity::Critical)]
        );
        let dotted = json!({"class_name": "os.system", "config": {"command": "id"}});
        assert_eq!(
            rules(&dotted),
            vec![(KERAS_EXTERNAL_MODULE.to_string(), Severity::Critical)]
        );
        let tfop = json!({"class_name": "TFOpLambda", "config": {"name": "w", "function": "io.write_file"}});
        assert_eq!(
            rules(&tfop),
            vec![(KERAS_GADGET.to_string(), Severity::Critical)]
        );
    }

    #[test]
    fn bytecode_names_are_extracted() {
        let b64 = base64::engine::general_purpose::STANDARD
            .encode(b"\xe3\x00\x00\x02os\xda\x06system\x00x");
        assert_eq!(bytecode_names(&b64), vec!["os", "system"]);
    }
}
