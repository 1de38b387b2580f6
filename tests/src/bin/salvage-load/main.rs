//! `salvage-load`: the node's load benchmark.
//!
//! It starts the real `salvage node` on a fresh consortium site (or targets a
//! running node with `--node`), prepares everything it will send before the
//! clock starts, then drives the node from many concurrent keep-alive HTTP/1.1
//! clients for a fixed time after a warm-up, and reports throughput and latency:
//!
//! - `submit`: signed single-entry submissions (`POST /v1/entries`, one
//!   `item.register` per request, each a new item); every answer must be 201.
//! - `pages`: provenance page views (`GET /8004/{giai}` as a Latvian browser)
//!   over items seeded with a few custody steps each; every answer must be 200 HTML.
//!   With `--photos N`, N generated photos are uploaded first and every
//!   passport names them, so each page shows N thumbnails.
//! - `thumbnails`: the photos' thumbnails those pages show (`GET
//!   /v1/attachments/{blake3}/thumbnail` of N uploaded photos, derived once
//!   before the clock starts); every answer must be 200 `image/jpeg`.
//!
//! With `--cluster`, `submit` and `pages` start a consortium of three
//! replicating nodes instead of one and spread the clients over them. With
//! `--restricted`, the ledger is of format 2 and every registration restricts
//! two passport values, which it withholds as salted digests and sends in the
//! envelope with their disclosures (docs/format.md §13). Two
//! scenarios time a consortium rather than load it:
//!
//! - `failover`: the time from a SIGKILL of the leader to the first entry
//!   acknowledged after it, over several rounds;
//! - `catchup`: how fast a follower that missed many records (SIGSTOP) catches
//!   up once resumed.
//!
//! `hostile` (always three nodes) runs `submit` undisturbed and then while
//! attackers flood and stall the nodes (see `hostile.rs`), and reports what
//! the attack cost the honest clients, whether the leader changed, and the
//! nodes' peak memory.
//!
//! `build-ledger` loads no node: it writes a ledger of N records straight
//! through the ledger's API (signed entries of a realistic mix, in batches
//! signed ahead), into a site that `salvage node` can then serve, so that
//! benchmarks of large ledgers can be reproduced (see `build_ledger.rs`).
//!
//! Build and run it with the node it starts, in release mode:
//!
//! ```sh
//! cargo build --release -p salvage-cli -p salvage-tests --bins
//! target/release/salvage-load submit
//! target/release/salvage-load pages --json
//! target/release/salvage-load pages --photos 4
//! target/release/salvage-load thumbnails --photos 16
//! target/release/salvage-load proofs --node http://127.0.0.1:8080
//! target/release/salvage-load mixed --node http://127.0.0.1:8080 --restricted --duration 3600
//! target/release/salvage-load submit --cluster
//! target/release/salvage-load failover --rounds 5
//! target/release/salvage-load catchup --records 100000
//! target/release/salvage-load hostile
//! target/release/salvage-load build-ledger --data /tmp/ledger-1m --records 1000000
//! ```
//!
//! The generator runs on the same machine as the node and takes CPU from it;
//! the report says how many cores each of them used while it measured.
//! Any unexpected answer is reported with a sample body and makes the exit
//! status non-zero.
#![deny(missing_docs)]

mod build_ledger;
mod consortium;
mod cpu;
mod drive;
mod hostile;
mod mix;
mod mixed;
mod photos;
mod proofs;
mod report;
mod requests;
mod scenario;
mod target;
mod thumbnails;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::drive::Plan;
use crate::target::Target;

/// The most photos `thumbnails` uploads (each is generated, and uploaded, before the clock starts).
const MAX_THUMBNAIL_PHOTOS: u64 = 1_000;

// The generator must stay cheap next to the node it measures; mimalloc is what
// the `salvage` binary uses too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Load benchmark of a Salvage node: submissions and provenance page views.
#[derive(Debug, Parser)]
#[command(name = "salvage-load", version)]
struct Cli {
    /// What to measure.
    #[command(subcommand)]
    scenario: ScenarioName,
    /// Settings every scenario shares.
    #[command(flatten)]
    common: Common,
}

