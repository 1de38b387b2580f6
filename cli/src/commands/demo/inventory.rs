//! The demo's inventory: what a selective dismantling of a 1970s warehouse in
//! Jelgava yields, and what happens to it afterwards.
//!
//! Every statement here is an ordinary signed entry; the demo submits them in
//! order, so the ledger holds a realistic history: contractors register what
//! they salvaged, hand it to the reuse hub, a certification body inspects
//! beams and radiators and surveys an asbestos panel (which is disposed of,
//! never sold), the hub cuts a glulam beam in two, and a builder buys and
//! installs beams and a door.
//!
//! Every passport shows a picture of its kind of item and names the
//! building's hazardous materials survey; every attestation names the
//! certifier's inspection report. The files are in `assets/`, compiled in
//! (drawn illustrations, not photographs: see `assets/README.md`).

use salvage_ledger::attachment::{AttachmentDigest, AttachmentRef};
use salvage_ledger::entry::Kind;
use serde_json::{Value, json};

/// The member ids of the demo consortium, with names and roles.
pub const MEMBERS: &[(&str, &str, &[&str])] = &[
    ("zemgale-planning", "Zemgale Planning Region", &["admin", "operator"]),
    ("baltic-demolition", "Baltic Demolition SIA", &["contractor", "holder"]),
    ("riga-deconstruction", "Riga Deconstruction SIA", &["contractor", "holder"]),
    // A contractor too: it registers the parts it cuts, from labels it reserves.
    ("jelgava-reuse-hub", "Jelgava Reuse Hub", &["holder", "operator", "contractor"]),
    ("timber-builders", "Timber Builders SIA", &["holder"]),
    ("baltic-cert", "Baltic Building Certification", &["certifier", "operator"]),
];

/// The GS1 company prefixes the demo's contractors hold: every GIAI they register is under one.
pub const COMPANY_PREFIXES: &[(&str, &str)] = &[("baltic-demolition", "4750001"), ("riga-deconstruction", "4750002")];

/// The company prefix the demo consortium holds, under which it allocates ranges.
pub const CONSORTIUM_PREFIX: &str = "4750009";

/// The serials under [`CONSORTIUM_PREFIX`] the consortium allocates to the reuse hub.
pub const HUB_SERIALS: (u64, u64) = (1000, 1999);

/// The member whose key signs the genesis and runs the demo node.
pub const OPERATOR: &str = "zemgale-planning";

/// The operators whose nodes make up a demo consortium of several nodes, in order.
pub const NODE_OPERATORS: [&str; 3] = [OPERATOR, "jelgava-reuse-hub", "baltic-cert"];

const HUB: &str = "jelgava-reuse-hub";
const BUILDER: &str = "timber-builders";
const CERTIFIER: &str = "baltic-cert";

/// One step of the demo: who signs what.
pub struct Step {
    /// The member that signs.
    pub signer: &'static str,
    /// The kind of entry.
    pub kind: Kind,
    /// Its body.
    pub body: Value,
}

/// A file the demo attaches, compiled into the binary from `assets/`.
pub struct Asset {
    /// Its file name in `assets/`.
    pub file: &'static str,
    /// The title statements give it.
    pub title: &'static str,
    /// Its media type, as its first bytes say.
    pub media_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

impl Asset {
    /// The reference a passport or an attestation makes to it:
    /// `{title, media_type, blake3, size}` (docs/format.md §15).
    pub fn reference(&self) -> Value {
        AttachmentRef {
            digest: AttachmentDigest::of(self.bytes),
            media_type: self.media_type.to_owned(),
            size: Some(self.bytes.len() as u64),
            title: self.title.to_owned(),
        }
        .to_value()
    }
}

/// An [`Asset`] from its file in `assets/`.
macro_rules! asset {
    ($file:literal, $media_type:literal, $title:literal) => {
        Asset { file: $file, title: $title, media_type: $media_type, bytes: include_bytes!(concat!("assets/", $file)) }
    };
}

/// The survey every passport's `hazards.survey_reference` names, in each passport's `documents`.
const SURVEY: Asset =
    asset!("hazardous-materials-survey.pdf", "application/pdf", "Hazardous materials survey ZPR-HMS-2026-031");

/// The certifier's report, every attestation's `report`.
const INSPECTION_REPORT: Asset =
    asset!("inspection-report.pdf", "application/pdf", "Inspection and test report BBC-IR-2026-014");

/// The asbestos-cement panel's photo.
const PANEL_PHOTO: Asset = asset!(
    "fibre-cement-panel.jpg",
    "image/jpeg",
    "Weathered fibre-cement facade panel with broken corners, on plastic sheeting (illustration)"
);

/// A salvaged item type: how many, and what one of them is.
struct Lot {
    contractor: &'static str,
    prefix: &'static str,
    count: usize,
    name: &'static str,
    category: &'static str,
    materials: &'static [(&'static str, f64)],
    mass_kg: f64,
    dimensions_mm: (f64, f64, f64),
    quantity: (f64, &'static str),
    grade: &'static str,
    notes: &'static str,
    /// The picture every item of the lot shows.
    photo: Asset,
}

