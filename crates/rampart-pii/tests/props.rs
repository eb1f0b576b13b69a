//! The scanner on arbitrary text (multibyte characters included): it never
//! panics, every span is on character boundaries, and a valid card number
//! planted anywhere is found.

#![cfg(test)]

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn spans_are_valid_in_any_text(text in "\\PC{0,400}") {
        for m in rampart_pii::scan_text(&text) {
            prop_assert!(m.start < m.end && m.end <= text.len());
            prop_assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
        }
    }

    #[test]
    fn a_planted_card_is_found(before in "[a-zé ]{0,80}", after in "[a-z, ]{0,80}") {
        let text = format!("{before} 4111 1111 1111 1111 {after}");
        let found = rampart_pii::scan_text(&text);
        prop_assert!(found.iter().any(|m| m.entity == "CREDIT_CARD" && m.detail == Some("Visa")), "{:?}", found);
    }
}
