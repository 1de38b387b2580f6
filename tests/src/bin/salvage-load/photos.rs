//! Photos for the scenarios that show or serve them (`pages --photos`,
//! `thumbnails`): generated JPEGs of a phone photo's size, uploaded to the node
//! as a member (`POST /v1/attachments`, signed with HTTP Message Signatures,
//! RFC 9421) before the clock starts, then named in passports
//! (`"photos": [{"title", "media_type", "blake3", "size"}]`, docs/format.md §15).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use salvage_ledger::testkit::Fixture;
use salvage_node::member_auth::{self, SignedTarget};
use serde_json::{Value, json};

use crate::LoadError;
use crate::drive::Connection;
use crate::requests::{CONTRACTOR, host, sign_in_parallel, splitmix64};
use crate::target::Target;

/// How many photos a passport may name (`passport.schema.json`, `photos`).
pub const MAX_PER_PASSPORT: usize = 20;

/// The generated photos' size in pixels: a phone photo as a member would
/// upload it after shrinking, well above the 480 px of a thumbnail.
const WIDTH: u32 = 1600;
const HEIGHT: u32 = 1200;

/// The JPEG quality of the generated photos.
const QUALITY: u8 = 85;

/// Photos generated (and held in memory) at once before they are uploaded.
const GENERATED_AT_ONCE: usize = 8;

/// A photo the node holds, as a passport names it.
#[derive(Debug, Clone)]
pub struct Photo {
    /// The BLAKE3 digest of its bytes, 64 lowercase hex digits.
    pub blake3: String,
    /// Its length in bytes.
    pub size: u64,
    /// Its title in passports.
    pub title: String,
}

impl Photo {
    /// The reference a passport's `photos` holds.
    pub fn reference(&self) -> Value {
        json!({"title": self.title, "media_type": "image/jpeg", "blake3": self.blake3, "size": self.size})
    }
}

/// Makes `passport` name `photos` (all of them, in a public place); leaves it
/// as it is when there are none.
pub fn name_in(passport: &mut Value, photos: &[Photo]) {
    if !photos.is_empty() {
        passport["photos"] = Value::Array(photos.iter().map(Photo::reference).collect());
    }
}

