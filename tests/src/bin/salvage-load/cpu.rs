//! CPU time of the node, of the generator and of the whole machine, from
//! `/proc`, so the report can say how the cores were shared while it measured
//! (the machine may be running other work too).

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`), 100 on
/// every Linux configuration in use.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time used so far by a process (user plus system, every thread).
pub fn used(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_secs_f64((user + system) as f64 / TICKS_PER_SECOND))
}

/// CPU time the whole machine has spent busy so far (every core, kernel
/// included): `/proc/stat`'s total less idle and I/O wait.
pub fn machine() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let times: Vec<u64> =
        stat.lines().next()?.split_whitespace().skip(1).map_while(|field| field.parse().ok()).collect();
    let idle = times.get(3)? + times.get(4)?;
    Some(Duration::from_secs_f64((times.iter().sum::<u64>() - idle) as f64 / TICKS_PER_SECOND))
}

/// CPU time of this program so far.
pub fn own() -> Option<Duration> {
    used(std::process::id())
}

/// Cores used on average: CPU time between two readings over the wall time between them.
pub fn cores(before: Option<Duration>, after: Option<Duration>, wall: Duration) -> Option<f64> {
    let spent = after?.checked_sub(before?)?;
    (wall.as_secs_f64() > 0.0).then(|| spent.as_secs_f64() / wall.as_secs_f64())
}
