//! Crash test: a child process submits in a loop and is killed with SIGKILL at
//! random moments, at least 20 times; after every restart each acknowledged
//! record is present and the ledger verifies.
//!
//! One binary plays both parts. The parent test re-runs this test binary with
//! `SALVAGE_CRASH_CHILD=<dir>` and asks the harness for the child test alone;
//! without that variable the child test returns at once, so an ordinary
//! `cargo test` run only starts the parent.
//!
//! The child acknowledges a record (appends its receipt to a file) only after
//! `Ledger::submit` returned it, exactly as a client would tell its user "done".
//! A SIGKILL ends the process but not the kernel, so the acknowledgement file
//! keeps every line the child wrote; the parent reads it once the child is dead.
//! What a SIGKILL cannot show is a power cut: data still in the page cache
//! survives it, so this test proves crash consistency of the process, not that
//! `fdatasync` is called (the log's own tests cover that ordering).
//!
//! The kill timings come from a seed printed at the start; set
//! `SALVAGE_CRASH_SEED=<seed>` to replay the same timings.
#![allow(clippy::unwrap_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use salvage_ledger::audit::{AuditOptions, EarlierCheckpoint, audit};
use salvage_ledger::entry::{EntryId, SignedEntry, Timestamp};
use salvage_ledger::testkit::Fixture;
use salvage_ledger::{Ledger, LedgerError};
use salvage_tests::random::SplitMix;

/// Set in the child's environment to the directory the child works in.
const CHILD_ENV: &str = "SALVAGE_CRASH_CHILD";

/// Overrides the seed of the kill timings, to replay a failed run.
const SEED_ENV: &str = "SALVAGE_CRASH_SEED";

/// The name of the test that acts as the child; `--exact` needs it spelled out.
const CHILD_TEST: &str = "crash_child";

/// How many times the child is killed.
const ROUNDS: u64 = 24;

/// The parent audits the ledger after every this many kills (and after the last).
const AUDIT_EVERY: u64 = 3;

/// The kill comes this many milliseconds after the spawn, at the earliest and latest.
const KILL_AFTER_MS: (u64, u64) = (20, 300);

/// Items move through the custody plan in groups, so that one batch holds
/// statements about several items at different stages.
const ITEMS_PER_GROUP: u64 = 8;

/// The stages of an item in the plan: register, offer to the hub, the hub
/// accepts, offer to the builder, the builder accepts.
const STAGES: u64 = 5;

/// The acknowledgement file in the child's directory.
const ACKS_FILE: &str = "acks.txt";

/// The ledger directory inside the child's directory.
const LEDGER_DIR: &str = "ledger";

/// What the child prints once it has opened the ledger and starts submitting.
const READY: &str = "crash child ready";

/// How long the parent waits for the child to open the ledger.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn acknowledged_records_survive_sigkill_and_the_ledger_verifies() {
    let started = Instant::now();
    let seed = std::env::var(SEED_ENV).ok().and_then(|text| text.parse().ok()).unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_nanos() as u64).unwrap_or(1)
    });
    eprintln!("crash test seed {seed} (set {SEED_ENV}={seed} to replay the kill timings)");
    let base = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let fixture = Fixture::new();
    let mut rng = SplitMix::new(seed);

    let mut survey = Survey::default();
    for round in 0..ROUNDS {
        let child_log = base.path().join(format!("child-{round}.log"));
        let output = File::create(&child_log).unwrap();
        let mut child = Command::new(&exe)
            .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, base.path())
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        // Replaying a growing ledger takes the child longer each round, so every
        // other kill is timed from the moment the child starts submitting. The
        // others are timed from the spawn and often land while the child is
        // still opening, which tests that too and keeps the ledger (and so the
        // test's replays) small.
        let from_spawn = round % 2 == 1;
        if !from_spawn {
            wait_until_ready(&mut child, &child_log, &format!("seed {seed}, round {round}"));
        }
        let delay = KILL_AFTER_MS.0 + rng.below(KILL_AFTER_MS.1 - KILL_AFTER_MS.0 + 1);
        std::thread::sleep(Duration::from_millis(delay));
        // The child submits forever; if it stopped by itself, it failed.
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "seed {seed}, round {round}: the child exited by itself ({status}) before the kill:\n{}",
                fs::read_to_string(&child_log).unwrap_or_default()
            );
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "seed {seed}, round {round}: the child did not die of SIGKILL ({status}):\n{}",
            fs::read_to_string(&child_log).unwrap_or_default()
        );
        survey.check_round(&fixture, base.path(), round, delay, seed);
    }

    let elapsed = started.elapsed();
    eprintln!(
        "crash test: {ROUNDS} kills in {elapsed:?}; {} records acknowledged in all, ledger size {}; \
         {} reopen(s) cut a torn tail, {} took up from the stored index; acknowledged after each round: {:?}",
        survey.acks.len(),
        survey.previous.map_or(0, |(size, _)| size),
        survey.tail_cuts,
        survey.resumed,
        survey.ack_counts,
    );
    assert!(survey.acks.len() > 100, "seed {seed}: only {} records were acknowledged over the run", survey.acks.len());
    // Otherwise every reopen rebuilt from the log, and the stored state was never put to the test.
    assert!(survey.resumed > ROUNDS / 2, "seed {seed}: only {} reopens took up from the stored index", survey.resumed);
    let halfway = survey.ack_counts[survey.ack_counts.len() / 2];
    assert!(
        survey.acks.len() > halfway,
        "seed {seed}: the child stopped making progress after round {} ({halfway} acknowledged)",
        ROUNDS / 2
    );
}

