//! The private local socket between Chatbell's processes and its command line. Whoever binds
//! it is the one running Chatbell: a second launch, the window's process and `chatbell-cli`
//! connect to it.
//!
//! - **Unix**: `$XDG_RUNTIME_DIR/chatbell/chatbell.sock` (the folder 0700, the socket 0600, and
//!   every peer's uid checked against ours: the socket is the only door into the engine, and
//!   only its user may use it). A stale socket left by a killed process is replaced.
//! - **Windows**: a named pipe, `\\.\pipe\chatbell-<hash of the path>`, so a path still names
//!   the endpoint (tests and two data folders get pipes of their own). Remote clients are
//!   refused; the pipe's default security gives other users read access only, so they cannot
//!   say hello. A pipe goes with its process: nothing stale is left. Not covered: pipe names
//!   are the machine's, so another user of the same machine (a terminal server) who creates
//!   this pipe first makes Chatbell believe it runs already, and would hear `chatbell-cli`'s
//!   settings requests; an owner-only security descriptor, or checking the server's user,
//!   takes a Win32 call this workspace's `unsafe_code = "forbid"` rules out.

use std::io;
use std::path::{Path, PathBuf};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec, LinesCodecError};

use crate::wire::{Answer, Hello, MAX_LINE, PROTOCOL, Role, Welcome};

/// Where the resident listens.
pub fn socket_path() -> PathBuf {
    chatbell_engine::paths::runtime_dir().join("chatbell.sock")
}

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("Chatbell is already running: its socket {} answers", path.display())]
    AlreadyRunning { path: PathBuf },
    #[error("cannot listen on {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the other side closed the connection")]
    Closed,
    #[error("a message longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("reading the socket: {0}")]
    Io(#[from] io::Error),
    #[error("not a message of Chatbell's protocol {PROTOCOL}: {0}")]
    Garbled(#[from] serde_json::Error),
}

/// Why connecting to the resident failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nobody listens (no resident runs).
    #[error("Chatbell's background service is not running ({source})")]
    NotRunning { source: io::Error },
    /// It answered, and said no.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// A connection of either kind, read and written by the same code.
trait Duplex: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Duplex for T {}

type Stream = Box<dyn Duplex>;

/// Reads messages of one kind, one per line.
pub struct Receiver {
    lines: FramedRead<ReadHalf<Stream>, LinesCodec>,
}

impl Receiver {
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Result<T, WireError> {
        match self.lines.next().await {
            None => Err(WireError::Closed),
            Some(Err(LinesCodecError::MaxLineLengthExceeded)) => Err(WireError::TooLong),
            Some(Err(LinesCodecError::Io(e))) => Err(WireError::Io(e)),
            Some(Ok(line)) => Ok(serde_json::from_str(&line)?),
        }
    }
}

/// Writes messages, one per line.
pub struct Sender {
    lines: FramedWrite<WriteHalf<Stream>, LinesCodec>,
}

impl Sender {
    pub async fn send<T: Serialize>(&mut self, message: &T) -> Result<(), WireError> {
        let line = serde_json::to_string(message)?;
        self.lines.send(line).await.map_err(|e| match e {
            LinesCodecError::MaxLineLengthExceeded => WireError::TooLong,
            LinesCodecError::Io(e) => WireError::Io(e),
        })
    }

    /// Writes every message put into `messages`, in order, until that channel closes or a write
    /// fails: so many tasks may send through one connection without waiting for each other.
    /// For the caller to spawn on its runtime (aborting it stops the writing).
    pub async fn pump<T: Serialize>(mut self, mut messages: mpsc::UnboundedReceiver<T>) {
        while let Some(message) = messages.recv().await {
            if let Err(e) = self.send(&message).await {
                tracing::debug!(error = %e, "writing to the socket");
                break;
            }
        }
    }
}

fn split(stream: Stream) -> (Receiver, Sender) {
    let (read, write) = tokio::io::split(stream);
    (
        Receiver {
            lines: FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE)),
        },
        Sender {
            lines: FramedWrite::new(write, LinesCodec::new_with_max_length(MAX_LINE)),
        },
    )
}

