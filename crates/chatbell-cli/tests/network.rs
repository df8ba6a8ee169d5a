//! The command line behind a company's network: `listen` through a password-protected proxy to
//! a server of a private CA, and `doctor` saying the route, the trust and the issuer — or, when
//! the CA is not trusted, the sentence with the fix, in the settings' language.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

mod common;

use chatbell_sim::SimConfig;
use chatbell_testkit::{Pki, Proxy, SecretService, find};
use common::{Desk, until_online};

const TOKEN: &str = "t0ken-behind-the-proxy-91c";
const PASSWORD: &str = "proxy-Pa55-word";

async fn behind_a_proxy() -> (Desk, Pki, Proxy, SecretService) {
    let pki = Pki::new();
    let desk = Desk::with_sim(SimConfig {
        tls: Some(pki.sim_tls(&pki.server(), false)),
        token: Some(TOKEN.into()),
        ..SimConfig::default()
    })
    .await;
    let keyring = SecretService::start(&desk.bus, desk.home.path()).await;
    let proxy = Proxy::http_with_auth("agent", PASSWORD);
    for (what, secret) in [("token", TOKEN), ("proxy-password", PASSWORD)] {
        let said = desk.store_secret(what, secret);
        assert!(!said.contains(secret), "{said}");
    }
    (desk, pki, proxy, keyring)
}

// The simulator runs on the test's runtime while a command runs to completion: two threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_goes_through_the_proxy_with_the_keychains_password() {
    let (desk, pki, proxy, _keyring) = behind_a_proxy().await;
    let ca = pki.ca().cert_file().display().to_string();
    let mut listen = desk.cli();
    listen.args([
        "listen",
        "--json",
        "--no-notify",
        "--url",
        &desk.sim.ws_url(),
    ]);
    listen.args(["--proxy", &proxy.url_with_user(), "--ca-file", &ca]);
    let listener = until_online(listen).await;
    drop(listener);
    // The tunnel was the proxy's to see; what went inside it was not.
    let log = proxy.log();
    assert!(log.contains("CONNECT"), "{log}");
    assert!(find(log.as_bytes(), TOKEN.as_bytes()).is_none(), "{log}");
    assert!(find(log.as_bytes(), PASSWORD.as_bytes()).is_none(), "{log}");
}

// The simulator runs on the test's runtime while a command runs to completion: two threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_says_the_route_the_trust_and_the_issuer_or_what_to_do() {
    let (desk, pki, proxy, _keyring) = behind_a_proxy().await;
    let ca = pki.ca().cert_file().to_path_buf();
    desk.write_settings(serde_json::json!({"server": {
        "url": desk.sim.ws_url(),
        "proxy": proxy.url_with_user(),
        "tls": {"ca_file": ca},
    }}));
    let (_, out, err) = desk.run(&["doctor"]);
    let server = out
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("server"))
        .unwrap_or_default();
    assert!(
        server.starts_with("ok"),
        "{out}{err}\nproxy log:\n{}",
        proxy.log()
    );
    for words in [
        format!(
            "via proxy {} from Chatbell's settings",
            proxy.url_with_user()
        ),
        format!(
            "trusted by this computer's trusted certificates and {}",
            ca.display()
        ),
        "certificate issued by “Corp Root CA”".to_string(),
    ] {
        assert!(server.contains(&words), "{words:?} in {server}");
    }

    // Without the CA file the server's issuer is named, with the fix, in the agent's language.
    desk.write_settings(serde_json::json!({
        "server": {"url": desk.sim.ws_url(), "proxy": proxy.url_with_user()},
        "ui": {"language": "ru"},
    }));
    let (ok, out, _) = desk.run(&["doctor"]);
    let server = out
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("server"))
        .unwrap_or_default();
    assert!(!ok && server.starts_with("FAIL"), "{out}");
    assert!(
        server.contains("Сертификат сервера подписан «Corp Root CA»")
            && server.contains("Центр сертификации"),
        "{server}"
    );
    assert!(!out.contains(PASSWORD) && !out.contains(TOKEN), "{out}");
}
