//! A yard without signal: the node is down and the phone offline; the app still opens (its
//! service worker keeps the shell), entries are signed and queued with their signing time, and
//! when the phone is back they are recorded in order; one that someone else made impossible
//! meanwhile shows the ledger's refusal.

use super::*;

const ITEMS: [&str; 4] = ["4750001BRICK-0001", "4750001BRICK-0002", "4750001BRICK-0003", "4750001DOOR-0001"];

#[tokio::test]
async fn entries_signed_offline_are_recorded_in_order_and_a_conflict_shows_its_refusal() {
    let site = Site::new(&["city-of-jelgava", "baltic-demolition", "reuse-hub"]);
    let port = free_port();
    let node = node_on(&site, port);
    let fixture = &site.fixture;
    let mut entries = Vec::new();
    for giai in ITEMS {
        entries.push(fixture.register("baltic-demolition", giai, "Pallet of bricks", 900.0));
        entries.push(fixture.transfer("baltic-demolition", giai, "reuse-hub"));
        entries.push(fixture.receive("reuse-hub", giai));
    }
    assert_eq!(node.submit(&entries).status, 201);

    // The hub's phone opens each item once while it has signal.
    let hub = App::open(&node, PhoneOptions::default()).await;
    hub.enrol(&site, &node, "reuse-hub").await;
    for giai in ITEMS {
        hub.go(&format!("#/item/{giai}")).await;
        hub.wait_text("What you can do").await;
    }
    hub.wait("return navigator.serviceWorker.controller !== null", "the service worker in control").await;

    // No node, no network: the app opens from the service worker's cache.
    node.terminate();
    hub.phone.offline(true).await;
    hub.phone.client().refresh().await.unwrap();
    hub.wait("return document.getElementById('tabs')?.children.length > 0", "the app, offline").await;
    hub.wait_text("Offline").await;

    // Four entries signed offline: three that will be recorded, one that will conflict.
    let signed = [(ITEMS[0], "Install"), (ITEMS[1], "Install"), (ITEMS[3], "Install"), (ITEMS[2], "Dispose")];
    for (giai, action) in signed {
        hub.go(&format!("#/item/{giai}")).await;
        hub.wait_text("as the phone last saw it").await;
        hub.press(action).await;
        if action == "Install" {
            hub.fill("Building or project", "Jelgava kindergarten extension").await;
        } else {
            hub.choose("Route", "recycling").await;
        }
        hub.press("Sign and send").await;
        hub.wait("return document.querySelector('.outcome.queued') !== null", "the entry queued").await;
        tokio::time::sleep(Duration::from_millis(1100)).await; // distinct signing times
    }
    hub.go("#/outbox").await;
    let queued = hub
        .wait("return document.querySelectorAll('#outbox-list [data-state=queued]').length === 4", "four queued")
        .await;
    assert_eq!(queued, true);
    app_screens(&hub, "outbox-offline").await;

    // The node comes back; meanwhile the hub's office, with the CLI, offers the last brick
    // pallet and the door to a builder: the phone's disposal of the pallet can no longer be.
    let node = node_on(&site, port);
    let output =
        site.salvage_as(&node, "reuse-hub").args(["transfer", ITEMS[2], "--to", "baltic-demolition"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    hub.phone.offline(false).await;
    hub.wait("return document.querySelectorAll('#outbox-list [data-state=queued]').length === 0", "the outbox drained")
        .await;
    app_screens(&hub, "outbox-online").await;

    let states = hub
        .phone
        .execute(
            "return [...document.querySelectorAll('#outbox-list li')].map(li => [li.dataset.state, li.textContent])",
            vec![],
        )
        .await;
    let states = states.as_array().unwrap();
    assert_eq!(
        states.iter().map(|s| s[0].as_str().unwrap()).collect::<Vec<_>>(),
        ["accepted", "accepted", "accepted", "refused"]
    );
    assert!(states[3][1].as_str().unwrap().contains("custody.transfer_pending"), "{:?}", states[3]);

    // Recorded in the order they were signed, each with its own signing time.
    let mut seqs = Vec::new();
    let mut times = Vec::new();
    for giai in [ITEMS[0], ITEMS[1], ITEMS[3]] {
        let item = node.get_json(&format!("/v1/items/{giai}"));
        assert_eq!(item["item"]["status"], "installed", "{giai}");
        let seq = item["item"]["updated"].as_u64().unwrap();
        let record = node.get_json(&format!("/v1/records/{seq}"));
        seqs.push(seq);
        times.push(record["entry"]["statement"]["time"].as_str().unwrap().to_owned());
    }
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "{seqs:?}");
    assert!(times.windows(2).all(|pair| pair[0] < pair[1]), "{times:?}");
    assert_eq!(node.get_json(&format!("/v1/items/{}", ITEMS[2]))["item"]["status"], "available");
    hub.close().await;
}

async fn app_screens(app: &App, name: &str) {
    app.phone.screenshot(&format!("app-{name}")).await;
}
