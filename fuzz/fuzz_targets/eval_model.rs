//! The evaluation gates' model reader and runner on arbitrary bytes: the
//! ONNX decoding, the rewrites of tree ensembles for tract, tract's load
//! and a run on a few rows. Errors are fine; a panic that escapes (tract
//! panics are caught and become errors) or a hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_eval::model::Model;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Model::load(data) {
        let width = model.features();
        if (1..=4096).contains(&width) {
            let _ = model.predict(&vec![0.5; 3 * width]);
        }
    }
});
