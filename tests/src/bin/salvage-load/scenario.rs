//! The two scenarios: what each prepares before the clock starts, what its
//! clients send, and what every answer must be.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ed25519_dalek::SigningKey;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use salvage_ledger::disclosure::{DisclosedEntry, Disclosure};
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::testkit::{Fixture, passport};
use serde_json::{Value, json};

use crate::LoadError;
use crate::drive::{self, Connection, Plan, Workload};
use crate::photos::{self, Photo};
use crate::report::Report;
pub use crate::requests::{CONTRACTOR, host, sign_in_parallel, splitmix64};
use crate::target::Target;

/// The member the seeded items are handed over to.
const HUB: &str = "reuse-hub";

/// Items seeded per submission (three entries each).
const SEED_ITEMS_PER_SUBMISSION: usize = 100;

/// The passport values every registration restricts under `--restricted`
/// (pointers below the passport): the donor building's address, which each
/// item gets one of its own, and the condition notes the fixture's passport has.
const RESTRICTED: [&str; 2] = ["/origin/address", "/condition/notes"];

/// `submit`: signs `entries` registrations of new items, then sends them
/// `per_request` to a `POST /v1/entries` (the entry itself when 1, an array
/// otherwise), as their canonical JSON unless `serde_bodies`; every answer
/// must be 201. On a format-2 ledger ([`Target::restricted`]) each entry
/// withholds two restricted values and is sent in its envelope with their
/// disclosures.
pub async fn submit(
    target: &Target,
    plan: &Plan,
    entries: usize,
    per_request: usize,
    serde_bodies: bool,
) -> Result<Report, LoadError> {
    submit_with(target, plan, entries, per_request, serde_bodies, "LOAD").await
}

/// `submit` of single canonical entries whose items are named by `series`
/// (four capital letters), so that two runs on one ledger register different items.
pub async fn submit_series(target: &Target, plan: &Plan, entries: usize, series: &str) -> Result<Report, LoadError> {
    submit_with(target, plan, entries, 1, false, series).await
}

async fn submit_with(
    target: &Target,
    plan: &Plan,
    entries: usize,
    per_request: usize,
    serde_bodies: bool,
    series: &str,
) -> Result<Report, LoadError> {
    let started = Instant::now();
    let fixture = target.fixture();
    let restricted = target.restricted();
    // `Fixture::register` derives the key anew for every entry; one key serves all.
    let key = Fixture::key(CONTRACTOR);
    let per_request = per_request.max(1);
    let requests = entries.div_ceil(per_request);
    let bodies = sign_in_parallel(requests, |request| {
        // Withholding is part of signing, so it happens here, before the clock starts.
        let entries = (request * per_request..(request + 1) * per_request)
            .map(|number| registration(&fixture, &key, restricted, &target.giai(series, number), number))
            .collect::<Option<Vec<_>>>()?;
        Some(Bytes::from(envelopes_body(&entries, per_request == 1, serde_bodies)))
    })
    .into_iter()
    .collect::<Option<Vec<_>>>()
    .ok_or_else(|| LoadError::Setup("a registration's restricted values could not be withheld".to_owned()))?;
    eprintln!(
        "signed {} entries{} in {:.1} s",
        requests * per_request,
        if restricted { ", each withholding two restricted values," } else { "" },
        started.elapsed().as_secs_f64()
    );
    let workload = Arc::new(Submissions { bodies, next: AtomicUsize::new(0), host: host(target)? });
    let tally = drive::drive(target.addresses(), plan, workload, target.pid()).await?;
    Ok(Report::new("submit", "accepted entries", plan, tally).counting(per_request as u64))
}

/// `pages`: uploads `photos` photos (none by default), seeds `items` items
/// (registered, each passport naming every photo, offered to the reuse hub,
/// received), then views their provenance pages at random as a Latvian
/// browser; every answer must be 200 HTML. On a format-2 ledger each
/// registration withholds two restricted values (the transfers and receipts
/// restrict nothing; the photos stay public).
pub async fn pages(target: &Target, plan: &Plan, items: usize, photos: usize) -> Result<Report, LoadError> {
    if photos > photos::MAX_PER_PASSPORT {
        return Err(LoadError::Setup(format!(
            "--photos {photos}: a passport names at most {} photos",
            photos::MAX_PER_PASSPORT
        )));
    }
    let photos = if photos > 0 { photos::upload(target, photos).await? } else { Vec::new() };
    let workload = Arc::new(PageViews::seeded_with_photos(target, items, &photos).await?);
    let tally = drive::drive(target.addresses(), plan, workload, target.pid()).await?;
    Ok(Report::new("pages", "pages", plan, tally))
}

/// Pre-signed submissions, each sent once.
struct Submissions {
    bodies: Vec<Bytes>,
    next: AtomicUsize,
    host: HeaderValue,
}

