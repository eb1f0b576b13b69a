//! Scanner speed per line of a text file, on one core: `cargo run
//! --release -p rampart-pii --example pii_speed -- FILE [PASSES]`.
//!
//! The first pass includes compiling the patterns and filling the lazy
//! automata's caches; a long scan amortises both, so the later passes
//! are the steady state. Prints the first pass and the median and
//! slowest of the rest.
fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: pii_speed FILE [PASSES]");
        std::process::exit(2);
    };
    let passes: usize = args.next().and_then(|p| p.parse().ok()).unwrap_or(5);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let mut speeds = Vec::new();
    let mut matches = 0;
    for _ in 0..=passes {
        let t = std::time::Instant::now();
        matches = text
            .lines()
            .map(|line| rampart_pii::scan(line, None, 0.5).len())
            .sum::<usize>();
        speeds.push(text.len() as f64 / t.elapsed().as_secs_f64() / 1e6);
    }
    let first = speeds.remove(0);
    speeds.sort_by(f64::total_cmp);
    let median = speeds.get(speeds.len() / 2).copied().unwrap_or(first);
    let slowest = speeds.first().copied().unwrap_or(first);
    println!(
        "{matches} matches, {:.1} MB; first pass {first:.1} MB/s, then median {median:.1} MB/s (slowest {slowest:.1}) over {passes} passes",
        text.len() as f64 / 1e6
    );
}
