//! The caches on their own, and as a buyer's browser and an auditor meet them
//! through the node: never stale, and signed checkpoints that verify.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use salvage_ledger::checkpoint::{Checkpoint, NoteSigner, NoteVerifier, SignedCheckpoint};
use salvage_ledger::genesis::Genesis;
use salvage_ledger::ident::Giai;
use salvage_ledger::operator::Operator;
use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::Fixture;
use tower::ServiceExt;

use super::{CheckpointCache, PageCache};
use crate::server::{Node, router};

const BEAM: &str = "4750001BEAM-0001";

fn giai(text: &str) -> Giai {
    Giai::parse(text).unwrap()
}

fn checkpoint_of_size(size: u64) -> Arc<SignedCheckpoint> {
    let key = Fixture::key("reuse-hub");
    let checkpoint = Checkpoint::new("salvage/test".to_owned(), size, [7; 32]).unwrap();
    Arc::new(SignedCheckpoint::sign(checkpoint, &NoteSigner { name: "reuse-hub", key: &key }).unwrap())
}

#[test]
fn a_page_is_served_at_its_own_size_only() {
    let cache = PageCache::new(1024);
    cache.keep(giai(BEAM), "lv", (5, 1), Bytes::from_static(b"page at 5"));
    assert_eq!(cache.get(&giai(BEAM), "lv", (5, 1)).as_deref(), Some(&b"page at 5"[..]));
    assert_eq!(cache.get(&giai(BEAM), "en", (5, 1)), None, "each language has its own page");
    assert_eq!(cache.get(&giai(BEAM), "lv", (6, 1)), None, "a page of size 5 is stale once the ledger has 6 records");

    cache.keep(giai(BEAM), "lv", (6, 1), Bytes::from_static(b"page at 6"));
    assert_eq!(cache.get(&giai(BEAM), "lv", (5, 1)), None);
    assert_eq!(cache.get(&giai(BEAM), "lv", (6, 1)).as_deref(), Some(&b"page at 6"[..]));
    // A slow request that rendered at an older size does not bring it back.
    cache.keep(giai(BEAM), "en", (5, 1), Bytes::from_static(b"late page at 5"));
    assert_eq!(cache.get(&giai(BEAM), "en", (5, 1)), None);
    assert_eq!(cache.get(&giai(BEAM), "en", (6, 1)), None);
    // Cosignatures of the same checkpoint make a new version of every page.
    cache.keep(giai(BEAM), "lv", (6, 3), Bytes::from_static(b"page at 6, cosigned"));
    assert_eq!(cache.get(&giai(BEAM), "lv", (6, 1)), None);
    assert_eq!(cache.get(&giai(BEAM), "lv", (6, 3)).as_deref(), Some(&b"page at 6, cosigned"[..]));
}

#[test]
fn a_full_page_cache_drops_its_oldest_pages() {
    let cache = PageCache::new(30);
    let items: Vec<Giai> = (1..=4).map(|n| giai(&format!("4750001BEAM-000{n}"))).collect();
    for item in &items {
        cache.keep(item.clone(), "lv", (9, 1), Bytes::from_static(b"ten bytes!"));
    }
    let kept: Vec<bool> = items.iter().map(|item| cache.get(item, "lv", (9, 1)).is_some()).collect();
    assert_eq!(kept, [false, true, true, true], "three pages fit in 30 bytes; the first one went");
    cache.keep(giai("4750001HUGE-0001"), "lv", (9, 1), Bytes::from(vec![b'x'; 31]));
    assert_eq!(cache.get(&giai("4750001HUGE-0001"), "lv", (9, 1)), None, "a page larger than the budget is not kept");
    assert!(cache.get(&items[3], "lv", (9, 1)).is_some(), "and it evicted nothing");
}

#[test]
fn the_checkpoint_cache_holds_the_newest_checkpoint_for_its_size_only() {
    let cache = CheckpointCache::default();
    assert!(cache.at(3).is_none());
    cache.keep(checkpoint_of_size(3));
    assert_eq!(cache.at(3).unwrap().checkpoint.size(), 3);
    assert!(cache.at(4).is_none(), "a checkpoint of 3 records is not the checkpoint of 4");
    cache.keep(checkpoint_of_size(5));
    cache.keep(checkpoint_of_size(4));
    assert!(cache.at(4).is_none(), "an older checkpoint signed late does not replace a newer one");
    assert_eq!(cache.at(5).unwrap().checkpoint.size(), 5);
    // The same checkpoint with a cosignature replaces it; without, it does not.
    let mut cosigned = (*checkpoint_of_size(5)).clone();
    cosigned
        .add_cosignature(&NoteSigner { name: "city-of-jelgava", key: &Fixture::key("city-of-jelgava") }, 1_700_000_000)
        .unwrap();
    cache.keep(Arc::new(cosigned));
    cache.keep(checkpoint_of_size(5));
    assert_eq!(cache.at(5).unwrap().signatures.len(), 2);
}

