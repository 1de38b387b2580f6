//! What a buyer relies on, checked on a realistic ledger: a steel beam that was
//! registered, handed to a reuse hub and inspected, and an asbestos panel that
//! was surveyed and sent to landfill.

use salvage_ledger::Ledger;
use salvage_ledger::attachment::AttachmentDigest;
use salvage_ledger::checkpoint::{Checkpoint, NoteSigner, SignedCheckpoint};
use salvage_ledger::custody::ItemStatus;
use salvage_ledger::entry::Kind;
use salvage_ledger::ident::Giai;
use salvage_ledger::store::checkpoint_origin;
use salvage_ledger::testkit::{Fixture, passport};
use serde_json::{Value, json};

use super::page::{CONTENT_SECURITY_POLICY, NotFound, render, render_not_found};
use super::view::{Document, Event, Inclusion, Provenance};
use super::{Locales, linkset};

const BEAM: &str = "4750001BEAM-0001";
const PANEL: &str = "4750001FCP-0042";
const PAGE_URL: &str = "https://salvage.example/8004/4750001BEAM-0001";

/// A passport from the schema examples, renamed to a GIAI of the demo consortium.
fn example_passport(file: &str, giai: &str) -> Value {
    let text = match file {
        "beam" => include_str!("../../../schemas/examples/valid/passport-steel-beam.json"),
        _ => include_str!("../../../schemas/examples/valid/passport-asbestos-cement-panel.json"),
    };
    let mut passport = serde_json::from_str::<Value>(text).unwrap()["document"].clone();
    passport["identity"]["giai"] = json!(giai);
    passport
}

struct World {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    checkpoint: SignedCheckpoint,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();

    let mut beam = example_passport("beam", BEAM);
    beam["dismantling"]["contractor"] = json!("baltic-demolition");
    beam["restricted"] = json!(["/origin/address", "/origin/location_in_building", "/documents/1"]);
    let mut panel = example_passport("panel", PANEL);
    panel["name"] = json!("Fibre-cement panel <asbestos> & \"Eternit\"");
    let entries = vec![
        f.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": BEAM, "passport": beam})),
        f.register("riga-deconstruction", "4750001DOOR-0007", "Oak door", 35.0),
        f.transfer("baltic-demolition", BEAM, "reuse-hub"),
        f.receive("reuse-hub", BEAM),
        f.signed(
            &["baltic-cert"],
            Kind::ItemAttest,
            json!({"giai": BEAM, "passport_version": 1, "attestation": {
            "type": "inspection", "result": "pass", "grade": "A", "standard": "EN 1090-2",
            "certificate_id": "BBC-2026-0412", "valid_until": "2028-05-31",
            "summary": "Ultrasonic thickness measurement: no section loss beyond tolerance."}}),
        ),
        f.signed(&["riga-deconstruction"], Kind::ItemRegister, json!({"giai": PANEL, "passport": panel})),
        f.signed(
            &["baltic-cert"],
            Kind::ItemAttest,
            json!({"giai": PANEL, "passport_version": 1, "attestation": {
            "type": "hazard_survey", "result": "fail", "summary": "Chrysotile found (10–15 %)."}}),
        ),
        f.signed(
            &["riga-deconstruction"],
            Kind::ItemDispose,
            json!({"giai": PANEL, "route": "landfill",
            "facility": "Getliņi landfill, asbestos cell", "waste_code": "17 06 05*", "date": "2026-11-20"}),
        ),
    ];
    for outcome in ledger.submit(entries).unwrap() {
        outcome.unwrap();
    }
    let key = Fixture::key("regional-planning");
    let mut checkpoint =
        SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
            .unwrap();
    let key = Fixture::key("city-of-jelgava");
    checkpoint.cosign(&NoteSigner { name: "city-of-jelgava", key: &key }).unwrap();
    World { _dir: dir, ledger, checkpoint }
}

