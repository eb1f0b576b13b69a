//! `rampart`: the command line over the Rampart libraries. It parses
//! arguments, loads the policy, calls a check, renders the report and sets
//! the exit code; the libraries do the work.

mod attest;
mod cli;
mod crypt;
mod data;
mod demo;
mod ledger;
mod pipeline;
mod progress;
mod signing;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