/// The scenarios.
#[derive(Debug, Subcommand)]
enum ScenarioName {
    /// Signed submissions, each entry registering a new item; every answer must be 201.
    Submit {
        /// How many entries to sign before the clock starts; the run ends early if they run out.
        #[arg(long, default_value_t = 300_000)]
        entries: usize,
        /// Entries per submission: 1 sends the entry itself, more send a JSON array.
        #[arg(long, default_value_t = 1)]
        per_request: usize,
        /// Send the entries as serde writes them (e.g. a mass of 250 as `250.0`),
        /// which a node parses strictly, instead of as their canonical JSON.
        #[arg(long)]
        serde_bodies: bool,
    },
    /// Provenance page views of random seeded items; every answer must be 200 HTML.
    Pages {
        /// How many items to seed (register, transfer to the reuse hub, receive).
        #[arg(long, default_value_t = 1_000)]
        items: usize,
        /// How many generated photos (JPEG, 1600×1200) to upload first; every
        /// seeded passport names them all (at most 20).
        #[arg(long, default_value_t = 0, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=photos::MAX_PER_PASSPORT as u64))]
        photos: usize,
    },
    /// Thumbnails of random uploaded photos (`GET /v1/attachments/{blake3}/thumbnail`),
    /// each derived once before the clock starts; every answer must be 200 `image/jpeg`.
    Thumbnails {
        /// How many generated photos (JPEG, 1600×1200) to upload; items naming them make them public.
        #[arg(long, default_value_t = 16, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_THUMBNAIL_PHOTOS))]
        photos: usize,
    },
    /// Inclusion proofs of random records in the tree of the node's size at the
    /// start; every answer must be 200 JSON.
    Proofs,
    /// Page views, inclusion proofs (25 %) and registrations of new items (5 %)
    /// from the same clients, for a long run on a large ledger (e.g.
    /// `--node … --restricted --duration 3600`); every answer must be what its request expects.
    Mixed {
        /// How many items to seed for the page views (as `pages` does).
        #[arg(long, default_value_t = 1_000)]
        items: usize,
    },
    /// Three nodes: time from a SIGKILL of the leader to the first new commit.
    Failover {
        /// How many times the leader is killed (and restarted).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Three nodes: honest submissions undisturbed, then under attack (floods, stalls, junk).
    Hostile {
        /// How many entries to sign for each of the two runs.
        #[arg(long, default_value_t = 200_000)]
        entries: usize,
    },
    /// Three nodes: how fast a follower stopped while records commit catches up.
    Catchup {
        /// How many records it misses.
        #[arg(long, default_value_t = 100_000)]
        records: usize,
    },
    /// No node: write a ledger of N records on disk through the ledger's API
    /// (registrations, transfers, receipts, amendments, attestations, all
    /// signed and verified), with the genesis, key and node.toml a node needs.
    BuildLedger {
        /// The directory to build in (absent or empty): DIR/data becomes the
        /// ledger; `salvage node --config DIR/node.toml` serves it.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Records in the ledger, the genesis included.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=build_ledger::MAX_RECORDS))]
        records: u64,
        /// Chooses the items' names and passports and which of them move: the
        /// same seed names the same items.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
    },
}

/// Settings every scenario shares.
#[derive(Debug, Args)]
struct Common {
    /// Concurrent clients, each with one keep-alive connection.
    #[arg(long, global = true, default_value_t = 64)]
    clients: usize,
    /// Seconds measured, after the warm-up.
    #[arg(long, global = true, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring starts (answers are still checked).
    #[arg(long, global = true, default_value_t = 2.0)]
    warmup: f64,
    /// Threads of the generator's own runtime (the node needs the other cores).
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
    /// One line of JSON per scenario instead of the human report.
    #[arg(long, global = true)]
    json: bool,
    /// The `salvage` binary to start [default: $SALVAGE_BIN, or `salvage` beside this program].
    #[arg(long, global = true)]
    salvage: Option<PathBuf>,
    /// Load a node that is already running at this `http://host:port` instead of starting one.
    #[arg(long, global = true)]
    node: Option<String>,
    /// Start a consortium of three replicating nodes and spread the clients over them.
    #[arg(long, global = true)]
    cluster: bool,
    /// A format-2 ledger: every registration restricts two passport values and
    /// comes with their disclosures (`submit`, `pages`, `proofs`, `mixed`).
    #[arg(long, global = true)]
    restricted: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let ScenarioName::BuildLedger { data, records, seed } = &cli.scenario {
        return build_ledger(&cli.common, data, *records, *seed);
    }
    if cli.common.restricted
        && !matches!(
            cli.scenario,
            ScenarioName::Submit { .. }
                | ScenarioName::Pages { .. }
                | ScenarioName::Proofs
                | ScenarioName::Mixed { .. }
        )
    {
        eprintln!("salvage-load: --restricted applies to `submit`, `pages`, `proofs` and `mixed` only");
        return ExitCode::FAILURE;
    }
    let timing = match cli.scenario {
        ScenarioName::Failover { rounds } => Some(consortium::failover(rounds.max(1), cli.common.json)),
        ScenarioName::Catchup { records } => Some(consortium::catchup(records.max(1), cli.common.json)),
        _ => None,
    };
    if let Some(outcome) = timing {
        return match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("salvage-load: {error}");
                ExitCode::FAILURE
            }
        };
    }
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("salvage-load: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Starts (or finds) the node, prepares the scenario, drives it and prints the
/// report; returns whether every answer was as expected (or the scenario's
/// own criteria were met).
fn run(cli: Cli) -> Result<bool, LoadError> {
    let common = cli.common;
    let plan = Plan {
        clients: common.clients.max(1),
        warmup: seconds(common.warmup, "--warmup")?,
        duration: seconds(common.duration, "--duration")?,
    };
    let restricted = common.restricted;
    let target = match &common.node {
        Some(url) => Target::remote(url, restricted)?,
        None if common.cluster || matches!(cli.scenario, ScenarioName::Hostile { .. }) => {
            Target::start_cluster(restricted)?
        }
        None => Target::start(common.salvage.as_deref(), restricted)?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(common.threads.max(1))
        .enable_all()
        .build()
        .map_err(|error| LoadError::Setup(format!("cannot start the runtime: {error}")))?;
    let passed = runtime.block_on(async {
        let report = match cli.scenario {
            ScenarioName::Submit { entries, per_request, serde_bodies } => {
                scenario::submit(&target, &plan, entries, per_request, serde_bodies).await?
            }
            ScenarioName::Pages { items, photos } => scenario::pages(&target, &plan, items, photos).await?,
            ScenarioName::Thumbnails { photos } => thumbnails::thumbnails(&target, &plan, photos).await?,
            ScenarioName::Proofs => proofs::proofs(&target, &plan).await?,
            ScenarioName::Mixed { items } => mixed::mixed(&target, &plan, items).await?,
            ScenarioName::Hostile { entries } => return hostile::hostile(&target, &plan, entries, common.json).await,
            ScenarioName::Failover { .. } | ScenarioName::Catchup { .. } | ScenarioName::BuildLedger { .. } => {
                return Err(LoadError::Setup("a timing scenario has no load report".to_owned()));
            }
        };
        if common.json {
            println!("{}", report.to_json());
        } else {
            print!("{}", report.to_text());
        }
        Ok(report.unexpected_total() == 0)
    })?;
    target.stop();
    Ok(passed)
}

/// `build-ledger`: builds the site and prints its summary (stdout) and how
/// to serve it (stderr).
fn build_ledger(common: &Common, dir: &std::path::Path, records: u64, seed: u64) -> ExitCode {
    // Flags that name a node or the ledger's format make no sense here; silently
    // ignoring them would build something other than what was asked.
    let node_flags = [
        (common.node.is_some(), "--node"),
        (common.cluster, "--cluster"),
        (common.salvage.is_some(), "--salvage"),
        (common.restricted, "--restricted"),
    ];
    if let Some((_, flag)) = node_flags.iter().find(|(given, _)| *given) {
        eprintln!(
            "salvage-load: {flag} does not apply to `build-ledger`, which starts no node \
             (its ledger is always of format 2)"
        );
        return ExitCode::FAILURE;
    }
    match build_ledger::build(dir, records, seed) {
        Ok(summary) => {
            if common.json {
                println!("{}", summary.to_json());
            } else {
                println!("{}", summary.to_text(dir));
            }
            eprintln!("serve it with: {}", build_ledger::node_command(dir));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("salvage-load: {error}");
            ExitCode::FAILURE
        }
    }
}

fn seconds(value: f64, flag: &str) -> Result<Duration, LoadError> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| LoadError::Setup(format!("{flag} must be a number of seconds, not {value}")))
}

/// Why a load run could not produce a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The node could not be started or reached, or the settings make no sense.
    #[error("{0}")]
    Setup(String),
    /// A connection to the node failed mid-run (the node crashed or closed it).
    #[error("connection to the node failed: {0}")]
    Connection(String),
    /// Seeding the items a scenario reads was refused.
    #[error("seeding refused: {0}")]
    Seeding(String),
    /// The ledger `build-ledger` writes failed or refused a record.
    #[error("ledger: {0}")]
    Ledger(String),
}
