//! A consortium built with nothing but the `salvage` binary: keys, a signed
//! genesis, a node, and membership changes over the API.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use salvage_tests::node::Running;
use salvage_tests::{salvage_binary, salvage_command};
use serde_json::json;

fn salvage(dir: &Path, args: &[&str]) -> Output {
    let mut command = salvage_command();
    command.current_dir(dir).args(args);
    command.output().unwrap()
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_new_consortium_is_founded_served_and_grows_with_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let key = |name: &str| ok(salvage(dir, &["key", "new", "--out", &format!("{name}.pem")])).trim().to_owned();
    let (city, contractor, hub, lab) = (key("city"), key("contractor"), key("hub"), key("lab"));
    let members = json!([
        {"id": "city-of-ljubljana", "name": "City of Ljubljana", "roles": ["admin", "operator"], "keys": [city]},
        {"id": "gradbeni-odpad", "name": "Gradbeni Odpad d.o.o.", "roles": ["contractor", "holder"], "keys": [contractor]},
        {"id": "reuse-centre", "name": "Reuse Centre Ljubljana", "roles": ["holder"], "keys": [hub]},
    ]);
    std::fs::write(dir.join("members.json"), members.to_string()).unwrap();

    // The genesis needs its admins' signatures; a threshold above them is refused.
    let refused = salvage(
        dir,
        &[
            "init",
            "--consortium",
            "Ljubljana Reuse",
            "--country",
            "SI",
            "--members",
            "members.json",
            "--threshold",
            "2",
            "--key",
            "city.pem",
            "--out",
            "genesis.json",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(!dir.join("genesis.json").exists());
    let printed = ok(salvage(
        dir,
        &[
            "init",
            "--consortium",
            "Ljubljana Reuse",
            "--country",
            "SI",
            "--members",
            "members.json",
            "--key",
            "city.pem",
            "--out",
            "genesis.json",
        ],
    ));
    assert!(printed.starts_with("genesis of ledger "), "{printed}");
    let again = salvage(
        dir,
        &["init", "--consortium", "Other", "--members", "members.json", "--key", "city.pem", "--out", "genesis.json"],
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"));

    let mut node = Command::new(salvage_binary());
    node.current_dir(dir)
        .args([
            "node",
            "--genesis",
            "genesis.json",
            "--data",
            "ledger",
            "--key",
            "city.pem",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://reuse.ljubljana.example",
        ])
        .env_remove("SALVAGE_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let node = Running::start(node);
    let url = format!("http://{}", node.address);

    // A certification lab joins; only admins may admit it.
    let add = [
        "member",
        "add",
        "zag-lab",
        "--name",
        "ZAG Building Lab",
        "--role",
        "certifier",
        "--public-key",
        &lab,
        "--node",
        &url,
    ];
    let refused = salvage(dir, &[&add[..], &["--key", "hub.pem"]].concat());
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("admin.threshold_not_met"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    ok(salvage(dir, &[&add[..], &["--key", "city.pem"]].concat()));
    // The hub renames itself and rotates its key; then revokes nothing else it needs.
    let new_hub = key("hub-2026");
    ok(salvage(
        dir,
        &[
            "member",
            "update",
            "reuse-centre",
            "--name",
            "Reuse Centre Ljubljana d.o.o.",
            "--add-key",
            &new_hub,
            "--revoke-key",
            &hub,
            "--key",
            "hub.pem",
            "--node",
            &url,
        ],
    ));
    let old_key =
        salvage(dir, &["member", "update", "reuse-centre", "--name", "x", "--key", "hub.pem", "--node", &url]);
    assert!(String::from_utf8_lossy(&old_key.stderr).contains("signature.key_revoked"));
    let nothing = salvage(dir, &["member", "update", "reuse-centre", "--key", "hub-2026.pem", "--node", &url]);
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("nothing to change"));
    // The lab's key is lost: the city's admin revokes it... but the lab would have none left.
    let last = salvage(dir, &["member", "revoke", "zag-lab", &lab, "--key", "city.pem", "--node", &url]);
    assert!(
        String::from_utf8_lossy(&last.stderr).contains("member.last_key"),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );

    let members: serde_json::Value = node.get_json("/v1/members");
    let text = members.to_string();
    assert!(text.contains("zag-lab") && text.contains("Reuse Centre Ljubljana d.o.o."), "{text}");
    assert_eq!(node.get_json("/v1/status")["size"], 3);
    node.terminate();
}
