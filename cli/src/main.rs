//! `tradescan`: a thin command line over the `tradescan` engine.
//!
//! Exit codes: 0 success, 1 reserved for "findings at or above a threshold", 2 error.

mod args;
mod commands;
mod progress;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("tradescan: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
