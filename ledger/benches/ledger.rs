//! Throughput of the ledger against the limit its signatures set.
//!
//! Run with `cargo bench -p salvage-ledger`. These measurements share one run so
//! that they see the same machine in the same state:
//!
//! - `verify_strict/single-core`: one Ed25519 `verify_strict` after another on
//!   one thread, over the signing message of a real `item.register` entry. Every
//!   entry an ingest accepts carries one signature, so this rate is the ceiling
//!   of one core; the ledger verifies big batches on two.
//! - `ingest/batch/{1,64,1024}`: `Ledger::submit` of signed, schema-valid
//!   entries into a ledger on disk, half `item.register` of new items and half
//!   `item.transfer` of items registered at least 512 registrations earlier.
//!   `submit` returns only after fdatasync, so each call is one durable group
//!   commit. Signing is the client's cost: every entry is signed before timing.
//! - `canonical/statement/*` and `schema/item.register`: encoding one statement
//!   as JCS and validating one registration body, which every node does for
//!   every entry.
//! - `decode/submission`, `decode/submission_canonical` and `decode/replicated`:
//!   decoding one `item.register` entry as a client sends it (serde's JSON,
//!   parsed strictly, or its canonical JSON as the CLI sends it; once per entry
//!   at the node that takes it) and as a replicated batch carries it (canonical
//!   bytes, on every node).
//! - `audit/100k-records`: `audit::audit` over the canonical bytes of a
//!   100,000-record ledger held in memory (reading the disk is not timed).
//!
//! Criterion reports each figure with its confidence interval. It does not hand
//! its estimates back to the program, so the benchmark also adds up the time of
//! every iteration it timed itself and prints, at the end, each rate beside the
//! single-core `verify_strict` rate and their ratio.
//!
//! The 100,000-record ledger takes a while to build, so it is kept in
//! `target/bench-ledger-100k` and reused by later runs when it opens cleanly and
//! holds exactly the expected records. Ingest ledgers are created in
//! `target/bench-ingest` and removed when a benchmark is done with them.

// The same allocator as the `salvage` binary, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::cell::OnceCell;
use std::convert::Infallible;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use ed25519_dalek::{Signature, VerifyingKey};
use salvage_ledger::audit::{AuditOptions, audit};
use salvage_ledger::entry::{SignedEntry, signing_message};
use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::Fixture;
use tempfile::TempDir;

/// The batch sizes the acceptance criteria name.
const BATCH_SIZES: [usize; 3] = [1, 64, 1024];

/// How many registrations a transfer trails behind: at least one batch of 1024
/// (512 registrations), so no batch transfers an item it registers itself.
const TRANSFER_LAG: usize = 512;

/// Items in the ingest pool. Every ledger replays the same stream of
/// 2 × (ITEMS − TRANSFER_LAG) = 32,768 entries, a whole number of batches of
/// every size, before the next ledger starts afresh.
const INGEST_ITEMS: usize = 16_384 + TRANSFER_LAG;

/// Records in the audited ledger, the genesis included.
const AUDIT_RECORDS: u64 = 100_000;

/// Items in the audited ledger: each is registered, transferred and received,
/// which with the genesis makes exactly [`AUDIT_RECORDS`].
const AUDIT_ITEMS: usize = 33_333;

/// Items per submission while building the audited ledger (3 entries each).
const AUDIT_BUILD_ITEMS_PER_BATCH: usize = 341;

/// The ingest target from the acceptance criteria for batches of 1024, in entries per second.
const INGEST_TARGET_1024: f64 = 40_000.0;

/// Audit target from the acceptance criteria, in records per second.
const AUDIT_TARGET: f64 = 150_000.0;

/// Runs every benchmark (or those the command line selects), then prints the summary.
fn main() {
    let fixture = Fixture::new();
    let target_dir = target_dir();
    let mut criterion = Criterion::default().configure_from_args();
    let mut summary = Vec::new();

    summary.push(bench_verify_strict(&mut criterion, &fixture));
    bench_canonical(&mut criterion, &fixture);
    bench_schema(&mut criterion, &fixture);
    bench_decode(&mut criterion, &fixture);
    // Signed on first use, so a run filtered to other benchmarks does not pay for it.
    let pool = OnceCell::new();
    for batch in BATCH_SIZES {
        summary.push(bench_ingest(&mut criterion, &fixture, &pool, batch, &target_dir.join("bench-ingest")));
    }
    drop(pool);
    summary.push(bench_audit(&mut criterion, &fixture, &target_dir.join("bench-ledger-100k")));

    criterion.final_summary();
    print_summary(&summary);
}

