//! What a buyer relies on, checked on a realistic ledger: a steel beam that was
//! registered, handed to a reuse hub and inspected, and an asbestos panel that
//! was surveyed and sent to landfill.

use salvage_ledger::Ledger;
use salvage_ledger::checkpoint::{Checkpoint, NoteSigner, SignedCheckpoint};
use salvage_ledger::custody::ItemStatus;
use salvage_ledger::entry::Kind;
use salvage_ledger::ident::Giai;
use salvage_ledger::store::checkpoint_origin;
use salvage_ledger::testkit::Fixture;
use serde_json::{Value, json};

use super::page::{NotFound, render, render_not_found};
use super::view::{Event, Inclusion, Provenance};
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

    // No scripts, and nothing loaded or linked from other hosts.
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("src="));
    assert!(!html.contains("@import") && !html.contains("url("));
    for target in link_targets(&html) {
        assert!(
            target.starts_with("?lang=") || target.starts_with("/v1/items/") || target == PAGE_URL,
            "link to {target}"
        );
    }
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
