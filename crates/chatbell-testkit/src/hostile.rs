//! A WebSocket server that misbehaves on purpose. It is raw TCP with hand-written frames,
//! because the faults it plays (never reading, a handshake left hanging, frames a real
//! WebSocket library refuses to send) live below the WebSocket layer.
//!
//! Each server listens on `127.0.0.1:0`, plays one [`Misbehaviour`] on every connection,
//! counts the connections it accepted and the frames it wrote, and stops when dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// A text frame this large breaks a client that accepts at most 1 MiB.
pub const OVERSIZE: usize = 1024 * 1024 + 1;

/// The listening socket's receive buffer (the kernel doubles it): small, so a client writing
/// to a server that does not read fills its own send buffer after a few KiB in flight.
const RECV_BUFFER: u32 = 4096;

/// How often a server that has finished its script pings, so the client never hears silence.
const IDLE_PING: Duration = Duration::from_millis(100);

/// What the server does with each connection. "Messages" are protocol frames (JSON text)
/// chosen by the test.
#[derive(Debug, Clone)]
pub enum Misbehaviour {
    /// Completes the handshake and never reads the socket again, so the client's writes
    /// (pongs, pings) back up: writes `flood` 125-byte pings, waits `pause` (time for the
    /// client to try a write of its own into the full socket), writes `messages` with
    /// `pings_between` pings after each, then keeps pinging. The messages go out on the first
    /// connection only, so a test can tell they came from the connection that misbehaved;
    /// later connections get the same without the pause and the messages.
    NeverReads {
        flood: usize,
        pause: Duration,
        messages: Vec<String>,
        pings_between: usize,
    },
    /// Reads the upgrade request and answers nothing, keeping the socket open.
    NeverCompletesHandshake,
    /// Answers the upgrade request with this HTTP status (401, 403, 500…) and closes.
    HttpStatus(u16),
    /// Answers `302 Found` with this `Location`.
    Redirect { location: String },
    /// Completes the handshake, writes `messages` with `pings_between` 125-byte pings after
    /// each, then keeps pinging; reads (and ignores) whatever the client sends.
    PingFlood {
        messages: Vec<String>,
        pings_between: usize,
    },
    /// First connection: a text frame of [`OVERSIZE`] bytes. Later connections: `then`.
    OversizeFrame { then: Vec<String> },
    /// First connection: a text frame whose payload is not UTF-8. Later connections: `then`.
    InvalidUtf8 { then: Vec<String> },
}

#[derive(Default)]
struct Counters {
    connections: AtomicUsize,
    frames: AtomicU64,
}