fn provenance(w: &World, giai: &str) -> Provenance {
    Provenance::from_ledger(&w.ledger, &Giai::parse(giai).unwrap(), &w.checkpoint).unwrap().unwrap()
}

/// Every `href`/`src` value of a document.
fn link_targets(html: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            let after = &rest[start + attribute.len()..];
            let end = after.find('"').unwrap();
            targets.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    targets
}

/// Asserts the needles occur in this order.
fn assert_in_order(html: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        let at = html[from..].find(needle).unwrap_or_else(|| panic!("{needle:?} missing after byte {from}"));
        from += at + needle.len();
    }
}

#[test]
fn the_beam_page_shows_what_a_buyer_relies_on() {
    let w = world();
    let p = provenance(&w, BEAM);
    let locales = Locales::embedded().unwrap();
    let html = render(&p, locales.negotiate(None, None), &locales, PAGE_URL);

    assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"), "{}", &html[..60]);
    assert!(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
    assert!(html.contains("<h1>Steel beam HEA 300, 6.00 m</h1>"));
    assert!(html.contains("Structural steel S235JR (EN 10025-2) — 98.5\u{a0}%"));
    assert!(html.contains("Red-lead alkyd primer — 1.5\u{a0}%"));
    assert!(html.contains("529.8 kg"));
    assert!(html.contains("length 6000 mm, width 300 mm, height 290 mm"));
    assert!(html.contains("1 pieces"));
    assert!(html.contains("Surface rust on the top flange"));
    assert!(html.contains("Kantoorgebouw De Meander"));
    // The contractor's member id becomes its name.
    assert!(html.contains("<dd>Baltic Demolition SIA</dd>"));
    assert!(html.contains("14 March 2025"));
    assert!(html.contains("Current holder: <strong>Jelgava Reuse Hub</strong>"));

    // The hazard comes before the description, with its CAS number.
    assert_in_order(&html, &["Hazardous substances", "Lead (in red-lead primer)", "7439-92-1", "What it is"]);
    assert!(html.contains("The hazardous materials survey found no asbestos.") || !html.contains("Contains asbestos"));

    // Every step of the custody chain, in order, with who did it.
    let accepted = w.ledger.history(&p.giai).unwrap()[0].accepted.clone();
    // The page writes the record's own date, whatever day the test runs on.
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (year, month, day) =
        (&accepted.as_str()[0..4], accepted.as_str()[5..7].parse::<usize>().unwrap(), &accepted.as_str()[8..10]);
    let day = format!("{} {} {year}", day.trim_start_matches('0'), MONTHS[month - 1]);
    assert_in_order(
        &html,
        &[
            "<ol class=\"timeline\">",
            &day,
            "Baltic Demolition SIA registered the item.",
            "Baltic Demolition SIA offered the item to Jelgava Reuse Hub.",
            "Jelgava Reuse Hub received the item.",
            "Baltic Building Certification: Inspection, result: passed.",
            "</ol>",
        ],
    );
    assert_eq!(p.timeline.len(), 4);
    assert!(matches!(p.timeline[1].event, Event::TransferOffered { ref to } if to.id == "reuse-hub"));

    // The attestation names its issuer.
    assert_in_order(
        &html,
        &[
            "Inspections and certificates",
            "Inspection: <span class=\"pass\">passed</span>",
            "Issued by",
            "Baltic Building Certification",
            "EN 1090-2",
            "31 May 2028",
        ],
    );

    // The verification panel reports what was really checked.
    let latest = w.ledger.history(&p.giai).unwrap().last().unwrap().seq.get();
    assert_eq!(p.verification.latest_seq, latest);
    assert_eq!(p.verification.inclusion, Inclusion::Verified);
    assert!(p.verification.all_passed());
    assert!(html.contains(&format!("Included in the ledger at position {latest}:")));
    let size = w.ledger.size();
    assert!(html.contains(&format!("Checkpoint of {size} records signed by 2 of 3 consortium nodes.")), "{html}");
    assert!(html.contains("(City of Jelgava, Zemgale Regional Planning Office)"));
    assert!(html.contains(&hex::encode(w.ledger.root_at(size).unwrap())));
    assert!(html.contains("All signatures checked and valid (signatures: 4, records: 4)."));

    // Restricted passport fields never appear.
    for secret in [
        "Stationsplein 12",
        "3511 ED Utrecht",
        "grid line C between axes 4 and 5",
        "Photo of the beam before dismantling",
        "2232f665a36e",
    ] {
        assert!(!html.contains(secret), "restricted {secret:?} leaked");
    }
    assert!(html.contains("Pre-demolition audit Kantoorgebouw De Meander"));
    // Where they were, the page says they are withheld, and that this
    // format-1 ledger holds them in its records in the clear.
    assert!(html.contains("Withheld by the holder"), "{html}");
    // Named in the reader's language where the locale knows the field, by its pointer otherwise.
    assert!(html.contains("Address of the donor building <code class=\"small\">/origin/address</code>"), "{html}");
    assert!(html.contains("<code>/documents/1</code>"), "{html}");
    assert!(html.contains("its records hold them in the clear"));

    // No scripts, nothing loaded from other hosts, and no link to one but the
    // copy of a document its passport points to.
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("src="), "this node holds no photo of the beam, so no thumbnail");
    assert!(!html.contains("@import") && !html.contains("url("));
    for target in link_targets(&html) {
        assert!(
            target.starts_with("?lang=")
                || target.starts_with("/v1/items/")
                || target.starts_with("/v1/attachments/")
                || target == "https://docs.salvage.example/audits/meander-2024.pdf"
                || target == PAGE_URL,
            "link to {target}"
        );
    }
    // The photo this node has no thumbnail of is a link to the file, saying so.
    assert_in_order(
        &html,
        &[
            "<h2 id=\"photos\">Photos</h2>",
            "<a class=\"no-thumb\" href=\"/v1/attachments/9c1f5e8b2a7d4c3e6f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60\">",
            "Beam on the rack at the reuse hub, top flange",
            "No preview on this server yet",
            "What it is",
        ],
    );
    // The audit named before attachments were stored links to where the passport says a copy lies.
    assert!(html.contains(
        "<a href=\"https://docs.salvage.example/audits/meander-2024.pdf\" rel=\"external nofollow noopener\">\
         Pre-demolition audit Kantoorgebouw De Meander</a> <span class=\"small\">(PDF)</span>"
    ));
    assert!(html.contains("href=\"?lang=en\" hreflang=\"en\" lang=\"en\" aria-current=\"page\">English</a>"));
    assert!(html.contains("href=\"?lang=lv\" hreflang=\"lv\" lang=\"lv\">Latviešu</a>"));
}

