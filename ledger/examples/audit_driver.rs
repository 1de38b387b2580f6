//! A small, repeatable audit workload for instruction counting (callgrind) and profiling.
//!
//! `audit_driver build N FILE` writes the records of an N-record ledger shaped like the
//! benchmark's (register, transfer, receive per item) to FILE; `audit_driver audit FILE [REPS]`
//! audits them REPS times. Reading the file is kept apart from the audit so that a profiler
//! can count the audit alone (`--toggle-collect=*audit*audit*` under callgrind).
//!
//! `audit_driver audit-data DIR GENESIS [N]` compares the two ways of reading on the same
//! records: it audits the first N records (default: all) of a node's data directory streamed
//! from its log, as `salvage audit --data` does, then the same records held in memory.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

use salvage_ledger::audit::{AuditOptions, audit};
use salvage_ledger::genesis::Genesis;
use salvage_ledger::store::{Ledger, log};
use salvage_ledger::testkit::Fixture;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("build") => {
            let items: usize = args.get(2).ok_or("missing N")?.parse::<usize>()? / 3;
            let file = args.get(3).ok_or("missing FILE")?;
            build(items, file)
        }
        Some("audit") => {
            let file = args.get(2).ok_or("missing FILE")?;
            let reps: usize = args.get(3).map_or(Ok(1), |r| r.parse())?;
            run(file, reps)
        }
        Some("audit-data") => {
            let dir = args.get(2).ok_or("missing DIR")?;
            let genesis = args.get(3).ok_or("missing GENESIS")?;
            let limit: usize = args.get(4).map_or(Ok(usize::MAX), |n| n.parse())?;
            streamed_and_in_memory(Path::new(dir), Path::new(genesis), limit)
        }
        _ => Err("usage: audit_driver build N FILE | audit FILE [REPS] | audit-data DIR GENESIS [N]".into()),
    }
}

fn build(items: usize, file: &str) -> Result<(), Box<dyn std::error::Error>> {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir()?;
    let ledger = Ledger::create(dir.path(), fixture.genesis.clone())?;
    let mut entries = Vec::new();
    for n in 0..items {
        let giai = format!("4750002A{n:08}");
        let contractor = if n % 2 == 0 { "baltic-demolition" } else { "riga-deconstruction" };
        entries.push(fixture.register(contractor, &giai, "clay brick pallet", 100.0 + (n % 400) as f64 / 2.0));
        entries.push(fixture.transfer(contractor, &giai, "reuse-hub"));
        entries.push(fixture.receive("reuse-hub", &giai));
    }
    for chunk in entries.chunks(1023) {
        for outcome in ledger.submit(chunk.to_vec())? {
            outcome.map_err(|r| r.to_string())?;
        }
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
    for seq in 0..ledger.size() {
        let bytes = ledger.record_bytes(seq)?;
        out.write_all(&(bytes.len() as u32).to_le_bytes())?;
        out.write_all(&bytes)?;
    }
    out.flush()?;
    Ok(())
}

fn run(file: &str, reps: usize) -> Result<(), Box<dyn std::error::Error>> {
    let fixture = Fixture::new();
    let mut raw = Vec::new();
    std::fs::File::open(file)?.read_to_end(&mut raw)?;
    let mut records = Vec::new();
    let mut rest = raw.as_slice();
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let len = u32::from_le_bytes(*len) as usize;
        let (bytes, tail) = tail.split_at(len);
        records.push(bytes.to_vec());
        rest = tail;
    }
    for _ in 0..reps {
        let stream: Vec<Result<Vec<u8>, Infallible>> = records.iter().cloned().map(Ok).collect();
        let start = Instant::now();
        let report = audit(&fixture.genesis, stream, &AuditOptions::default(), &mut |_| {});
        let elapsed = start.elapsed().as_secs_f64();
        assert!(report.is_clean(), "{:?}", report.problems.first());
        println!("{} records in {:.3} s: {:.0} records/s", report.records, elapsed, report.records as f64 / elapsed);
    }
    Ok(())
}

fn streamed_and_in_memory(dir: &Path, genesis: &Path, limit: usize) -> Result<(), Box<dyn std::error::Error>> {
    let genesis = Genesis::read(genesis)?;
    let log_dir = dir.join("log");
    let timed = |label: &str, records: Box<dyn Iterator<Item = Result<Vec<u8>, String>> + '_>| {
        let start = Instant::now();
        let report = audit(genesis.entry(), records, &AuditOptions::default(), &mut |_| {});
        let elapsed = start.elapsed().as_secs_f64();
        let problem = report.problems.first().map(|p| format!(" (first problem: {} {})", p.code, p.message));
        println!(
            "{label}: {} records in {elapsed:.1} s: {:.0} records/s, state {}{}",
            report.records,
            report.records as f64 / elapsed,
            report.state,
            problem.unwrap_or_default()
        );
    };
    timed("streamed from the log", Box::new(log::scan(&log_dir).take(limit).map(|r| r.map_err(|e| e.to_string()))));
    let records: Vec<Vec<u8>> = log::scan(&log_dir).take(limit).collect::<Result<_, _>>()?;
    timed("held in memory", Box::new(records.into_iter().map(Ok)));
    Ok(())
}
