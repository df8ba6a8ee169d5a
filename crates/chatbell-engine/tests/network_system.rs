//! What the desktop decides (issue 25): the system's trust store, the environment's proxy and
//! `NO_PROXY`, and the XDG portal's `ProxyResolver` answer over the environment. The engine
//! reads them from the process's environment (`SSL_CERT_FILE`, `HTTPS_PROXY`,
//! `DBUS_SESSION_BUS_ADDRESS`), which the tests of a binary share: each case runs again in a
//! child process of this test binary with its own environment, on a private bus, with the
//! machine's own proxy and trust variables removed. The parent makes the PKI and the proxies
//! and keeps them while the child runs.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chatbell_engine::ServerConfig;
use chatbell_engine::net::{
    CheckReport, NetFailure, ProxySetting, RouteSource, Store, TlsSettings,
};
use chatbell_sim::{SimConfig, SimHandle, SimTls};
use chatbell_testkit::{FakePortal, PROXY_ENV, Pki, PrivateBus, Proxy, free_port};

const CHILD: &str = "CHATBELL_TEST_NETWORK_CHILD";
/// The parent's PKI folder (`ca.pem`, `server.pem`, `server.key`).
const PKI_DIR: &str = "CHATBELL_TEST_PKI_DIR";
/// What the child's portal answers (comma-separated).
const PORTAL_ANSWER: &str = "CHATBELL_TEST_PORTAL_ANSWER";
const WITHIN: Duration = Duration::from_secs(10);

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the test `name` again in a child process with `env` on a private bus; panics with its
/// output unless it passed.
fn run_child(name: &str, env: &[(&str, String)]) {
    let bus = PrivateBus::start();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address());
    for var in PROXY_ENV.iter().chain(&["SSL_CERT_FILE", "SSL_CERT_DIR"]) {
        command.env_remove(var);
    }
    for (var, value) in env {
        command.env(var, value);
    }
    let out = command.output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
}

