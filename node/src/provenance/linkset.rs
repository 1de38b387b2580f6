//! The GS1 Digital Link resolver's answer for an item: an RFC 9264 linkset.
//!
//! A GS1-Conformant resolver answers a request for `linkType=linkset` (or
//! `Accept: application/linkset+json`) with every link it knows for the
//! identified item, and a request for one link type with a redirect to that
//! link ([`Link`], [`links`], [`find`]). Each link sits under its link relation
//! type: GS1 link types as full URIs of the GS1 Web Vocabulary
//! (`https://gs1.org/voc/pip`), IANA relations by their registered names.
//! Every target object carries `href` and a `title` (which GS1's linkset
//! schema requires) and, but for the default link, its media `type`. The
//! anchor is the item's Digital Link, so the linkset says what it is about.

use salvage_ledger::ident::Giai;
use serde_json::{Map, Value, json};

/// The GS1 Web Vocabulary namespace of link types, as the linkset writes them.
pub const GS1_VOC: &str = "https://gs1.org/voc/";

/// The namespace of IANA's registered link relations (RFC 8288 §2.1.1).
pub const IANA_RELATIONS: &str = "http://www.iana.org/assignments/relation/";

/// The JSON-LD context GS1 publishes for linksets served as JSON
/// (GS1-Conformant Resolver 1.2 §2.10 and its artefacts page).
pub const GS1_LINKSET_CONTEXT: &str = "https://ref.gs1.org/standards/resolver/linkset-context";

/// The other spellings of [`GS1_VOC`]: the vocabulary declares its terms
/// equivalent under each, and clients write any of them (or `gs1:`).
const GS1_VOC_ALIASES: [&str; 6] = [
    "https://gs1.org/voc/",
    "https://ref.gs1.org/voc/",
    "https://www.gs1.org/voc/",
    "http://gs1.org/voc/",
    "http://ref.gs1.org/voc/",
    "http://www.gs1.org/voc/",
];

/// One link of an item's linkset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The link relation type: a full GS1 vocabulary URI or an IANA name.
    pub relation: String,
    /// The target.
    pub href: String,
    /// A human-readable title.
    pub title: String,
    /// The target's media type; `None` for the default link, which carries a
    /// title only (GS1-Conformant Resolver 1.2 §2.5.8).
    pub media_type: Option<&'static str>,
}

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
    let mut context = Map::new();
    context.insert("anchor".to_owned(), Value::String(anchor(giai, base_url)));
    // GS1's linkset schema requires it; only the GIAI, never a passport field,
    // so that nothing restricted can reach it.
    context.insert("itemDescription".to_owned(), Value::String(format!("Salvaged construction item {giai}")));
    for link in links(giai, base_url) {
        let mut target = Map::new();
        target.insert("href".to_owned(), Value::String(link.href));
        target.insert("title".to_owned(), Value::String(link.title));
        if let Some(media_type) = link.media_type {
            target.insert("type".to_owned(), Value::String(media_type.to_owned()));
        }
        context.insert(link.relation, Value::Array(vec![Value::Object(target)]));
    }
    json!({"linkset": [Value::Object(context)]})
}

/// Every link the resolver offers for an item, one per link relation, in the
/// order [`linkset`] lists them.
pub fn links(giai: &Giai, base_url: &str) -> Vec<Link> {
    let base = base_url.trim_end_matches('/');
    let encoded = percent_encode(giai.as_str());
    let page = anchor(giai, base_url);
    let item = format!("{base}/v1/items/{encoded}");
    let link = |relation: String, href: String, title: String, media_type| Link { relation, href, title, media_type };
    let gs1 = |term: &str| format!("{GS1_VOC}{term}");
    vec![
        link(gs1("pip"), page.clone(), format!("Provenance of item {giai}"), Some("text/html")),
        link(gs1("defaultLink"), page, format!("Provenance of item {giai}"), None),
        link(gs1("masterData"), item.clone(), format!("Material passport of item {giai}"), Some("application/json")),
        link(
            gs1("traceability"),
            format!("{item}/bundle"),
            format!("Proof bundle of item {giai}, verifiable offline"),
            Some("application/json"),
        ),
        link(
            gs1("epcis"),
            format!("{base}/v1/epcis?giai={encoded}"),
            format!("EPCIS events of item {giai}"),
            Some("application/ld+json"),
        ),
        link(
            "alternate".to_owned(),
            format!("{item}/qr.svg"),
            format!("QR code of item {giai}"),
            Some("image/svg+xml"),
        ),
    ]
}

/// The link of `links` that a request's `linkType` (already percent-decoded)
/// names, in any of the forms GS1-Conformant Resolver 1.2 §2.14 allows: the
/// compact `gs1:pip`, the full `https://gs1.org/voc/pip` (or the vocabulary's
/// other addresses), an IANA relation by its name (`alternate`), as
/// `iana:alternate` or as its full URI.
pub fn find<'a>(links: &'a [Link], link_type: &str) -> Option<&'a Link> {
    let relation = relation(link_type)?;
    links.iter().find(|link| link.relation == relation)
}

