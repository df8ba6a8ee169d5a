//! Real proxies on loopback, one per test, as a corporate network has them: Debian's
//! `tinyproxy` for HTTP CONNECT (optionally with Basic auth, or refusing tunnels with 403) and
//! `microsocks` for SOCKS5 (optionally with a user and password). Each runs in the foreground
//! with a private config, log and pid file in a folder of its own, and can be killed,
//! restarted on the same port, and paused (SIGSTOP: a proxy that accepted the tunnel and went
//! silent). A [`Relay`] in front of a proxy records every byte the client sent it.
//!
//! What tinyproxy 1.11 answers: 407 to a CONNECT without credentials, **401** (not 407) to
//! wrong ones, 403 to a port its `ConnectPort` lines do not allow, 500 when the target refuses.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TINYPROXY_MISSING: &str =
    "tinyproxy (Debian package tinyproxy-bin) must be installed: run `cargo xtask setup`";
const MICROSOCKS_MISSING: &str =
    "microsocks (Debian package microsocks) must be installed: run `cargo xtask setup`";
/// How long a proxy may take to listen.
const START_WITHIN: Duration = Duration::from_secs(10);

/// Which proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// HTTP CONNECT (tinyproxy): `http://127.0.0.1:PORT`.
    Http,
    /// SOCKS5 (microsocks): `socks5://127.0.0.1:PORT`.
    Socks5,
}

impl ProxyKind {
    pub fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
        }
    }
}

/// How a proxy is set up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyOptions {
    /// A user and password the proxy requires (HTTP Basic auth; SOCKS5 username/password).
    pub auth: Option<(String, String)>,
    /// HTTP only: allow CONNECT to port 1 alone, so a tunnel to anywhere else is refused with
    /// 403 (tinyproxy's `ConnectPort`).
    pub refuse_tunnels: bool,
}