const LOTS: &[Lot] = &[
    Lot {
        contractor: "baltic-demolition",
        prefix: "4750001BEAM",
        count: 8,
        name: "Steel beam HEA 200, 6.0 m",
        category: "structural_steel",
        materials: &[("Steel S235JR", 1.0)],
        mass_kg: 253.2,
        dimensions_mm: (6000.0, 200.0, 190.0),
        quantity: (1.0, "H87"),
        grade: "B",
        notes: "Surface rust, paint remnants; no deformation or section loss.",
        photo: asset!(
            "steel-beam.jpg",
            "image/jpeg",
            "HEA 200 steel beam on timber bearers, rust and paint remnants (illustration)"
        ),
    },
    Lot {
        contractor: "baltic-demolition",
        prefix: "4750001GLULAM",
        count: 4,
        name: "Glulam beam GL24h, 140 × 600 mm, 12 m",
        category: "structural_timber",
        materials: &[("Glued laminated spruce GL24h", 0.985), ("Melamine-urea-formaldehyde adhesive", 0.015)],
        mass_kg: 423.0,
        dimensions_mm: (12000.0, 140.0, 600.0),
        quantity: (1.0, "H87"),
        grade: "B",
        notes: "Dry (11 % moisture); screw holes every 1.2 m.",
        photo: asset!("glulam-beam.jpg", "image/jpeg", "GL24h glulam beam on timber bearers, sawn end (illustration)"),
    },
    Lot {
        contractor: "baltic-demolition",
        prefix: "4750001BRICK",
        count: 6,
        name: "Clay bricks, pallet of 400, cleaned",
        category: "masonry",
        materials: &[("Fired clay", 0.97), ("Lime mortar residue", 0.03)],
        mass_kg: 1400.0,
        dimensions_mm: (1200.0, 800.0, 900.0),
        quantity: (400.0, "H87"),
        grade: "A",
        notes: "Hand-cleaned, frost-resistant, sorted by colour.",
        photo: asset!("bricks.jpg", "image/jpeg", "Pallet of 400 cleaned clay bricks, strapped (illustration)"),
    },
    Lot {
        contractor: "riga-deconstruction",
        prefix: "4750002DOOR",
        count: 5,
        name: "Solid oak door, 900 × 2100 mm, with frame",
        category: "door",
        materials: &[("Oak", 0.9), ("Steel fittings", 0.1)],
        mass_kg: 48.0,
        dimensions_mm: (2100.0, 900.0, 45.0),
        quantity: (1.0, "H87"),
        grade: "B",
        notes: "Lock removed; hinges intact.",
        photo: asset!("oak-door.jpg", "image/jpeg", "Oak panelled door in its frame, lock removed (illustration)"),
    },
    Lot {
        contractor: "riga-deconstruction",
        prefix: "4750002WIN",
        count: 4,
        name: "Timber window, double glazed, 1200 × 1500 mm",
        category: "window",
        materials: &[("Pine frame", 0.35), ("Float glass", 0.6), ("Seals and fittings", 0.05)],
        mass_kg: 62.0,
        dimensions_mm: (1500.0, 1200.0, 120.0),
        quantity: (1.0, "H87"),
        grade: "C",
        notes: "Frames need repainting; glazing intact.",
        photo: asset!("timber-window.jpg", "image/jpeg", "Double-glazed timber window, paint peeling (illustration)"),
    },
    Lot {
        contractor: "riga-deconstruction",
        prefix: "4750002RAD",
        count: 4,
        name: "Cast-iron radiator, 10 sections",
        category: "radiator",
        materials: &[("Cast iron", 1.0)],
        mass_kg: 86.0,
        dimensions_mm: (800.0, 600.0, 160.0),
        quantity: (1.0, "H87"),
        grade: "B",
        notes: "Pressure-tested before removal.",
        photo: asset!(
            "radiator.jpg",
            "image/jpeg",
            "Cast-iron radiator, 10 sections, with its test tag (illustration)"
        ),
    },
];

