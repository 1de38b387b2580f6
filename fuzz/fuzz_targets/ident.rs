//! GS1 identifiers from outside: Digital Link URIs (a scanned QR code, the resolver's path),
//! element strings, EPC tag hex and URIs (an RFID read), resolver bases and GIAIs
//! (`ident/digital_link`, `ident/epc`, `ident/element.rs`).
//!
//! Beyond "never panics": what parses prints to a form that parses back to the same value,
//! and an EPC read from any of its three spellings gives the same tag from the others.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage_ledger::ident::{DigitalLink, ElementString, Giai, PureIdentity, Resolver, TagEncoding};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };

    if let Ok(link) = DigitalLink::parse(text) {
        let printed = link.to_string();
        match DigitalLink::parse(&printed) {
            Ok(again) => {
                assert_eq!(again.element_string(), link.element_string(), "{text:?} printed as {printed:?}");
                assert_eq!(again.resolver(), link.resolver(), "{text:?} printed as {printed:?}");
                assert_eq!(again.to_string(), printed, "printing a Digital Link is not stable");
            }
            Err(error) => panic!("{text:?} parses but its printed form {printed:?} does not: {error}"),
        }
        let _ = link.giai();
    }

    if let Ok(elements) = ElementString::parse(text) {
        let printed = elements.to_string();
        assert_eq!(ElementString::parse(&printed).ok().as_ref(), Some(&elements), "{text:?} printed as {printed:?}");
        if let Ok(link) = DigitalLink::from_element_string(&elements, &Resolver::gs1()) {
            let uri = link.to_string();
            match DigitalLink::parse(&uri) {
                Ok(again) => assert_eq!(again.element_string(), link.element_string(), "{uri:?}"),
                Err(error) => panic!("the Digital Link {uri:?} built from {text:?} does not parse: {error}"),
            }
        }
    }

    if let Ok(tag) = TagEncoding::from_hex(text) {
        tag_round_trips(&tag);
    }
    if let Ok(tag) = TagEncoding::from_tag_uri(text) {
        tag_round_trips(&tag);
    }
    if let Ok(identity) = PureIdentity::parse(text) {
        let uri = identity.to_uri();
        assert_eq!(PureIdentity::parse(&uri).ok().as_ref(), Some(&identity), "{text:?} printed as {uri:?}");
        let _ = identity.company_prefix();
    }

    if let Ok(resolver) = Resolver::parse(text) {
        let printed = resolver.to_string();
        assert_eq!(Resolver::parse(&printed).ok().as_ref(), Some(&resolver), "{text:?} printed as {printed:?}");
    }
    if let Ok(giai) = Giai::parse(text) {
        assert_eq!(giai.as_str(), text);
    }
});

/// A tag reads back the same from its hex and its tag URI, and its pure identity from its URI.
fn tag_round_trips(tag: &TagEncoding) {
    let hex = tag.to_hex();
    assert_eq!(TagEncoding::from_hex(&hex).ok().as_ref(), Some(tag), "the tag's hex {hex} reads back differently");
    let uri = tag.to_tag_uri();
    assert_eq!(TagEncoding::from_tag_uri(&uri).ok().as_ref(), Some(tag), "the tag URI {uri} reads back differently");
    let pure = tag.to_pure_uri();
    assert_eq!(PureIdentity::parse(&pure).ok().as_ref(), Some(tag.identity()), "{pure} reads back differently");
    let _ = tag.to_ai_pairs();
}
