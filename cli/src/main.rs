//! `salvage`: the command-line entry point of Salvage.
//!
//! Every command lives in its own file under `commands/`. Errors reach the
//! user as one line on standard error with exit status 1; no input may make
//! the binary panic.

mod client;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use commands::Command;

// The ledger builds and frees a JSON tree for every entry it verifies, on
// several threads at once; mimalloc does that markedly cheaper than glibc's
// allocator (about 15 % of ingest CPU time, measured in the history of docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Salvage: a traceability ledger for reused construction materials.
#[derive(Debug, Parser)]
#[command(name = "salvage", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with status 0; usage mistakes are
            // invalid input like any other: one line, status 1.
            if !error.use_stderr() {
                let _ = error.print();
                return ExitCode::SUCCESS;
            }
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("salvage: {} (see 'salvage --help')", first.trim_start_matches("error: "));
            return ExitCode::from(1);
        }
    };
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("salvage: {}", one_line(&error));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line, as scripts expect.
fn one_line(error: &anyhow::Error) -> String {
    format!("{error:#}").replace('\n', " ")
}
