//! `build-ledger`: a ledger of N records on disk, written through the ledger's
//! own API, so that benchmarks at 100 k, 1 M or 10 M records can be
//! reproduced without submitting them to a node over HTTP for hours.
//!
//! Every record is a real entry, signed by the member the mix names (`mix.rs`)
//! and verified, sequenced and judged by `Ledger::submit_pending_disclosed`
//! like any submission; nothing bypasses the rules. Signing is the other half
//! of the work, so it happens ahead: [`SIGNERS`] threads each sign every
//! `SIGNERS`-th batch of [`BATCH`] entries into a channel of [`QUEUED`]
//! batches, and the ledger takes them in order while the next are signed.
//! Memory stays bounded whatever N is: a few batches in flight, never the
//! whole ledger (the ledger itself keeps its state and every entry id in memory,
//! as a node does). While one batch is being sequenced the previous one is
//! made durable on a thread of its own (`Ledger::settle`, the group commit),
//! as a node's committers do.
//!
//! DIR becomes a site a node can be started on, laid out as the tests' `Site`:
//!
//! - `genesis.json`: the demo consortium's genesis, format 2 (`Fixture::withholding`);
//! - `city-of-jelgava.pem`: the operator's key (PKCS#8 PEM, mode 0600);
//! - `node.toml`: a node config naming them, with paths relative to DIR;
//! - `data/`: the ledger, the node's data directory.
//!
//! `salvage node --config DIR/node.toml` serves it on 127.0.0.1:8080.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use salvage_ledger::Ledger;
use salvage_ledger::disclosure::Disclosure;
use salvage_ledger::entry::{SignedEntry, Timestamp};
use salvage_ledger::store::PendingOutcomes;
use salvage_ledger::testkit::Fixture;
use salvage_tests::node::PUBLIC_URL;
use serde_json::json;

use crate::LoadError;
use crate::mix::{Keys, Mix};

/// The most records a build may ask for: item references stay within a
/// GIAI's 30 characters, and statement times (10 ms apart from the demo
/// genesis of 2026-11-23) within a few weeks of it.
pub const MAX_RECORDS: u64 = 100_000_000;

/// Entries per submission to the ledger: large enough that its verification
/// threads and its core lock are used in long runs, as `ingest/batch/1024` of
/// the ledger benchmark measures.
pub const BATCH: u64 = 1024;

/// Threads that sign batches: the machines we target have two cores, which
/// the ledger's own verification threads share.
pub const SIGNERS: u64 = 2;

/// Signed batches each signer may hold ready before the ledger takes them.
pub const QUEUED: usize = 2;

/// The member whose key the node signs checkpoints with.
pub const OPERATOR: &str = "city-of-jelgava";

/// How often progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// What a build produced.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Records in the ledger, the genesis included.
    pub records: u64,
    /// From the start to every record durable and indexed.
    pub seconds: f64,
    /// Space the site takes on disk (allocated blocks, as `du` counts them).
    pub bytes: u64,
}

impl Summary {
    /// Records per second.
    pub fn rate(&self) -> f64 {
        self.records as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }

    /// One line for people.
    pub fn to_text(&self, dir: &Path) -> String {
        format!(
            "build-ledger: {} records in {:.1} s = {:.0} records/s, {:.1} MB on disk in {}",
            self.records,
            self.seconds,
            self.rate(),
            self.bytes as f64 / 1e6,
            dir.display()
        )
    }

    /// One line of JSON.
    pub fn to_json(&self) -> String {
        json!({
            "scenario": "build-ledger",
            "records": self.records,
            "seconds": (self.seconds * 100.0).round() / 100.0,
            "records_per_s": self.rate().round(),
            "bytes": self.bytes,
        })
        .to_string()
    }
}