/// Generates `count` distinct JPEGs and uploads them to the (first) node as the
/// contractor, a member; every upload must be answered 201 (stored) or 200
/// (held already) with the photo's digest, size and `image/jpeg`. The photos
/// of a run against a running node (`--node`) differ from an earlier run's, so
/// that their thumbnails are new too.
pub async fn upload(target: &Target, count: usize) -> Result<Vec<Photo>, LoadError> {
    let started = Instant::now();
    // The run tag is in the GIAI stem; a fresh ledger has none, and gets the same photos every run.
    let run = blake3::hash(target.giai_stem("PHOT").as_bytes());
    let mut run_seed = [0u8; 8];
    run_seed.copy_from_slice(&run.as_bytes()[..8]);
    let run_seed = u64::from_le_bytes(run_seed);
    let key = Fixture::key(CONTRACTOR);
    let host = host(target)?;
    let mut connection = Connection::open(target.address()).await?;
    let mut photos = Vec::with_capacity(count);
    let mut bytes_total = 0u64;
    for first in (0..count).step_by(GENERATED_AT_ONCE) {
        let numbers: Vec<usize> = (first..count.min(first + GENERATED_AT_ONCE)).collect();
        let jpegs = sign_in_parallel(numbers.len(), |index| jpeg(numbers[index], run_seed));
        if jpegs.len() != numbers.len() {
            return Err(LoadError::Setup("a thread generating photos failed".to_owned()));
        }
        for (number, jpeg) in numbers.into_iter().zip(jpegs) {
            let jpeg = jpeg?;
            bytes_total += jpeg.len() as u64;
            photos.push(send(&mut connection, target.address(), &host, &key, number, jpeg).await?);
        }
    }
    eprintln!(
        "uploaded {} photos of {WIDTH}×{HEIGHT} px ({:.1} MB in all) in {:.1} s",
        photos.len(),
        bytes_total as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(photos)
}

/// Uploads the `number`th photo, signed by `key` for `authority`, and checks the answer.
async fn send(
    connection: &mut Connection,
    authority: &str,
    host: &HeaderValue,
    key: &ed25519_dalek::SigningKey,
    number: usize,
    jpeg: Vec<u8>,
) -> Result<Photo, LoadError> {
    let digest = blake3::hash(&jpeg).to_hex().to_string();
    let size = jpeg.len() as u64;
    let query = format!("blake3={digest}");
    let path = "/v1/attachments";
    let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    let nonce = member_auth::fresh_nonce()
        .map_err(|error| LoadError::Setup(format!("cannot draw a nonce from the operating system: {error}")))?;
    let signature =
        member_auth::sign(&SignedTarget { method: "POST", authority, path, query: Some(&query) }, key, created, &nonce);
    let header_value = |text: String| {
        HeaderValue::try_from(text).map_err(|error| LoadError::Setup(format!("a signature header: {error}")))
    };
    let mut request = Request::new(Full::new(Bytes::from(jpeg)));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = Uri::try_from(format!("{path}?{query}"))
        .map_err(|error| LoadError::Setup(format!("an upload's target: {error}")))?;
    let headers = request.headers_mut();
    headers.insert(header::HOST, host.clone());
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(member_auth::SIGNATURE_INPUT_HEADER, header_value(signature.signature_input)?);
    headers.insert(member_auth::SIGNATURE_HEADER, header_value(signature.signature)?);
    let answer = connection.send(request).await?;
    let refused = |why: String| LoadError::Seeding(format!("uploading photo {number}: {why}"));
    if answer.status != StatusCode::CREATED && answer.status != StatusCode::OK {
        return Err(refused(format!("status {}: {}", answer.status, String::from_utf8_lossy(&answer.body))));
    }
    let stored: Value =
        serde_json::from_slice(&answer.body).map_err(|error| refused(format!("the answer is not JSON ({error})")))?;
    if stored["blake3"].as_str() != Some(digest.as_str())
        || stored["size"].as_u64() != Some(size)
        || stored["media_type"].as_str() != Some("image/jpeg")
    {
        return Err(refused(format!("the node stored something else: {stored}")));
    }
    Ok(Photo { blake3: digest, size, title: format!("Load photo no. {}", number + 1) })
}

/// The `number`th photo of a run as a JPEG: a colour gradient of its own, with
/// stripes like wood grain and a little sensor noise, so that each encodes and
/// decodes as a real photo would rather than as a flat image.
fn jpeg(number: usize, run_seed: u64) -> Result<Vec<u8>, LoadError> {
    let mut state = run_seed ^ (number as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let mut draw = || splitmix64(&mut state);
    let from = [draw() as u8, draw() as u8, draw() as u8];
    let to = [draw() as u8, draw() as u8, draw() as u8];
    let stripes = 8.0 + (draw() % 40) as f32;
    let slant = (draw() % 100) as f32 / 100.0;
    let pixels_seed = draw();
    let image = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let along = (x as f32 + y as f32) / (WIDTH + HEIGHT) as f32;
        let grain = ((x as f32 * slant + y as f32) / HEIGHT as f32 * stripes * std::f32::consts::TAU).sin() * 18.0;
        let mut noise_state = pixels_seed ^ (u64::from(y) << 32 | u64::from(x));
        let noise = splitmix64(&mut noise_state);
        let channel = |index: usize| {
            let base = f32::from(from[index]) + (f32::from(to[index]) - f32::from(from[index])) * along;
            let jitter = f32::from((noise >> (index * 8)) as u8 % 13) - 6.0;
            (base + grain + jitter).clamp(0.0, 255.0) as u8
        };
        Rgb([channel(0), channel(1), channel(2)])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&image)
        .map_err(|error| LoadError::Setup(format!("cannot encode photo {number} as JPEG: {error}")))?;
    Ok(out)
}
