use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The environment variables that name a proxy (curl's, and most tools'): a test keeps the
/// machine's from the processes it starts, and sets its own.
pub const PROXY_ENV: &[&str] = &[
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// A free loopback port (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process under test, killed when dropped; its stdout collected line by line.
pub struct Spawned {
    pub child: Child,
    pub stdout: Lines,
    pub stderr: Lines,
}

impl Spawned {
    pub fn spawn(mut command: Command) -> Spawned {
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {command:?}: {e}"));
        let stdout = Lines::collect(child.stdout.take().expect("stdout"));
        let stderr = Lines::collect(child.stderr.take().expect("stderr"));
        Spawned {
            child,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`INT`, `TERM`, `KILL`) with kill(1).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// Waits for the process to exit; panics after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let stderr = self.stderr.clone();
        crate::eventually_blocking("the process exits", timeout, || {
            self.child
                .try_wait()
                .unwrap()
                .ok_or_else(|| format!("running; stderr:\n{}", stderr.text()))
        })
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines read from a pipe by a background thread.
#[derive(Clone)]
pub struct Lines {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Lines {
    fn collect(pipe: impl std::io::Read + Send + 'static) -> Lines {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                match line {
                    Ok(line) => sink.lock().unwrap().push(line),
                    Err(_) => break,
                }
            }
        });
        Lines { lines }
    }

    pub fn all(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub fn text(&self) -> String {
        self.all().join("\n")
    }

    /// Lines parsed as JSON (others skipped).
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.all()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until some line satisfies `pred`; returns it.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        crate::try_eventually("a line", timeout, async || {
            let lines = self.all();
            lines.iter().find(|l| pred(l)).cloned().ok_or(lines.len())
        })
        .await
        .ok()
    }

    /// Waits until some JSON line satisfies `pred`; returns it.
    pub async fn wait_json(
        &self,
        timeout: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        crate::try_eventually("a JSON line", timeout, async || {
            let lines = self.json();
            lines.iter().find(|v| pred(v)).cloned().ok_or(lines.len())
        })
        .await
        .ok()
    }
}

/// Everything the app has logged into `dir` so far (every file: each process has its own).
pub fn logs_in(dir: &std::path::Path) -> String {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|f| std::fs::read_to_string(f.path()).ok())
        .collect()
}

/// The processes running `exe` whose home is `home` (their `HOME`): a test's own, among the
/// machine's, whoever started them. A binary rebuilt since its process started reads
/// "… (deleted)" in `/proc/PID/exe`, and still counts.
pub fn processes_of(exe: &std::path::Path, home: &std::path::Path) -> Vec<u32> {
    let Ok(exe) = std::fs::canonicalize(exe) else {
        return Vec::new();
    };
    let rebuilt = format!("{} (deleted)", exe.display());
    let ours = format!("HOME={}", home.display());
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .is_ok_and(|e| e == exe || e.as_os_str() == rebuilt.as_str())
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == ours.as_bytes()))
        })
        .collect()
}

/// Writes `text` to `path` as configuration tools do (Ansible, Puppet, an editor's save): to a
/// new file beside it, renamed into place, so a reader never sees half of it; makes the folder.
pub fn write_into_place(path: &std::path::Path, text: &str) {
    let folder = path.parent().expect("a file in a folder");
    std::fs::create_dir_all(folder).unwrap();
    let name = path.file_name().expect("a file name").to_string_lossy();
    let tmp = folder.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
