//! A contractor's first morning: enrol the phone, register a salvaged beam from its pre-printed
//! label with a photo, print its label; every screen in English and Latvian.

use super::*;

const GIAI: &str = "4750001BEAM-0900";

/// The screens a member moves between, by address.
const SCREENS: &[(&str, &str)] = &[
    ("scan", "#/scan"),
    ("register", "#/register"),
    ("inbox", "#/inbox"),
    ("items", "#/items"),
    ("history", "#/history"),
    ("outbox", "#/outbox"),
    ("device", "#/device"),
    ("item", "#/item/4750001BEAM-0900"),
    ("label", "#/label/4750001BEAM-0900"),
];

#[tokio::test]
async fn a_contractor_enrols_a_phone_registers_an_item_with_a_photo_and_prints_its_label() {
    let site = Site::allocating(&["city-of-jelgava", "baltic-demolition"]);
    let node = Running::start(site.node("city-of-jelgava"));
    let camera = site.path("label.y4m");
    qr_y4m(&format!("{PUBLIC_URL}/8004/{GIAI}"), &camera);
    let app = App::open(&node, PhoneOptions { camera: Some(camera), ..PhoneOptions::default() }).await;

    // The page and every file it loads carry the strict policy; nothing comes from elsewhere.
    let page = node.get("/app/");
    assert_eq!(page.status, 200);
    let policy = page.header("content-security-policy").unwrap_or_default();
    assert!(policy.starts_with("default-src 'none'") && !policy.contains("unsafe"), "{policy}");
    assert_eq!(node.get("/app").status, 308);

    // Before enrolment the phone shows its key, as a QR code and a short code.
    app.wait_text("Create this phone's key").await;
    shoot(&app, "enrol-start").await;
    app.press("Create this phone's key").await;
    let key = app.public_key().await;
    assert_eq!(key.len(), 64);
    app.wait("return document.querySelector('img.qr')?.naturalWidth > 0", "the key's QR code").await;
    let shown = shoot(&app, "enrol-key").await;
    let scanned = qr_in(&shown);
    assert_eq!(scanned, vec![format!("{PUBLIC_URL}/app/#/enrol/{key}")], "the key's QR code");
    let short = app.wait("return document.getElementById('short-code')?.textContent", "the short code").await;
    assert_eq!(short.as_str().unwrap().replace(' ', ""), key[..16]);

    // Approved from the CLI by the member's own key: `member update --add-key`.
    let output = site
        .salvage_as(&node, "baltic-demolition")
        .args(["member", "update", "baltic-demolition", "--add-key", &key])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    app.press("I have been added: continue").await;
    app.wait("return document.getElementById('who').textContent === 'Baltic Demolition SIA'", "the member's name")
        .await;

    // The scan screen films the pre-printed label: the GIAI is not registered yet.
    app.wait_text("No item 4750001BEAM-0900 is registered.").await;

    // Register it: the GIAI from the scanned label, the passport form, a photo.
    app.go("#/register").await;
    app.press("Scan a label").await;
    let id = app.control("GIAI").await;
    app.wait(&format!("return document.getElementById('{id}').value === '{GIAI}'"), "the scanned GIAI").await;
    // A passport missing its required fields: the node's schema says where, beside each field.
    app.press("Sign and send").await;
    app.wait("return document.querySelectorAll('.field .error:not([hidden])').length > 0", "problems beside fields")
        .await;
    let problems = app.phone.execute(
        "return [...document.querySelectorAll('.field')].filter(f => !f.querySelector('.error').hidden).map(f => f.querySelector('label').textContent)",
        vec![],
    ).await;
    assert!(problems.to_string().contains("Name"), "{problems}");
    assert_eq!(node.get(&format!("/v1/items/{GIAI}")).status, 404, "nothing was signed");

    app.fill("Name", "HEA 200 steel beam, 6 m").await;
    app.choose("Category", "structural_steel").await;
    app.fill("Amount", "1").await;
    app.choose("Unit", "H87").await;
    app.choose("Status", "used_product").await;
    app.fill("Mass (kg)", "253.2").await;
    app.choose("Free of asbestos", "true").await;
    let photo = site.path("beam.jpg");
    photo_with_location(&photo);
    let input = app.control("Take a photo").await;
    app.find(&format!("#{input}")).await.send_keys(photo.to_str().unwrap()).await.unwrap();
    app.wait("return document.querySelectorAll('img.preview').length === 1", "the photo's preview").await;
    shoot(&app, "register-filled").await;
    app.press("Sign and send").await;
    let (state, text) = app.outcome().await;
    assert_eq!(state, "accepted", "{text}");

    // Recorded, signed by this phone's key, the photo stored without its metadata.
    let item = node.get_json(&format!("/v1/items/{GIAI}"));
    assert_eq!(item["item"]["custodian"], "baltic-demolition");
    assert_eq!(item["passport"]["hazards"]["asbestos_free"], true);
    let seq = item["item"]["registered"].as_u64().unwrap();
    let record = node.get_json(&format!("/v1/records/{seq}"));
    assert_eq!(record["entry"]["signatures"][0]["key"], key.as_str(), "{record}");
    let digest = item["passport"]["photos"][0]["blake3"].as_str().unwrap().to_owned();
    let stored = node.get(&format!("/v1/attachments/{digest}"));
    assert_eq!(stored.status, 200);
    assert!(stored.body.starts_with(&[0xFF, 0xD8]), "a JPEG");
    assert!(!stored.body.windows(4).any(|w| w == b"Exif"), "the photo kept its Exif");
    assert_eq!(image::load_from_memory(&stored.body).unwrap().width(), 320);

    // Its label: the QR code decodes to the item's Digital Link on this node.
    app.press("Print its label").await;
    app.wait("return document.querySelector('#label img')?.naturalWidth > 0", "the label's QR code").await;
    let label = shoot(&app, "label-printed").await;
    assert_eq!(qr_in(&label), vec![format!("{PUBLIC_URL}/8004/{GIAI}")]);

    // Every screen in both languages: photographed, accessible, whole at 200 %.
    for language in ["en", "lv"] {
        app.go("#/device").await;
        let id = app.wait("return document.getElementById('language').id", "the language switch").await;
        app.find(&format!("#{}", id.as_str().unwrap())).await.select_by_value(language).await.unwrap();
        app.wait(&format!("return document.documentElement.lang === '{language}'"), "the language").await;
        for (name, hash) in SCREENS {
            app.go(hash).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            shoot(&app, &format!("{name}-{language}")).await;
            let violations = app.phone.accessibility_violations().await;
            assert!(violations.is_empty(), "{name} ({language}) breaks WCAG 2.2 AA: {violations:#?}");
            app.phone.zoom(200).await;
            let overflowing = app.phone.overflowing().await;
            assert!(overflowing.is_empty(), "{name} ({language}) overflows at 200 %: {overflowing:#?}");
            app.phone.zoom(100).await;
        }
    }
    let text = app.main_text().await;
    assert!(text.contains("Uzlīme") || text.contains("Drukāt"), "the Latvian label screen: {text}");

    // Installable: a manifest with icons the browser accepts.
    let installability = app.phone.cdp("Page.getInstallabilityErrors", json!({})).await;
    assert_eq!(installability["installabilityErrors"], json!([]), "{installability}");
    let errors: Vec<_> = app.phone.console().await.into_iter().filter(|entry| entry.level == "SEVERE").collect();
    assert!(
        errors.iter().all(|entry| entry.message.contains("favicon") || entry.message.contains("404")),
        "{errors:#?}"
    );
    app.close().await;
}

/// A screenshot kept for people to look at.
async fn shoot(app: &App, name: &str) -> std::path::PathBuf {
    app.phone.screenshot(&format!("app-{name}")).await
}