/// The resident's end: bound for as long as it lives; the socket file goes with it.
#[cfg(unix)]
pub struct Listener {
    listener: tokio::net::UnixListener,
    path: PathBuf,
    uid: u32,
}

#[cfg(unix)]
impl Listener {
    /// Binds `path`, creating its folder 0700. A socket that answers belongs to a running
    /// resident: `AlreadyRunning`. One that does not was left by a resident that died: replaced.
    pub async fn bind(path: &Path) -> Result<Listener, BindError> {
        use std::os::unix::fs::MetadataExt;
        use tokio::net::{UnixListener, UnixStream};
        let io = |source| BindError::Io {
            path: path.to_path_buf(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        chatbell_engine::private::dir(dir).map_err(io)?;
        // The folder is ours (made or tightened by us above): its owner is who may connect.
        let uid = std::fs::metadata(dir).map_err(io)?.uid();
        let listener = match UnixListener::bind(path) {
            Ok(listener) => listener,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                if UnixStream::connect(path).await.is_ok() {
                    return Err(BindError::AlreadyRunning {
                        path: path.to_path_buf(),
                    });
                }
                tracing::info!(path = %path.display(), "replacing a stale socket");
                std::fs::remove_file(path).map_err(io)?;
                UnixListener::bind(path).map_err(io)?
            }
            Err(e) => return Err(io(e)),
        };
        chatbell_engine::private::file(path).map_err(io)?;
        Ok(Listener {
            listener,
            path: path.to_path_buf(),
            uid,
        })
    }

    /// The next connection from a process of this user. Others are closed unanswered and
    /// logged; so is a peer whose credentials cannot be read.
    pub async fn accept(&self) -> io::Result<Peer> {
        loop {
            let (stream, _) = self.listener.accept().await?;
            match stream.peer_cred() {
                Ok(cred) if cred.uid() == self.uid => {
                    return Ok(Peer {
                        stream: Box::new(stream),
                    });
                }
                Ok(cred) => tracing::warn!(
                    uid = cred.uid(),
                    pid = ?cred.pid(),
                    "refused a connection from another user"
                ),
                Err(e) => tracing::warn!(error = %e, "refused a connection without credentials"),
            }
        }
    }
}

#[cfg(unix)]
impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(unix)]
async fn open(path: &Path) -> io::Result<Stream> {
    Ok(Box::new(tokio::net::UnixStream::connect(path).await?))
}

/// The resident's end: the pipe's instance the next client reaches. The pipe lives while one
/// of its instances does, so one is always kept waiting.
#[cfg(windows)]
pub struct Listener {
    next: std::sync::Mutex<tokio::net::windows::named_pipe::NamedPipeServer>,
    name: String,
    path: PathBuf,
}

/// The pipe that `path` names.
#[cfg(windows)]
pub fn pipe_name(path: &Path) -> String {
    // FNV-1a: stable across builds and runs (std's hasher is neither promised nor seeded so).
    let hash = path
        .to_string_lossy()
        .to_lowercase()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!(r"\\.\pipe\chatbell-{hash:016x}")
}

