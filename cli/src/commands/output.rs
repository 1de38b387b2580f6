//! Standard output for commands that print and end.
//!
//! `println!` panics when the reader of the output has gone away, as in
//! `salvage history GIAI | head -3`: Rust ignores SIGPIPE, so the write fails
//! with `BrokenPipe` instead of ending the process quietly as Unix tools do.
//! [`say!`] and [`say_raw!`] write like `println!` and `print!`, but end the
//! command with status 0 when the reader has gone (nobody is left to read
//! anything more), and with status 1 and a message on any other failure
//! (a full disk behind a redirect). Commands that go on to serve (`node`,
//! `demo`) use [`announce!`] instead, which ignores a reader that has gone: the
//! node keeps serving whoever reads its output.

use std::fmt;
use std::io::{ErrorKind, Write};

/// Writes a line on standard output (see the module doc).
macro_rules! say {
    () => {
        $crate::commands::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::commands::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes on standard output without adding a newline (see the module doc).
macro_rules! say_raw {
    ($($arg:tt)*) => {
        $crate::commands::output::write_stdout(format_args!($($arg)*))
    };
}

/// Writes a line on standard output if anyone reads it, and carries on either way
/// (see the module doc).
macro_rules! announce {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*).and_then(|()| out.flush());
    }};
}

/// Writes `text` on standard output and flushes it; see the module doc for failures.
pub(crate) fn write_stdout(text: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(text).and_then(|()| out.flush());
    if let Err(error) = written {
        if error.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("salvage: cannot write the output: {error}");
        std::process::exit(1);
    }
}
