//! `thumbnails`: the photos' thumbnails a provenance page shows, as browsers
//! fetch them (`GET /v1/attachments/{blake3}/thumbnail`). Every answer must be
//! a 200 JPEG.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::testkit::passport;
use serde_json::json;

use crate::LoadError;
use crate::drive::{self, Connection, Plan, Workload};
use crate::photos::{self, MAX_PER_PASSPORT, Photo};
use crate::report::Report;
use crate::scenario::{CONTRACTOR, host, splitmix64};
use crate::target::Target;

/// How long a node may take to hold a photo's record and file (a consortium's
/// followers replicate both) before the run gives up.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// What a browser showing a page asks for an image with.
const IMAGE_ACCEPT: &str = "image/avif,image/webp,image/*,*/*;q=0.8";

/// `thumbnails`: uploads `count` photos, registers items naming them (up to
/// twenty each, in public places), asks every node once for each thumbnail
/// (which derives it, and waits for a consortium's followers to hold the
/// records and files), then asks for the thumbnails of random photos: what is
/// measured is serving them from disk. Every answer must be 200 `image/jpeg`.
pub async fn thumbnails(target: &Target, plan: &Plan, count: usize) -> Result<Report, LoadError> {
    let photos = photos::upload(target, count.max(1)).await?;
    register(target, &photos).await?;
    let paths = photos
        .iter()
        .map(|photo| {
            Uri::try_from(format!("/v1/attachments/{}/thumbnail", photo.blake3))
                .map_err(|error| LoadError::Setup(format!("photo {}: {error}", photo.blake3)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let host = host(target)?;
    derive_everywhere(target, &paths, &host).await?;
    let workload = Arc::new(Thumbnails { paths, host });
    let tally = drive::drive(target.addresses(), plan, workload, target.pid()).await?;
    Ok(Report::new("thumbnails", "thumbnails", plan, tally))
}

/// Registers one item per twenty photos, its passport naming them, in one
/// submission that must be accepted whole: a file is public once a public
/// field of a record names it.
async fn register(target: &Target, photos: &[Photo]) -> Result<(), LoadError> {
    let fixture = target.fixture();
    let entries: Vec<SignedEntry> = photos
        .chunks(MAX_PER_PASSPORT)
        .enumerate()
        .map(|(number, named)| {
            let giai = target.giai("THMB", number);
            let mut passport = passport(&giai, &format!("Oak floor boards, lot {}", number + 1), 420.0);
            photos::name_in(&mut passport, named);
            fixture.signed(&[CONTRACTOR], Kind::ItemRegister, json!({"giai": giai, "passport": passport}))
        })
        .collect();
    let mut connection = Connection::open(target.address()).await?;
    let mut request = Request::new(Full::new(Bytes::from(SignedEntry::canonical_array(&entries))));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = Uri::from_static("/v1/entries");
    request.headers_mut().insert(header::HOST, host(target)?);
    request.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let answer = connection.send(request).await?;
    if answer.status != StatusCode::CREATED {
        return Err(LoadError::Seeding(format!(
            "registering the photos' items: status {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )));
    }
    Ok(())
}

/// Asks every node for every thumbnail until it answers 200 `image/jpeg`: the
/// first answer derives the thumbnail from the photo; a follower answers 404
/// or 503 until it holds the record naming the photo and the file. Says how
/// long the first node took per thumbnail.
async fn derive_everywhere(target: &Target, paths: &[Uri], host: &HeaderValue) -> Result<(), LoadError> {
    for (index, address) in target.addresses().iter().enumerate() {
        let started = Instant::now();
        let deadline = started + READY_WITHIN;
        let mut connection = Connection::open(address).await?;
        for path in paths {
            loop {
                let mut request = Request::new(Full::new(Bytes::new()));
                *request.uri_mut() = path.clone();
                request.headers_mut().insert(header::HOST, host.clone());
                let answer = connection.send(request).await?;
                if answer.status == StatusCode::OK && answer.content_type == "image/jpeg" {
                    break;
                }
                let waiting = matches!(answer.status, StatusCode::NOT_FOUND | StatusCode::SERVICE_UNAVAILABLE);
                if !waiting || Instant::now() >= deadline {
                    return Err(LoadError::Setup(format!(
                        "node {address}: GET {path}: status {} ({}): {}",
                        answer.status,
                        answer.content_type,
                        String::from_utf8_lossy(&answer.body[..answer.body.len().min(500)])
                    )));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        if index == 0 {
            let elapsed = started.elapsed().as_secs_f64();
            eprintln!(
                "derived {} thumbnails in {elapsed:.2} s ({:.0} ms each, one after another)",
                paths.len(),
                elapsed * 1e3 / paths.len().max(1) as f64
            );
        }
    }
    Ok(())
}

/// Thumbnails of random photos.
struct Thumbnails {
    paths: Vec<Uri>,
    host: HeaderValue,
}

impl Workload for Thumbnails {
    fn next(&self, seed: &mut u64) -> Option<Request<Full<Bytes>>> {
        let pick = usize::try_from(splitmix64(seed) % self.paths.len() as u64).unwrap_or(0);
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.uri_mut() = self.paths.get(pick)?.clone();
        let headers = request.headers_mut();
        headers.insert(header::HOST, self.host.clone());
        headers.insert(header::ACCEPT, HeaderValue::from_static(IMAGE_ACCEPT));
        Some(request)
    }

    fn check(&self, _uri: &Uri, status: StatusCode, content_type: &str) -> Option<String> {
        if status != StatusCode::OK {
            return Some(format!("status {status}"));
        }
        (content_type != "image/jpeg").then(|| format!("content type {content_type:?}"))
    }
}
