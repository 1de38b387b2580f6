//! The rest of an item's life from the phone: amend its passport (the form pre-filled with the
//! current one), install and dismantle it, withdraw an offer, and split it into parts.

use super::*;

const BEAM: &str = "4750001BEAM-0042";

#[tokio::test]
async fn a_phone_amends_installs_dismantles_withdraws_and_splits_an_item() {
    let site = Site::new(&["city-of-jelgava", "baltic-demolition"]);
    let node = Running::start(site.node("city-of-jelgava"));
    assert_eq!(node.submit(&[site.fixture.register("baltic-demolition", BEAM, "HEA 160 beam", 182.5)]).status, 201);
    let app = App::open(&node, PhoneOptions::default()).await;
    app.enrol(&site, &node, "baltic-demolition").await;
    let item = |path: &str| node.get_json(&format!("/v1/items/{BEAM}"))["item"][path].clone();

    // Amend: the form holds the current passport; only the name changes.
    app.go(&format!("#/item/{BEAM}")).await;
    app.press("Amend the passport").await;
    let name = app.control("Name").await;
    app.wait(&format!("return document.getElementById('{name}').value === 'HEA 160 beam'"), "the current name").await;
    app.fill("Name", "HEA 160 beam, 6 m, shot-blasted").await;
    app.fill("Reason", "Cleaned at the yard").await;
    app.press("Sign and send").await;
    assert_eq!(app.outcome().await.0, "accepted");
    assert_eq!(item("passport_version"), 2);
    assert_eq!(item("name"), "HEA 160 beam, 6 m, shot-blasted");
    assert_eq!(item("mass_kg"), 182.5, "what the form did not touch stays");

    // Install, then dismantle again.
    app.go(&format!("#/item/{BEAM}")).await;
    app.press("Install").await;
    app.fill("Building or project", "Jelgava kindergarten extension").await;
    app.fill("Country", "lv").await;
    app.press("Sign and send").await;
    assert_eq!(app.outcome().await.0, "accepted");
    assert_eq!(item("status"), "installed");
    app.go(&format!("#/item/{BEAM}")).await;
    let reason = app
        .wait("return document.querySelector('[data-action=transfer] .reason')?.dataset.code", "transfer's reason")
        .await;
    assert_eq!(reason, "item.installed");
    app.press("Dismantle").await;
    app.fill("Reason", "Extension redesigned").await;
    app.press("Sign and send").await;
    assert_eq!(app.outcome().await.0, "accepted");
    assert_eq!(item("status"), "available");

    // Offer it, then withdraw the offer.
    app.go(&format!("#/item/{BEAM}")).await;
    app.press("Transfer").await;
    app.choose("To whom", "timber-builders").await;
    app.press("Sign and send").await;
    assert_eq!(app.outcome().await.0, "accepted");
    app.go(&format!("#/item/{BEAM}")).await;
    app.press("Cancel the transfer").await;
    app.press("Sign and send").await;
    assert_eq!(app.outcome().await.0, "accepted");
    assert!(item("pending").is_null());

    // Split into two parts of its mass.
    app.go(&format!("#/item/{BEAM}")).await;
    app.press("Split into parts").await;
    let fields =
        app.phone.execute("return [...document.querySelectorAll('.part input')].map(input => input.id)", vec![]).await;
    let ids: Vec<String> = fields.as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 6, "two parts of three fields");
    for (id, value) in ids.iter().zip(["4750001BEAM-0042A", "", "91", "4750001BEAM-0042B", "", "91"]) {
        if !value.is_empty() {
            let element = app.find(&format!("#{id}")).await;
            element.send_keys(value).await.unwrap();
        }
    }
    app.press("Sign and send").await;
    let (state, text) = app.outcome().await;
    assert_eq!(state, "accepted", "{text}");
    assert_eq!(item("status"), "split");
    let part = node.get_json("/v1/items/4750001BEAM-0042A");
    assert_eq!(part["item"]["custodian"], "baltic-demolition");
    assert_eq!(part["passport"]["identity"]["predecessor"]["giai"], BEAM);
    assert_eq!(part["item"]["mass_kg"], 91.0);
    app.close().await;
}
