//! Behind the company's network (issue 25), through the engine's public API against real
//! peers: the simulator over `wss://` with a throwaway PKI, Debian's tinyproxy and microsocks on
//! loopback, a relay that records what the client told the proxy. Every failure is checked for
//! its kind and its sentence. What depends on the process's environment (the system's trust
//! store, the environment's and the portal's proxies) is in `network_system.rs`.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use chatbell_engine::connection::ConnectionTuning;
use chatbell_engine::i18n::{Lang, net_words};
use chatbell_engine::liveness::Heartbeat;
use chatbell_engine::model::{ConnState, EngineEvent};
use chatbell_engine::net::{
    CheckReport, FileProblem, FileRole, NetFailure, ProxySetting, RouteSource, TlsSettings,
};
use chatbell_engine::settings::AuthMode;
use chatbell_engine::{Engine, EngineConfig, Secret, ServerConfig};
use chatbell_sim::{SimConfig, SimHandle, SimTls};
use chatbell_testkit::{CertFiles, Pki, Proxy, Relay, find, free_port};
use serde_json::json;
use tokio::sync::broadcast;

const WITHIN: Duration = Duration::from_secs(10);
const USER: &str = "bob";
const PASSWORD: &str = "pr0xy-s3cret";

async fn sim(tls: SimTls, token: Option<&str>) -> SimHandle {
    chatbell_sim::start(SimConfig {
        tls: Some(tls),
        token: token.map(str::to_string),
        ..SimConfig::quiet()
    })
    .await
    .expect("the simulator starts")
}

/// The simulator over TLS with `server`'s certificate.
async fn wss(pki: &Pki, server: &CertFiles) -> SimHandle {
    sim(pki.sim_tls(server, false), None).await
}

/// The server at `sim`, trusting the PKI's CA through `ca_file`, directly.
fn server(sim: &SimHandle, pki: &Pki) -> ServerConfig {
    let mut server = ServerConfig::new(sim.ws_url(), None);
    server.proxy = ProxySetting::None;
    server.tls = TlsSettings {
        ca_file: Some(pki.ca().cert_file().to_path_buf()),
        ..TlsSettings::default()
    };
    server
}

fn via(mut server: ServerConfig, proxy: &str, password: Option<&str>) -> ServerConfig {
    server.proxy = ProxySetting::parse(proxy).expect("a proxy URL");
    server.proxy_password = password.map(Secret::new);
    server
}

async fn check(server: &ServerConfig) -> Result<CheckReport, NetFailure> {
    chatbell_engine::net::check(server, WITHIN).await
}

/// The failure's sentence in both languages; each holds `names` (the CN, the proxy…) and no
/// secret.
fn assert_words(failure: &NetFailure, names: &[&str]) {
    for lang in [Lang::En, Lang::Ru] {
        let words = net_words(failure, lang);
        assert!(
            !words.what.trim().is_empty() && !words.todo.trim().is_empty(),
            "{failure:?} {lang:?}: {words:?}"
        );
        let text = format!("{} {}", words.what, words.todo);
        for name in names {
            assert!(text.contains(name), "{failure:?} {lang:?}: {text}");
        }
        assert!(!text.contains(PASSWORD), "{text}");
    }
    assert!(!failure.to_string().is_empty());
}

/// Checks `server`, expecting a failure; returns it.
async fn fails(server: &ServerConfig) -> NetFailure {
    match check(server).await {
        Ok(report) => panic!("connected: {report:?}"),
        Err(f) => f,
    }
}

// --- Trust ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_private_ca_through_ca_file_is_trusted() {
    let pki = Pki::new();
    let sim = wss(&pki, &pki.server()).await;
    let report = check(&server(&sim, &pki)).await.expect("connects");
    assert_eq!(report.issuer.as_deref(), Some("Corp Root CA"));
    let trust = report.trust.expect("a TLS connection");
    assert_eq!(trust.extra_ca.as_deref(), Some(pki.ca().cert_file()));
    assert_eq!(report.route.proxy, None);
    assert_eq!(report.route.source, RouteSource::Setting);
}

