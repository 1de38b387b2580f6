//! `mixed`: what a node's day looks like, for as long as it is asked to run:
//! provenance page views, inclusion proofs and new registrations from the same
//! clients, each request drawn at random in fixed shares. Registrations are
//! signed as they are sent (an hour of them would not fit in memory signed
//! ahead), so the generator spends a little more of its core on them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ed25519_dalek::SigningKey;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use salvage_ledger::testkit::Fixture;

use crate::LoadError;
use crate::drive::{self, Plan, Workload};
use crate::proofs::InclusionProofs;
use crate::report::Report;
use crate::scenario::{self, CONTRACTOR, PageViews, host, splitmix64};
use crate::target::Target;

/// Of every 100 requests, how many are registrations and proofs; the rest are page views.
const REGISTRATIONS_PER_100: u64 = 5;
const PROOFS_PER_100: u64 = 25;

/// `mixed`: seeds `items` items for the page views, then sends page views,
/// proofs and registrations of new items; every answer must be what its
/// request expects (200 HTML, 200 JSON, 201).
pub async fn mixed(target: &Target, plan: &Plan, items: usize) -> Result<Report, LoadError> {
    let pages = PageViews::seeded(target, items).await?;
    let proofs = InclusionProofs::at_current_size(target).await?;
    let registrations = Registrations {
        fixture: target.fixture(),
        key: Fixture::key(CONTRACTOR),
        restricted: target.restricted(),
        giai_stem: target.giai_stem("MIXD"),
        next: AtomicUsize::new(0),
        host: host(target)?,
    };
    let workload = Arc::new(Mixed { pages, proofs, registrations });
    let tally = drive::drive(target.addresses(), plan, workload, target.pid()).await?;
    Ok(Report::new("mixed", "answers", plan, tally))
}

/// The three kinds of request, in their shares.
struct Mixed {
    pages: PageViews,
    proofs: InclusionProofs,
    registrations: Registrations,
}

impl Workload for Mixed {
    fn next(&self, seed: &mut u64) -> Option<Request<Full<Bytes>>> {
        match splitmix64(seed) % 100 {
            draw if draw < REGISTRATIONS_PER_100 => self.registrations.next(),
            draw if draw < REGISTRATIONS_PER_100 + PROOFS_PER_100 => self.proofs.next(seed),
            _ => self.pages.next(seed),
        }
    }

    fn check(&self, uri: &Uri, status: StatusCode, content_type: &str) -> Option<String> {
        match uri.path() {
            "/v1/entries" => (status != StatusCode::CREATED).then(|| format!("registration: status {status}")),
            "/v1/proof/inclusion" => {
                self.proofs.check(uri, status, content_type).map(|problem| format!("proof: {problem}"))
            }
            _ => self.pages.check(uri, status, content_type).map(|problem| format!("page: {problem}")),
        }
    }
}

/// Registrations of new items, each signed when it is sent.
struct Registrations {
    fixture: Fixture,
    key: SigningKey,
    restricted: bool,
    giai_stem: String,
    next: AtomicUsize,
    host: HeaderValue,
}

impl Registrations {
    fn next(&self) -> Option<Request<Full<Bytes>>> {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let entry = scenario::registration(
            &self.fixture,
            &self.key,
            self.restricted,
            &format!("{}{number:07}", self.giai_stem),
            number,
        )?;
        let mut request = Request::new(Full::new(Bytes::from(scenario::envelopes_body(&[entry], true, false))));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = Uri::from_static("/v1/entries");
        request.headers_mut().insert(header::HOST, self.host.clone());
        request.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Some(request)
    }
}
