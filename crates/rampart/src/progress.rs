//! What the user sees while work runs: byte bars and spinners on stderr,
//! drawn only when stderr is a terminal (CI logs stay clean).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rampart_core::Progress;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

/// A byte-based progress bar.
#[derive(Clone)]
pub struct Bar(ProgressBar);

impl Bar {
    pub fn new(enabled: bool) -> Self {
        let target = if enabled && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let pb = ProgressBar::with_draw_target(Some(0), target);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {percent}% ({bytes_per_sec}, {eta}) {wide_msg}",
        ) {
            pb.set_style(style);
        }
        Bar(pb)
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn add_total(&self, bytes: u64) {
        self.0.inc_length(bytes);
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn set_message(&self, msg: &str) {
        self.0.set_message(msg.to_string());
    }
}

/// Runs `work` with a byte bar on stderr (unless `!show`), cleared when
/// it ends.
pub fn with_bar<T, E: Into<anyhow::Error>>(
    show: bool,
    work: impl FnOnce(&Bar) -> Result<T, E>,
) -> anyhow::Result<T> {
    let bar = Bar::new(show);
    let done = work(&bar);
    bar.finish();
    done.map_err(Into::into)
}

/// Runs `gate` under `policy` with a byte bar (unless `!show`).
pub fn run_gate(
    gate: &dyn rampart_gate::Gate,
    policy: &rampart_core::Policy,
    show: bool,
) -> anyhow::Result<rampart_gate::Outcome> {
    with_bar(show, |bar| {
        gate.run(&rampart_gate::Context {
            policy,
            progress: bar,
            watch: &rampart_dataset::Quiet,
        })
    })
}

/// A spinner with the elapsed time, for work whose total is not known.
pub fn spinner(message: &str) -> ProgressBar {
    let pb = if std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_msg}") {
        pb.set_style(style);
    }
    pb.set_message(message.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// The data engines' reads as byte bars, their steps as spinners.
#[derive(Default)]
pub struct Watch(Mutex<Option<ProgressBar>>);

impl Watch {
    fn show(&self, pb: ProgressBar) {
        if let Ok(mut slot) = self.0.lock() {
            if let Some(old) = slot.replace(pb) {
                old.finish_and_clear();
            }
        }
    }
}

impl rampart_dataset::Watch for Watch {
    fn read(&self, message: &str) -> Option<rampart_table::ProgressHook> {
        let bar = Bar::new(true);
        bar.set_message(message);
        self.show(bar.0.clone());
        Some(rampart_table::ProgressHook(Arc::new(bar)))
    }
    fn step(&self, message: &str) {
        self.show(spinner(message));
    }
    fn done(&self) {
        if let Some(pb) = self.0.lock().ok().and_then(|mut s| s.take()) {
            pb.finish_and_clear();
        }
    }
}
