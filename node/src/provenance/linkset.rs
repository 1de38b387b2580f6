//! The GS1 Digital Link resolver's answer for an item: an RFC 9264 linkset.
//!
//! A GS1-Conformant resolver answers a request for `linkType=linkset` (or
//! `Accept: application/linkset+json`) with every link it knows for the
//! identified item. Each link sits under its link relation type: GS1 link
//! types as full URIs of the GS1 Web Vocabulary (`https://gs1.org/voc/pip`),
//! IANA relations by their registered names. Every target object carries
//! `href`, a `title` (which GS1's linkset schema requires) and its media `type`.
//! The anchor is the item's Digital Link, so the linkset says what it is about.

use salvage_ledger::ident::Giai;
use serde_json::{Value, json};

/// The GS1 Web Vocabulary namespace of link types.
pub const GS1_VOC: &str = "https://gs1.org/voc/";

/// The linkset of an item served by the resolver at `base_url` (such as
/// `https://salvage.example`; a trailing slash is ignored).
///
/// It links the provenance page (the GS1 product information page and the
/// default link a phone is redirected to), the passport as JSON (GS1
/// `masterData`), the offline proof bundle (GS1 `traceability`), the EPCIS
/// events (GS1 `epcis`) and the QR code of the Digital Link (IANA `alternate`:
/// the same identifier in another form). The GIAI is percent-encoded in every
/// path and query, since set 82 allows characters such as `/`, `?` and `#`
/// that would otherwise change the URI's meaning.
pub fn linkset(giai: &Giai, base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let encoded = percent_encode(giai.as_str());
    let page = format!("{base}/8004/{encoded}");
    let item = format!("{base}/v1/items/{encoded}");
    let gs1 = |link_type: &str| format!("{GS1_VOC}{link_type}");
    let target =
        |href: &str, title: String, media_type: &str| json!([{"href": href, "title": title, "type": media_type}]);
    let mut links = serde_json::Map::new();
    links.insert("anchor".to_owned(), Value::String(page.clone()));
    links.insert(gs1("pip"), target(&page, format!("Provenance of item {giai}"), "text/html"));
    links.insert(gs1("defaultLink"), target(&page, format!("Provenance of item {giai}"), "text/html"));
    links.insert(gs1("masterData"), target(&item, format!("Material passport of item {giai}"), "application/json"));
    links.insert(
        gs1("traceability"),
        target(
            &format!("{item}/bundle"),
            format!("Proof bundle of item {giai}, verifiable offline"),
            "application/json",
        ),
    );
    links.insert(
        gs1("epcis"),
        target(
            &format!("{base}/v1/epcis?giai={encoded}"),
            format!("EPCIS events of item {giai}"),
            "application/ld+json",
        ),
    );
    links.insert(
        "alternate".to_owned(),
        target(&format!("{item}/qr.svg"), format!("QR code of item {giai}"), "image/svg+xml"),
    );
    json!({"linkset": [Value::Object(links)]})
}

/// Percent-encodes every character but the RFC 3986 unreserved ones, as GS1
/// Digital Link writes AI values.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use salvage_ledger::ident::DigitalLink;

    use super::*;

    #[test]
    fn links_every_view_of_the_item_under_its_link_type() {
        let giai = Giai::parse("4750001BEAM-0001").unwrap();
        let linkset = linkset(&giai, "https://salvage.example/");
        let links = &linkset["linkset"][0];
        assert_eq!(linkset["linkset"].as_array().unwrap().len(), 1);
        assert_eq!(links["anchor"], "https://salvage.example/8004/4750001BEAM-0001");
        let only = |rel: &str| {
            let targets = links[rel].as_array().unwrap_or_else(|| panic!("no {rel}"));
            assert_eq!(targets.len(), 1);
            assert!(targets[0]["title"].as_str().unwrap().contains("4750001BEAM-0001"));
            (targets[0]["href"].as_str().unwrap().to_owned(), targets[0]["type"].as_str().unwrap().to_owned())
        };
        let page = ("https://salvage.example/8004/4750001BEAM-0001".to_owned(), "text/html".to_owned());
        assert_eq!(only("https://gs1.org/voc/pip"), page);
        assert_eq!(only("https://gs1.org/voc/defaultLink"), page);
        assert_eq!(
            only("https://gs1.org/voc/masterData"),
            ("https://salvage.example/v1/items/4750001BEAM-0001".into(), "application/json".into())
        );
        assert_eq!(
            only("https://gs1.org/voc/traceability"),
            ("https://salvage.example/v1/items/4750001BEAM-0001/bundle".into(), "application/json".into())
        );
        assert_eq!(
            only("https://gs1.org/voc/epcis"),
            ("https://salvage.example/v1/epcis?giai=4750001BEAM-0001".into(), "application/ld+json".into())
        );
        assert_eq!(
            only("alternate"),
            ("https://salvage.example/v1/items/4750001BEAM-0001/qr.svg".into(), "image/svg+xml".into())
        );
    }

    #[test]
    fn giais_with_reserved_characters_are_percent_encoded_as_digital_link_does() {
        let giai = Giai::parse("0614141A/B?C%&+").unwrap();
        let linkset = linkset(&giai, "https://salvage.example");
        let links = &linkset["linkset"][0];
        let anchor = links["anchor"].as_str().unwrap();
        assert_eq!(anchor, DigitalLink::for_giai("https://salvage.example", &giai).unwrap().to_string());
        assert!(anchor.ends_with("/8004/0614141A%2FB%3FC%25%26%2B"), "{anchor}");
        // The Digital Link parser reads the GIAI back unchanged.
        assert_eq!(DigitalLink::parse(anchor).unwrap().giai(), Some(giai.clone()));
        assert_eq!(
            links["https://gs1.org/voc/epcis"][0]["href"],
            "https://salvage.example/v1/epcis?giai=0614141A%2FB%3FC%25%26%2B"
        );
    }
}
