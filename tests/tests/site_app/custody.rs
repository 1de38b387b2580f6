//! Custody from phone to phone: a contractor's phone transfers a beam and a door to the reuse
//! hub's phone, which receives the beam and declines the door; the certifier's phone attests
//! the beam; a phone added from another phone is later lost, revoked from the other, and its
//! next entry is refused.

use super::*;

const BEAM: &str = "4750001BEAM-0042";
const DOOR: &str = "4750001DOOR-0007";

#[tokio::test]
async fn phones_transfer_receive_attest_and_a_lost_phone_is_revoked() {
    let site = Site::new(&["city-of-jelgava", "baltic-demolition", "reuse-hub", "baltic-cert"]);
    let node = Running::start(site.node("city-of-jelgava"));
    let fixture = &site.fixture;
    let answer = node.submit(&[
        fixture.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.5),
        fixture.register("baltic-demolition", DOOR, "Oak door", 41.0),
    ]);
    assert_eq!(answer.status, 201, "{}", answer.text());

    // The contractor's phone offers the beam to the hub; the actions it may not take say why.
    let contractor = App::open(&node, PhoneOptions::default()).await;
    contractor.enrol(&site, &node, "baltic-demolition").await;
    contractor.go(&format!("#/item/{BEAM}")).await;
    contractor.wait_text("What you can do").await;
    let receive_refused = contractor
        .wait("return document.querySelector('[data-action=receive] .reason')?.dataset.code", "receive's reason")
        .await;
    assert_eq!(receive_refused, "custody.no_pending_transfer");
    contractor.press("Transfer").await;
    contractor.choose("To whom", "reuse-hub").await;
    contractor.press("Sign and send").await;
    assert_eq!(contractor.outcome().await.0, "accepted");
    assert_eq!(node.get_json(&format!("/v1/items/{BEAM}"))["item"]["pending"]["to"], "reuse-hub");
    contractor.go(&format!("#/item/{DOOR}")).await;
    contractor.press("Transfer").await;
    contractor.choose("To whom", "reuse-hub").await;
    contractor.press("Sign and send").await;
    assert_eq!(contractor.outcome().await.0, "accepted");

    // A second browser profile: the hub's phone finds the offer in its inbox and receives it.
    let hub = App::open(&node, PhoneOptions::default()).await;
    hub.enrol(&site, &node, "reuse-hub").await;
    hub.go("#/inbox").await;
    hub.wait(&format!("return document.querySelector('[data-giai=\"{DOOR}\"]') !== null"), "the offers").await;
    hub.press_in(&format!("li[data-giai='{BEAM}']"), "Receive").await;
    assert_eq!(hub.outcome().await.0, "accepted");
    assert_eq!(node.get_json(&format!("/v1/items/{BEAM}"))["item"]["custodian"], "reuse-hub");
    // The door is declined: the offer ends, the contractor keeps it.
    hub.press_in(&format!("li[data-giai='{DOOR}']"), "Decline").await;
    hub.wait(
        &format!("return document.querySelector(\"li[data-giai='{DOOR}'] .outcome.accepted\") !== null"),
        "the decline",
    )
    .await;
    let door = node.get_json(&format!("/v1/items/{DOOR}"));
    assert!(door["item"]["pending"].is_null() && door["item"]["custodian"] == "baltic-demolition", "{door}");
    hub.go("#/items").await;
    hub.wait(
        &format!("return document.querySelector('#items-list [data-giai=\"{BEAM}\"]') !== null"),
        "the beam in My items",
    )
    .await;
    hub.go("#/history").await;
    hub.wait_text("Received").await;
    hub.close().await;

    // The certifier's phone attests the passport's current version.
    let certifier = App::open(&node, PhoneOptions::default()).await;
    certifier.enrol(&site, &node, "baltic-cert").await;
    certifier.go(&format!("#/item/{BEAM}")).await;
    certifier.press("Attest").await;
    certifier.choose("Kind of examination", "inspection").await;
    certifier.choose("Result", "pass").await;
    certifier.fill("What was examined and found", "Flanges and web checked; no corrosion.").await;
    certifier.press("Sign and send").await;
    assert_eq!(certifier.outcome().await.0, "accepted");
    let item = node.get_json(&format!("/v1/items/{BEAM}"));
    assert_eq!(item["item"]["attestations"][0]["certifier"], "baltic-cert", "{item}");
    certifier.close().await;

    // A second phone of the contractor, added from the first by its key; then the first is
    // lost and revoked from the second; its next entry is refused with the ledger's reason.
    let spare = App::open(&node, PhoneOptions::default()).await;
    spare.press("Create this phone's key").await;
    let spare_key = spare.public_key().await;
    contractor.go("#/device").await;
    contractor.fill("The new phone's key", &spare_key).await;
    contractor.press("Add this key").await;
    contractor.press("Add it to Baltic Demolition SIA").await;
    assert_eq!(contractor.outcome().await.0, "accepted");
    spare.press("I have been added: continue").await;
    spare.wait("return location.hash === '#/scan'", "the spare phone enrolled").await;

    let lost_key = contractor.public_key_of_this_phone().await;
    spare.go("#/device").await;
    spare.press_in(&format!("li[data-key='{lost_key}']"), "Revoke").await;
    spare.press("Revoke this phone's key").await;
    assert_eq!(spare.outcome().await.0, "accepted");
    let members = node.get_json("/v1/members");
    let contractor_member = members.as_array().unwrap().iter().find(|m| m["id"] == "baltic-demolition").unwrap();
    assert!(contractor_member["keys"][&lost_key]["revoked"].is_u64(), "{contractor_member}");

    // The lost phone still has the app open on the door: signing now is refused.
    contractor.go(&format!("#/item/{DOOR}")).await;
    contractor.press("Transfer").await;
    contractor.choose("To whom", "reuse-hub").await;
    contractor.press("Sign and send").await;
    let (state, text) = contractor.outcome().await;
    assert_eq!(state, "refused", "{text}");
    assert!(text.contains("revoked"), "{text}");
    assert!(node.get_json(&format!("/v1/items/{DOOR}"))["item"]["pending"].is_null());
    contractor.close().await;
    spare.close().await;
}

impl App {
    /// The key of this (enrolled) phone, from the phone's own storage.
    async fn public_key_of_this_phone(&self) -> String {
        let key = self
            .phone
            .execute("return import('./js/device.js').then(d => d.deviceKey()).then(k => k.publicHex)", vec![])
            .await;
        key.as_str().unwrap().to_owned()
    }
}