impl Workload for Submissions {
    fn next(&self, _seed: &mut u64) -> Option<Request<Full<Bytes>>> {
        let body = self.bodies.get(self.next.fetch_add(1, Ordering::Relaxed))?;
        let mut request = Request::new(Full::new(body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = Uri::from_static("/v1/entries");
        let headers = request.headers_mut();
        headers.insert(header::HOST, self.host.clone());
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Some(request)
    }

    fn check(&self, _uri: &Uri, status: StatusCode, _content_type: &str) -> Option<String> {
        (status != StatusCode::CREATED).then(|| format!("status {status}"))
    }
}

/// Provenance page views of random seeded items.
pub struct PageViews {
    paths: Vec<Uri>,
    host: HeaderValue,
}

impl PageViews {
    /// Seeds `items` items (see [`pages`]) without photos and views their pages.
    pub async fn seeded(target: &Target, items: usize) -> Result<PageViews, LoadError> {
        PageViews::seeded_with_photos(target, items, &[]).await
    }

    /// Seeds `items` items (see [`pages`]) whose passports name `photos`, which
    /// the node holds, and views their pages.
    pub async fn seeded_with_photos(target: &Target, items: usize, photos: &[Photo]) -> Result<PageViews, LoadError> {
        let started = Instant::now();
        let giais: Vec<String> = (0..items.max(1)).map(|number| target.giai("PAGE", number)).collect();
        seed(target, &giais, photos).await?;
        eprintln!(
            "seeded {} items ({} entries{}) in {:.1} s",
            giais.len(),
            giais.len() * 3,
            match photos.len() {
                0 => String::new(),
                count => format!(", each passport naming {count} photos"),
            },
            started.elapsed().as_secs_f64()
        );
        let paths = giais
            .iter()
            .map(|giai| {
                Uri::try_from(format!("/8004/{giai}"))
                    .map_err(|error| LoadError::Setup(format!("GIAI {giai}: {error}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let views = PageViews { paths, host: host(target)? };
        if !photos.is_empty() {
            views.check_shows(target, photos).await?;
        }
        Ok(views)
    }

    /// Checks that the first item's page, as the clients will ask for it, shows
    /// every photo as its thumbnail, so that the run measures pages that carry them.
    async fn check_shows(&self, target: &Target, photos: &[Photo]) -> Result<(), LoadError> {
        let mut seed = 0;
        let request = self.next(&mut seed).ok_or_else(|| LoadError::Setup("no page to view".to_owned()))?;
        let path = request.uri().clone();
        let answer = Connection::open(target.address()).await?.send(request).await?;
        let page = String::from_utf8_lossy(&answer.body);
        let missing = photos
            .iter()
            .filter(|photo| !page.contains(&format!("<img src=\"/v1/attachments/{}/thumbnail\"", photo.blake3)))
            .count();
        if answer.status != StatusCode::OK || missing > 0 {
            return Err(LoadError::Seeding(format!(
                "GET {path}: status {}, {missing} of the {} photos not shown as thumbnails",
                answer.status,
                photos.len()
            )));
        }
        Ok(())
    }
}

impl Workload for PageViews {
    fn next(&self, seed: &mut u64) -> Option<Request<Full<Bytes>>> {
        let pick = usize::try_from(splitmix64(seed) % self.paths.len() as u64).unwrap_or(0);
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.uri_mut() = self.paths.get(pick)?.clone();
        let headers = request.headers_mut();
        headers.insert(header::HOST, self.host.clone());
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("lv,en;q=0.8"));
        Some(request)
    }

    fn check(&self, _uri: &Uri, status: StatusCode, content_type: &str) -> Option<String> {
        if status != StatusCode::OK {
            return Some(format!("status {status}"));
        }
        (!content_type.starts_with("text/html")).then(|| format!("content type {content_type:?}"))
    }
}

/// Registers the items (each passport naming `photos`), offers each to the
/// reuse hub and receives it there, in arrays of a few hundred entries; every
/// submission must be accepted whole.
async fn seed(target: &Target, giais: &[String], photos: &[Photo]) -> Result<(), LoadError> {
    let fixture = target.fixture();
    let mut connection = Connection::open(target.address()).await?;
    for (index, batch) in giais.chunks(SEED_ITEMS_PER_SUBMISSION).enumerate() {
        let body = if target.restricted() {
            let mut entries = Vec::with_capacity(batch.len() * 3);
            for (number, giai) in batch.iter().enumerate() {
                let mut passport = passport(giai, &format!("Glulam beam no. {number}"), 180.0);
                restrict(&mut passport, index * SEED_ITEMS_PER_SUBMISSION + number);
                photos::name_in(&mut passport, photos);
                let registration = withheld_registration(&fixture, giai, passport).ok_or_else(|| {
                    LoadError::Seeding(format!("{giai}: the restricted values could not be withheld"))
                })?;
                entries.push(registration);
                entries.push(plain(fixture.transfer(CONTRACTOR, giai, HUB)));
                entries.push(plain(fixture.receive(HUB, giai)));
            }
            envelopes_body(&entries, false, false)
        } else {
            let entries: Vec<SignedEntry> = batch
                .iter()
                .enumerate()
                .flat_map(|(number, giai)| {
                    let mut passport = passport(giai, &format!("Glulam beam no. {number}"), 180.0);
                    photos::name_in(&mut passport, photos);
                    [
                        fixture.signed(&[CONTRACTOR], Kind::ItemRegister, json!({"giai": giai, "passport": passport})),
                        fixture.transfer(CONTRACTOR, giai, HUB),
                        fixture.receive(HUB, giai),
                    ]
                })
                .collect();
            SignedEntry::canonical_array(&entries)
        };
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = Uri::from_static("/v1/entries");
        request.headers_mut().insert(header::HOST, host(target)?);
        request.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let answer = connection.send(request).await?;
        if answer.status != StatusCode::CREATED {
            return Err(LoadError::Seeding(format!(
                "status {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            )));
        }
    }
    Ok(())
}

/// The registration of the `number`th new item, `giai`, by the contractor
/// (whose `key` it is), a steel beam; on a format-2 ledger (`restricted`) it
/// withholds the [`RESTRICTED`] values and carries their disclosures. `None`
/// if it could not be signed or withheld.
pub fn registration(
    fixture: &Fixture,
    key: &SigningKey,
    restricted: bool,
    giai: &str,
    number: usize,
) -> Option<DisclosedEntry> {
    let mut passport = passport(giai, &format!("Steel beam HEA 160 no. {number}"), 250.0 + (number % 100) as f64);
    if restricted {
        restrict(&mut passport, number);
        return withheld_registration(fixture, giai, passport);
    }
    let statement = fixture.statement(Kind::ItemRegister, json!({"giai": giai, "passport": passport}));
    SignedEntry::sign(statement, &[key]).ok().map(plain)
}

/// Gives the `number`th item's passport a donor address of its own and
/// restricts it and the condition notes ([`RESTRICTED`]).
fn restrict(passport: &mut Value, number: usize) {
    passport["origin"]["address"] = json!(format!("Rūpniecības iela {}, Jelgava", number + 1));
    passport["restricted"] = json!(RESTRICTED);
}

/// A registration of `giai` by the contractor on a format-2 ledger: signed with
/// its restricted values withheld, with their disclosures; `None` if it did not
/// withhold exactly the [`RESTRICTED`] values.
fn withheld_registration(fixture: &Fixture, giai: &str, passport: Value) -> Option<DisclosedEntry> {
    let (entry, disclosures) =
        fixture.withheld(&[CONTRACTOR], Kind::ItemRegister, json!({"giai": giai, "passport": passport}));
    (disclosures.len() == RESTRICTED.len()).then_some(DisclosedEntry { entry, disclosures })
}

/// An entry that withholds nothing, as a submission carries it: bare.
fn plain(entry: SignedEntry) -> DisclosedEntry {
    DisclosedEntry { entry, disclosures: Vec::new() }
}

/// The body of a submission of `entries` (the one entry itself if `single`,
/// else an array): each that withholds values in its envelope
/// `{"disclosures": […], "entry": …}`, any other bare. As canonical JSON
/// unless `serde_bodies`, where the entry is written as serde writes it, byte
/// for byte what `--serde-bodies` sends of a plain entry. An envelope is never
/// a canonical entry, so the node parses either strictly.
pub fn envelopes_body(entries: &[DisclosedEntry], single: bool, serde_bodies: bool) -> Vec<u8> {
    let write = |element: &DisclosedEntry, out: &mut Vec<u8>| match (element.disclosures.is_empty(), serde_bodies) {
        (true, false) => out.extend_from_slice(&element.entry.canonical_bytes()),
        (false, false) => out.extend_from_slice(&element.canonical_bytes()),
        (true, true) => out.extend_from_slice(&serde_json::to_vec(&element.entry).unwrap_or_default()),
        (false, true) => {
            let disclosures: Vec<Value> = element.disclosures.iter().map(Disclosure::to_value).collect();
            out.extend_from_slice(b"{\"disclosures\":");
            out.extend_from_slice(&serde_json::to_vec(&disclosures).unwrap_or_default());
            out.extend_from_slice(b",\"entry\":");
            out.extend_from_slice(&serde_json::to_vec(&element.entry).unwrap_or_default());
            out.push(b'}');
        }
    };
    let mut out = Vec::new();
    match entries {
        [one] if single => write(one, &mut out),
        _ => {
            out.push(b'[');
            for (index, element) in entries.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write(element, &mut out);
            }
            out.push(b']');
        }
    }
    out
}