#[tokio::test]
async fn an_unknown_issuer_is_named_by_its_cn() {
    let pki = Pki::new();
    let sim = wss(&pki, &pki.server()).await;
    let mut server = server(&sim, &pki);
    server.tls.ca_file = None;
    let failure = fails(&server).await;
    assert_eq!(
        failure,
        NetFailure::UnknownIssuer {
            issuer: Some("Corp Root CA".into())
        }
    );
    assert_words(&failure, &["Corp Root CA"]);
}

#[tokio::test]
async fn a_name_mismatch_and_an_expired_certificate_say_so() {
    let pki = Pki::new();
    let wrong = wss(&pki, &pki.wrong_name_server()).await;
    let failure = fails(&server(&wrong, &pki)).await;
    assert_eq!(
        failure,
        NetFailure::NameMismatch {
            host: "localhost".into()
        }
    );
    assert_words(&failure, &["localhost"]);

    let expired = wss(&pki, &pki.expired_server()).await;
    let failure = fails(&server(&expired, &pki)).await;
    assert_eq!(failure, NetFailure::Expired);
    assert_words(&failure, &[]);
}

#[tokio::test]
async fn a_tls_inspecting_proxy_is_told_apart() {
    let pki = Pki::new();
    // The proxy re-signs the server's certificate with its own CA: the client sees that one.
    let sim = wss(&pki, &pki.inspected_server()).await;
    let proxy = Proxy::http();
    let failure = fails(&via(server(&sim, &pki), &proxy.url(), None)).await;
    assert_eq!(
        failure,
        NetFailure::TlsInspected {
            issuer: Some("Inspecting Proxy CA".into()),
            proxy: proxy.url(),
        }
    );
    assert_words(&failure, &["Inspecting Proxy CA", &proxy.url()]);

    // A server of a private CA behind a plain proxy, before the CA file is set: nothing tells
    // an inspecting proxy from the server's own CA, so it reads as an unknown issuer, named.
    let private = wss(&pki, &pki.server()).await;
    let mut unset = via(server(&private, &pki), &proxy.url(), None);
    unset.tls.ca_file = None;
    assert_eq!(
        fails(&unset).await,
        NetFailure::UnknownIssuer {
            issuer: Some("Corp Root CA".into())
        }
    );
}

#[tokio::test]
async fn a_name_that_cannot_be_looked_up_says_so() {
    let mut server = ServerConfig::new("wss://no-such-host.invalid/ws", None);
    server.proxy = ProxySetting::None;
    let failure = fails(&server).await;
    assert_eq!(
        failure,
        NetFailure::Dns {
            host: "no-such-host.invalid".into()
        }
    );
    assert_words(&failure, &["no-such-host.invalid"]);
}

// --- Client certificates --------------------------------------------------------------------

fn with_client(mut server: ServerConfig, client: &CertFiles) -> ServerConfig {
    server.tls.client_cert = Some(client.cert.clone());
    server.tls.client_key = Some(client.key.clone());
    server
}

#[tokio::test]
async fn mutual_tls_accepts_the_right_certificate_and_says_what_is_wrong_otherwise() {
    let pki = Pki::new();
    let sim = sim(pki.sim_tls(&pki.server(), true), None).await;
    let plain = server(&sim, &pki);
    check(&with_client(plain.clone(), &pki.client()))
        .await
        .expect("the client certificate is accepted");

    let failure = fails(&plain).await;
    assert_eq!(failure, NetFailure::ClientCertRequired);
    assert_words(&failure, &[]);

    let failure = fails(&with_client(plain, &pki.stranger_client())).await;
    assert_eq!(failure, NetFailure::ClientCertRefused);
    assert_words(&failure, &[]);
}

fn key_problem(failure: &NetFailure, path: &Path) -> FileProblem {
    match failure {
        NetFailure::File {
            role: FileRole::ClientKey,
            path: p,
            problem,
        } if p == path => *problem,
        other => panic!("not a client key problem: {other:?}"),
    }
}