/// Builds a site in `dir` (absent or empty) around a ledger of `records`
/// records (the genesis included) of the mix of `seed`, printing progress on stderr.
pub fn build(dir: &Path, records: u64, seed: u64) -> Result<Summary, LoadError> {
    if !(1..=MAX_RECORDS).contains(&records) {
        return Err(LoadError::Setup(format!("--records must be from 1 to {MAX_RECORDS}, not {records}")));
    }
    let started = Instant::now();
    let mix = Mix::new(seed);
    // The ledger refuses statement times more than 10 minutes after it accepts
    // them; staying before the clock keeps every one acceptable.
    let last = mix.time(records - 1);
    if last.instant() > Timestamp::now().instant() {
        return Err(LoadError::Setup(format!(
            "{records} records would carry statement times up to {last}, later than this machine's clock ({}); \
             ask for fewer records or check the clock",
            Timestamp::now()
        )));
    }
    prepare_empty(dir)?;
    write_site(dir, mix.fixture())?;
    let data = dir.join("data");
    let ledger = Ledger::create(&data, mix.fixture().genesis.clone())
        .map_err(|error| LoadError::Ledger(format!("creating the ledger in {}: {error}", data.display())))?;
    ingest(&ledger, &mix, records, started)?;
    let durable = started.elapsed();
    // The index is written behind the records; finishing it here spares the
    // node a catch-up of millions of records when it opens the ledger.
    ledger.flush().map_err(|error| LoadError::Ledger(format!("writing the index: {error}")))?;
    let size = ledger.size();
    drop(ledger);
    if size != records {
        return Err(LoadError::Ledger(format!("the ledger holds {size} records, not {records}")));
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "build-ledger: every record durable after {:.1} s, the index complete after {seconds:.1} s",
        durable.as_secs_f64()
    );
    Ok(Summary { records, seconds, bytes: disk_usage(dir) })
}

/// The command that serves the site in `dir`.
pub fn node_command(dir: &Path) -> String {
    format!("salvage node --config {}", dir.join("node.toml").display())
}

/// A signed batch: its first record's seq and its entries, or why signing failed.
type Signed = Result<(u64, Vec<(SignedEntry, Vec<Disclosure>)>), String>;

/// Submits records 1 to `records − 1` in batches signed ahead on the signer
/// threads, and waits until the last is durable.
fn ingest(ledger: &Ledger, mix: &Mix, records: u64, started: Instant) -> Result<(), LoadError> {
    let batches = (records - 1).div_ceil(BATCH);
    std::thread::scope(|scope| {
        let mut queues = Vec::new();
        for first_batch in 0..SIGNERS.min(batches) {
            let (sender, receiver) = sync_channel(QUEUED);
            queues.push(receiver);
            scope.spawn(move || sign_batches(mix, records, first_batch, batches, &sender));
        }
        let (to_settle, settling) = sync_channel(1);
        let settler = scope.spawn(move || settle(ledger, mix, &settling));
        let submitted = submit_in_order(ledger, queues, batches, &to_settle, records, started);
        // Closing the queue lets the settler finish what it holds and return.
        drop(to_settle);
        let settled = settler.join().unwrap_or_else(|_| Err(LoadError::Ledger("the settling thread panicked".into())));
        // The settler's error explains a submission that stopped because it quit.
        settled.and(submitted)
    })
}

/// Signs the batches `first`, `first + SIGNERS`, … of `batches` and sends
/// them; stops when the receiver is gone (the build failed) or at an error.
fn sign_batches(mix: &Mix, records: u64, first: u64, batches: u64, sender: &SyncSender<Signed>) {
    let keys = Keys::new();
    let mut batch = first;
    while batch < batches {
        let from = 1 + batch * BATCH;
        let to = (from + BATCH).min(records);
        let signed = (from..to).map(|seq| mix.entry(seq, &keys)).collect::<Result<Vec<_>, _>>();
        let failed = signed.is_err();
        if sender.send(signed.map(|entries| (from, entries))).is_err() || failed {
            return;
        }
        batch += SIGNERS;
    }
}

/// Takes the signed batches in order (round robin over the signers' queues),
/// submits each and hands its pending outcomes to the settler; prints progress.
fn submit_in_order(
    ledger: &Ledger,
    queues: Vec<Receiver<Signed>>,
    batches: u64,
    to_settle: &SyncSender<(u64, PendingOutcomes)>,
    records: u64,
    started: Instant,
) -> Result<(), LoadError> {
    let mut progress = Progress { last: started, last_size: 1, started };
    for (batch, queue) in (0..batches).zip(queues.iter().cycle()) {
        let (first, entries) = match queue.recv() {
            Ok(Ok(signed)) => signed,
            Ok(Err(error)) => return Err(LoadError::Setup(format!("signing failed: {error}"))),
            Err(_) => return Err(LoadError::Setup(format!("the thread signing batch {batch} stopped"))),
        };
        let pending = ledger
            .submit_pending_disclosed(entries)
            .map_err(|error| LoadError::Ledger(format!("submitting records from {first}: {error}")))?;
        if to_settle.send((first, pending)).is_err() {
            // The settler stopped at an error, which the caller reports.
            return Ok(());
        }
        progress.tick(ledger.size(), records);
    }
    Ok(())
}