#[test]
fn a_latvian_buyer_gets_the_page_in_latvian() {
    let w = world();
    let p = provenance(&w, BEAM);
    let locales = Locales::embedded().unwrap();
    let lv = locales.negotiate(Some("lv-LV,lv;q=0.9,en;q=0.5"), None);
    let html = render(&p, lv, &locales, PAGE_URL);
    assert!(html.contains("<html lang=\"lv\">"));
    assert!(html.contains("Pašreizējais turētājs: <strong>Jelgava Reuse Hub</strong>"));
    assert!(html.contains("529,8 kg"));
    assert!(html.contains("98,5\u{a0}%"));
    assert!(html.contains("2025. gada 14. martā"));
    assert!(html.contains("2026. gada "));
    assert!(html.contains("Bīstamas vielas"));
    assert!(html.contains("Baltic Demolition SIA reģistrēja priekšmetu."));
    assert!(html.contains("Jelgava Reuse Hub pieņēma priekšmetu."));
    assert!(html.contains(&format!("Iekļauts virsgrāmatā {}. pozīcijā", p.verification.latest_seq)));
    assert!(html.contains("parakstījuši 2 no 3 konsorcija mezgliem"));
    assert!(html.contains("aria-current=\"page\">Latviešu</a>"));
    assert!(!html.contains("Current holder"));
    // An explicit choice beats the browser's.
    let html = render(&p, locales.negotiate(Some("lv"), Some("en")), &locales, PAGE_URL);
    assert!(html.contains("<html lang=\"en\">"));
}

