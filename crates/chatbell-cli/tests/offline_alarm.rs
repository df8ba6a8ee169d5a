//! The alarm when Chatbell cannot hear the service, in `chatbell-cli listen`, in real time: the
//! simulator over loopback stopped and started again on the same port, a recording
//! notification server on a private D-Bus, and the shortest threshold the settings allow.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use chatbell_sim::SimConfig;
use chatbell_testkit::{NotificationServer, NotifyCall, PulseServer, Spawned, Text, eventually};
use common::{Desk, output, until_online};

const CAPS: &[&str] = &["body", "actions", "persistence"];
/// The threshold in these tests: the least the settings allow.
const THRESHOLD_SECS: u64 = 10;
/// The threshold, and room for a busy machine.
const WARNED_WITHIN: Duration = Duration::from_secs(THRESHOLD_SECS + 15);
/// Reconnecting retries with full jitter up to 30 s apart.
const BACK_WITHIN: Duration = Duration::from_secs(45);

/// `listen --json` with the shortest threshold; its sounds go to a private audio server, not
/// the machine's speakers.
async fn listen(desk: &Desk, pulse: &PulseServer) -> Spawned {
    desk.write_settings(serde_json::json!({
        "notifications": {"offline_alert_secs": THRESHOLD_SECS}
    }));
    let mut c = desk.cli();
    c.envs(pulse.env())
        .args(["listen", "--json", "--url", &desk.sim.ws_url()]);
    until_online(c).await
}

/// Waits for a notification whose summary satisfies `pred`; returns it.
async fn notified(
    server: &NotificationServer,
    listener: &Spawned,
    within: Duration,
    pred: impl Fn(&str) -> bool,
) -> NotifyCall {
    eventually("such a notification", within, async || {
        let calls = server.calls();
        match calls.iter().find(|c| pred(&c.summary)) {
            Some(call) => Ok(call.clone()),
            None => Err(Text(format!("{calls:#?}\n{:?}", output(listener)))),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outage_warns_once_and_back_online_replaces_the_warning() {
    let desk = Desk::new().await;
    let pulse = PulseServer::start();
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let listener = listen(&desk, &pulse).await;
    let addr = desk.sim.addr();

    // The service goes away; past the threshold, the warning.
    let Desk {
        bus: _bus,
        home: _home,
        sim,
    } = desk;
    sim.shutdown().await;
    listener
        .stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "connection" && v["state"] == "offline"
        })
        .await
        .expect("offline");
    let offline = notified(&server, &listener, WARNED_WITHIN, |s| {
        s.starts_with("Chatbell is offline since")
    })
    .await;
    assert!(
        offline.body.contains("the server cannot be reached"),
        "{offline:#?}"
    );
    assert_eq!(offline.replaces_id, 0, "{offline:#?}");

    // The service returns on the same port: back online, in place of the warning.
    let sim = chatbell_sim::start(SimConfig {
        listen: addr,
        rate: 0.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let back = notified(&server, &listener, BACK_WITHIN, |s| s == "Back online").await;
    assert!(back.body.contains("not covered"), "{back:#?}");
    assert_eq!(
        back.replaces_id, offline.id,
        "replaces the warning: {back:#?}"
    );
    // The back-online notice is the barrier: everything before it is in.
    let calls = server.calls();
    let warnings = calls
        .iter()
        .filter(|c| c.summary.starts_with("Chatbell is offline since"))
        .count();
    assert_eq!(warnings, 1, "one warning: {calls:#?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_warns_with_a_button_to_the_settings() {
    let desk = Desk::with_sim(SimConfig {
        token: Some("right".into()),
        ..SimConfig::default()
    })
    .await;
    let pulse = PulseServer::start();
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    desk.write_settings(serde_json::json!({
        "notifications": {"offline_alert_secs": THRESHOLD_SECS}
    }));
    // Never online: started by hand, waiting for the refusal instead.
    let mut c = desk.cli();
    c.envs(pulse.env())
        .env("CHATBELL_TEST_TOKEN", "wrong")
        .args([
            "listen",
            "--json",
            "--token-env",
            "CHATBELL_TEST_TOKEN",
            "--url",
            &desk.sim.ws_url(),
        ]);
    let listener = Spawned::spawn(c);
    listener
        .stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "connection" && v["state"] == "unauthorized"
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "never refused; stdout:\n{}\nstderr:\n{}",
                listener.stdout.text(),
                listener.stderr.text()
            )
        });
    let refused = notified(&server, &listener, WARNED_WITHIN, |s| {
        s == "The server refused the token"
    })
    .await;
    assert!(refused.body.contains("Settings"), "{refused:#?}");
    let keys: Vec<&str> = refused
        .actions
        .iter()
        .step_by(2)
        .map(String::as_str)
        .collect();
    assert!(keys.contains(&"settings"), "{refused:#?}");
    // The button, pressed: listen says what to do (it has no Settings window).
    let heard = common::press(&server, &listener, refused.id, "settings", |v| {
        v["type"] == "settings_requested"
    })
    .await;
    assert_eq!(heard["section"], "server", "{heard}");
}