/// Waits for each submitted batch to be durable and checks that every entry was accepted.
fn settle(ledger: &Ledger, mix: &Mix, settling: &Receiver<(u64, PendingOutcomes)>) -> Result<(), LoadError> {
    for (first, pending) in settling {
        let outcomes = ledger
            .settle(pending)
            .map_err(|error| LoadError::Ledger(format!("syncing records from {first}: {error}")))?;
        if let Some((offset, refusal)) =
            outcomes.iter().enumerate().find_map(|(offset, outcome)| outcome.as_ref().err().map(|r| (offset, r)))
        {
            let seq = first + offset as u64;
            return Err(LoadError::Ledger(format!(
                "the ledger refused record {seq} ({:?}): {refusal}; the mix is wrong",
                mix.step(seq)
            )));
        }
    }
    Ok(())
}

/// Progress lines on stderr every [`PROGRESS_EVERY`].
struct Progress {
    started: Instant,
    last: Instant,
    last_size: u64,
}

impl Progress {
    fn tick(&mut self, size: u64, records: u64) {
        let since = self.last.elapsed();
        if since < PROGRESS_EVERY {
            return;
        }
        let total = self.started.elapsed().as_secs_f64();
        eprintln!(
            "build-ledger: {size} of {records} records durable, {:.0} records/s ({:.0}/s in the last {:.0} s)",
            size as f64 / total,
            size.saturating_sub(self.last_size) as f64 / since.as_secs_f64(),
            since.as_secs_f64()
        );
        self.last = Instant::now();
        self.last_size = size;
    }
}

/// Creates `dir`, or checks that it is an empty directory: a build never
/// writes over anything.
fn prepare_empty(dir: &Path) -> Result<(), LoadError> {
    let setup = |what: String| LoadError::Setup(what);
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(setup(format!(
                    "{} is not empty: build-ledger writes a new site (genesis.json, {OPERATOR}.pem, \
                     node.toml, data/) into an empty or absent directory",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|error| setup(format!("creating {}: {error}", dir.display())))
        }
        Err(error) => Err(setup(format!("{} is not a directory that can be read: {error}", dir.display()))),
    }
}

/// Writes what a node needs besides its data directory: the genesis, the
/// operator's key (readable by its owner only, as the node demands) and a config naming them.
fn write_site(dir: &Path, fixture: &Fixture) -> Result<(), LoadError> {
    let genesis = serde_json::to_vec_pretty(&fixture.genesis.to_value())
        .map_err(|error| LoadError::Setup(format!("encoding the genesis: {error}")))?;
    write_new(&dir.join("genesis.json"), &genesis, 0o644)?;
    let pem = Fixture::key(OPERATOR)
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| LoadError::Setup(format!("encoding the operator's key: {error}")))?;
    // Created with its mode, so the key is never readable by others, not even for a moment.
    write_new(&dir.join(format!("{OPERATOR}.pem")), pem.as_bytes(), 0o600)?;
    let config = format!(
        "# Written by `salvage-load build-ledger`; serve the ledger with\n\
         #   {}\n\
         # Paths are relative to this file's directory.\n\
         genesis = \"genesis.json\"\n\
         data = \"data\"\n\
         key = \"{OPERATOR}.pem\"\n\
         listen = \"127.0.0.1:8080\"\n\
         public_url = \"{PUBLIC_URL}\"\n",
        node_command(dir)
    );
    write_new(&dir.join("node.toml"), config.as_bytes(), 0o644)
}

fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), LoadError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .and_then(|mut file| file.write_all(contents))
        .map_err(|error| LoadError::Setup(format!("writing {}: {error}", path.display())))
}

/// The space the files under `path` take on disk, in bytes.
fn disk_usage(path: &Path) -> u64 {
    let Ok(metadata) = fs::symlink_metadata(path) else { return 0 };
    let own = metadata.blocks() * 512;
    if !metadata.is_dir() {
        return own;
    }
    let Ok(entries) = fs::read_dir(path) else { return own };
    own + entries.filter_map(Result::ok).map(|entry| disk_usage(&entry.path())).sum::<u64>()
}

#[cfg(test)]
mod tests;