#[test]
fn a_disposed_asbestos_panel_says_so_before_anything_else() {
    let w = world();
    let p = provenance(&w, PANEL);
    assert_eq!(p.status, ItemStatus::Disposed);
    let locales = Locales::embedded().unwrap();
    let html = render(&p, locales.default_locale(), &locales, "https://salvage.example/8004/4750001FCP-0042");
    assert!(!html.contains("Withheld by the holder"), "the panel's passport restricts nothing");
    assert_in_order(
        &html,
        &[
            "<h1>",
            "Not for sale or reuse",
            "must not be sold, reused or built in",
            "Hazardous substances",
            "Contains asbestos.",
            "Chrysotile asbestos",
            "12001-29-5",
            "What it is",
        ],
    );
    assert!(html.contains("disposed of (not for reuse)"));
    assert!(html.contains("Riga Deconstruction SIA disposed of the item (landfill: Getliņi landfill, asbestos cell)."));
    assert!(html.contains("Hazardous materials survey: <span class=\"fail\">failed</span>"));
    // Passport text is escaped, never markup.
    assert!(html.contains("Fibre-cement panel &lt;asbestos&gt; &amp; &quot;Eternit&quot;"));
    assert!(!html.contains("<asbestos>"));
}

#[test]
fn the_page_reports_a_checkpoint_it_cannot_trust() {
    let w = world();
    let giai = Giai::parse(BEAM).unwrap();
    let locales = Locales::embedded().unwrap();
    let en = locales.default_locale();
    let planner = Fixture::key("regional-planning");
    let signer = NoteSigner { name: "regional-planning", key: &planner };
    let origin = checkpoint_origin(&w.ledger.ledger_id());

    // A root that is not the ledger's: the inclusion proof fails and the page says so.
    let forged =
        SignedCheckpoint::sign(Checkpoint::new(origin.clone(), w.ledger.size(), [7; 32]).unwrap(), &signer).unwrap();
    let p = Provenance::from_ledger(&w.ledger, &giai, &forged).unwrap().unwrap();
    assert!(matches!(p.verification.inclusion, Inclusion::Failed(_)));
    assert!(!p.verification.all_passed());
    let html = render(&p, en, &locales, PAGE_URL);
    assert!(!html.contains("Included in the ledger at position"));
    assert!(html.contains("does not verify"));

    // Signed by nobody in the consortium.
    let stranger = Fixture::key("stranger");
    let unsigned = SignedCheckpoint::sign(
        w.checkpoint.checkpoint.clone(),
        &NoteSigner { name: "regional-planning", key: &stranger },
    )
    .unwrap();
    let p = Provenance::from_ledger(&w.ledger, &giai, &unsigned).unwrap().unwrap();
    assert!(p.verification.signed_by.is_empty());
    let html = render(&p, en, &locales, PAGE_URL);
    assert!(html.contains("No consortium node&#39;s signature") || html.contains("No consortium node's signature"));
    assert!(!html.contains("signed by 1 of") && !html.contains("signed by 0 of"));

    // An operator's signature altered: counted neither as a signer nor silently.
    let mut altered = w.checkpoint.clone();
    altered.signatures[0].signature[0] ^= 1;
    let p = Provenance::from_ledger(&w.ledger, &giai, &altered).unwrap().unwrap();
    assert_eq!(p.verification.bad_signatures, 1);
    assert_eq!(p.verification.signed_by.len(), 1);
    let html = render(&p, en, &locales, PAGE_URL);
    assert!(html.contains("signed by 1 of 3"));
    assert!(html.contains("the checkpoint may have been altered"));

    // A checkpoint taken before the beam's latest record cannot prove it yet.
    let early =
        SignedCheckpoint::sign(Checkpoint::new(origin, 3, w.ledger.root_at(3).unwrap()).unwrap(), &signer).unwrap();
    let p = Provenance::from_ledger(&w.ledger, &giai, &early).unwrap().unwrap();
    assert_eq!(p.verification.inclusion, Inclusion::AfterCheckpoint);
    assert!(render(&p, en, &locales, PAGE_URL).contains("newer than the last signed checkpoint"));
}

