//! The README's commands, run as written: the walkthrough against `salvage
//! demo`, the node's configuration file, and the identifier commands.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::process::{Command, Stdio};

use salvage_tests::node::{Running, Site};
use salvage_tests::{salvage_binary, salvage_command};

const README: &str = include_str!("../../README.md");

/// The first fenced block in `language` after the line `heading`.
fn block_after(heading: &str, language: &str) -> String {
    let (_, after) =
        README.split_once(&format!("\n{heading}\n")).unwrap_or_else(|| panic!("the README has {heading:?}"));
    let (_, block) = after
        .split_once(&format!("```{language}\n"))
        .unwrap_or_else(|| panic!("a {language} block follows {heading:?}"));
    let (text, _) = block.split_once("\n```").expect("the block ends");
    text.to_owned()
}

/// `PATH` with the directory of the `salvage` binary under test first.
fn path_with_salvage() -> String {
    format!("{}:{}", salvage_binary().parent().unwrap().display(), std::env::var("PATH").unwrap_or_default())
}

/// The shell blocks that follow the `<!-- walkthrough -->` marker.
fn walkthrough() -> String {
    let (_, after) = README.split_once("<!-- walkthrough -->").expect("the README marks its walkthrough");
    let (_, block) = after.split_once("```sh\n").expect("a shell block follows the marker");
    let (script, _) = block.split_once("\n```").expect("the block ends");
    script.to_owned()
}

#[test]
fn the_readme_walkthrough_runs_against_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let mut demo = salvage_command();
    demo.current_dir(dir.path())
        .args(["demo", "--listen", &address])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let node = Running::start(demo);

    // The README's address is the demo's default; this test's demo listens elsewhere.
    let script = walkthrough().replace("127.0.0.1:8080", &address);
    let output = Command::new("bash")
        .current_dir(dir.path())
        .args(["-euo", "pipefail", "-c", &script])
        .env("PATH", path_with_salvage())
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

#[test]
fn the_readme_node_configuration_starts_a_node() {
    // The README's file as written, but for the two things a test cannot take:
    // /var/lib and port 8080. The data path becomes relative, which the
    // README says is relative to the file.
    let site = Site::new(&["city-of-jelgava"]);
    std::fs::create_dir(site.path("keys")).unwrap();
    std::fs::rename(site.path("city-of-jelgava.pem"), site.path("keys/city-of-jelgava.pem")).unwrap();
    let config = block_after("## Running a node", "toml");
    assert!(
        config.contains("data = \"/var/lib/salvage/ledger\"") && config.contains("listen = \"0.0.0.0:8080\""),
        "{config}"
    );
    let config = config.replace("/var/lib/salvage/ledger", "ledger").replace("0.0.0.0:8080", "127.0.0.1:0");
    std::fs::write(site.path("node.toml"), config).unwrap();

    let command_line = block_after("## Running a node", "sh");
    assert_eq!(command_line, "salvage node --config /etc/salvage/node.toml");
    let command_line = command_line.replace("/etc/salvage/node.toml", site.path("node.toml").to_str().unwrap());
    let mut shell = Command::new("bash");
    shell
        .args(["-c", &format!("exec {command_line}")])
        .env("PATH", path_with_salvage())
        .env_remove("SALVAGE_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let node = Running::start(shell);
    let status = node.get_json("/v1/status");
    assert_eq!(status["node"], "city-of-jelgava", "{status}");
    assert_eq!(status["size"], 1);
    assert!(site.path("ledger").is_dir(), "the data directory is relative to the file");
    let register = site.fixture.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 182.4);
    assert_eq!(node.submit_one(&register).status, 201);
    let linkset = node.get_json("/8004/4750001BEAM-0001?linkType=all");
    assert!(
        linkset.to_string().contains("https://passports.jelgava.example/8004/4750001BEAM-0001"),
        "public_url is used: {linkset}"
    );
    let too_big = node.request("POST", "/v1/entries", &vec![b' '; 4 * 1024 * 1024 + 1]);
    assert_eq!(too_big.status, 413, "body_limit = \"4 MiB\" holds");
    let (status, log) = node.terminate();
    assert!(status.success(), "{log}");
}

#[test]
fn the_readme_identifier_commands_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    // The inventory the labels command names, with the columns the README gives.
    std::fs::write(
        dir.path().join("inventory.csv"),
        "giai,name\n4750001BEAM-0001,HEA 160 steel beam\n4750002DOOR-0100,Oak door\n",
    )
    .unwrap();
    let script = block_after("## Identifiers: GS1 Digital Link, EPC and labels", "sh");
    let output = Command::new("bash")
        .current_dir(dir.path())
        .args(["-euo", "pipefail", "-c", &script])
        .env("PATH", path_with_salvage())
        .env_remove("SALVAGE_RESOLVER")
        .env_remove("SALVAGE_CONSORTIUM")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the identifier commands failed:\n{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // What the README's comments promise.
    assert!(
        printed.lines().any(|line| line == "3474257BF40000000000162E"),
        "epc encode prints the hex the README shows: {printed}"
    );
    assert!(printed.contains("urn:epc:tag:giai-96:3.0614141.5678"), "{printed}");
    assert!(printed.contains("https://id.salvage.example/8004/4750001BEAM-0001"), "{printed}");
    assert!(printed.contains("(01)09520123456788(10)ABC1(21)12345(17)180426"), "{printed}");
    assert!(std::fs::read(dir.path().join("beam.png")).unwrap().starts_with(b"\x89PNG"));
    assert!(std::fs::read(dir.path().join("labels.pdf")).unwrap().starts_with(b"%PDF"));
}