/// A kill inside `Ledger::create` can leave the first log segment created but
/// without the genesis record: empty, with part of its header, or with the
/// whole header. Nothing was acknowledged then, so restarting with
/// `open_or_create` must give a working ledger, as it does for a directory the
/// kill left without any log.
#[test]
fn a_kill_while_the_ledger_is_created_leaves_a_directory_that_opens() {
    let fixture = Fixture::new();
    let leftovers: [(&str, &[u8]); 3] = [("empty", b""), ("partial header", b"SLVG"), ("whole header", b"SLVGLOG1")];
    for (name, segment) in leftovers {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("log")).unwrap();
        fs::write(dir.path().join("log/segment-000001.log"), segment).unwrap();
        let opened = Ledger::open_or_create(dir.path(), fixture.genesis.clone());
        let (ledger, _) = opened.unwrap_or_else(|error| panic!("a first segment left {name} by a kill: {error}"));
        assert_eq!(ledger.size(), 1, "a first segment left {name}: the new ledger holds only the genesis");
        assert_eq!(
            ledger.record(0).unwrap().entry,
            fixture.genesis,
            "a first segment left {name}: record 0 is the genesis"
        );
    }
}

/// The child: opens (or creates) the ledger and submits plan entries forever,
/// acknowledging every receipt once `submit` has returned it.
#[test]
fn crash_child() {
    let Some(base) = std::env::var_os(CHILD_ENV) else { return };
    let base = PathBuf::from(base);
    let fixture = Fixture::new();
    let stages = stage_fixtures(&fixture);
    let opening = Instant::now();
    let (ledger, _) = Ledger::open_or_create(&base.join(LEDGER_DIR), fixture.genesis.clone()).unwrap();
    eprintln!("{READY} after opening {} records in {:?}", ledger.size(), opening.elapsed());
    let mut acks = OpenOptions::new().create(true).append(true).open(base.join(ACKS_FILE)).unwrap();

    // Every record after the genesis is a plan entry (the baits below are always
    // refused), so the plan resumes at size − 1. Backing up a few entries
    // re-submits records that are already in the ledger, as a client does that
    // does not know whether its last submission got through before a crash;
    // the ledger must answer with the existing receipts.
    let present = ledger.size() - 1;
    let mut rng = SplitMix::new(present ^ (u64::from(std::process::id()) << 32));
    let mut next = present.saturating_sub(rng.below(4));
    loop {
        let count = 1 + rng.below(16);
        let mut batch: Vec<SignedEntry> = (next..next + count).map(|k| plan_entry(&stages, k)).collect();
        // Now and then a statement that breaks a custody rule rides along; it must
        // be refused without disturbing the rest of the batch.
        let bait = (rng.below(3) == 0).then(|| {
            let at = rng.below(count + 1) as usize;
            batch.insert(at, bait_entry(&fixture, next));
            at
        });
        let outcomes = ledger.submit(batch).unwrap();
        let mut lines = String::new();
        let mut k = next;
        for (position, outcome) in outcomes.iter().enumerate() {
            if Some(position) == bait {
                assert!(
                    outcome.is_err(),
                    "plan entry {next}: a statement by a non-custodian was accepted: {outcome:?}"
                );
                continue;
            }
            let receipt = outcome.as_ref().unwrap_or_else(|refusal| panic!("plan entry {k} was refused: {refusal}"));
            assert_eq!(receipt.seq.get(), k + 1, "plan entry {k} got the wrong seq");
            lines.push_str(&format!("{} {} {}\n", receipt.seq, receipt.entry_id, receipt.leaf_hash));
            k += 1;
        }
        // One write per submission, so a kill cannot split a line in practice;
        // the parent ignores an unfinished last line anyway.
        acks.write_all(lines.as_bytes()).unwrap();
        acks.flush().unwrap();
        next += count;
    }
}