/// The asbestos-containing panel: surveyed and sent to licensed disposal.
pub const ASBESTOS_PANEL: &str = "4750002FCP-0001";

/// Every file the demo's entries name, each once.
pub fn assets() -> Vec<&'static Asset> {
    let mut assets: Vec<&Asset> = LOTS.iter().map(|lot| &lot.photo).collect();
    assets.extend([&PANEL_PHOTO, &SURVEY, &INSPECTION_REPORT]);
    assets
}

/// Every GIAI the demo registers or creates by splitting, in order.
pub fn items() -> Vec<String> {
    let mut items: Vec<String> = LOTS.iter().flat_map(|lot| (1..=lot.count).map(move |n| giai(lot, n))).collect();
    items.push(ASBESTOS_PANEL.to_owned());
    items.extend(glulam_parts());
    items
}

/// The steps that seed the demo ledger, in order.
pub fn steps() -> Vec<Step> {
    let mut steps = Vec::new();
    let step = |signer: &'static str, kind: Kind, body: Value| Step { signer, kind, body };
    // The hub holds no company prefix: the consortium allocates it serials under its own, for
    // the parts it cuts (docs/rules.md §10).
    steps.push(step(
        OPERATOR,
        Kind::GiaiAllocate,
        json!({"member": HUB, "prefix": CONSORTIUM_PREFIX, "first": HUB_SERIALS.0, "last": HUB_SERIALS.1}),
    ));
    // Registration, then hand-over to the hub, of everything reusable.
    for lot in LOTS {
        for n in 1..=lot.count {
            let giai = giai(lot, n);
            steps.push(step(
                lot.contractor,
                Kind::ItemRegister,
                json!({"giai": giai, "passport": passport(lot, &giai)}),
            ));
            steps.push(step(
                lot.contractor,
                Kind::ItemTransfer,
                json!({"giai": giai, "to": HUB, "note": "Delivered by truck to the hub's yard"}),
            ));
            steps.push(step(HUB, Kind::ItemReceive, json!({"giai": giai})));
        }
    }
    steps.push(step(
        "riga-deconstruction",
        Kind::ItemRegister,
        json!({"giai": ASBESTOS_PANEL, "passport": asbestos_panel()}),
    ));

    // The certification body inspects beams and radiators and surveys the panel.
    for n in 1..=8 {
        let giai = format!("4750001BEAM-{n:04}");
        steps.push(step(CERTIFIER, Kind::ItemAttest, json!({"giai": giai, "passport_version": 1, "attestation": {
            "type": "inspection", "result": "pass", "grade": "B", "standard": "EN 1090-2",
            "certificate_id": format!("BBC-2026-{:04}", 100 + n),
            "summary": "Visual inspection and ultrasonic thickness measurement: no section loss beyond tolerance; steel grade S235 confirmed by hardness testing.",
            "report": INSPECTION_REPORT.reference()}})));
    }
    for n in 1..=4 {
        steps.push(step(
            CERTIFIER,
            Kind::ItemAttest,
            json!({"giai": format!("4750002RAD-{n:04}"), "passport_version": 1, "attestation": {
            "type": "test", "result": "pass", "summary": "Pressure test at 6 bar for 30 minutes: no leaks.",
            "report": INSPECTION_REPORT.reference()}}),
        ));
    }
    steps.push(step(CERTIFIER, Kind::ItemAttest, json!({"giai": ASBESTOS_PANEL, "passport_version": 1, "attestation": {
        "type": "hazard_survey", "result": "fail", "summary": "Chrysotile asbestos confirmed by laboratory analysis: not for reuse; remove and dispose as hazardous waste.",
        "report": INSPECTION_REPORT.reference()}})));
    steps.push(step(
        "riga-deconstruction",
        Kind::ItemDispose,
        json!({"giai": ASBESTOS_PANEL, "route": "hazardous_waste_landfill",
        "facility": "Getliņi EKO, asbestos cell (permit RI10IB0010)", "waste_code": "17 06 05*", "date": "2026-11-16"}),
    ));

    // The hub cuts a 12 m glulam beam into two 6 m beams.
    let parent = "4750001GLULAM-0001";
    let parts: Vec<Value> = glulam_parts()
        .into_iter()
        .map(|part| {
            let lot = &LOTS[1];
            let mut passport = passport(lot, &part);
            passport["name"] = json!(format!("Glulam beam GL24h, 140 × 600 mm, 6 m (cut from {parent})"));
            passport["mass_kg"] = json!(211.0);
            passport["dimensions_mm"]["length"] = json!(6000.0);
            passport["identity"]["predecessor"] = json!({"giai": parent});
            json!({"giai": part, "passport": passport})
        })
        .collect();
    // It had tagged both halves ahead with labels of its own serials (`salvage labels
    // --allocate 2`): the split registers the GIAIs it reserved.
    steps.push(step(
        HUB,
        Kind::GiaiReserve,
        json!({"prefix": CONSORTIUM_PREFIX, "first": HUB_SERIALS.0, "count": glulam_parts().len()}),
    ));
    steps.push(step(HUB, Kind::ItemSplit, json!({"giai": parent, "parts": parts})));

    // A builder buys four beams, a cut glulam beam and two doors, and installs most of them.
    let cut = glulam_parts().swap_remove(0);
    let bought = [
        "4750001BEAM-0001",
        "4750001BEAM-0002",
        "4750001BEAM-0003",
        "4750001BEAM-0004",
        cut.as_str(),
        "4750002DOOR-0001",
        "4750002DOOR-0002",
    ];
    for giai in bought {
        steps.push(step(HUB, Kind::ItemTransfer, json!({"giai": giai, "to": BUILDER})));
        steps.push(step(BUILDER, Kind::ItemReceive, json!({"giai": giai, "note": "Collected from the hub"})));
    }
    for giai in &bought[..6] {
        steps.push(step(
            BUILDER,
            Kind::ItemInstall,
            json!({"giai": giai, "date": "2026-11-20", "site": {
            "building": "Jelgava library extension", "address": "Akadēmijas iela 1, Jelgava", "country": "LV",
            "location": if giai.contains("DOOR") { "Ground floor, reading room entrance" } else { "Roof structure" }}}),
        ));
    }
    steps
}