fn text(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// A PKI with the server's certificate made, and its folder for the child.
fn pki() -> (Pki, (&'static str, String)) {
    let pki = Pki::new();
    pki.server();
    let dir = text(pki.dir());
    (pki, (PKI_DIR, dir))
}

/// `HTTPS_PROXY` naming a proxy that is not there.
fn dead_proxy() -> (&'static str, String) {
    ("HTTPS_PROXY", format!("http://127.0.0.1:{}", free_port()))
}

fn pki_dir() -> PathBuf {
    PathBuf::from(std::env::var(PKI_DIR).expect("the parent's PKI"))
}

/// In the child: the simulator over TLS with the parent's server certificate.
async fn sim() -> SimHandle {
    let dir = pki_dir();
    chatbell_sim::start(SimConfig {
        tls: Some(SimTls {
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            client_ca: None,
        }),
        ..SimConfig::quiet()
    })
    .await
    .expect("the simulator starts")
}

/// The server at `sim` the desktop's way (`proxy: "system"`), trusting the CA through
/// `ca_file` when `ca_file`.
fn server(sim: &SimHandle, ca_file: bool) -> ServerConfig {
    let mut server = ServerConfig::new(sim.ws_url(), None);
    assert_eq!(server.proxy, ProxySetting::System);
    server.tls = TlsSettings {
        ca_file: ca_file.then(|| pki_dir().join("ca.pem")),
        ..TlsSettings::default()
    };
    server
}

async fn check(server: &ServerConfig) -> Result<CheckReport, NetFailure> {
    chatbell_engine::net::check(server, WITHIN).await
}

#[tokio::test]
async fn the_system_store_trusts_a_ca_it_holds() {
    if !in_child() {
        let (pki, dir) = pki();
        let store = ("SSL_CERT_FILE", text(&pki.system_store()));
        return run_child("the_system_store_trusts_a_ca_it_holds", &[dir, store]);
    }
    let sim = sim().await;
    let report = check(&server(&sim, false))
        .await
        .expect("trusted by the store");
    let trust = report.trust.expect("TLS");
    assert_eq!((trust.store, trust.extra_ca), (Store::System, None));
    assert_eq!(report.issuer.as_deref(), Some("Corp Root CA"));
    assert_eq!(report.route.proxy, None);
    assert_eq!(report.route.source, RouteSource::None);
}

#[tokio::test]
async fn the_system_store_as_a_folder_trusts_a_ca_it_holds() {
    if !in_child() {
        let (pki, dir) = pki();
        let store = ("SSL_CERT_DIR", text(&pki.system_store_dir()));
        // No bundle file: only the folder speaks.
        let no_file = ("SSL_CERT_FILE", text(&pki.dir().join("no-such-bundle.pem")));
        return run_child(
            "the_system_store_as_a_folder_trusts_a_ca_it_holds",
            &[dir, store, no_file],
        );
    }
    let sim = sim().await;
    let report = check(&server(&sim, false))
        .await
        .expect("trusted by the store");
    assert_eq!(report.trust.expect("TLS").store, Store::System);
}

#[tokio::test]
async fn without_a_system_store_the_compiled_roots_are_used_and_said() {
    if !in_child() {
        let (pki, dir) = pki();
        let nothing = text(&pki.dir().join("nothing-here"));
        return run_child(
            "without_a_system_store_the_compiled_roots_are_used_and_said",
            &[
                dir,
                ("SSL_CERT_FILE", nothing.clone()),
                ("SSL_CERT_DIR", nothing),
            ],
        );
    }
    let sim = sim().await;
    let report = check(&server(&sim, true))
        .await
        .expect("trusted through ca_file");
    let trust = report.trust.expect("TLS");
    assert_eq!(trust.store, Store::Compiled);
    assert_eq!(trust.extra_ca, Some(pki_dir().join("ca.pem")));
    let failure = check(&server(&sim, false)).await.unwrap_err();
    assert_eq!(
        failure,
        NetFailure::UnknownIssuer {
            issuer: Some("Corp Root CA".into())
        }
    );
}

#[tokio::test]
async fn the_environment_names_the_proxy() {
    if !in_child() {
        let (_pki, dir) = pki();
        let proxy = Proxy::http();
        run_child(
            "the_environment_names_the_proxy",
            &[dir, ("HTTPS_PROXY", proxy.url())],
        );
        assert!(
            proxy.log().contains("CONNECT localhost:"),
            "{}",
            proxy.log()
        );
        return;
    }
    let sim = sim().await;
    let report = check(&server(&sim, true)).await.expect("through the proxy");
    assert_eq!(report.route.source, RouteSource::Environment);
    assert_eq!(
        report.route.proxy.map(|p| p.to_string()),
        std::env::var("HTTPS_PROXY").ok()
    );
}

#[tokio::test]
async fn the_environments_proxy_that_is_down_says_so() {
    if !in_child() {
        let (_pki, dir) = pki();
        return run_child(
            "the_environments_proxy_that_is_down_says_so",
            &[dir, dead_proxy()],
        );
    }
    let sim = sim().await;
    let failure = check(&server(&sim, true)).await.unwrap_err();
    assert_eq!(
        failure,
        NetFailure::ProxyUnreachable {
            proxy: std::env::var("HTTPS_PROXY").unwrap()
        }
    );
}

#[tokio::test]
async fn no_proxy_is_honoured() {
    if !in_child() {
        let (_pki, dir) = pki();
        return run_child(
            "no_proxy_is_honoured",
            &[
                dir,
                dead_proxy(),
                ("NO_PROXY", "example.org,localhost".into()),
            ],
        );
    }
    let sim = sim().await;
    let report = check(&server(&sim, true)).await.expect("directly");
    assert_eq!(report.route.proxy, None);
    assert_eq!(report.route.source, RouteSource::Environment);
}

#[tokio::test]
async fn the_portals_proxy_wins_over_the_environment() {
    if !in_child() {
        let (_pki, dir) = pki();
        let proxy = Proxy::http();
        run_child(
            "the_portals_proxy_wins_over_the_environment",
            &[dir, dead_proxy(), (PORTAL_ANSWER, proxy.url())],
        );
        assert!(
            proxy.log().contains("CONNECT localhost:"),
            "{}",
            proxy.log()
        );
        return;
    }
    let answer = std::env::var(PORTAL_ANSWER).unwrap();
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap();
    let portal = FakePortal::start_at(&bus, &[answer.as_str()]).await;
    let sim = sim().await;
    let report = check(&server(&sim, true))
        .await
        .expect("through the portal's proxy");
    assert_eq!(report.route.source, RouteSource::Portal);
    assert_eq!(report.route.proxy.map(|p| p.to_string()), Some(answer));
    assert_eq!(
        portal.asked(),
        [format!("https://localhost:{}/", sim.addr().port())]
    );
}

#[tokio::test]
async fn the_portals_direct_wins_over_the_environment() {
    if !in_child() {
        let (_pki, dir) = pki();
        return run_child(
            "the_portals_direct_wins_over_the_environment",
            &[dir, dead_proxy(), (PORTAL_ANSWER, "direct://".into())],
        );
    }
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap();
    let portal = FakePortal::start_at(&bus, &["direct://"]).await;
    let sim = sim().await;
    let report = check(&server(&sim, true)).await.expect("directly");
    assert_eq!(report.route.source, RouteSource::Portal);
    assert_eq!(report.route.proxy, None);
    assert_eq!(portal.asked().len(), 1);
}
