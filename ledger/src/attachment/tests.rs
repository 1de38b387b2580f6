#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use serde_json::json;

use super::*;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn reference(digest: &AttachmentDigest, title: &str) -> serde_json::Value {
    json!({"title": title, "media_type": "image/png", "blake3": digest.to_hex(), "size": 16})
}

#[test]
fn references_are_found_in_passports_parts_and_attestations_with_what_is_public() {
    let photo = AttachmentDigest::of(b"photo");
    let survey = AttachmentDigest::of(b"survey");
    let drawing = AttachmentDigest::of(b"drawing");
    let register = json!({"giai": "4750001BEAM-0001", "passport": {
        "photos": [reference(&photo, "Beam")],
        "documents": [reference(&survey, "Survey"), null, reference(&drawing, "Drawing")],
        "restricted": ["/documents/2/title"],
    }});
    let named = named_in(Kind::ItemRegister, &register);
    let found: Vec<(String, Role, bool)> = named.iter().map(|n| (n.place.to_string(), n.role, n.public)).collect();
    assert_eq!(
        found,
        vec![
            ("/passport/photos/0".into(), Role::Photo, true),
            ("/passport/documents/0".into(), Role::Document, true),
            // A restricted title makes the whole file restricted: fail closed.
            ("/passport/documents/2".into(), Role::Document, false),
        ]
    );
    assert_eq!(named[0].reference.digest, photo);
    assert_eq!(named[0].reference.size, Some(16));

    let split =
        json!({"parts": [{"passport": {"documents": [reference(&survey, "S")], "restricted": ["/documents"]}}]});
    let named = named_in(Kind::ItemSplit, &split);
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].place.to_string(), "/parts/0/passport/documents/0");
    assert!(!named[0].public);

    let attest =
        json!({"attestation": {"report": reference(&survey, "Report"), "documents": [reference(&photo, "P")]}});
    let roles: Vec<Role> = named_in(Kind::ItemAttest, &attest).iter().map(|n| n.role).collect();
    assert_eq!(roles, vec![Role::Report, Role::Document]);
    assert!(named_in(Kind::ItemTransfer, &register).is_empty());
}

#[test]
fn a_reference_round_trips_and_a_malformed_one_names_nothing() {
    let value = reference(&AttachmentDigest::of(b"x"), "X");
    assert_eq!(AttachmentRef::from_value(&value).unwrap().to_value(), value);
    assert!(AttachmentRef::from_value(&json!({"title": "t", "media_type": "image/png", "blake3": "AB"})).is_none());
    assert_eq!(AttachmentDigest::parse(&"0".repeat(64)), Some(AttachmentDigest([0; 32])));
    assert_eq!(AttachmentDigest::parse(&"A".repeat(64)), None, "upper case is not the wire's hex");
}

#[test]
fn a_file_is_stored_once_under_its_digest_and_unknown_kinds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = AttachmentStore::open(dir.path()).unwrap();
    let first = store.put(PNG).unwrap();
    assert_eq!(first.digest, AttachmentDigest::of(PNG));
    assert_eq!((first.size, first.media_type, first.created), (16, MediaType::Png, true));
    let again = store.put(PNG).unwrap();
    assert!(!again.created);
    assert_eq!(store.read(&first.digest).unwrap(), PNG);
    assert_eq!(store.held(&first.digest).unwrap(), Some(Held { size: 16, media_type: MediaType::Png }));
    assert_eq!(store.held(&AttachmentDigest::of(b"other")).unwrap(), None);
    assert!(matches!(store.put(b"#!/bin/sh\nrm -rf /"), Err(AttachmentError::Unsupported)));
    assert!(!store.path(&AttachmentDigest::of(b"#!/bin/sh\nrm -rf /")).exists());
    assert_eq!(fs_entries(&dir.path().join("incoming")), 0, "no temporary file is left");
}

#[test]
fn what_a_crash_left_half_written_is_deleted_at_open_and_never_has_a_final_name() {
    let dir = tempfile::tempdir().unwrap();
    drop(AttachmentStore::open(dir.path()).unwrap());
    std::fs::write(dir.path().join("incoming/123-0.part"), &PNG[..5]).unwrap();
    let store = AttachmentStore::open(dir.path()).unwrap();
    assert_eq!(fs_entries(&dir.path().join("incoming")), 0);
    assert_eq!(fs_entries(&dir.path().join("objects")), 0);
    assert_eq!(store.missing_count().unwrap(), 0);
}

#[test]
fn names_say_who_may_read_a_file_and_what_is_missing_until_it_is_put() {
    let dir = tempfile::tempdir().unwrap();
    let store = AttachmentStore::open(dir.path()).unwrap();
    let held = store.put(PNG).unwrap().digest;
    let absent = AttachmentDigest::of(b"not here");
    let note = |digest: AttachmentDigest, giai: &str, public: bool, seq: u64| NameNote {
        digest,
        giai: giai.into(),
        public,
        seq,
    };
    assert_eq!(store.followed().unwrap(), None);
    let mark = Followed { size: 3, last_leaf: [7; 32] };
    store.note_names(mark, &[note(held, "4750001A-1", false, 1), note(absent, "4750001A-2", false, 2)]).unwrap();
    assert_eq!(store.followed().unwrap(), Some(mark));
    assert_eq!(store.naming(&held).unwrap(), Naming { public: false, items: vec!["4750001A-1".into()] });
    assert_eq!(store.missing(None, 10).unwrap(), vec![absent]);
    assert_eq!(store.missing(Some(&absent), 10).unwrap(), vec![], "a page after the last is empty");
    assert_eq!(store.missing_count().unwrap(), 1);
    assert!(!store.naming(&AttachmentDigest::of(b"never named")).unwrap().is_named());

    // Named publicly by a later record of another item: anyone may read it now.
    store.note_names(Followed { size: 4, last_leaf: [8; 32] }, &[note(held, "4750001A-3", true, 3)]).unwrap();
    let naming = store.naming(&held).unwrap();
    assert!(naming.public);
    assert_eq!(naming.items, vec!["4750001A-1".to_owned(), "4750001A-3".to_owned()]);

    // Reopened, the names and the mark are there; the missing file arrives.
    drop(store);
    let store = AttachmentStore::open(dir.path()).unwrap();
    assert_eq!(store.missing_count().unwrap(), 1);
    store.put(b"%PDF-1.7 not here").unwrap();
    assert_eq!(store.missing_count().unwrap(), 1, "another file does not settle it");
    store.forget_names().unwrap();
    assert_eq!((store.followed().unwrap(), store.missing_count().unwrap()), (None, 0));
    assert!(!store.naming(&held).unwrap().is_named());
}

fn fs_entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}
