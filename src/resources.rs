//! What this process has used so far: CPU time and peak memory, where /proc says (the
//! benchmarks' and the booklet run's own measurements).

/// Peak resident memory of this process so far (VmHWM), in MB, where /proc says.
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU time (user + system, all threads) this process has used so far, in seconds, where
/// /proc says: on a shared machine it tells the work done apart from the wait for a core.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime are fields 14 and 15 of the line (11 and 12 after the name), in
    // USER_HZ ticks, which Linux fixes at 100 a second for user space.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}