#[test]
fn unknown_and_malformed_giais_get_a_helpful_page() {
    let w = world();
    let locales = Locales::embedded().unwrap();
    let en = locales.default_locale();
    let unknown = Giai::parse("4750001NOPE-1").unwrap();
    assert!(Provenance::from_ledger(&w.ledger, &unknown, &w.checkpoint).unwrap().is_none());

    let html = render_not_found("4750001NOPE-1", NotFound::Unregistered, en, &locales);
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<h1 id=\"not-found\">Item not found</h1>"));
    assert!(html.contains("No item with the identifier 4750001NOPE-1 is registered"));
    assert!(html.contains("4750001BEAM-0001"));

    let text = "<script>alert(1)</script>";
    let error = Giai::parse(text).unwrap_err();
    let lv = locales.get("lv").unwrap();
    let html = render_not_found(text, NotFound::Malformed(error), lv, &locales);
    assert!(html.contains("<html lang=\"lv\">"));
    assert!(html.contains("Tas nav priekšmeta identifikators"));
    assert!(html.contains("uzņēmuma prefiksu"));
    assert!(!html.contains("<script"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    let html =
        render_not_found("123456 beam", NotFound::Malformed(Giai::parse("123456 beam").unwrap_err()), en, &locales);
    assert!(
        html.contains("Character 7 (' ') is not allowed") || html.contains("Character 7 (&#39; &#39;) is not allowed"),
        "{html}"
    );
    let html = render_not_found("12345", NotFound::Malformed(Giai::parse("12345").unwrap_err()), en, &locales);
    assert!(html.contains("this one has 5"));
}

#[test]
fn the_linkset_anchor_is_the_address_the_page_lives_at() {
    let giai = Giai::parse(BEAM).unwrap();
    let linkset = linkset(&giai, "https://salvage.example");
    assert_eq!(linkset["linkset"][0]["anchor"], PAGE_URL);
    assert_eq!(linkset["linkset"][0]["https://gs1.org/voc/pip"][0]["href"], PAGE_URL);
}

#[test]
fn an_installation_s_restricted_location_stays_off_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let door = "4750001DOOR-0007";
    let site = json!({"building": "Jelgava library", "country": "LV", "location": "Director's office, 2nd floor"});
    let entries = vec![
        f.register("riga-deconstruction", door, "Oak door", 35.0),
        f.signed(
            &["riga-deconstruction"],
            Kind::ItemInstall,
            json!({"giai": door, "site": site, "date": "2026-11-20", "restricted": ["/site/location"]}),
        ),
    ];
    for outcome in ledger.submit(entries).unwrap() {
        outcome.unwrap();
    }
    let key = Fixture::key("regional-planning");
    let checkpoint =
        SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
            .unwrap();
    let p = Provenance::from_ledger(&ledger, &Giai::parse(door).unwrap(), &checkpoint).unwrap().unwrap();
    let installed = p.timeline.iter().find_map(|step| match &step.event {
        Event::Installed { building, location, .. } => Some((building.clone(), location.clone())),
        _ => None,
    });
    assert_eq!(installed, Some((Some("Jelgava library".to_owned()), None)));
    let locales = Locales::embedded().unwrap();
    let html = render(&p, locales.default_locale(), &locales, PAGE_URL);
    assert!(html.contains("Jelgava library") && !html.contains("Director"), "{html}");
}