fn giai(lot: &Lot, n: usize) -> String {
    format!("{}-{n:04}", lot.prefix)
}

/// The two beams the hub cuts from a glulam beam: the first serials of its range.
fn glulam_parts() -> Vec<String> {
    (0..2).map(|n| format!("{CONSORTIUM_PREFIX}{}", HUB_SERIALS.0 + n)).collect()
}

fn origin() -> Value {
    json!({"building": "Jelgava sugar factory warehouse", "address": "Rūpniecības iela 2, Jelgava", "country": "LV",
        "year_built": 1974, "year_installed": 1974})
}

fn passport(lot: &Lot, giai: &str) -> Value {
    let (length, width, height) = lot.dimensions_mm;
    json!({
        "identity": {"giai": giai},
        "name": lot.name,
        "category": lot.category,
        "materials": lot.materials.iter().map(|(name, fraction)| json!({"name": name, "fraction": fraction})).collect::<Vec<_>>(),
        "quantity": {"value": lot.quantity.0, "unit": lot.quantity.1},
        "mass_kg": lot.mass_kg,
        "dimensions_mm": {"length": length, "width": width, "height": height},
        "origin": origin(),
        "dismantling": {"date": "2026-11-02", "method": "selective_deconstruction", "contractor": lot.contractor},
        "condition": {"grade": lot.grade, "notes": lot.notes},
        "hazards": {"survey_reference": "ZPR-HMS-2026-031", "asbestos_free": true},
        "legal_status": {"status": "used_product"},
        "photos": [lot.photo.reference()],
        "documents": [SURVEY.reference()],
        "restricted": ["/origin/address"],
    })
}

fn asbestos_panel() -> Value {
    json!({
        "identity": {"giai": ASBESTOS_PANEL},
        "name": "Fibre-cement facade panel containing asbestos, 2500 × 1250 mm",
        "category": "cladding",
        "materials": [{"name": "Portland cement matrix", "fraction": 0.88}, {"name": "Chrysotile asbestos fibres", "fraction": 0.12}],
        "quantity": {"value": 1, "unit": "H87"},
        "mass_kg": 42.5,
        "dimensions_mm": {"length": 2500, "width": 1250, "thickness": 8},
        "origin": origin(),
        "dismantling": {"date": "2026-11-03", "method": "manual", "contractor": "riga-deconstruction"},
        "condition": {"grade": "D", "notes": "Weathered surface, broken corners."},
        "hazards": {"survey_reference": "ZPR-HMS-2026-031", "asbestos_free": false, "substances": [
            {"name": "Chrysotile asbestos", "cas": "12001-29-5", "concentration": {"value": 12, "unit": "%"}, "clp_class": "Carc. 1A; STOT RE 1"}]},
        "legal_status": {"status": "waste", "list_of_waste_code": "17 06 05*"},
        "photos": [PANEL_PHOTO.reference()],
        "documents": [SURVEY.reference()],
        "restricted": ["/origin/address"],
    })
}
