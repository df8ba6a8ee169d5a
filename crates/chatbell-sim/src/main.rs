use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use chatbell_sim::{ENDPOINTS, SimConfig, SimTls};
use clap::Parser;

/// A support-chat events server for loopback: speaks Chatbell's protocol on /ws, generates
/// realistic traffic, and takes events and faults through an HTTP control API on the same port.
#[derive(Parser, Debug)]
#[command(name = "chatbell-sim", version, after_help = after_help())]
struct Args {
    /// Address to listen on (WebSocket on /ws, control API on the same port).
    #[arg(long, default_value = "127.0.0.1:8765")]
    listen: SocketAddr,
    /// Require this token on the handshake (`Authorization: Bearer T` or `?token=T`); a missing
    /// or wrong token is refused with HTTP 401.
    #[arg(long, env = "CHATBELL_SIM_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Name of the query parameter that may carry the token.
    #[arg(long, default_value = "token")]
    token_param: String,
    /// Generated events per second (all users together); 0 = silent, events only via the API.
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    /// Seed of the generated traffic: the same seed gives the same events.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Burst mode: send this many generated events to each client as fast as its socket takes
    /// them, right after it connects.
    #[arg(long, default_value_t = 0)]
    burst: u64,
    /// Refuse WebSocket clients beyond this many (HTTP 503).
    #[arg(long, default_value_t = 10_000)]
    max_clients: usize,
    /// Events queued per client before new ones are dropped (and counted) for it.
    #[arg(long, default_value_t = 4096)]
    client_queue: usize,
    /// Serve wss:// with this certificate (PEM; the server's, then any intermediates). The
    /// control API still answers plain HTTP on the same port.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM, unencrypted).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates signed by a CA in this PEM bundle (mutual TLS); needs
    /// --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    client_ca: Option<PathBuf>,
}

fn after_help() -> String {
    format!(
        "Control API (same port):\n{ENDPOINTS}\n\nLogs go to stderr; set RUST_LOG=debug for every action."
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "chatbell_sim=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    anyhow::ensure!(args.client_queue > 0, "--client-queue must be at least 1");
    let config = SimConfig {
        listen: args.listen,
        token: args.token,
        token_param: args.token_param,
        rate: args.rate,
        seed: args.seed,
        max_clients: args.max_clients,
        client_queue: args.client_queue,
        burst_on_connect: args.burst,
        tls: match (args.tls_cert, args.tls_key) {
            (Some(cert), Some(key)) => Some(SimTls {
                cert,
                key,
                client_ca: args.client_ca,
            }),
            _ => None,
        },
    };
    // Listen for Ctrl-C before saying we are up: a Ctrl-C right after the line must not meet
    // the default handler, which kills the process without a clean shutdown.
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("listening for Ctrl-C")?;
    let sim = chatbell_sim::start(config).await?;
    eprintln!(
        "chatbell-sim listening: {} (control API {})",
        sim.ws_url(),
        sim.http_url()
    );
    #[cfg(unix)]
    interrupt.recv().await;
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    eprintln!("shutting down");
    sim.shutdown().await;
    Ok(())
}