/// A running (or killed, or paused) proxy on `127.0.0.1`, killed when dropped.
pub struct Proxy {
    kind: ProxyKind,
    options: ProxyOptions,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl Proxy {
    /// An HTTP CONNECT proxy without a password.
    pub fn http() -> Proxy {
        Proxy::start(ProxyKind::Http, ProxyOptions::default())
    }

    /// An HTTP CONNECT proxy that wants `user` and `password` (Basic).
    pub fn http_with_auth(user: &str, password: &str) -> Proxy {
        Proxy::start(ProxyKind::Http, ProxyOptions::with_auth(user, password))
    }

    /// An HTTP proxy that refuses every tunnel this test opens with 403.
    pub fn http_refusing_tunnels() -> Proxy {
        Proxy::start(
            ProxyKind::Http,
            ProxyOptions {
                refuse_tunnels: true,
                ..ProxyOptions::default()
            },
        )
    }

    /// A SOCKS5 proxy without a password.
    pub fn socks5() -> Proxy {
        Proxy::start(ProxyKind::Socks5, ProxyOptions::default())
    }

    /// A SOCKS5 proxy that wants `user` and `password`.
    pub fn socks5_with_auth(user: &str, password: &str) -> Proxy {
        Proxy::start(ProxyKind::Socks5, ProxyOptions::with_auth(user, password))
    }

    /// Starts a proxy on a free loopback port; returns once it accepts connections (panics,
    /// with its log, if it does not within 10 s).
    pub fn start(kind: ProxyKind, options: ProxyOptions) -> Proxy {
        let mut proxy = Proxy {
            kind,
            options,
            dir: tempfile::tempdir().expect("a folder for the proxy"),
            port: crate::free_port(),
            child: None,
        };
        proxy.restart();
        proxy
    }

    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://127.0.0.1:PORT` or `socks5://127.0.0.1:PORT`: no user, no password.
    pub fn url(&self) -> String {
        format!("{}://{}", self.kind.scheme(), self.addr())
    }

    /// The URL with the user (`http://bob@127.0.0.1:PORT`) when the proxy wants one, as the
    /// settings name it; the password goes elsewhere.
    pub fn url_with_user(&self) -> String {
        match &self.options.auth {
            Some((user, _)) => format!("{}://{user}@{}", self.kind.scheme(), self.addr()),
            None => self.url(),
        }
    }

    /// The user and password it wants, if any.
    pub fn auth(&self) -> Option<(&str, &str)> {
        self.options
            .auth
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the proxy (SIGKILL): open tunnels break, new connections are refused.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (killing it first if it runs); returns once it
    /// accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("output.log"))
            .expect("the proxy's output file");
        let mut command = match self.kind {
            ProxyKind::Http => {
                let config = self.tinyproxy_config();
                let mut c = Command::new("tinyproxy");
                // -d: foreground, no daemonizing (the test owns the process).
                c.arg("-d").arg("-c").arg(config);
                c
            }
            ProxyKind::Socks5 => {
                let mut c = Command::new("microsocks");
                c.args(["-i", "127.0.0.1", "-p", &self.port.to_string()]);
                if let Some((user, password)) = &self.options.auth {
                    c.args(["-u", user, "-P", password]);
                }
                c
            }
        };
        let missing = match self.kind {
            ProxyKind::Http => TINYPROXY_MISSING,
            ProxyKind::Socks5 => MICROSOCKS_MISSING,
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("the output file"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{missing} ({e})"));
        self.child = Some(child);
        let addr = self.addr();
        let dir = self.dir.path().to_path_buf();
        let child = self.child.as_mut().expect("just spawned");
        let waited = crate::try_eventually_blocking(
            &format!("the {} proxy listens on {addr}", self.kind.scheme()),
            START_WITHIN,
            || {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("the proxy exited ({status}):\n{}", log_in(&dir));
                }
                TcpStream::connect(addr)
                    .map(drop)
                    .map_err(|e| e.to_string())
            },
        );
        if let Err(e) = waited {
            panic!("{e}\n{}", log_in(&dir));
        }
    }

    /// SIGSTOP: it keeps its sockets and answers nothing (a tunnel goes silent). Returns once
    /// every thread of the proxy is stopped: `kill` only queues the signal, and a thread
    /// already relaying on the other core would otherwise still pass a few bytes on.
    pub fn pause(&self) {
        self.signal("STOP");
        let pid = self.pid().expect("the proxy runs");
        crate::eventually_blocking(
            &format!("every thread of the proxy {pid} is stopped"),
            START_WITHIN,
            || running_threads(pid),
        );
    }

    /// SIGCONT after [`Proxy::pause`].
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let pid = self.pid().expect("the proxy runs");
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{name} {pid} failed");
    }

    /// Everything the proxy logged so far, over all its runs: tinyproxy's log file (each
    /// connection and request line) and its output; microsocks logs little.
    pub fn log(&self) -> String {
        log_in(self.dir.path())
    }

    /// The path of tinyproxy's log file (HTTP proxies).
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("tinyproxy.log")
    }

    /// Writes tinyproxy's config (anew on each start); returns its path.
    fn tinyproxy_config(&self) -> PathBuf {
        let dir = self.dir.path();
        let mut config = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 600\nMaxClients 100\n\
             LogFile \"{log}\"\nLogLevel Info\nPidFile \"{pid}\"\nDisableViaHeader Yes\n",
            port = self.port,
            log = dir.join("tinyproxy.log").display(),
            pid = dir.join("tinyproxy.pid").display(),
        );
        // As root, tinyproxy keeps running as root with a warning when no User is set; a
        // user it would switch to could not write this folder, so none is named.
        if let Some((user, password)) = &self.options.auth {
            config.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        if self.options.refuse_tunnels {
            config.push_str("ConnectPort 1\n");
        }
        let path = dir.join("tinyproxy.conf");
        std::fs::write(&path, config).expect("writes tinyproxy's config");
        path
    }
}

/// What a proxy whose files are in `dir` logged: tinyproxy's log file, then the output.
fn log_in(dir: &Path) -> String {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    read("tinyproxy.log") + &read("output.log")
}