#[tokio::test]
async fn an_encrypted_key_opens_with_its_passphrase_only() {
    let pki = Pki::new();
    let sim = sim(pki.sim_tls(&pki.server(), true), None).await;
    let client = pki.client();
    let encrypted = CertFiles {
        key: pki.encrypt_key(&client.key, "correct horse"),
        ..client
    };
    let mut server = with_client(server(&sim, &pki), &encrypted);
    server.key_passphrase = Some(Secret::new("correct horse"));
    check(&server).await.expect("the key opens");

    server.key_passphrase = None;
    let failure = fails(&server).await;
    assert_eq!(
        key_problem(&failure, &encrypted.key),
        FileProblem::PassphraseNeeded
    );
    assert_words(&failure, &[]);

    server.key_passphrase = Some(Secret::new("wrong horse"));
    let failure = fails(&server).await;
    assert_eq!(
        key_problem(&failure, &encrypted.key),
        FileProblem::WrongPassphrase
    );
    assert_words(&failure, &[]);
    assert!(!failure.to_string().contains("wrong horse"));
}

#[tokio::test]
async fn a_key_other_users_can_read_is_refused() {
    let pki = Pki::new();
    let sim = sim(pki.sim_tls(&pki.server(), true), None).await;
    let client = pki.client();
    std::fs::set_permissions(&client.key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let failure = fails(&with_client(server(&sim, &pki), &client)).await;
    assert_eq!(
        key_problem(&failure, &client.key),
        FileProblem::ReadableByOthers
    );
    assert_words(&failure, &[]);
}

// --- Proxies --------------------------------------------------------------------------------

#[tokio::test]
async fn http_connect_without_and_with_a_password() {
    let pki = Pki::new();
    let sim = wss(&pki, &pki.server()).await;
    let target = format!("CONNECT localhost:{}", sim.addr().port());

    let open = Proxy::http();
    let report = check(&via(server(&sim, &pki), &open.url(), None))
        .await
        .expect("through the proxy");
    assert_eq!(report.route.proxy.map(|p| p.to_string()), Some(open.url()));
    assert!(open.log().contains(&target), "{}", open.log());

    let guarded = Proxy::http_with_auth(USER, PASSWORD);
    let url = guarded.url_with_user();
    check(&via(server(&sim, &pki), &url, Some(PASSWORD)))
        .await
        .expect("through the proxy with its password");
    assert!(guarded.log().contains(&target), "{}", guarded.log());
}

#[tokio::test]
async fn http_connect_asks_for_the_password_or_refuses_a_wrong_one() {
    let pki = Pki::new();
    let sim = wss(&pki, &pki.server()).await;
    let guarded = Proxy::http_with_auth(USER, PASSWORD);
    let url = guarded.url_with_user();

    let failure = fails(&via(server(&sim, &pki), &url, None)).await;
    assert_eq!(
        failure,
        NetFailure::ProxyAuthRequired { proxy: url.clone() }
    );
    assert_words(&failure, &[&url]);
    // No user in the URL either: the proxy's 407 still reads as "wants a password".
    let failure = fails(&via(server(&sim, &pki), &guarded.url(), None)).await;
    assert_eq!(
        failure,
        NetFailure::ProxyAuthRequired {
            proxy: guarded.url()
        }
    );

    // tinyproxy 1.11 answers wrong credentials with 401, not 407: still a refused password.
    let failure = fails(&via(server(&sim, &pki), &url, Some("not-it"))).await;
    assert_eq!(failure, NetFailure::ProxyAuthFailed { proxy: url.clone() });
    assert_words(&failure, &[&url]);
}

#[tokio::test]
async fn a_refused_tunnel_and_an_unreachable_proxy_say_so() {
    let pki = Pki::new();
    let sim = wss(&pki, &pki.server()).await;
    let refusing = Proxy::http_refusing_tunnels();
    let failure = fails(&via(server(&sim, &pki), &refusing.url(), None)).await;
    assert_eq!(
        failure,
        NetFailure::ProxyRefused {
            proxy: refusing.url(),
            status: 403
        }
    );
    assert_words(&failure, &[&refusing.url(), "403"]);

    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let failure = fails(&via(server(&sim, &pki), &nowhere, None)).await;
    assert_eq!(
        failure,
        NetFailure::ProxyUnreachable {
            proxy: nowhere.clone()
        }
    );
    assert_words(&failure, &[&nowhere]);

    // A proxy that cannot reach the server says so: the server's trouble, not the proxy's
    // policy (tinyproxy answers 500; squid 502–504).
    let open = Proxy::http();
    let mut gone = via(server(&sim, &pki), &open.url(), None);
    gone.url = format!("wss://localhost:{}/ws", free_port());
    let failure = fails(&gone).await;
    assert!(
        matches!(&failure, NetFailure::ProxyNoServer { proxy, status: 500 } if *proxy == open.url()),
        "{failure:?}"
    );
    let socks = Proxy::socks5();
    let mut gone = via(server(&sim, &pki), &socks.url(), None);
    gone.url = format!("wss://localhost:{}/ws", free_port());
    let failure = fails(&gone).await;
    assert!(
        matches!(&failure, NetFailure::ProxyNoServer { status: 0, .. }),
        "{failure:?}"
    );
}

#[tokio::test]
async fn socks5_without_and_with_a_password() {
    let pki = Pki::new();
    let sim = wss(&pki, &pki.server()).await;
    let open = Proxy::socks5();
    let report = check(&via(server(&sim, &pki), &open.url(), None))
        .await
        .expect("through SOCKS5");
    assert_eq!(report.route.proxy.map(|p| p.to_string()), Some(open.url()));

    let guarded = Proxy::socks5_with_auth(USER, PASSWORD);
    let url = guarded.url_with_user();
    check(&via(server(&sim, &pki), &url, Some(PASSWORD)))
        .await
        .expect("through SOCKS5 with its password");
    let failure = fails(&via(server(&sim, &pki), &url, None)).await;
    assert_eq!(
        failure,
        NetFailure::ProxyAuthRequired { proxy: url.clone() }
    );
    let failure = fails(&via(server(&sim, &pki), &url, Some("not-it"))).await;
    assert_eq!(failure, NetFailure::ProxyAuthFailed { proxy: url.clone() });
    assert_words(&failure, &[&url]);

    let nowhere = format!("socks5://127.0.0.1:{}", free_port());
    let failure = fails(&via(server(&sim, &pki), &nowhere, None)).await;
    assert_eq!(failure, NetFailure::ProxyUnreachable { proxy: nowhere });
}

// --- A running engine through a proxy -------------------------------------------------------

/// Heartbeat and retries fast enough for a test: a silent peer is dead within about a second.
fn fast_tuning() -> ConnectionTuning {
    let mut tuning = ConnectionTuning {
        heartbeat: Heartbeat {
            ping_interval: Duration::from_millis(200),
            dead_after: Duration::from_millis(800),
        },
        connect_timeout: Duration::from_secs(2),
        ..ConnectionTuning::default()
    };
    tuning.backoff.base = Duration::from_millis(100);
    tuning.backoff.cap = Duration::from_millis(500);
    tuning
}

struct Running {
    engine: Engine,
    events: broadcast::Receiver<EngineEvent>,
    _dir: tempfile::TempDir,
}

async fn run(server: ServerConfig, subscriptions: Vec<i64>) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path().join("chatbell.db"));
    config.server = Some(server);
    config.subscriptions = subscriptions;
    config.tuning = fast_tuning();
    let engine = Engine::start(config, None)
        .await
        .expect("the engine starts");
    let events = engine.events();
    let running = Running {
        engine,
        events,
        _dir: dir,
    };
    running
        .state("online", |s| matches!(s, ConnState::Online { .. }))
        .await;
    running
}

