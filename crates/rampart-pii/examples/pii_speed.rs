//! Scanner speed per line of a text file: `cargo run --release -p
//! rampart-pii --example pii_speed -- FILE`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let t = std::time::Instant::now();
    let mut n = 0;
    for line in text.lines() {
        n += rampart_pii::scan(line, None, 0.5).len();
    }
    let s = t.elapsed().as_secs_f64();
    println!("{n} matches, {:.1} MB/s", text.len() as f64 / s / 1e6);
}
