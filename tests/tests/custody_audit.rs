//! `salvage audit --findings` as a certification body runs it (issue 29): issue 29's
//! kindergarten sequence (an asbestos-cement sheet registered as waste, offered to a builder,
//! received and installed in a kindergarten) on a ledger founded before the waste rules gives
//! both findings and fails; a scope selects items; `--sample 5` draws the same five for the same
//! checkpoint on two runs (two machines) and other five after one more record; the reports in
//! JSON, CSV and HTML (English and Latvian) say the same.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::process::{Command, Output};

use salvage_tests::node::{Running, Site};
use salvage_tests::salvage_binary;
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const SHEET: &str = "4750002ROOF-0001";

fn salvage(args: &[&str]) -> Output {
    Command::new(salvage_binary()).args(args).env_remove("SALVAGE_NODE").env_remove("SALVAGE_GENESIS").output().unwrap()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    })
}

#[test]
fn a_certifier_finds_asbestos_installed_in_a_kindergarten_on_a_ledger_from_before_the_waste_rules() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;
    let mut entries = f.kindergarten(SHEET);
    entries.extend(
        (1..=30).map(|n| f.register("baltic-demolition", &format!("4750001BEAM-{n:04}"), "HEA 160 steel beam", 182.4)),
    );
    assert_eq!(node.submit(&entries).status, 201);
    let url = format!("http://{}", node.address);
    let genesis = site.path("genesis.json");
    let genesis = genesis.to_str().unwrap();

    // The integrity audit is clean, and says what the waste rules would have refused.
    let integrity = salvage(&["audit", "--node", &url, "--genesis", genesis, "--json"]);
    assert!(integrity.status.success(), "{}", String::from_utf8_lossy(&integrity.stderr));
    let integrity = json_of(&integrity);
    assert_eq!(integrity["rules_would_refuse"], 2, "{integrity:#}");
    let codes: Vec<&str> =
        integrity["would_refuse"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["waste.recipient_not_handler", "waste.not_installable"]);

    // The custody audit of the builder's items finds both, and fails under the default scheme.
    let dir = tempfile::tempdir().unwrap();
    let (csv, html, html_lv) =
        (dir.path().join("findings.csv"), dir.path().join("report.html"), dir.path().join("lv.html"));
    let scoped = salvage(&[
        "audit",
        "--node",
        &url,
        "--genesis",
        genesis,
        "--scope",
        "member=timber-builders",
        "--json",
        "--csv",
        csv.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(scoped.status.code(), Some(1), "{}", String::from_utf8_lossy(&scoped.stderr));
    assert!(String::from_utf8_lossy(&scoped.stderr).contains("that Salvage default scheme counts as error"));
    let custody = json_of(&scoped)["custody"].clone();
    assert_eq!(custody["items_in_scope"], 1);
    assert_eq!(custody["verdict"], "fail");
    let found: Vec<&str> =
        custody["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(found.starts_with(&["finding.waste_to_non_handler", "finding.waste_installed"]), "{found:?}");
    // The JSON's message stays English whatever the language; the facts it is made of are beside it.
    let installed = &custody["findings"][1];
    assert_eq!(
        installed["message"],
        format!("{SHEET} is asbestos waste and was installed in Jelgava kindergarten Pasaciņa"),
        "{installed:#}"
    );
    assert_eq!(
        installed["params"],
        json!({"giai": SHEET, "marks": "waste 17 06 05*, asbestos", "building": "Jelgava kindergarten Pasaciņa"})
    );
    let holders: Vec<&str> =
        custody["chains"][0]["custody"].as_array().unwrap().iter().map(|h| h["member"].as_str().unwrap()).collect();
    assert_eq!(holders, ["riga-deconstruction", "timber-builders"]);
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("giai,code,severity,record,message\n"));
    assert!(csv.contains(&format!("{SHEET},finding.waste_installed,error,4,")), "{csv}");
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("Custody chains") && html.contains("finding.waste_installed") && !html.contains("<script"));
    let lv = salvage(&[
        "audit",
        "--node",
        &url,
        "--genesis",
        genesis,
        "--scope",
        "building=Jelgava kindergarten Pasaciņa",
        "--html",
        html_lv.to_str().unwrap(),
        "--lang",
        "lv",
    ]);
    assert_eq!(lv.status.code(), Some(1));
    let html_lv = std::fs::read_to_string(&html_lv).unwrap();
    assert!(html_lv.contains("Piegādes ķēdes") && html_lv.contains("bīstamie atkritumi"), "the Latvian section");
    assert!(html_lv.contains("taču tika iebūvēts ēkā Jelgava kindergarten Pasaciņa"), "a Latvian finding");
    assert!(!html_lv.contains("and was installed in"), "no English finding in the Latvian section");

    // The text report in Latvian: its labels and each finding's message; the CSV's messages too,
    // under the same English header.
    let csv_lv = dir.path().join("lv.csv");
    let text_lv = salvage(&[
        "audit",
        "--node",
        &url,
        "--genesis",
        genesis,
        "--scope",
        "member=timber-builders",
        "--lang",
        "lv",
        "--csv",
        csv_lv.to_str().unwrap(),
    ]);
    assert_eq!(text_lv.status.code(), Some(1), "{}", String::from_utf8_lossy(&text_lv.stderr));
    let stdout = String::from_utf8_lossy(&text_lv.stdout);
    assert!(stdout.contains("Piegādes ķēdes\n") && stdout.contains("neatbilst (kļūdas: "), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "finding.waste_installed {SHEET} ieraksts nr. 4: {SHEET} ir azbestu saturoši atkritumi, taču tika \
             iebūvēts ēkā Jelgava kindergarten Pasaciņa\n"
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("and was installed in") && !stdout.contains("no waste handler"), "{stdout}");
    let csv_lv = std::fs::read_to_string(&csv_lv).unwrap();
    assert!(csv_lv.starts_with("giai,code,severity,record,message\n"), "{csv_lv}");
    assert!(csv_lv.contains("kas nav atkritumu apsaimniekotājs") && !csv_lv.contains("no waste handler"), "{csv_lv}");

    // A typo in a scope costs no download and says what is wrong.
    let typo = salvage(&["audit", "--node", &url, "--genesis", genesis, "--scope", "membr=timber-builders"]);
    assert_eq!(typo.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("membr=timber-builders"),
        "{}",
        String::from_utf8_lossy(&typo.stderr)
    );

    // Sampling: five of the thirty beams, the same on two runs, keyed by the checkpoint's root;
    // one more record makes another checkpoint and another five.
    let sample = |url: &str| {
        let output = salvage(&[
            "audit",
            "--node",
            url,
            "--genesis",
            genesis,
            "--scope",
            "member=baltic-demolition",
            "--sample",
            "5",
            "--json",
        ]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        json_of(&output)["custody"]["sample"].clone()
    };
    let first = sample(&url);
    assert_eq!(first, sample(&url), "anyone drawing again gets the same five");
    assert_eq!(first["items"].as_array().unwrap().len(), 5);
    assert!(first["method"].as_str().unwrap().contains("BLAKE3 keyed hash"));
    assert_eq!(node.submit(&[f.register("riga-deconstruction", "4750002DOOR-0001", "Oak door", 35.0)]).status, 201);
    let after = sample(&url);
    assert_ne!(first["checkpoint_root"], after["checkpoint_root"]);
    assert_ne!(first["items"], after["items"], "a new root draws another sample");
}

#[test]
fn a_certifier_attests_a_round_of_inspections_from_a_csv_and_withdraws_one() {
    let site = Site::waste_rules(&[OPERATOR, "baltic-cert"]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;
    let beams: Vec<String> = (1..=3).map(|n| format!("4750001BEAM-{n:04}")).collect();
    let registered: Vec<_> =
        beams.iter().map(|giai| f.register("baltic-demolition", giai, "HEA 160 steel beam", 182.4)).collect();
    assert_eq!(node.submit(&registered).status, 201);
    let run = |args: &[&str]| site.salvage_as(&node, "baltic-cert").args(args).output().unwrap();

    // A row that breaks the schema: nothing is sent, and the row and field are named.
    let bad = site.path("bad.csv");
    std::fs::write(&bad, format!("giai,type,result,summary\n{},inspect,pass,Visual inspection\n", beams[0])).unwrap();
    let output = run(&["attest", "--batch", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("row 2, field /attestation/type") && stderr.contains("nothing was submitted"), "{stderr}");
    assert_eq!(node.get_json("/v1/status")["size"], 4, "nothing was recorded");

    // A round of three: the expired certificate is refused by the ledger (rules 2), the others recorded.
    let round = site.path("round.csv");
    std::fs::write(
        &round,
        format!(
            "GIAI,type,result,summary,standard,valid_until\n\
             {},inspection,pass,\"Ultrasonic thickness, no section loss\",EN 1090-2,2031-12-31\n\
             {},inspection,conditional,Surface rust: blast before reuse,EN 1090-2,\n\
             {},certification,pass,CE marking of the original delivery,,2020-01-01\n",
            beams[0], beams[1], beams[2]
        ),
    )
    .unwrap();
    let output = run(&["attest", "--batch", round.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stdout));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains(&format!("row 2: {} attested", beams[0]))
            && stdout.contains(&format!("row 3: {} attested", beams[1])),
        "{stdout}"
    );
    assert!(stderr.contains("row 4") && stderr.contains("attest.expired"), "{stderr}");
    let item = node.get_json(&format!("/v1/items/{}", beams[0]));
    let seq = item["item"]["attestations"][0]["seq"].as_u64().unwrap();

    // The certifier withdraws the first; the page and the audit say so.
    let output = run(&["attest", &beams[0], "--withdraw", &seq.to_string(), "--reason", "Measured the wrong beam"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let item = node.get_json(&format!("/v1/items/{}", beams[0]));
    assert!(item["item"]["attestations"][0]["withdrawn"].is_u64(), "{item:#}");
}

#[test]
fn a_certifier_signs_its_conclusion_and_the_items_bundle_carries_and_verifies_it() {
    let site = Site::waste_rules(&[OPERATOR, "baltic-cert"]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;
    let beams: Vec<String> = (1..=3).map(|n| format!("4750001BEAM-{n:04}")).collect();
    let mut entries: Vec<_> =
        beams.iter().map(|giai| f.register("baltic-demolition", giai, "HEA 160 steel beam", 182.4)).collect();
    entries.push(f.register("riga-deconstruction", "4750002DOOR-0001", "Oak door", 35.0));
    assert_eq!(node.submit(&entries).status, 201);
    let url = format!("http://{}", node.address);
    let genesis = site.path("genesis.json");
    let genesis = genesis.to_str().unwrap();
    let run = |args: &[&str]| site.salvage_as(&node, "baltic-cert").args(args).output().unwrap();
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).into_owned();

    // The certifier audits Baltic Demolition's items and keeps the JSON report as written.
    let audit =
        salvage(&["audit", "--node", &url, "--genesis", genesis, "--scope", "member=baltic-demolition", "--json"]);
    assert!(audit.status.success(), "{}", stderr(&audit));
    let report = site.path("report.json");
    std::fs::write(&report, &audit.stdout).unwrap();

    // A report whose checkpoint is not this ledger's is refused by the ledger.
    let mut forged: Value = json_of(&audit);
    forged["checkpoint"]["root"] = json!("5a".repeat(32));
    let forged_path = site.path("forged.json");
    std::fs::write(&forged_path, serde_json::to_vec_pretty(&forged).unwrap()).unwrap();
    let refused = run(&["conclude", forged_path.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("audit.checkpoint_mismatch"), "{}", stderr(&refused));
    let size = node.get_json("/v1/status")["size"].as_u64().unwrap();

    // The real one is recorded, and every beam's history holds it.
    let concluded = run(&["conclude", report.to_str().unwrap()]);
    assert!(concluded.status.success(), "{}", stderr(&concluded));
    assert_eq!(node.get_json("/v1/status")["size"].as_u64().unwrap(), size + 1);
    let history = node.get_json(&format!("/v1/items/{}", beams[0]))["history"].clone();
    assert!(history.to_string().contains("audit.conclusion"), "{history:#}");

    // An audit against an earlier checkpoint judges the ledger that checkpoint names, not the
    // records the node took since: the beam registered after it is in no chain, and the
    // conclusion of that report is accepted.
    let earlier = site.path("earlier-checkpoint.txt");
    std::fs::write(&earlier, node.get("/v1/checkpoint").text()).unwrap();
    assert_eq!(
        node.submit(&[f.register("baltic-demolition", "4750001BEAM-0009", "HEA 160 steel beam", 182.4)]).status,
        201
    );
    let earlier_audit = salvage(&[
        "audit",
        "--node",
        &url,
        "--genesis",
        genesis,
        "--checkpoint",
        earlier.to_str().unwrap(),
        "--scope",
        "member=baltic-demolition",
        "--json",
    ]);
    assert!(earlier_audit.status.success(), "{}", stderr(&earlier_audit));
    let chains = json_of(&earlier_audit)["custody"]["chains"].as_array().unwrap().len();
    assert_eq!(chains, beams.len(), "only the beams registered before the earlier checkpoint");
    let earlier_report = site.path("earlier-report.json");
    std::fs::write(&earlier_report, &earlier_audit.stdout).unwrap();
    let concluded = run(&["conclude", earlier_report.to_str().unwrap()]);
    assert!(concluded.status.success(), "{}", stderr(&concluded));

    // The beam's bundle carries the conclusion with its consistency proof; it verifies offline,
    // and so does the report, byte for byte.
    let bundle = site.path("beam.json");
    let written = salvage(&["bundle", &beams[0], "--out", bundle.to_str().unwrap(), "--node", &url]);
    assert!(written.status.success(), "{}", stderr(&written));
    let verified =
        salvage(&["verify", bundle.to_str().unwrap(), "--genesis", genesis, "--report", report.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{stdout}{}", stderr(&verified));
    assert!(stdout.contains("by baltic-cert") && stdout.contains("no findings for this item"), "{stdout}");

    // An edited report, or a conclusion stripped of its proof, does not verify.
    let edited = site.path("edited.json");
    std::fs::write(&edited, [audit.stdout.as_slice(), b" "].concat()).unwrap();
    let mismatch =
        salvage(&["verify", bundle.to_str().unwrap(), "--genesis", genesis, "--report", edited.to_str().unwrap()]);
    assert_eq!(mismatch.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&mismatch.stdout).contains("audit.report_mismatch"));
    let mut stripped: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    for record in stripped["records"].as_array_mut().unwrap() {
        record.as_object_mut().unwrap().remove("consistency");
    }
    std::fs::write(&bundle, serde_json::to_vec(&stripped).unwrap()).unwrap();
    let unproven = salvage(&["verify", bundle.to_str().unwrap(), "--genesis", genesis]);
    assert_eq!(unproven.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unproven.stdout).contains("proof.consistency"));
}