/// The item's Digital Link at `base_url`: the anchor of its linkset and the
/// address of its provenance page.
pub fn anchor(giai: &Giai, base_url: &str) -> String {
    format!("{}/8004/{}", base_url.trim_end_matches('/'), percent_encode(giai.as_str()))
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

/// The link relation, as the linkset writes it, that a link type names; `None`
/// for anything that is no link type's name.
fn relation(link_type: &str) -> Option<String> {
    let gs1_term = link_type
        .strip_prefix("gs1:")
        .or_else(|| GS1_VOC_ALIASES.iter().find_map(|namespace| link_type.strip_prefix(namespace)));
    if let Some(term) = gs1_term {
        return is_term(term).then(|| format!("{GS1_VOC}{term}"));
    }
    let name = link_type.strip_prefix("iana:").or_else(|| link_type.strip_prefix(IANA_RELATIONS)).unwrap_or(link_type);
    // Registered relation names compare case-insensitively (RFC 8288 §2.1.1).
    is_term(name).then(|| name.to_ascii_lowercase())
}

/// Whether `name` can be a vocabulary term or a registered relation name
/// (letters, digits, `-`, `.`): nothing with a `/` or `:` of another namespace.
fn is_term(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.'))
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
    fn the_default_link_is_the_page_with_a_title_and_nothing_else() {
        // GS1-Conformant Resolver 1.2 §2.5.8: one default link, a title, no other attribute.
        let giai = Giai::parse("4750001BEAM-0001").unwrap();
        let linkset = linkset(&giai, "https://salvage.example");
        let default = &linkset["linkset"][0]["https://gs1.org/voc/defaultLink"];
        assert_eq!(
            default,
            &json!([{"href": "https://salvage.example/8004/4750001BEAM-0001", "title": "Provenance of item 4750001BEAM-0001"}])
        );
    }

    #[test]
    fn the_item_is_described_by_its_giai_alone() {
        let giai = Giai::parse("4750001BEAM-0001").unwrap();
        let linkset = linkset(&giai, "https://salvage.example");
        assert_eq!(linkset["linkset"][0]["itemDescription"], "Salvaged construction item 4750001BEAM-0001");
    }

    #[test]
    fn the_links_are_the_linkset_s_links() {
        let giai = Giai::parse("4750001BEAM-0001").unwrap();
        let linkset = linkset(&giai, "https://salvage.example");
        let context = linkset["linkset"][0].as_object().unwrap();
        let links = links(&giai, "https://salvage.example");
        assert_eq!(context.len(), links.len() + 2, "anchor, itemDescription and one entry per link");
        for link in &links {
            assert_eq!(context[&link.relation][0]["href"], link.href.as_str());
            assert_eq!(context[&link.relation][0]["title"], link.title.as_str());
        }
    }

    #[test]
    fn a_link_type_is_found_in_its_compact_and_full_forms() {
        let giai = Giai::parse("4750001BEAM-0001").unwrap();
        let links = links(&giai, "https://salvage.example");
        let href = |link_type: &str| find(&links, link_type).map(|link| link.href.as_str());
        for form in [
            "gs1:masterData",
            "https://gs1.org/voc/masterData",
            "https://ref.gs1.org/voc/masterData",
            "https://www.gs1.org/voc/masterData",
            "http://gs1.org/voc/masterData",
        ] {
            assert_eq!(href(form), Some("https://salvage.example/v1/items/4750001BEAM-0001"), "{form}");
        }
        for form in ["alternate", "Alternate", "iana:alternate", "http://www.iana.org/assignments/relation/alternate"] {
            assert_eq!(href(form), Some("https://salvage.example/v1/items/4750001BEAM-0001/qr.svg"), "{form}");
        }
        assert_eq!(href("gs1:defaultLink"), Some("https://salvage.example/8004/4750001BEAM-0001"));
        assert_eq!(href("gs1:epcis"), Some("https://salvage.example/v1/epcis?giai=4750001BEAM-0001"));
    }

    #[test]
    fn link_types_the_item_does_not_offer_are_not_found() {
        let giai = Giai::parse("4750001BEAM-0001").unwrap();
        let links = links(&giai, "https://salvage.example");
        for link_type in [
            "gs1:recallStatus",
            "gs1:masterdata",
            "gs1:",
            "gs1:https://gs1.org/voc/pip",
            "https://example.com/voc/pip",
            "https://gs1.org/voc/pip/",
            "schema:url",
            "pip",
            "GS1:pip",
            "",
            "alternate ",
        ] {
            assert_eq!(find(&links, link_type), None, "{link_type:?}");
        }
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