/// A running hostile server; dropping it closes the listener and every connection.
pub struct HostileServer {
    addr: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl HostileServer {
    pub async fn start(mode: Misbehaviour) -> std::io::Result<HostileServer> {
        let socket = TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(RECV_BUFFER)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let listener = socket.listen(16)?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn({
            let counters = counters.clone();
            async move {
                // Owned here, so aborting this task drops (and aborts) every connection.
                let mut connections = JoinSet::new();
                while let Ok((stream, _)) = listener.accept().await {
                    let nth = counters.connections.fetch_add(1, Ordering::SeqCst) + 1;
                    let conn = Conn {
                        mode: mode.clone(),
                        first: nth == 1,
                        counters: counters.clone(),
                    };
                    connections.spawn(conn.serve(stream));
                    while connections.try_join_next().is_some() {}
                }
            }
        });
        Ok(HostileServer {
            addr,
            counters,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:<port>/ws`
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.counters.connections.load(Ordering::SeqCst)
    }

    /// WebSocket frames written to clients so far (all connections).
    pub fn frames_written(&self) -> u64 {
        self.counters.frames.load(Ordering::SeqCst)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Conn {
    mode: Misbehaviour,
    first: bool,
    counters: Arc<Counters>,
}

impl Conn {
    async fn serve(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let (mut reader, writer) = stream.into_split();
        let mut writer = BufWriter::new(writer);
        let Ok(request) = read_request(&mut reader).await else {
            return;
        };
        // Errors below mean the client went away: the connection is over either way.
        let _ = self.play(request, &mut reader, &mut writer).await;
    }

    async fn play(
        &self,
        request: String,
        reader: &mut (impl AsyncRead + Unpin),
        writer: &mut (impl AsyncWrite + Unpin),
    ) -> std::io::Result<()> {
        let answer = match &self.mode {
            Misbehaviour::NeverCompletesHandshake => return std::future::pending().await,
            Misbehaviour::HttpStatus(status) => refusal(*status, ""),
            Misbehaviour::Redirect { location } => {
                refusal(302, &format!("Location: {location}\r\n"))
            }
            _ => switching_protocols(&request),
        };
        writer.write_all(answer.as_bytes()).await?;
        writer.flush().await?;
        match &self.mode {
            Misbehaviour::NeverReads {
                flood,
                pause,
                messages,
                pings_between,
            } => {
                let ping = frame(PING, &[b'p'; 125]);
                let mut left = *flood;
                while left > 0 {
                    let n = left.min(1000);
                    self.write_frames(writer, &vec![ping.clone(); n]).await?;
                    left -= n;
                }
                if self.first {
                    tokio::time::sleep(*pause).await;
                    self.interleave(writer, messages, *pings_between).await?;
                }
                self.keep_pinging(writer).await
            }
            Misbehaviour::PingFlood {
                messages,
                pings_between,
            } => {
                let script = async {
                    self.interleave(writer, messages, *pings_between).await?;
                    self.keep_pinging(writer).await
                };
                tokio::select! {
                    r = script => r,
                    r = discard(reader) => r,
                }
            }
            Misbehaviour::OversizeFrame { then } | Misbehaviour::InvalidUtf8 { then }
                if !self.first =>
            {
                let script = async {
                    self.interleave(writer, then, 0).await?;
                    self.keep_pinging(writer).await
                };
                tokio::select! {
                    r = script => r,
                    r = discard(reader) => r,
                }
            }
            Misbehaviour::OversizeFrame { .. } => {
                self.write_frames(writer, &[frame(TEXT, &vec![b'x'; OVERSIZE])])
                    .await?;
                discard(reader).await
            }
            Misbehaviour::InvalidUtf8 { .. } => {
                // A lone continuation byte and bytes that never occur in UTF-8.
                let payload = b"{\"event\": \"new_message\", \"x\": \"\x80\xfe\xff\"}";
                self.write_frames(writer, &[frame(TEXT, payload)]).await?;
                discard(reader).await
            }
            Misbehaviour::NeverCompletesHandshake
            | Misbehaviour::HttpStatus(_)
            | Misbehaviour::Redirect { .. } => Ok(()),
        }
    }

    /// Each message followed by `pings_between` pings, written as fast as the socket takes them.
    async fn interleave(
        &self,
        writer: &mut (impl AsyncWrite + Unpin),
        messages: &[String],
        pings_between: usize,
    ) -> std::io::Result<()> {
        let ping = frame(PING, &[b'p'; 125]);
        for message in messages {
            let mut frames = vec![frame(TEXT, message.as_bytes())];
            frames.resize(1 + pings_between, ping.clone());
            self.write_frames(writer, &frames).await?;
        }
        Ok(())
    }

    async fn keep_pinging(&self, writer: &mut (impl AsyncWrite + Unpin)) -> std::io::Result<()> {
        let ping = frame(PING, &[b'p'; 125]);
        loop {
            self.write_frames(writer, std::slice::from_ref(&ping))
                .await?;
            tokio::time::sleep(IDLE_PING).await;
        }
    }

    async fn write_frames(
        &self,
        writer: &mut (impl AsyncWrite + Unpin),
        frames: &[Vec<u8>],
    ) -> std::io::Result<()> {
        for f in frames {
            writer.write_all(f).await?;
        }
        writer.flush().await?;
        self.counters
            .frames
            .fetch_add(frames.len() as u64, Ordering::SeqCst);
        Ok(())
    }
}

const TEXT: u8 = 0x1;
const PING: u8 = 0x9;

/// One final, unmasked (server-to-client) frame.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= u16::MAX as usize => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// Reads the HTTP upgrade request up to its blank line.
async fn read_request(reader: &mut (impl AsyncRead + Unpin)) -> std::io::Result<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = reader.read(&mut chunk).await?;
        if n == 0 || buf.len() > 16 * 1024 {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn switching_protocols(request: &str) -> String {
    let key = request
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map_or("", |(_, value)| value.trim());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
}

fn refusal(status: u16, extra_headers: &str) -> String {
    format!(
        "HTTP/1.1 {status} Hostile\r\n{extra_headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

/// Reads and drops whatever the client sends; returns when it hangs up.
async fn discard(reader: &mut (impl AsyncRead + Unpin)) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    while reader.read(&mut buf).await? > 0 {}
    Ok(())
}