/// A node over a fresh ledger with one registered beam, its router, and the
/// node itself to look into its caches.
struct Served {
    _dir: tempfile::TempDir,
    fixture: Fixture,
    node: Arc<Node>,
    app: axum::Router,
}

fn served() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new();
    let ledger = Ledger::create(dir.path(), fixture.genesis.clone()).unwrap();
    ledger.submit(vec![fixture.register("baltic-demolition", BEAM, "HEA 160 beam", 180.0)]).unwrap()[0]
        .as_ref()
        .unwrap();
    let genesis = Genesis::from_entry(fixture.genesis.clone()).unwrap();
    let operator = Operator::identify(Fixture::key("reuse-hub"), &genesis, &ledger.members().unwrap()).unwrap();
    let node = Arc::new(Node::new(ledger, operator, "https://salvage.example.lv", 256 * 1024).unwrap());
    Served { _dir: dir, fixture, app: router(Arc::clone(&node)), node }
}

impl Served {
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).header(header::ACCEPT_LANGUAGE, "lv,en;q=0.8").body(Body::empty()).unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        (status, String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
    }

    /// Hands the beam to the reuse hub: the ledger grows by one record.
    async fn transfer(&self) {
        let entry = self.fixture.transfer("baltic-demolition", BEAM, "reuse-hub");
        let outcomes = self.node.submit(vec![(entry, Vec::new())]).await.unwrap();
        outcomes[0].as_ref().unwrap();
    }
}

#[tokio::test]
async fn a_cached_page_is_served_until_the_ledger_grows() {
    let s = served();
    let path = format!("/8004/{BEAM}");
    let (status, first) = s.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        s.node.pages.get(&giai(BEAM), "lv", (2, 1)).as_deref(),
        Some(first.as_bytes()),
        "the page is kept at size 2"
    );
    assert_eq!(s.get(&path).await.1, first);

    // Swap the kept page for a marker: the next view at the same size must serve it, not render.
    s.node.pages.keep(giai(BEAM), "lv", (2, 1), Bytes::from_static(b"kept page"));
    assert_eq!(s.get(&path).await.1, "kept page");

    s.transfer().await;
    let (status, after) = s.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(after, "kept page", "a page kept at size 2 is not served at size 3");
    assert_ne!(after, first, "the page shows the transfer and the new checkpoint");
    assert_eq!(s.node.pages.get(&giai(BEAM), "lv", (3, 1)).as_deref(), Some(after.as_bytes()));
    assert_eq!(s.node.pages.get(&giai(BEAM), "lv", (2, 1)), None);
}

#[tokio::test]
async fn the_checkpoint_is_kept_per_size_and_signed_again_when_the_ledger_grows() {
    let s = served();
    let key = Fixture::key("reuse-hub");
    let verifier = NoteVerifier::new("reuse-hub", key.verifying_key()).unwrap();
    let first = SignedCheckpoint::parse(&s.get("/v1/checkpoint").await.1).unwrap();
    assert_eq!(first.checkpoint.size(), 2);
    assert_eq!(first.verify(std::slice::from_ref(&verifier)).valid, ["reuse-hub"]);
    assert_eq!(s.node.checkpoints.kept_at(2).unwrap().to_note(), first.to_note(), "the signed checkpoint is kept");
    assert_eq!(s.get("/v1/checkpoint").await.1, first.to_note());

    s.transfer().await;
    let (_, note) = s.get("/v1/checkpoint").await;
    let second = SignedCheckpoint::parse(&note).unwrap();
    assert_eq!(second.checkpoint.size(), 3, "a new size gets a new checkpoint");
    assert_ne!(second.checkpoint.root(), first.checkpoint.root());
    assert_eq!(second.verify(std::slice::from_ref(&verifier)).valid, ["reuse-hub"], "and it is signed by the operator");
    assert!(s.node.checkpoints.kept_at(2).is_none());
}
