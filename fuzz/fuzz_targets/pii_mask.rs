//! Masking actions on arbitrary values: tokens reverse, generalisation and
//! masking never panic, the column scan never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_pii::transform::{apply, Action, Generalise, Keys};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let keys = Keys::new(&[7u8; 32]);
    for action in [
        Action::Replace,
        Action::Mask { keep: 3 },
        Action::Hmac,
        Action::Generalise { to: Generalise::Month },
        Action::Generalise { to: Generalise::Prefix(2) },
        Action::Generalise { to: Generalise::Band(7) },
    ] {
        let _ = apply(&action, &text, "X", "c", Some(&keys));
    }
    if let Ok(t) = keys.siv_token(&text) {
        assert_eq!(keys.siv_open(&t).as_deref(), Some(&*text));
    }
    if let Ok(t) = keys.ff1(&text, "col", false) {
        assert_eq!(keys.ff1(&t, "col", true).ok().as_deref(), Some(&*text));
    }
    let _ = rampart_pii::columns::scan_cell(&text, "phone_number", 0.5);
});