impl Running {
    async fn state(&self, what: &str, pred: impl Fn(&ConnState) -> bool) -> ConnState {
        chatbell_testkit::watch_until(what, &mut self.engine.state(), WITHIN, pred).await
    }

    /// Waits for the gap the reconnect records in the store.
    async fn gap(&mut self) {
        tokio::time::timeout(WITHIN, async {
            loop {
                match self.events.recv().await {
                    Ok(EngineEvent::Stored(u)) if u.gap.is_some() => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        })
        .await
        .expect("a gap recorded");
    }

    async fn messages(&self) -> u64 {
        self.engine.queries().counts().await.unwrap().messages
    }
}

fn message(id: i64, user: i64) -> serde_json::Value {
    json!({"event": "new_message", "data": {"message_id": id, "user_id": user, "user_name": "Ann", "text": "hello", "file_path": null, "source": "widget"}, "timestamp": "2026-01-10T15:31:00Z"})
}

/// Posts a message and waits until the engine stored it (`n` messages in all).
async fn deliver(sim: &SimHandle, running: &Running, id: i64, n: u64) {
    sim.control().send_event(&message(id, 7)).await.unwrap();
    chatbell_testkit::eventually("the message stored", WITHIN, async || {
        let stored = running.messages().await;
        if stored == n { Ok(()) } else { Err(stored) }
    })
    .await;
}

#[tokio::test]
async fn a_proxy_killed_mid_session_is_reconnected_through_when_it_returns() {
    let pki = Pki::new();
    let sim = wss(&pki, &pki.server()).await;
    let mut proxy = Proxy::http_with_auth(USER, PASSWORD);
    let url = proxy.url_with_user();
    let mut running = run(via(server(&sim, &pki), &url, Some(PASSWORD)), vec![]).await;
    deliver(&sim, &running, 1, 1).await;

    proxy.kill();
    let down = running
        .state("offline with the proxy unreachable", |s| {
            matches!(
                s,
                ConnState::Offline {
                    failure: NetFailure::ProxyUnreachable { .. },
                    ..
                }
            )
        })
        .await;
    let ConnState::Offline { failure, .. } = down else {
        unreachable!()
    };
    assert_eq!(failure, NetFailure::ProxyUnreachable { proxy: url.clone() });

    proxy.restart();
    running
        .state("online again", |s| matches!(s, ConnState::Online { .. }))
        .await;
    running.gap().await;
    let counts = running.engine.queries().counts().await.unwrap();
    assert!(counts.gaps >= 1, "{counts:?}");
    deliver(&sim, &running, 2, 2).await;
    running.engine.shutdown().await;
}

#[tokio::test]
async fn a_proxy_gone_silent_is_a_dead_connection() {
    let pki = Pki::new();
    let sim = wss(&pki, &pki.server()).await;
    let proxy = Proxy::http();
    let running = run(via(server(&sim, &pki), &proxy.url(), None), vec![]).await;
    deliver(&sim, &running, 1, 1).await;

    proxy.pause();
    // The tunnel stays open and carries nothing: the heartbeat finds it dead.
    let down = running
        .state("offline", |s| matches!(s, ConnState::Offline { .. }))
        .await;
    let ConnState::Offline { failure, .. } = down else {
        unreachable!()
    };
    assert!(matches!(failure, NetFailure::Lost { .. }), "{failure:?}");
    assert_words(&failure, &[]);
    proxy.resume();
    running
        .state("online again", |s| matches!(s, ConnState::Online { .. }))
        .await;
    deliver(&sim, &running, 2, 2).await;
    running.engine.shutdown().await;
}

#[tokio::test]
async fn the_token_never_reaches_the_proxy() {
    const TOKEN: &str = "tok-3f9a-NEVER-TO-THE-PROXY";
    let pki = Pki::new();
    let sim = sim(pki.sim_tls(&pki.server(), false), Some(TOKEN)).await;
    for auth in [AuthMode::Header, AuthMode::Query] {
        let proxy = Proxy::http_with_auth(USER, PASSWORD);
        let relay = Relay::in_front_of(&proxy);
        let through = format!("http://{USER}@{}", relay.addr());
        let mut server = via(server(&sim, &pki), &through, Some(PASSWORD));
        server.token = Some(Secret::new(TOKEN));
        server.auth = auth;
        let running = run(server, vec![42]).await;
        // Subscribed: the server took the token and the subscription.
        let clients = sim
            .control()
            .wait_clients(WITHIN, |c| c.iter().any(|c| c.filters == [42]))
            .await
            .unwrap();
        assert!(
            clients.iter().any(|c| c.filters == [42]),
            "{auth:?}: {clients:?}"
        );

        let connections = relay.connections();
        assert!(!connections.is_empty());
        assert!(
            connections[0].request_head().starts_with(&format!(
                "CONNECT localhost:{} HTTP/1.1\r\n",
                sim.addr().port()
            )),
            "{}",
            connections[0].request_head()
        );
        let sent = relay.sent();
        assert!(
            find(&sent, TOKEN.as_bytes()).is_none(),
            "{auth:?}: the token went to the proxy"
        );
        assert!(!proxy.log().contains(TOKEN), "{auth:?}: {}", proxy.log());
        running.engine.shutdown().await;
        sim.control()
            .wait_clients(WITHIN, |c| c.is_empty())
            .await
            .unwrap();
    }
}