#[cfg(windows)]
impl Listener {
    /// Creates the pipe `path` names. One that exists belongs to a running Chatbell:
    /// `AlreadyRunning`.
    pub async fn bind(path: &Path) -> Result<Listener, BindError> {
        let name = pipe_name(path);
        // Someone answers (or all its instances stay busy): it runs. The first-instance flag
        // below says the same without the race, but Wine ignores it.
        match open(path).await {
            Err(e) if e.kind() != io::ErrorKind::TimedOut => {}
            _ => {
                return Err(BindError::AlreadyRunning {
                    path: path.to_path_buf(),
                });
            }
        }
        let first = match Self::instance(&name, true) {
            Ok(first) => first,
            // ERROR_ACCESS_DENIED is what a first instance of an existing pipe gets.
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(BindError::AlreadyRunning {
                    path: path.to_path_buf(),
                });
            }
            Err(source) => {
                return Err(BindError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ok(Listener {
            next: std::sync::Mutex::new(first),
            name,
            path: path.to_path_buf(),
        })
    }

    fn instance(
        name: &str,
        first: bool,
    ) -> io::Result<tokio::net::windows::named_pipe::NamedPipeServer> {
        tokio::net::windows::named_pipe::ServerOptions::new()
            .first_pipe_instance(first)
            .reject_remote_clients(true)
            .create(name)
    }

    /// The next connection. Only one caller accepts at a time.
    pub async fn accept(&self) -> io::Result<Peer> {
        // The spare is made before waiting, so an instance outlives this call whatever happens
        // to it (an error, or the caller giving up): the pipe, and with it the one-instance
        // claim, never lapses. A client that reaches the spare meanwhile is connected there
        // and answered by the next call at once.
        let spare = Self::instance(&self.name, false)?;
        let server = std::mem::replace(&mut *chatbell_engine::sync::lock(&self.next), spare);
        server.connect().await?;
        Ok(Peer {
            stream: Box::new(server),
        })
    }
}

#[cfg(windows)]
async fn open(path: &Path) -> io::Result<Stream> {
    // ERROR_PIPE_BUSY: every instance is taken for the moment (the server keeps a spare, and
    // makes another as soon as it accepts).
    const BUSY: i32 = 231;
    let name = pipe_name(path);
    let mut tries = 0;
    loop {
        match tokio::net::windows::named_pipe::ClientOptions::new().open(&name) {
            Ok(client) => return Ok(Box::new(client)),
            Err(e) if e.raw_os_error() == Some(BUSY) => {
                if tries == 100 {
                    // Someone is there, and busy: not "not running".
                    return Err(io::Error::new(io::ErrorKind::TimedOut, e));
                }
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

impl Listener {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// An accepted connection, before its handshake.
pub struct Peer {
    stream: Stream,
}

impl Peer {
    /// Reads the client's [`Hello`] and answers it: a client of another protocol, or one that
    /// sends something else, is refused in words and the connection closed.
    pub async fn greet(
        self,
        welcome: impl FnOnce(Role) -> Welcome,
    ) -> Result<(Role, Receiver, Sender), String> {
        let (mut receiver, mut sender) = split(self.stream);
        let refusal = match receiver.recv::<Hello>().await {
            Ok(hello) if hello.protocol == PROTOCOL => {
                sender
                    .send(&Answer::Welcome(welcome(hello.role)))
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok((hello.role, receiver, sender));
            }
            Ok(hello) => mismatch(&hello),
            Err(WireError::Closed) => return Err("the client left before saying hello".into()),
            Err(e) => format!("not a Chatbell hello ({e})"),
        };
        let _ = sender
            .send(&Answer::Refused {
                reason: refusal.clone(),
            })
            .await;
        Err(refusal)
    }
}

/// What a client of another build hears.
fn mismatch(hello: &Hello) -> String {
    format!(
        "This Chatbell {} (protocol {}) cannot talk to the Chatbell {} running in the background \
         (protocol {PROTOCOL}): they are different versions. Quit Chatbell from its tray icon, \
         then start it again.",
        hello.version,
        hello.protocol,
        env!("CARGO_PKG_VERSION"),
    )
}

/// Connects to the resident at `path` as `role` and says hello.
pub async fn connect(path: &Path, role: Role) -> Result<(Welcome, Receiver, Sender), ConnectError> {
    let hello = Hello {
        protocol: PROTOCOL,
        version: env!("CARGO_PKG_VERSION").into(),
        role,
    };
    connect_with(path, &hello).await
}

/// The same with any hello (tests speak other protocols with it).
pub async fn connect_with(
    path: &Path,
    hello: &Hello,
) -> Result<(Welcome, Receiver, Sender), ConnectError> {
    let stream = open(path).await.map_err(|source| match source.kind() {
        // It runs, but did not take the connection in time.
        io::ErrorKind::TimedOut => ConnectError::Wire(WireError::Io(source)),
        _ => ConnectError::NotRunning { source },
    })?;
    let (mut receiver, mut sender) = split(stream);
    sender.send(hello).await?;
    match receiver.recv::<Answer>().await? {
        Answer::Welcome(welcome) => Ok((welcome, receiver, sender)),
        Answer::Refused { reason } => Err(ConnectError::Refused(reason)),
    }
}
