//! Every client connection is an open file: a node that may hold
//! `max_connections` of them needs an open-file limit to match, or accepting
//! fails with `EMFILE` while the node's own files (log segments, sled, the
//! Raft log, peers) fail with it too.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// The files a node keeps open besides its clients' connections: record-log
/// and Raft-log segments, sled's files, connections to peers, reads on the
/// blocking pool; with room to spare.
pub const RESERVED_FILES: u64 = 256;

/// The fewest client connections a node is worth serving with.
const FEWEST_CONNECTIONS: u64 = 16;

/// Raises this process's soft open-file limit so that `wanted` connections
/// fit besides [`RESERVED_FILES`], up to the hard limit; returns how many
/// connections fit (fewer than `wanted` when the hard limit is lower, with a
/// warning), or why the node cannot serve at all.
pub fn fit_connections(wanted: usize) -> Result<usize, String> {
    let wanted = wanted as u64;
    let needed = wanted.saturating_add(RESERVED_FILES);
    let limit = getrlimit(Resource::Nofile);
    // `None` is unlimited.
    let soft = limit.current.unwrap_or(u64::MAX);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    let mut have = soft;
    if soft < needed {
        let raised = needed.min(hard);
        match setrlimit(Resource::Nofile, Rlimit { current: Some(raised), maximum: limit.maximum }) {
            Ok(()) => {
                tracing::info!(from = soft, to = raised, "raised the open-file limit for the client connections");
                have = raised;
            }
            Err(error) => tracing::warn!(%error, soft, "could not raise the open-file limit"),
        }
    }
    if have >= needed {
        return Ok(wanted as usize);
    }
    let fit = have.saturating_sub(RESERVED_FILES);
    if fit < FEWEST_CONNECTIONS {
        return Err(format!(
            "the open-file limit is {have} (hard limit {hard}), too low to serve: a node needs {RESERVED_FILES} \
             files of its own and at least {FEWEST_CONNECTIONS} connections; raise it (`ulimit -n`, or LimitNOFILE= \
             in a systemd unit)"
        ));
    }
    tracing::warn!(
        max_connections = wanted,
        lowered_to = fit,
        open_file_limit = have,
        "the open-file limit allows fewer client connections than max_connections; raise the hard limit \
         (`ulimit -Hn`, or LimitNOFILE= in a systemd unit) to serve them all"
    );
    Ok(fit as usize)
}
