//! Memory, CPU and wakeups of a process tree, from /proc.

use std::collections::HashSet;

/// A process and all its descendants.
pub fn tree(root: u32) -> Vec<u32> {
    let mut pids = vec![root];
    let mut seen: HashSet<u32> = HashSet::from([root]);
    let mut i = 0;
    while i < pids.len() {
        let parent = pids[i];
        if let Ok(children) =
            std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
        {
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                if seen.insert(child) {
                    pids.push(child);
                }
            }
        }
        i += 1;
    }
    pids.retain(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
    pids
}

/// Proportional (PSS) and private (USS) memory of some processes, in MiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub pss_mib: f64,
    pub uss_mib: f64,
    pub processes: usize,
}

pub fn memory(pids: &[u32]) -> Memory {
    let mut m = Memory::default();
    for pid in pids {
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        let field = |name: &str| -> f64 {
            rollup
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 1024.0
        };
        m.pss_mib += field("Pss:");
        m.uss_mib += field("Private_Clean:") + field("Private_Dirty:");
        m.processes += 1;
    }
    m
}

/// CPU seconds (user + system) of some processes, all threads (ended ones included).
#[derive(Debug, Clone, Copy, Default)]
pub struct Activity {
    pub cpu_seconds: f64,
}

pub fn activity(pids: &[u32]) -> Activity {
    let ticks = 100.0; // CLK_TCK on Linux
    let mut a = Activity::default();
    for pid in pids {
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // Fields after the command name (which may contain spaces) start at ")".
            let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
            let fields: Vec<&str> = after.split_whitespace().collect();
            let num = |i: usize| {
                fields
                    .get(i)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            // utime and stime are fields 14 and 15 of stat; index 11 and 12 after ")".
            a.cpu_seconds += (num(11) + num(12)) / ticks;
        }
    }
    a
}

/// Context switches of each thread of some processes: thread id → (name, switches).
pub fn thread_switches(pids: &[u32]) -> std::collections::BTreeMap<u32, (String, u64)> {
    let mut threads = std::collections::BTreeMap::new();
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Some(tid) = task
                .file_name()
                .to_str()
                .and_then(|t| t.parse::<u32>().ok())
            else {
                continue;
            };
            let (Ok(status), Ok(comm)) = (
                std::fs::read_to_string(task.path().join("status")),
                std::fs::read_to_string(task.path().join("comm")),
            ) else {
                continue;
            };
            let switches = status
                .lines()
                .filter(|l| {
                    l.starts_with("voluntary_ctxt_switches:")
                        || l.starts_with("nonvoluntary_ctxt_switches:")
                })
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum();
            threads.insert(tid, (comm.trim().to_string(), switches));
        }
    }
    threads
}

/// Bytes sent and received on the TCP connections to `port` on loopback, from `ss -tin`.
pub fn socket_bytes(port: u16) -> (u64, u64) {
    let out = std::process::Command::new("ss")
        .args([
            "-tinH",
            "state",
            "established",
            "dst",
            &format!("127.0.0.1:{port}"),
        ])
        .output();
    let Ok(out) = out else { return (0, 0) };
    let text = String::from_utf8_lossy(&out.stdout);
    let pick = |key: &str| -> u64 {
        text.split_whitespace()
            .filter_map(|w| w.strip_prefix(key))
            .filter_map(|v| v.parse::<u64>().ok())
            .sum()
    };
    (pick("bytes_sent:"), pick("bytes_received:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(tree(me).contains(&me));
        let m = memory(&[me]);
        assert!(m.pss_mib > 0.1 && m.uss_mib > 0.1, "{m:?}");
        assert_eq!(m.processes, 1);
        let busy: u64 = (0..3_000_000u64).fold(0, |a, b| a.wrapping_add(b * b));
        assert!(busy > 0);
        assert!(thread_switches(&[me]).values().any(|(_, n)| *n > 0));
    }
}
