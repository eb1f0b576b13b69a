//! The HTML section of an evaluation: tables and inline SVG plots (the
//! calibration curve, selection rates by group, the attacks' perturbation
//! histograms), with no external assets, for `rampart run --format html`
//! and `rampart eval --html`.

use crate::eval::EvalRun;
use crate::render::xml;
use std::fmt::Write;

const W: f64 = 320.0;
const H: f64 = 200.0;
const PAD: f64 = 30.0;

/// The section for one evaluation.
pub fn section(run: &EvalRun) -> String {
    let e = &run.evaluation;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<div class=\"eval\"><p><code>{}</code> (sha256 {}) on <code>{}</code> (sha256 {}): {} rows</p>",
        xml(&e.model.path.display().to_string()),
        xml(&e.model.sha256),
        xml(&e.data.path.display().to_string()),
        xml(&e.data.sha256),
        e.rows
    );
    let pct = e.bootstrap.confidence * 100.0;
    let _ = writeln!(
        s,
        "<table><tr><th>metric</th><th>value</th><th>{pct:.0}% interval</th></tr>"
    );
    for m in &e.metrics {
        let v = m.value.map_or("-".into(), |v| format!("{v:.4}"));
        let ci = match (m.low, m.high) {
            (Some(l), Some(h)) => format!("[{l:.4}, {h:.4}]"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{v}</td><td>{ci}</td></tr>",
            m.metric.name()
        );
    }
    s.push_str("</table>\n");
    if !run.verdict.judged.is_empty() {
        s.push_str("<table><tr><th>threshold</th><th>observed</th><th>result</th></tr>\n");
        for j in &run.verdict.judged {
            let t = j.threshold;
            let sign = match t.bound {
                rampart_eval::Bound::Min => "&ge;",
                rampart_eval::Bound::Max => "&le;",
            };
            let _ = writeln!(
                s,
                "<tr><td>{} {sign} {}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                t.measure.name(),
                t.value,
                j.observed.map_or("undefined".into(), |v| format!("{v:.4}")),
                if j.passed { "ok" } else { "fail" },
                if j.passed { "pass" } else { "FAIL" }
            );
        }
        s.push_str("</table>\n");
    }
    if !e.calibration.is_empty() {
        s.push_str("<h4>Calibration</h4>\n");
        s.push_str(&calibration(&e.calibration));
    }
    if let Some(f) = &e.fairness {
        let _ = writeln!(
            s,
            "<h4>Selection rate by {}</h4>",
            xml(&f.sensitive_features.join(" x "))
        );
        let bars: Vec<(String, f64, bool)> = f
            .groups
            .iter()
            .map(|g| {
                (
                    format!("{} ({} rows)", f.values_of(g), g.count),
                    g.selection_rate,
                    g.small,
                )
            })
            .collect();
        s.push_str(&bars_svg(&bars));
        s.push_str("<table><tr><th>aggregate</th><th>value</th></tr>\n");
        for (a, v) in &f.aggregates {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td></tr>",
                a.name(),
                v.map_or("undefined".into(), |v| format!("{v:.4}"))
            );
        }
        s.push_str("</table>\n");
    }
    for r in &e.robustness {
        let _ = writeln!(
            s,
            "<h4>Attack {}: {} of {} turned ({}), {} queries per row</h4>",
            r.attack.name(),
            r.succeeded,
            r.attacked,
            r.success_rate
                .map_or("no rate".into(), |v| format!("{:.1}%", v * 100.0)),
            r.queries_per_input
        );
        let _ = writeln!(
            s,
            "<p>median L2 {}, median L&infin; {}, median features changed {}</p>",
            r.l2.median.map_or("-".into(), |v| format!("{v:.4}")),
            r.linf.median.map_or("-".into(), |v| format!("{v:.4}")),
            r.changed.median.map_or("-".into(), |v| format!("{v:.0}"))
        );
        if r.succeeded > 0 {
            s.push_str(&histogram(&r.l2_histogram, r.l2.max.unwrap_or(0.0)));
        }
    }
    s.push_str("</div>\n");
    s
}

fn svg_open(w: f64, h: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\"><title>{}</title>\n",
        xml(title)
    )
}

/// Accuracy against confidence per bin, beside the diagonal of perfect
/// calibration.
fn calibration(bins: &[rampart_eval::metrics::CalibrationBin]) -> String {
    let side = H;
    let at = |c: f64, a: f64| {
        (
            PAD + c.clamp(0.0, 1.0) * (side - 2.0 * PAD),
            side - PAD - a.clamp(0.0, 1.0) * (side - 2.0 * PAD),
        )
    };
    let mut s = svg_open(side, side, "calibration curve: accuracy by confidence");
    let (x0, y0) = at(0.0, 0.0);
    let (x1, y1) = at(1.0, 1.0);
    let _ = writeln!(
        s,
        "<rect x=\"{x0}\" y=\"{y1}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/><line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"#bbb\" stroke-dasharray=\"4\"/>",
        x1 - x0,
        y0 - y1
    );
    let points: Vec<String> = bins
        .iter()
        .filter(|b| b.rows > 0)
        .map(|b| {
            let (x, y) = at(b.confidence, b.accuracy);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let _ = writeln!(
        s,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\"/>",
        points.join(" ")
    );
    for p in &points {
        if let Some((x, y)) = p.split_once(',') {
            let _ = writeln!(
                s,
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"#1f5fbf\"/>"
            );
        }
    }
    let _ = writeln!(
        s,
        "<text x=\"{x0}\" y=\"{}\" font-size=\"10\">confidence</text><text x=\"2\" y=\"{}\" font-size=\"10\">accuracy</text></svg>",
        side - 8.0,
        PAD - 8.0
    );
    s
}

/// Horizontal bars, one per group (small groups grey).
fn bars_svg(bars: &[(String, f64, bool)]) -> String {
    let row = 18.0;
    let label = 220.0;
    let h = row * bars.len() as f64 + 10.0;
    let w = label + W;
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-9);
    let mut s = svg_open(w, h, "selection rate by group");
    for (i, (name, v, small)) in bars.iter().enumerate() {
        let y = 5.0 + i as f64 * row;
        let len = (v / max) * (W - 60.0);
        let _ = writeln!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"11\">{}</text><rect x=\"{label}\" y=\"{y}\" width=\"{len:.1}\" height=\"{}\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"11\">{v:.3}</text>",
            y + 12.0,
            xml(name),
            row - 4.0,
            if *small { "#bbb" } else { "#1f5fbf" },
            label + len + 4.0,
            y + 12.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Counts in equal bins from 0 to `max`.
fn histogram(counts: &[u64], max: f64) -> String {
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = counts.len().max(1) as f64;
    let bw = (W - 2.0 * PAD) / n;
    let mut s = svg_open(W, H, "successful perturbations by L2 size");
    for (i, &c) in counts.iter().enumerate() {
        let bh = c as f64 / top * (H - 2.0 * PAD);
        let _ = writeln!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#b05a1f\"><title>{c}</title></rect>",
            PAD + i as f64 * bw,
            H - PAD - bh,
            (bw - 1.0).max(1.0)
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{PAD}\" y=\"{}\" font-size=\"10\">0</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">L2 {max:.3}</text></svg>",
        H - 12.0,
        W - PAD,
        H - 12.0
    );
    s
}
