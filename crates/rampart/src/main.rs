//! `rampart`: the command line over the Rampart libraries. It parses
//! arguments, loads the policy, calls a check, renders the report and sets
//! the exit code; the libraries do the work.

mod cli;
mod common;
mod crypt;
mod data;
mod demo;
mod eval;
mod ledger;
mod progress;
mod registry;
mod run;
mod scan;
mod serve;
mod sign;

use clap::Parser;
use std::process::ExitCode;

/// `rampart ... | head`: when the reader of stdout goes away, `println!`
/// panics on the broken pipe. That is not a bug to report with a
/// backtrace: stop quietly, as other command-line tools do (exit 141, the
/// shell's code for SIGPIPE).
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        // Either stream: `rampart run 2>&1 | head` closes stderr too.
        if message.contains("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        // The parquet and arrow crates, and libbz2-rs-sys, panic on some
        // malformed files, and tract on some models; rampart-table, the
        // scanner and rampart-eval catch those panics and report the file
        // as unreadable, so the panic itself is not printed.
        const CAUGHT: [&str; 4] = ["/parquet-", "/arrow-", "/libbz2-rs-sys-", "/tract-"];
        if info
            .location()
            .is_some_and(|l| CAUGHT.iter().any(|c| l.file().contains(c)))
        {
            return;
        }
        default(info);
    }));
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().map(std::io::Error::kind) == pipe
            || c.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == pipe
    })
}

/// mimalloc: per-thread heaps (the gateway's request path allocates on
/// every core without contending on glibc's arena locks), and freed pages
/// go back to the system (the buffers of 10,000 parked connections do not
/// stay in RSS as they do under glibc).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Errors that libraries make and drop in their hot paths (tract's
/// tree ensembles, per row) each capture a backtrace when
/// `RUST_BACKTRACE` is set, which made an evaluation ten times slower.
/// Rampart never prints an error's backtrace, so library errors capture
/// none unless `RUST_LIB_BACKTRACE` asks; panics keep theirs.
fn no_error_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // Before any thread starts: nothing reads the environment yet.
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}

fn main() -> ExitCode {
    no_error_backtraces();
    quiet_on_broken_pipe();
    let json = wants_json(std::env::args());
    let args = cli::Cli::parse();
    // Ctrl-C and SIGTERM leave no temporary file behind (SIGKILL's are
    // removed by the next run that writes beside them). The gateway
    // handles them itself: it drains requests and exits 0.
    if !args.serves() {
        let _ = ctrlc::set_handler(|| {
            rampart_core::remove_pending();
            std::process::exit(130);
        });
    }
    match cli::run(args) {
        Ok(code) => code,
        // Records that could not be read fail the gate like a finding
        // (exit 1), not like a broken command line: the file was read.
        // The reader of stdout went away (`| head`): stop quietly.
        Err(e) if broken_pipe(&e) => ExitCode::from(141),
        Err(e) if e.chain().any(rampart_gate::is_unread) => {
            eprintln!("FAIL DATA-UNREAD {}", error_chain(&e));
            json_error(json, "DATA-UNREAD", &e);
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            json_error(json, "error", &e);
            ExitCode::from(2)
        }
    }
}

/// Whether the command line asks for JSON output (`--json`, `--format
/// json`, `--format=json`).
fn wants_json(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.iter().any(|a| a == "--json" || a == "--format=json")
        || args
            .windows(2)
            .any(|w| matches!(w, [a, b] if a == "--format" && b == "json"))
}

/// A command asked for JSON gets JSON on stdout even when it fails, so
/// that a CI step parsing it sees the failure rather than empty input.
fn json_error(json: bool, code: &str, e: &anyhow::Error) {
    if json {
        let doc = serde_json::json!({
            "passed": false,
            "error": { "code": code, "message": error_chain(e) },
        });
        println!("{doc}");
    }
}

/// An error and its causes, joined by `: `, each said once.
fn error_chain(e: &anyhow::Error) -> String {
    rampart_gate::pipeline::chain(e.as_ref())
}