/// The digest of a made-up file, as statements name it.
fn digest_of(bytes: &[u8]) -> String {
    AttachmentDigest::of(bytes).to_hex()
}

/// A window whose passport has photos and documents, one photo restricted
/// whole and one by its size, and an inspection with a report and a photo.
fn window_world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let mut window = passport(WINDOW, "Oak casement window", 41.0);
    let photo = |title: &str, bytes: &[u8], media: &str| json!({"title": title, "media_type": media, "blake3": digest_of(bytes), "size": 48_213});
    window["photos"] = json!([
        photo("Window in the owner's flat", b"secret", "image/jpeg"),
        photo("Window, outside face", b"front", "image/jpeg"),
        photo("Window, sash detail", b"sized-secret", "image/png"),
        photo("Window, hinge <close-up>", b"hinge", "image/webp"),
    ]);
    window["documents"] = json!([
        {"title": "Glazing test report", "media_type": "application/pdf", "blake3": digest_of(b"glazing"), "size": 184_213},
        {"title": "Joinery drawing", "media_type": "image/vnd.dwg", "blake3": digest_of(b"drawing"),
         "uri": "https://docs.salvage.example/drawings/window.dwg"},
    ]);
    window["restricted"] = json!(["/photos/0", "/photos/2/size"]);
    let entries = vec![
        f.signed(&["riga-deconstruction"], Kind::ItemRegister, json!({"giai": WINDOW, "passport": window})),
        f.signed(
            &["baltic-cert"],
            Kind::ItemAttest,
            json!({"giai": WINDOW, "passport_version": 1, "attestation": {
            "type": "inspection", "result": "pass", "summary": "Frame sound, glazing intact.",
            "report": {"title": "Inspection report BBC-2026-0500", "media_type": "application/pdf",
                       "blake3": digest_of(b"report"), "size": 1_572_864},
            "documents": [{"title": "Moisture reading", "media_type": "image/jpeg",
                           "blake3": digest_of(b"moisture"), "size": 912}]}}),
        ),
    ];
    for outcome in ledger.submit(entries).unwrap() {
        outcome.unwrap();
    }
    let key = Fixture::key("regional-planning");
    let checkpoint =
        SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
            .unwrap();
    World { _dir: dir, ledger, checkpoint }
}

const WINDOW: &str = "4750001WIN-0003";