/// What one benchmark timed itself, across every iteration criterion asked for
/// (warm-up included): elements done and the time they took.
#[derive(Debug, Clone)]
struct Tally {
    /// The benchmark's name in the summary.
    label: String,
    /// What an element is, for the summary ("entries", "records", "verifies").
    unit: &'static str,
    /// Elements processed in timed sections.
    elements: u64,
    /// Timed calls made (for ingest, submits: one fdatasync each).
    calls: u64,
    /// The time of all timed sections.
    elapsed: Duration,
    /// The acceptance target in elements per second, if there is one.
    target: Option<f64>,
}

impl Tally {
    fn new(label: impl Into<String>, unit: &'static str, target: Option<f64>) -> Tally {
        Tally { label: label.into(), unit, elements: 0, calls: 0, elapsed: Duration::ZERO, target }
    }

    fn add(&mut self, elements: u64, elapsed: Duration) {
        self.elements += elements;
        self.calls += 1;
        self.elapsed += elapsed;
    }

    /// Elements per second, or `None` if nothing ran (e.g. filtered out on the command line).
    fn rate(&self) -> Option<f64> {
        let seconds = self.elapsed.as_secs_f64();
        (self.elements > 0 && seconds > 0.0).then(|| self.elements as f64 / seconds)
    }

    fn calls_per_second(&self) -> Option<f64> {
        let seconds = self.elapsed.as_secs_f64();
        (self.calls > 0 && seconds > 0.0).then(|| self.calls as f64 / seconds)
    }
}

/// One core verifying one signature after another: the unit the other rates are compared with.
fn bench_verify_strict(criterion: &mut Criterion, fixture: &Fixture) -> Tally {
    // A real entry's signing message, so the SHA-512 input has the usual length.
    let entry = fixture.register("baltic-demolition", "4750001BVERIFY01", "HEA 160 steel beam", 182.4);
    let message = signing_message(entry.canonical_statement());
    let signature: Signature = entry.signatures()[0].sig;
    let key: VerifyingKey = *entry.signatures()[0].key.verifying_key();
    assert!(key.verify_strict(&message, &signature).is_ok(), "the fixture's signature must verify");

    let mut tally = Tally::new("verify_strict single-core", "verifies", None);
    let mut group = criterion.benchmark_group("verify_strict");
    group.throughput(Throughput::Elements(1)).sample_size(20).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("single-core", |bencher| {
        bencher.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let verdict = black_box(&key).verify_strict(black_box(&message), black_box(&signature));
                black_box(verdict.is_ok());
            }
            let elapsed = start.elapsed();
            tally.add(iters, elapsed);
            elapsed
        });
    });
    group.finish();
    tally
}

/// The RFC 8785 encoding of a real `item.register` statement, by the ledger's
/// encoder and by the `serde_json_canonicalizer` crate it replaced (see
/// docs/performance.md: every submission pays for one).
fn bench_canonical(criterion: &mut Criterion, fixture: &Fixture) {
    let entry = fixture.register("baltic-demolition", "4750001BCANON01", "HEA 160 steel beam", 182.4);
    let statement = entry.statement().clone();
    let expected = serde_json_canonicalizer::to_vec(&statement).expect("the crate encodes a statement");
    assert_eq!(statement.canonical_bytes(), expected, "both encoders must agree");
    let mut group = criterion.benchmark_group("canonical");
    group.throughput(Throughput::Bytes(expected.len() as u64)).sample_size(20).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("statement/ledger", |bencher| bencher.iter(|| black_box(&statement).canonical_bytes()));
    group.bench_function("statement/serde_json_canonicalizer", |bencher| {
        bencher.iter(|| serde_json_canonicalizer::to_vec(black_box(&statement)))
    });
    group.finish();
}

