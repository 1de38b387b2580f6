//! Letting the kernel drop a log's durable pages from its page cache.
//!
//! A log is written once and read back rarely, so keeping what it wrote in
//! the page cache buys little, and on a virtual machine it costs a great deal.
//! A hypervisor that takes back the memory its guest leaves free (free page
//! reporting, or a balloon) makes every page the guest touches for the first
//! time fault on the host as well. The page cache grows into free memory, so
//! every page a log writes is such a page. On the project's 2-core machine,
//! writing 1 GiB with an `fdatasync` every MiB took 6–7 s of CPU time, and
//! 0.4 s when each synced range was released as here: the kernel then hands
//! the same pages, still backed by the host, to the next writes. A loaded
//! three-node consortium on that machine writes about 100 MB/s in all
//! (records, Raft log and index), and copying into fresh page-cache pages was
//! 14 % of its CPU time in a profile (measured in the history of docs/performance.md).
//!
//! Only clean pages are dropped, so releasing a range that is durable loses
//! nothing; a later read of it comes from the disk.

use std::fs::File;

/// The page size the releases round to. A larger real page size only makes
/// the kernel keep a partial page at each end.
const PAGE_BYTES: u64 = 4096;

/// Advises the kernel that the bytes of `file` from `from` to `to`, which the
/// caller has just made durable, will not be needed again soon, so it drops
/// their pages from its cache. Returns where the released range ends, `to`
/// rounded down to a whole page: the page `to` falls in may still be written
/// (it is released with the next range, which should start there).
///
/// Releasing a range that holds a page still dirty, or a page of a range
/// released before, costs more: the kernel then drains every CPU's lists of
/// new pages, so callers release each range once and keep the partial last
/// page out of it.
///
/// This is advice: it changes no data, and if the kernel refuses it (or the
/// platform has no such advice) nothing is lost but speed, so any error is
/// ignored.
pub fn release_durable_pages(file: &File, from: u64, to: u64) -> u64 {
    let to = to - to % PAGE_BYTES;
    if to <= from {
        return from;
    }
    #[cfg(target_os = "linux")]
    if let Some(len) = std::num::NonZeroU64::new(to - from) {
        let _ = rustix::fs::fadvise(file, from, Some(len), rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
    to
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::FileExt;

    use super::*;

    #[test]
    fn released_pages_read_back_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("segment");
        let mut file = File::create(&path).unwrap();
        let written: Vec<u8> = (0..3 * 4096 + 17).map(|i| (i % 251) as u8).collect();
        file.write_all(&written).unwrap();
        file.sync_data().unwrap();
        let released = release_durable_pages(&file, 0, written.len() as u64);
        assert_eq!(released, 3 * 4096, "the partial last page stays");
        // Released again, and empty ranges: advice, never an error.
        assert_eq!(release_durable_pages(&file, 0, written.len() as u64), 3 * 4096);
        assert_eq!(release_durable_pages(&file, released, written.len() as u64), released);
        assert_eq!(release_durable_pages(&file, 100, 50), 100);
        let reopened = File::open(&path).unwrap();
        let mut read = vec![0u8; written.len()];
        reopened.read_exact_at(&mut read, 0).unwrap();
        assert_eq!(read, written);
    }
}
