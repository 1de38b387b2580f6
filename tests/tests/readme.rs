//! The README's walkthrough, run exactly as written: every command a reader is
//! told to type works against `salvage demo`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::process::{Command, Stdio};

use salvage_tests::node::Running;
use salvage_tests::{salvage_binary, salvage_command};

/// The shell blocks that follow the `<!-- walkthrough -->` marker.
fn walkthrough() -> String {
    let readme = include_str!("../../README.md");
    let (_, after) = readme.split_once("<!-- walkthrough -->").expect("the README marks its walkthrough");
    let (_, block) = after.split_once("```sh\n").expect("a shell block follows the marker");
    let (script, _) = block.split_once("\n```").expect("the block ends");
    script.to_owned()
}

#[test]
fn the_readme_walkthrough_runs_against_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let binary = salvage_binary();
    let mut demo = salvage_command();
    demo.current_dir(dir.path()).args(["demo", "--listen", &address]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let node = Running::start(demo);

    // The README's address is the demo's default; this test's demo listens elsewhere.
    let script = walkthrough().replace("127.0.0.1:8080", &address);
    let path = format!("{}:{}", binary.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let output = Command::new("bash")
        .current_dir(dir.path())
        .args(["-euo", "pipefail", "-c", &script])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the walkthrough failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("registered 2 items"), "{printed}");
    for file in ["labels.pdf", "door.png", "door.bundle.json", "checkpoint.txt", "door.epcis.json", "audit.html"] {
        assert!(dir.path().join(file).metadata().is_ok_and(|meta| meta.len() > 0), "{file} was written");
    }
    let door = node.get_json("/v1/items/4750002DOOR-0100");
    assert_eq!(door["item"]["custodian"], "jelgava-reuse-hub");
    assert_eq!(door["item"]["attestations"].as_array().map(Vec::len), Some(1));
    node.terminate();
}
