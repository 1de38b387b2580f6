//! A command whose reader has gone away (`salvage … | head`) ends quietly with
//! status 0, as Unix tools do, and one that cannot write its output (a full
//! disk) says so and exits 1; neither panics.

use std::process::{Output, Stdio};

use salvage_tests::salvage_command;

/// Commands that print and end, covering the three ways of printing (a line, raw
/// text, a multi-line answer).
const PRINTING: &[&[&str]] = &[
    &["version"],
    &["epc", "decode", "3434257BF40000000000162E"],
    &["dl", "build", "(8004)4750001BEAM-0001", "--domain", "id.gs1.org"],
];

fn run_with_stdout(args: &[&str], stdout: Stdio) -> Output {
    salvage_command()
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|error| panic!("salvage {args:?} did not run: {error}"))
}

#[test]
fn a_reader_that_has_gone_ends_the_command_quietly() {
    for args in PRINTING {
        // The pipe's reading end is closed before the command starts, so its
        // very first write meets a broken pipe, every time.
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let output = run_with_stdout(args, Stdio::from(writer));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "salvage {args:?}: {:?}, stderr: {stderr}", output.status);
        assert!(stderr.is_empty(), "salvage {args:?} wrote to stderr: {stderr}");
    }
}

#[test]
fn output_that_cannot_be_written_is_an_error_not_a_panic() {
    for args in PRINTING {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let output = run_with_stdout(args, Stdio::from(full));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "salvage {args:?}, stderr: {stderr}");
        assert!(stderr.starts_with("salvage: cannot write the output"), "salvage {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "salvage {args:?}: {stderr}");
    }
}

#[test]
fn with_a_reader_the_output_is_whole() {
    let output = run_with_stdout(&["dl", "build", "(8004)4750001BEAM-0001", "--domain", "id.gs1.org"], Stdio::piped());
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(printed.ends_with('\n') && printed.contains("/8004/4750001BEAM-0001"), "{printed}");
}
