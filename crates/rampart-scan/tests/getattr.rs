//! Protocols 2 and 3 pickle a nested function (`interp1d._call_linear_np`)
//! as `getattr(interp1d, "_call_linear_np")`; protocols 4 and 5 name it
//! directly. Both must get the same verdict, and getattr used any other
//! way stays a reflection gadget.

#![cfg(test)]

use rampart_scan::Scanner;

/// Protocol 2: `getattr(<module>.<class>, <attr>)`, its result the value.
fn getattr_pickle(module: &str, class: &str, attr: &str) -> Vec<u8> {
    let mut p = b"\x80\x02cbuiltins\ngetattr\n".to_vec();
    p.extend_from_slice(format!("c{module}\n{class}\n").as_bytes());
    p.push(b'X');
    p.extend_from_slice(&(attr.len() as u32).to_le_bytes());
    p.extend_from_slice(attr.as_bytes());
    p.extend_from_slice(b"\x86R.");
    p
}

fn rules(bytes: &[u8]) -> Vec<String> {
    let mut r: Vec<String> = Scanner::default()
        .scan_bytes("model.pkl", bytes)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    r.sort();
    r
}

#[test]
fn a_constant_lookup_on_an_allowed_class_is_that_attribute() {
    let p = getattr_pickle(
        "scipy.interpolate._interpolate",
        "interp1d",
        "_call_linear_np",
    );
    assert_eq!(rules(&p), Vec::<String>::new());
    // The same object written as protocol 4 writes it.
    let mut direct = b"\x80\x04\x8c\x1escipy.interpolate._interpolate\x94".to_vec();
    direct.extend_from_slice(b"\x8c\x18interp1d._call_linear_np\x94\x93.");
    assert_eq!(rules(&direct), Vec::<String>::new());
}

#[test]
fn lookups_of_what_is_not_allowed_keep_getattr_reported() {
    // os.system through getattr: the lookup is os.system, and getattr is
    // the gadget that reached it.
    let r = rules(&getattr_pickle("os", "path", "sys"));
    assert!(r.contains(&"PICKLE-REFLECTION".to_string()), "{r:?}");
    let r = rules(&getattr_pickle("builtins", "__import__", "x"));
    assert!(r.contains(&"PICKLE-REFLECTION".to_string()), "{r:?}");
    // An allowed class's method that the allowlist does not name.
    let r = rules(&getattr_pickle("numpy", "ndarray", "tofile"));
    assert!(r.contains(&"PICKLE-REFLECTION".to_string()), "{r:?}");
    // Dunder names are never read as plain attributes.
    let r = rules(&getattr_pickle(
        "scipy.interpolate._interpolate",
        "interp1d",
        "__init__",
    ));
    assert!(r.contains(&"PICKLE-REFLECTION".to_string()), "{r:?}");
}

#[test]
fn getattr_used_another_way_stays_a_gadget() {
    // A static lookup, then getattr itself passed to a call as a value.
    let mut p = getattr_pickle(
        "scipy.interpolate._interpolate",
        "interp1d",
        "_call_linear_np",
    );
    p.pop(); // STOP
    p.extend_from_slice(b"0cnumpy\nasarray\n(cbuiltins\ngetattr\ntR.");
    let r = rules(&p);
    assert!(r.contains(&"PICKLE-REFLECTION".to_string()), "{r:?}");
    // getattr with a computed (non-constant) name is called as before.
    let p = b"\x80\x02cbuiltins\ngetattr\ncnumpy\nndarray\ncbuiltins\nstr\n)R\x86R.";
    let r = rules(p);
    assert!(r.contains(&"PICKLE-REFLECTION".to_string()), "{r:?}");
}

#[test]
fn the_search_for_getattr_in_arguments_is_bounded_per_run() {
    // A static lookup, then one list of 32 items passed to 40,000 calls:
    // past the run's budget, getattr counts as passed (reported) and the
    // walks stop.
    let mut p = getattr_pickle(
        "scipy.interpolate._interpolate",
        "interp1d",
        "_call_linear_np",
    );
    p.pop(); // STOP
    p.extend_from_slice(b"0cnumpy\nasarray\nq\x01(");
    for _ in 0..32 {
        p.extend_from_slice(b"K\x01");
    }
    p.extend_from_slice(b"lq\x020");
    for _ in 0..40_000 {
        p.extend_from_slice(b"h\x01h\x02\x85R0");
    }
    p.push(b'.');
    let r = rules(&p);
    assert!(r.contains(&"PICKLE-REFLECTION".to_string()), "{r:?}");
}