impl ProxyOptions {
    pub fn with_auth(user: &str, password: &str) -> ProxyOptions {
        ProxyOptions {
            auth: Some((user.to_string(), password.to_string())),
            ..ProxyOptions::default()
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One connection through a [`Relay`]: what each side sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// Every byte the client sent toward the proxy.
    pub sent: Vec<u8>,
    /// Every byte the proxy sent back.
    pub received: Vec<u8>,
}

impl Captured {
    /// The client's first request head (up to the blank line): what an HTTP proxy reads as
    /// its request, e.g. `CONNECT host:port HTTP/1.1` and its headers.
    pub fn request_head(&self) -> String {
        let end = find(&self.sent, b"\r\n\r\n").map_or(self.sent.len(), |at| at + 4);
        String::from_utf8_lossy(&self.sent[..end]).into_owned()
    }
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A TCP relay on loopback that forwards every connection to `target` and records both
/// directions: put in front of a proxy, it shows everything the client said to the proxy.
pub struct Relay {
    addr: SocketAddr,
    target: SocketAddr,
    captures: Arc<Mutex<Vec<Arc<Mutex<Captured>>>>>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    /// Starts relaying connections to `target`.
    pub fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds the relay");
        let addr = listener.local_addr().expect("the relay's address");
        let captures: Arc<Mutex<Vec<Arc<Mutex<Captured>>>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopped) = (captures.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let capture = Arc::new(Mutex::new(Captured::default()));
                log.lock().unwrap().push(capture.clone());
                let Ok(upstream) = TcpStream::connect(target) else {
                    // The proxy is gone: so is this connection, as if it had been refused.
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                pump(&client, &upstream, capture.clone(), true);
                pump(&upstream, &client, capture, false);
            }
        });
        Relay {
            addr,
            target,
            captures,
            stop,
        }
    }

    /// A relay in front of `proxy`.
    pub fn in_front_of(proxy: &Proxy) -> Relay {
        Relay::start(proxy.addr())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The proxy's URL through the relay: `<scheme>://127.0.0.1:RELAY_PORT`.
    pub fn url(&self, kind: ProxyKind) -> String {
        format!("{}://{}", kind.scheme(), self.addr)
    }

    /// Every connection so far, in the order they came.
    pub fn connections(&self) -> Vec<Captured> {
        self.captures
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.lock().unwrap().clone())
            .collect()
    }

    /// Every byte any client sent, connection after connection.
    pub fn sent(&self) -> Vec<u8> {
        self.connections()
            .into_iter()
            .flat_map(|c| c.sent)
            .collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Copies `from` → `to` on a thread of its own, recording what passes; at the end of `from`,
/// ends `to`'s writing side too.
fn pump(from: &TcpStream, to: &TcpStream, capture: Arc<Mutex<Captured>>, client_side: bool) {
    let (mut from, mut to) = (
        from.try_clone().expect("a socket handle"),
        to.try_clone().expect("a socket handle"),
    );
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            {
                let mut c = capture.lock().unwrap();
                let side = if client_side {
                    &mut c.sent
                } else {
                    &mut c.received
                };
                side.extend_from_slice(&buf[..n]);
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
        let _ = from.shutdown(Shutdown::Read);
    });
}

/// Ok once no thread of `pid` is running (all are in the stopped state `T`); else the states
/// seen, read from `/proc/PID/task/*/stat` (the field after the name's closing parenthesis).
fn running_threads(pid: u32) -> Result<(), Vec<String>> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map_err(|e| vec![format!("/proc/{pid}/task: {e}")])?;
    let states: Vec<String> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter_map(|stat| {
            let after = stat.rsplit_once(')')?.1;
            after.split_whitespace().next().map(str::to_owned)
        })
        .collect();
    if !states.is_empty() && states.iter().all(|s| s == "T") {
        Ok(())
    } else {
        Err(states)
    }
}