/// Waits until the child says it has opened the ledger, failing if it dies or
/// takes too long.
fn wait_until_ready(child: &mut Child, child_log: &Path, at: &str) {
    let started = Instant::now();
    loop {
        if fs::read_to_string(child_log).unwrap_or_default().contains(READY) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "{at}: the child exited ({status}) before it was ready:\n{}",
                fs::read_to_string(child_log).unwrap_or_default()
            );
        }
        assert!(started.elapsed() < READY_TIMEOUT, "{at}: the child did not open the ledger within {READY_TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What the parent has learnt over the rounds so far.
#[derive(Default)]
struct Survey {
    /// Every acknowledged receipt: seq → (entry id, leaf hash), both hex.
    acks: BTreeMap<u64, (String, String)>,
    /// The size and root the parent saw after the previous kill.
    previous: Option<(u64, [u8; 32])>,
    /// The size and root of the last audited ledger.
    audited: Option<(u64, [u8; 32])>,
    /// How many reopens after a kill cut a torn tail.
    tail_cuts: u64,
    /// How many reopens after a kill took up from the stored index (rather than rebuilding it).
    resumed: u64,
    /// The number of acknowledged records after each round.
    ack_counts: Vec<usize>,
}

impl Survey {
    /// Checks the ledger the killed child left behind.
    fn check_round(&mut self, fixture: &Fixture, base: &Path, round: u64, delay: u64, seed: u64) {
        let at = format!("seed {seed}, round {round} (killed after {delay} ms)");
        self.read_acks(base, &at);
        self.ack_counts.push(self.acks.len());
        let dir = base.join(LEDGER_DIR);

        let (ledger, report) = match Ledger::open(&dir) {
            Ok(opened) => opened,
            // The child may have died before it created the ledger; then it
            // cannot have acknowledged anything, and the next child creates it.
            Err(LedgerError::Missing(_)) if self.acks.is_empty() && self.previous.is_none() => return,
            Err(error) => panic!("{at}: the ledger does not open after the kill: {error}"),
        };
        if let Some(cut) = &report.tail_cut {
            self.tail_cuts += 1;
            eprintln!("{at}: open cut a torn tail: {cut:?}");
        }
        if report.index_rebuilt.is_none() {
            self.resumed += 1;
        }
        let size = ledger.size();
        assert_eq!(report.size, size, "{at}: the open report disagrees with the ledger");

        // Every acknowledged record is there, unchanged, and findable by its entry id.
        for (&seq, (entry_id, leaf_hash)) in &self.acks {
            assert!(seq < size, "{at}: acknowledged record {seq} is lost: the ledger has only {size} records");
            let record = ledger.record(seq).unwrap();
            assert_eq!(
                &record.entry.id().to_hex(),
                entry_id,
                "{at}: record {seq} holds another entry than acknowledged"
            );
            assert_eq!(
                &record.leaf_hash().to_hex(),
                leaf_hash,
                "{at}: record {seq} hashes otherwise than acknowledged"
            );
            let receipt = ledger.receipt(&EntryId::from_hex(entry_id).unwrap()).unwrap();
            assert_eq!(
                receipt.map(|r| (r.seq.get(), r.leaf_hash.to_hex())),
                Some((seq, leaf_hash.clone())),
                "{at}: the index does not give the acknowledged receipt of record {seq}"
            );
        }

        // The ledger only grows: whatever the previous reopen saw is still its prefix.
        if let Some((previous_size, previous_root)) = self.previous {
            assert!(size >= previous_size, "{at}: the ledger shrank from {previous_size} to {size} records");
            assert_eq!(
                ledger.root_at(previous_size).unwrap(),
                previous_root,
                "{at}: the first {previous_size} records changed"
            );
        }
        let root = ledger.root_at(size).unwrap();
        let state = ledger.state_digest().unwrap();
        let index = ledger.index_digest().unwrap();
        drop(ledger);

        // A second open finds nothing to repair and the same ledger.
        let (ledger, report) =
            Ledger::open(&dir).unwrap_or_else(|error| panic!("{at}: the second open fails: {error}"));
        assert!(report.tail_cut.is_none(), "{at}: the second open cut a tail again: {:?}", report.tail_cut);
        assert_eq!(ledger.size(), size, "{at}: the second open sees another size");
        assert_eq!(ledger.root_at(size).unwrap(), root, "{at}: the second open computes another root");
        assert_eq!(ledger.state_digest().unwrap(), state, "{at}: the second open replays to another custody state");
        assert_eq!(ledger.index_digest().unwrap(), index, "{at}: the second open holds another index");

        // An independent replay of every record agrees, on the root and the custody state
        // the stored index took the ledger up from, and extends the ledger the previous
        // audit saw. It runs only every third round and after the last, to keep the test quick.
        if round % AUDIT_EVERY == AUDIT_EVERY - 1 || round == ROUNDS - 1 {
            let records = (0..size).map(|seq| ledger.record_bytes(seq));
            let earlier = self.audited.map(|(size, root)| EarlierCheckpoint { size, root, note: None });
            let report =
                audit(&fixture.genesis, records, &AuditOptions { earlier, ..AuditOptions::default() }, &mut |_| {});
            assert!(report.is_clean(), "{at}: the audit finds problems: {:?}", report.problems);
            assert_eq!(report.root, hex_of(&root), "{at}: the audit computes another root");
            assert_eq!(
                report.state,
                hex_of(&state),
                "{at}: a full replay gives another state digest than the reopened ledger"
            );
            self.audited = Some((size, root));
        }
        self.previous = Some((size, root));
    }

    /// Adds the acknowledgement file's complete lines to `acks`, refusing a
    /// record acknowledged twice with different contents.
    fn read_acks(&mut self, base: &Path, at: &str) {
        let text = fs::read_to_string(base.join(ACKS_FILE)).unwrap_or_default();
        // A line without its newline was being written when the kill came.
        let complete = text.rfind('\n').map_or("", |end| &text[..=end]);
        for line in complete.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let [seq, entry_id, leaf_hash] = fields.as_slice() else {
                panic!("{at}: malformed acknowledgement {line:?}")
            };
            let seq: u64 = seq.parse().unwrap();
            let acknowledged = (entry_id.to_string(), leaf_hash.to_string());
            if let Some(earlier) = self.acks.get(&seq) {
                assert_eq!(earlier, &acknowledged, "{at}: record {seq} was acknowledged twice with different contents");
            }
            self.acks.insert(seq, acknowledged);
        }
    }
}