#[test]
fn photos_are_sized_lazy_thumbnails_linking_to_their_files_and_restricted_ones_stay_off() {
    let w = window_world();
    let mut p = provenance(&w, WINDOW);
    // Only the public photos, in the passport's order, and no thumbnail until the node says.
    let titles: Vec<&str> = p.passport.photos.iter().map(|photo| photo.title.as_str()).collect();
    assert_eq!(titles, ["Window, outside face", "Window, hinge <close-up>"]);
    assert!(p.passport.photos.iter().all(|photo| photo.thumbnail.is_none()));
    // The node holds the outside face (its thumbnail is 480 × 360), not yet the hinge.
    let (front, hinge) = (digest_of(b"front"), digest_of(b"hinge"));
    p.set_thumbnails(|digest| (digest.to_hex() == front).then_some((480, 360)));
    assert_eq!(p.passport.photos[0].thumbnail, Some((480, 360)));
    assert_eq!(p.passport.photos[1].thumbnail, None);

    let locales = Locales::embedded().unwrap();
    let html = render(&p, locales.default_locale(), &locales, PAGE_URL);
    assert_in_order(
        &html,
        &[
            "<h1>Oak casement window</h1>",
            "<ul class=\"photos\">",
            &format!(
                "<li><a href=\"/v1/attachments/{front}\"><img src=\"/v1/attachments/{front}/thumbnail\" \
                 alt=\"Window, outside face\" width=\"480\" height=\"360\" loading=\"lazy\" decoding=\"async\"></a></li>"
            ),
            &format!("<li><a class=\"no-thumb\" href=\"/v1/attachments/{hinge}\">Window, hinge &lt;close-up&gt;<br>"),
            "No preview on this server yet",
            "</ul>",
            "What it is",
        ],
    );
    assert_eq!(html.matches("<img ").count(), 1);
    // Restricted whole, or by its size (which makes the file restricted): neither shows.
    for secret in
        ["owner&#39;s flat", "owner's flat", &digest_of(b"secret"), "sash detail", &digest_of(b"sized-secret")]
    {
        assert!(!html.contains(secret), "restricted {secret:?} leaked");
    }

    // A stored document: linked to the node's copy, its type and size in words,
    // who attached it and its fingerprint.
    let glazing = digest_of(b"glazing");
    assert_in_order(
        &html,
        &[
            "<h2 id=\"documents\">Documents</h2>",
            &format!("<a href=\"/v1/attachments/{glazing}\">Glazing test report</a>"),
            "<span class=\"small\">(PDF, 180\u{a0}KB)</span>",
            "Attached by: Riga Deconstruction SIA",
            &format!("Fingerprint (BLAKE3): <code class=\"hash\">{glazing}</code>"),
            // One named before attachments were stored: linked where its copy lies, its type as written.
            "<a href=\"https://docs.salvage.example/drawings/window.dwg\" rel=\"external nofollow noopener\">\
             Joinery drawing</a> <span class=\"small\">(image/vnd.dwg)</span>",
            "Attached by: Riga Deconstruction SIA",
        ],
    );

    // The inspection's report and its further files, attached by the certifier.
    let (report, moisture) = (digest_of(b"report"), digest_of(b"moisture"));
    let a = &p.attestations[0];
    assert_eq!(a.report.as_ref().unwrap().size, Some(1_572_864));
    assert_eq!(a.documents.len(), 1);
    assert_eq!(a.documents[0].attached_by[0].id, "baltic-cert");
    assert_in_order(
        &html,
        &[
            "Inspection: <span class=\"pass\">passed</span>",
            "<dt>Report</dt>",
            &format!("<a href=\"/v1/attachments/{report}\">Inspection report BBC-2026-0500</a>"),
            "(PDF, 1.5\u{a0}MB)",
            "Attached by: Baltic Building Certification",
            &report,
            "<dt>Documents</dt>",
            &format!("<a href=\"/v1/attachments/{moisture}\">Moisture reading</a>"),
            "(JPEG image, 912\u{a0}bytes)",
        ],
    );

    // No script, and a policy that allows none and the node's images.
    assert!(!html.to_lowercase().contains("<script"));
    assert!(
        html.contains(&format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">"))
    );
    assert!(CONTENT_SECURITY_POLICY.contains("img-src 'self'"));
    assert!(!CONTENT_SECURITY_POLICY.contains("script-src") && CONTENT_SECURITY_POLICY.contains("default-src 'none'"));
    for target in link_targets(&html) {
        assert!(
            target.starts_with("?lang=")
                || target.starts_with("/v1/items/")
                || target.starts_with("/v1/attachments/")
                || target == "https://docs.salvage.example/drawings/window.dwg"
                || target == PAGE_URL,
            "link to {target}"
        );
    }

    // In Latvian, types and sizes too.
    let lv = render(&p, locales.get("lv").unwrap(), &locales, PAGE_URL);
    assert!(lv.contains("<h2 id=\"photos\">Fotoattēli</h2>"));
    assert!(lv.contains("(PDF, 180\u{a0}KB)") && lv.contains("(PDF, 1,5\u{a0}MB)"));
    assert!(lv.contains("(JPEG attēls, 912\u{a0}B)"));
    assert!(lv.contains("Pievienoja: Riga Deconstruction SIA"));
    assert!(lv.contains("<dt>Pārskats</dt>"));
    assert!(lv.contains("Šajā serverī priekšskatījuma vēl nav"));
}