/// Decoding a real `item.register` entry from the bytes a client sends (its
/// serde encoding, which is not canonical: it writes the mass 182 as `182.0`)
/// and from its canonical bytes, as replication carries it.
fn bench_decode(criterion: &mut Criterion, fixture: &Fixture) {
    let entry = fixture.register("baltic-demolition", "4750001BDECODE1", "HEA 160 steel beam", 182.0);
    let submitted = serde_json::to_vec(&entry).expect("an entry encodes");
    let canonical = entry.canonical_bytes();
    assert_ne!(submitted, canonical, "the client's bytes should take the strict path");
    assert_eq!(SignedEntry::from_json_bytes(&submitted).ok().map(|parsed| parsed.id()), Some(entry.id()));
    assert_eq!(SignedEntry::from_canonical_json(&canonical).ok().map(|parsed| parsed.id()), Some(entry.id()));
    let mut group = criterion.benchmark_group("decode");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.bench_function("submission", |bencher| bencher.iter(|| SignedEntry::from_json_bytes(black_box(&submitted))));
    group.bench_function("replicated", |bencher| {
        bencher.iter(|| SignedEntry::from_canonical_json(black_box(&canonical)))
    });
    // The same entry submitted as its canonical JSON, as the CLI sends it.
    assert!(SignedEntry::read_canonical_submission(&canonical).is_some(), "canonical bytes should take the fast path");
    group.bench_function("submission_canonical", |bencher| {
        bencher.iter(|| SignedEntry::read_canonical_submission(black_box(&canonical)))
    });
    group.finish();
}

/// Schema validation of a real `item.register` body (its passport included),
/// which every node does for every entry it applies.
fn bench_schema(criterion: &mut Criterion, fixture: &Fixture) {
    let entry = fixture.register("baltic-demolition", "4750001BSCHEMA1", "HEA 160 steel beam", 182.4);
    let body = entry.statement().body.clone();
    salvage_ledger::schema::validate_body("item.register", &body).expect("the fixture's body is valid");
    let mut group = criterion.benchmark_group("schema");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.bench_function("item.register", |bencher| {
        bencher.iter(|| salvage_ledger::schema::validate_body("item.register", black_box(&body)))
    });
    group.finish();
}

/// The pre-signed entries every ingest benchmark replays.
struct IngestPool {
    /// The genesis every entry names.
    genesis: SignedEntry,
    /// Registrations of the first [`TRANSFER_LAG`] items, submitted untimed to
    /// every new ledger so the stream's first transfers have something to move.
    prefix: Vec<SignedEntry>,
    /// The timed stream: register item `LAG + j`, then transfer item `j`, for
    /// every `j`, so each even batch is half registrations, half transfers.
    stream: Vec<SignedEntry>,
}

impl IngestPool {
    fn sign(fixture: &Fixture) -> IngestPool {
        let started = Instant::now();
        let register = |n: usize| fixture.register(contractor(n), &giai("4750001B", n), "HEA 160 steel beam", mass(n));
        let transfer = |n: usize| fixture.transfer(contractor(n), &giai("4750001B", n), "reuse-hub");
        let prefix = sign_on_both_cores(TRANSFER_LAG, &register);
        let stream_len = 2 * (INGEST_ITEMS - TRANSFER_LAG);
        let stream = sign_on_both_cores(stream_len, &|i: usize| {
            if i.is_multiple_of(2) { register(TRANSFER_LAG + i / 2) } else { transfer(i / 2) }
        });
        for batch in BATCH_SIZES {
            assert_eq!(stream.len() % batch, 0, "the stream must hold whole batches of {batch}");
        }
        eprintln!(
            "signed {} ingest entries in {:.1} s (not timed by the benchmark)",
            prefix.len() + stream.len(),
            started.elapsed().as_secs_f64()
        );
        IngestPool { genesis: fixture.genesis.clone(), prefix, stream }
    }
}

/// An ingest benchmark's ledger and how far through the pool's stream it is.
struct IngestRun {
    batch: usize,
    root: PathBuf,
    // Declared before the directory so the ledger is closed before the directory is removed.
    ledger: Option<Ledger>,
    dir: Option<TempDir>,
    cursor: usize,
}

impl IngestRun {
    /// The next batch to submit and the ledger to submit it to, starting a
    /// fresh ledger (untimed) once the current one has taken the whole stream.
    fn next_batch(&mut self, pool: &IngestPool) -> (&Ledger, Vec<SignedEntry>) {
        if self.ledger.is_none() || self.cursor + self.batch > pool.stream.len() {
            self.ledger = None;
            self.dir = None;
            std::fs::create_dir_all(&self.root).expect("the ingest directory must be creatable");
            let dir = tempfile::Builder::new()
                .prefix("ingest-")
                .tempdir_in(&self.root)
                .expect("a temporary ledger directory");
            let ledger = Ledger::create(dir.path(), pool.genesis.clone()).expect("a fresh ledger");
            let outcomes = ledger.submit(pool.prefix.clone()).expect("the prefix must be stored");
            assert_all_accepted(&outcomes, "the ingest prefix");
            self.ledger = Some(ledger);
            self.dir = Some(dir);
            self.cursor = 0;
        }
        let batch = pool.stream[self.cursor..self.cursor + self.batch].to_vec();
        self.cursor += self.batch;
        (self.ledger.as_ref().expect("a ledger was just made"), batch)
    }
}

