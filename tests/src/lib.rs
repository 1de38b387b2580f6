//! Support for the end-to-end tests in `tests/tests/` and the load generator:
//! a consortium site on disk and the real `salvage` binary started as a node.
//!
//! The tests drive the binary that `cargo test --workspace` builds (the CLI's
//! own integration tests make cargo build it); [`salvage_binary`] finds it
//! next to the test executable.
#![deny(missing_docs)]

pub mod auditor;
pub mod browser;
pub mod cluster;
pub mod epc_decoder;
pub mod http;
pub mod node;
pub mod random;

use std::path::PathBuf;
use std::process::Command;

/// Overrides where the `salvage` binary is looked for.
pub const SALVAGE_BIN_ENV: &str = "SALVAGE_BIN";

/// The `salvage` binary of this build: `$SALVAGE_BIN`, or `salvage` in the
/// profile directory of the running executable (`target/<profile>/`, whether
/// the executable is a test in `deps/` or a binary beside it).
///
/// # Panics
///
/// When there is no such file, with the command that builds it: a test
/// cannot do anything useful without the binary under test.
pub fn salvage_binary() -> PathBuf {
    if let Some(path) = std::env::var_os(SALVAGE_BIN_ENV) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap_or_else(|error| panic!("cannot find the running executable: {error}"));
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let binary = dir.join("salvage");
    assert!(
        binary.is_file(),
        "{} does not exist: build it with `cargo build -p salvage-cli` (same profile), or run `cargo test --workspace`, or set {SALVAGE_BIN_ENV}",
        binary.display()
    );
    binary
}

/// A port that was free a moment ago on 127.0.0.1, for a process that must know its address
/// before it listens (`salvage demo` prints URLs with it, so it cannot listen on port 0).
///
/// # Panics
///
/// When no port can be bound on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| panic!("no free port on 127.0.0.1: {error}"))
}

/// The `salvage` binary as a command that inherits none of the running
/// test's own `SALVAGE_*` settings, so a developer's environment cannot change
/// what a test sees.
pub fn salvage_command() -> Command {
    let mut command = Command::new(salvage_binary());
    for (name, _) in std::env::vars_os().filter(|(name, _)| name.to_string_lossy().starts_with("SALVAGE_")) {
        command.env_remove(name);
    }
    command
}
