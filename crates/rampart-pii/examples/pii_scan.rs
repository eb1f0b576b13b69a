//! Prints what the scanner finds in each argument: `cargo run -p
//! rampart-pii --example pii_scan -- "text"`.
fn main() {
    for text in std::env::args().skip(1) {
        for m in rampart_pii::scan_text(&text) {
            println!(
                "{:<16} {:.2} {:?}",
                m.entity,
                m.score,
                &text[m.start..m.end]
            );
        }
    }
}