/// Durable ingest of batches of `batch` entries.
fn bench_ingest(
    criterion: &mut Criterion,
    fixture: &Fixture,
    pool: &OnceCell<IngestPool>,
    batch: usize,
    root: &Path,
) -> Tally {
    let target = (batch == 1024).then_some(INGEST_TARGET_1024);
    let mut tally = Tally::new(format!("ingest batch {batch}"), "entries", target);
    let mut run = IngestRun { batch, root: root.to_owned(), ledger: None, dir: None, cursor: 0 };
    let mut group = criterion.benchmark_group("ingest");
    group.throughput(Throughput::Elements(batch as u64)).sample_size(10);
    group.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(12));
    if batch == 1024 {
        // About 50 ms an iteration: equal samples keep the run short.
        group.sampling_mode(SamplingMode::Flat);
    }
    group.bench_function(format!("batch/{batch}"), |bencher| {
        // Outside `iter_custom`: criterion sizes its warm-up and profiling runs by the wall
        // time of each `iter_custom` call, so one-off work inside it would skew them.
        let pool = pool.get_or_init(|| IngestPool::sign(fixture));
        bencher.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let (ledger, entries) = run.next_batch(pool);
                let start = Instant::now();
                let outcomes = ledger.submit(entries);
                let elapsed = start.elapsed();
                let outcomes = outcomes.expect("the ledger must store the batch");
                assert_all_accepted(&outcomes, "an ingest batch");
                tally.add(batch as u64, elapsed);
                timed += elapsed;
            }
            timed
        });
    });
    group.finish();
    drop(run);
    let _ = std::fs::remove_dir(root);
    tally
}

/// The audit of a 100,000-record ledger held in memory.
fn bench_audit(criterion: &mut Criterion, fixture: &Fixture, dir: &Path) -> Tally {
    // Built or loaded on first use, so a run filtered to other benchmarks does not pay for it.
    let records = OnceCell::new();
    let genesis = fixture.genesis.clone();
    let mut tally = Tally::new("audit 100k records", "records", Some(AUDIT_TARGET));
    let mut group = criterion.benchmark_group("audit");
    group.throughput(Throughput::Elements(AUDIT_RECORDS)).sample_size(10);
    // Ten audits at least, however long they take; 20 s keeps a fast audit's run short.
    group.sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("100k-records", |bencher| {
        // Outside `iter_custom`, for the same reason as the ingest pool.
        let records = records.get_or_init(|| audited_records(fixture, dir));
        bencher.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                // An auditor owns the bytes it reads; copying them is not the audit's cost.
                let stream: Vec<Result<Vec<u8>, Infallible>> = records.iter().cloned().map(Ok).collect();
                let start = Instant::now();
                let report = audit(&genesis, stream, &AuditOptions::default(), &mut |_| {});
                let elapsed = start.elapsed();
                assert!(report.is_clean(), "the benchmark ledger must audit clean: {:?}", report.problems.first());
                assert_eq!(report.records, AUDIT_RECORDS);
                tally.add(report.records, elapsed);
                timed += elapsed;
            }
            timed
        });
    });
    group.finish();
    tally
}

/// The canonical bytes of every record of the 100,000-record ledger in `dir`,
/// building the ledger first unless a clean one is already there.
fn audited_records(fixture: &Fixture, dir: &Path) -> Vec<Vec<u8>> {
    let started = Instant::now();
    let reused = match Ledger::open(dir) {
        Ok((ledger, _)) if ledger.size() == AUDIT_RECORDS && *ledger.genesis() == fixture.genesis => Some(ledger),
        Ok(_) | Err(_) => None,
    };
    let ledger = match reused {
        Some(ledger) => {
            eprintln!(
                "reusing the audit ledger in {} (opened in {:.1} s)",
                dir.display(),
                started.elapsed().as_secs_f64()
            );
            ledger
        }
        None => build_audited_ledger(fixture, dir),
    };
    (0..ledger.size()).map(|seq| ledger.record_bytes(seq).expect("a durable record must be readable")).collect()
}