#[test]
fn only_stored_files_and_web_addresses_are_linked() {
    let document = |size: Option<u64>, uri: Option<&str>| Document {
        title: "Report".to_owned(),
        media_type: Some("application/pdf".to_owned()),
        blake3: Some(digest_of(b"report")),
        size,
        uri: uri.map(str::to_owned),
        attached_by: Vec::new(),
    };
    let stored = format!("/v1/attachments/{}", digest_of(b"report"));
    assert_eq!(document(Some(77), None).href(), Some(stored.clone()));
    // The node's copy is preferred to another host's.
    assert_eq!(document(Some(77), Some("https://elsewhere.example/r.pdf")).href(), Some(stored));
    assert!(!document(Some(77), None).links_elsewhere());
    let elsewhere = document(None, Some("HTTPS://elsewhere.example/r.pdf"));
    assert_eq!(elsewhere.href().as_deref(), Some("HTTPS://elsewhere.example/r.pdf"));
    assert!(elsewhere.links_elsewhere());
    for uri in ["javascript:alert(1)", "data:text/html,<b>hi</b>", "file:///etc/passwd"] {
        assert_eq!(document(None, Some(uri)).href(), None, "{uri} must not be linked");
    }
    assert_eq!(document(None, None).href(), None);
    // A size with a malformed digest names no stored file.
    let mut malformed = document(Some(77), None);
    malformed.blake3 = Some("../../v1/items".to_owned());
    assert_eq!(malformed.href(), None);
}

#[test]
fn an_expired_attestation_and_a_withdrawn_one_say_so_and_the_last_inspection_is_named() {
    let w = world();
    let f = Fixture::new();
    let door = "4750001DOOR-0007";
    let attest = |certificate: &str, valid_until: &str| {
        f.signed(
            &["baltic-cert"],
            Kind::ItemAttest,
            json!({"giai": door, "passport_version": 1, "attestation": {"type": "certification", "result": "pass",
            "certificate_id": certificate, "valid_until": valid_until, "summary": "Fire door EI30 certificate."}}),
        )
    };
    // A ledger of the first rules records an attestation already expired (issue 29's 2020-01-01).
    let outcomes = w.ledger.submit(vec![attest("BBC-OLD", "2020-01-01"), attest("BBC-WRONG", "2030-12-31")]).unwrap();
    let wrong = outcomes[1].as_ref().unwrap().seq.get();
    let withdraw = f.signed(
        &["baltic-cert"],
        Kind::ItemAttestWithdraw,
        json!({"giai": door, "attestation": wrong, "reason": "Issued for another door"}),
    );
    w.ledger.submit(vec![withdraw]).unwrap().remove(0).unwrap();
    let key = Fixture::key("regional-planning");
    let checkpoint =
        SignedCheckpoint::sign(w.ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
            .unwrap();
    let p = Provenance::from_ledger(&w.ledger, &Giai::parse(door).unwrap(), &checkpoint).unwrap().unwrap();
    assert!(p.attestations[0].expired && p.attestations[0].withdrawn.is_none());
    assert_eq!(p.attestations[1].withdrawn.as_ref().map(|w| w.reason.as_str()), Some("Issued for another door"));
    let locales = Locales::embedded().unwrap();
    let html = render(&p, locales.negotiate(None, None), &locales, PAGE_URL);
    assert_in_order(
        &html,
        &[
            "Last inspected on",
            "by Baltic Building Certification.",
            "(expired)",
            "Expired: it was valid until",
            "(withdrawn)",
            "Withdrawn by the certifier on",
            "Issued for another door",
        ],
    );
    assert!(html.contains(&format!("Baltic Building Certification withdrew the attestation of record {wrong}.")));
}