/// Entry `k` of the endless custody plan: every item is registered by a
/// contractor, offered to the reuse hub, accepted, offered to the builder and
/// accepted, with the items of a group moving through each stage together.
/// `stages` holds one fixture per stage (see [`stage_fixtures`]).
fn plan_entry(stages: &[Fixture], k: u64) -> SignedEntry {
    let per_group = ITEMS_PER_GROUP * STAGES;
    let item = k / per_group * ITEMS_PER_GROUP + k % ITEMS_PER_GROUP;
    let giai = giai(item);
    let contractor = contractor(item);
    let stage = k % per_group / ITEMS_PER_GROUP;
    let fixture = &stages[stage as usize];
    match stage {
        0 => fixture.register(contractor, &giai, "HEA 160 steel beam", 150.0 + (item % 40) as f64),
        1 => fixture.transfer(contractor, &giai, "reuse-hub"),
        2 => fixture.receive("reuse-hub", &giai),
        3 => fixture.transfer("reuse-hub", &giai, "timber-builders"),
        _ => fixture.receive("timber-builders", &giai),
    }
}

/// The demo consortium once per plan stage, each stage's statements made one
/// second after the previous stage's. An `item.receive` body names only the
/// item, and an entry id covers only the statement, so the hub's and the
/// builder's receipts of one item would otherwise be the same statement, and
/// the ledger would answer the second with the first one's receipt.
fn stage_fixtures(fixture: &Fixture) -> Vec<Fixture> {
    (0..STAGES)
        .map(|stage| {
            let mut staged = fixture.clone();
            staged.time = Timestamp::from_instant(fixture.time.instant() + Duration::from_secs(stage));
            staged
        })
        .collect()
}

/// A statement the custody rules must refuse: the other contractor offers the
/// item of plan entry `k`, which it never holds, to itself. The statement must
/// differ from every plan statement, not only in its signer: an entry id covers
/// the statement alone, so a plan statement signed by the wrong member would be
/// answered with the plan entry's receipt (documented idempotency).
fn bait_entry(fixture: &Fixture, k: u64) -> SignedEntry {
    let item = k / (ITEMS_PER_GROUP * STAGES) * ITEMS_PER_GROUP + k % ITEMS_PER_GROUP;
    let other = if contractor(item) == "baltic-demolition" { "riga-deconstruction" } else { "baltic-demolition" };
    fixture.transfer(other, &giai(item), other)
}

fn giai(item: u64) -> String {
    format!("4750001BEAM-{item:06}")
}

fn contractor(item: u64) -> &'static str {
    if item.is_multiple_of(2) { "baltic-demolition" } else { "riga-deconstruction" }
}

fn hex_of(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