/// Builds the audited ledger from scratch: every item is registered by a
/// contractor, offered to the reuse hub and received by it.
fn build_audited_ledger(fixture: &Fixture, dir: &Path) -> Ledger {
    let started = Instant::now();
    eprintln!("building the {AUDIT_RECORDS}-record audit ledger in {} (once; later runs reuse it)", dir.display());
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("a stale audit ledger must be removable");
    }
    let ledger = Ledger::create(dir, fixture.genesis.clone()).expect("the audit ledger must be creatable");
    let mut first = 0;
    while first < AUDIT_ITEMS {
        let count = AUDIT_BUILD_ITEMS_PER_BATCH.min(AUDIT_ITEMS - first);
        let entries = sign_on_both_cores(3 * count, &|i: usize| {
            let n = first + i % count;
            let giai = giai("4750002A", n);
            match i / count {
                0 => fixture.register(contractor(n), &giai, "clay brick pallet", mass(n)),
                1 => fixture.transfer(contractor(n), &giai, "reuse-hub"),
                _ => fixture.receive("reuse-hub", &giai),
            }
        });
        let outcomes = ledger.submit(entries).expect("the audit ledger must store every batch");
        assert_all_accepted(&outcomes, "the audit ledger");
        first += count;
    }
    assert_eq!(ledger.size(), AUDIT_RECORDS);
    ledger.flush().expect("the audit ledger's index must flush");
    eprintln!("built the audit ledger in {:.1} s", started.elapsed().as_secs_f64());
    ledger
}

/// Signs `count` entries, the first half on this thread and the second on another.
fn sign_on_both_cores(count: usize, entry: &(dyn Fn(usize) -> SignedEntry + Sync)) -> Vec<SignedEntry> {
    let mid = count / 2;
    std::thread::scope(|scope| {
        let second = scope.spawn(move || (mid..count).map(entry).collect::<Vec<_>>());
        let mut entries: Vec<SignedEntry> = (0..mid).map(entry).collect();
        entries.extend(second.join().expect("the signing thread must not panic"));
        entries
    })
}

/// Panics with the first refusal if any entry was refused: a benchmark of
/// refusals would measure the wrong thing.
fn assert_all_accepted<T, E: std::fmt::Display>(outcomes: &[Result<T, E>], what: &str) {
    if let Some(refusal) = outcomes.iter().find_map(|outcome| outcome.as_ref().err()) {
        panic!("{what}: an entry was refused: {refusal}");
    }
}

/// The two demo contractors take turns registering items.
fn contractor(n: usize) -> &'static str {
    if n.is_multiple_of(2) { "baltic-demolition" } else { "riga-deconstruction" }
}

/// A GIAI under a GS1 company prefix with a serial number.
fn giai(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:08}")
}

/// A plausible beam mass that varies with the item, so passports differ in more than the GIAI.
fn mass(n: usize) -> f64 {
    100.0 + (n % 400) as f64 / 2.0
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set, else the workspace's `target`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target"))
}

/// Prints each rate beside the single-core `verify_strict` rate of the same run.
fn print_summary(tallies: &[Tally]) {
    let verify = tallies.iter().find(|t| t.unit == "verifies").and_then(Tally::rate);
    eprintln!();
    eprintln!("summary (own timing: total elements / total timed seconds over every iteration, warm-up included)");
    if let Some(verify) = verify {
        eprintln!("  verify_strict single-core: {verify:.0}/s");
    }
    for tally in tallies.iter().filter(|t| t.unit != "verifies") {
        let Some(rate) = tally.rate() else { continue };
        let mut line = format!("  {}: {rate:.0} {}/s", tally.label, tally.unit);
        if let Some(verify) = verify {
            line.push_str(&format!(" = {:.2}× single-core verify_strict", rate / verify));
        }
        if tally.unit == "entries"
            && let Some(commits) = tally.calls_per_second()
        {
            line.push_str(&format!(" ({commits:.0} submits/s, one fdatasync each)"));
        }
        if let Some(target) = tally.target {
            let verdict = if rate >= target { "met" } else { "MISSED" };
            line.push_str(&format!("; target {target:.0}/s {verdict}"));
        }
        eprintln!("{line}");
    }
}
