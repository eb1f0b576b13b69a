//! Precision and recall on the committed labelled sample
//! (`tools/gen_pii_corpus.py tests/data/pii_sample.jsonl 700 7`): recall
//! at least 0.99 and precision at least 0.98 on every validated entity,
//! 0.97 and 0.97 on person names (the goal), at the default
//! threshold, over 14 locales (measured: 0.994 and 0.989). Offsets in the sample are in
//! characters; the scanner's are bytes.

#![cfg(test)]

use serde::Deserialize;

#[derive(Deserialize)]
struct Span {
    start: usize,
    end: usize,
    entity: String,
}

#[derive(Deserialize)]
struct Record {
    text: String,
    spans: Vec<Span>,
}

fn char_offset(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |t| t.chars().count())
}

#[test]
fn recall_and_precision_on_the_labelled_sample() {
    let sample = include_str!("data/pii_sample.jsonl");
    let records: Vec<Record> = sample
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 700);
    for (entity, min_recall, min_precision) in [
        ("CREDIT_CARD", 0.99, 0.98),
        ("IBAN_CODE", 0.99, 0.98),
        ("US_SSN", 0.99, 0.98),
        ("EMAIL_ADDRESS", 0.99, 0.98),
        ("PHONE_NUMBER", 0.99, 0.98),
        ("PERSON", 0.97, 0.97),
    ] {
        let (mut gold, mut recalled, mut reported, mut correct) = (0, 0, 0, 0);
        for r in &records {
            let found: Vec<(usize, usize)> = rampart_pii::scan(&r.text, None, 0.5)
                .into_iter()
                .filter(|m| m.entity == entity)
                .map(|m| (char_offset(&r.text, m.start), char_offset(&r.text, m.end)))
                .collect();
            let labels: Vec<&Span> = r.spans.iter().filter(|s| s.entity == entity).collect();
            gold += labels.len();
            reported += found.len();
            recalled += labels
                .iter()
                .filter(|s| found.iter().any(|&(a, b)| a < s.end && s.start < b))
                .count();
            correct += found
                .iter()
                .filter(|&&(a, b)| labels.iter().any(|s| a < s.end && s.start < b))
                .count();
        }
        assert!(gold >= 20, "{entity}: only {gold} labelled");
        let recall = recalled as f64 / gold as f64;
        let precision = correct as f64 / reported.max(1) as f64;
        assert!(
            recall >= min_recall && precision >= min_precision,
            "{entity}: recall {recall:.3} precision {precision:.3}"
        );
    }
}

/// Text masked by every action Rampart has scans clean where it was
/// masked: its own tokens, pseudonyms and masks are never reported (the
/// documented workflow, mask then gate, must pass its own gate).
#[test]
fn rampart_s_own_masks_and_tokens_are_never_reported() {
    use rampart_pii::transform::{apply, Action, Generalise, Keys};
    let keys = Keys::new(&[7; 32]);
    let sample = include_str!("data/pii_sample.jsonl");
    let actions = [
        Action::Mask { keep: 4 },
        Action::Mask { keep: 0 },
        Action::Siv,
        Action::Hmac,
        Action::Replace,
        Action::Generalise {
            to: Generalise::Prefix(3),
        },
    ];
    let mut rewritten = 0;
    for action in &actions {
        for line in sample.lines() {
            let r: Record = serde_json::from_str(line).unwrap();
            let found = rampart_pii::disjoint(rampart_pii::scan(&r.text, None, 0.5));
            let (mut out, mut spans, mut at) = (String::new(), Vec::new(), 0);
            for m in &found {
                let Ok(Some(new)) =
                    apply(action, &r.text[m.start..m.end], m.entity, "c", Some(&keys))
                else {
                    continue;
                };
                out.push_str(&r.text[at..m.start]);
                spans.push((out.len(), out.len() + new.len()));
                out.push_str(&new);
                at = m.end;
                rewritten += 1;
            }
            out.push_str(&r.text[at..]);
            for m in rampart_pii::scan(&out, None, 0.5) {
                assert!(
                    !spans.iter().any(|&(a, b)| a < m.end && m.start < b),
                    "{action:?}: {} {:?} reported in {out:?}",
                    m.entity,
                    &out[m.start..m.end]
                );
            }
        }
    }
    assert!(rewritten > 1000, "{rewritten}");
    // A generalised postcode in a column named for postcodes.
    assert!(rampart_pii::columns::scan_cell("941**", "zip", 0.5).is_empty());
    assert!(!rampart_pii::columns::scan_cell("94110", "zip", 0.5).is_empty());
}
