//! `chatbell-cli forward`: a test sent to every target of the settings, each request as the
//! service documents it (a recording HTTP server stands in for ntfy, Gotify and a webhook), a
//! target's secret from the keychain, and per target delivered or why not.

// The keychain is Linux's Secret Service on the test's private bus.
#![cfg(target_os = "linux")]

mod common;

use std::io::Write;
use std::process::Stdio;

use chatbell_testkit::{Answer, RecordingHttp, SecretService};
use common::Desk;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_test_reaches_every_target_and_says_which_did_not() {
    let desk = Desk::new().await;
    let _keyring = SecretService::start(&desk.bus, desk.home.path()).await;
    let phone = RecordingHttp::start().await;
    let lead = RecordingHttp::start().await;
    let refusing = RecordingHttp::start().await;
    refusing.answer(Answer::Status(401));
    desk.write_settings(json!({"notifications": {"forward": [
        {"id": "phone", "kind": "ntfy", "url": phone.url(), "topic": "ann-support"},
        {"id": "lead", "kind": "gotify", "url": lead.url(), "lead": true, "when": "always"},
        {"id": "old-phone", "kind": "ntfy", "url": refusing.url(), "topic": "x"}
    ]}}));

    // Gotify's application token, typed on standard input, kept in the keychain.
    let mut set = desk.cli();
    set.args(["forward", "secret", "lead", "set"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = set.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"AppTok.lead\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (ok, out, err) = desk.run(&["forward", "test"]);
    assert!(!ok, "one target refused: a failure exit");
    assert!(out.contains("phone (ntfy): delivered"), "{out}{err}");
    assert!(out.contains("lead (gotify): delivered"), "{out}{err}");
    assert!(
        out.contains("old-phone (ntfy): not delivered: ntfy refused the access token"),
        "{out}{err}"
    );

    let within = std::time::Duration::from_secs(10);
    let ntfy = phone.wait_for(1, within).await.remove(0);
    assert_eq!(ntfy.path, "/ann-support");
    assert_eq!(ntfy.header("Title"), Some("Chatbell test notification"));
    assert!(
        ntfy.header("Authorization").is_none(),
        "no token stored for it"
    );
    let gotify = lead.wait_for(1, within).await.remove(0);
    assert_eq!(gotify.path, "/message");
    assert_eq!(gotify.header("X-Gotify-Key"), Some("AppTok.lead"));
    assert_eq!(gotify.json()["title"], "Chatbell test notification");
    assert!(!out.contains("AppTok"), "the secret is never printed");
}

/// `listen` forwards as the app does (a target set to `always` receives a new chat at once),
/// prints each forward's end, and `doctor` lists them from the store: the newest to each
/// target decides whether the check passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_forwards_and_doctor_lists_how_each_forward_ended() {
    let desk = Desk::new().await;
    let hook = RecordingHttp::start().await;
    let refusing = RecordingHttp::start().await;
    refusing.answer(Answer::Status(401));
    desk.write_settings(json!({"notifications": {"forward": [
        {"id": "hook", "kind": "webhook", "url": hook.url(), "when": "always"},
        {"id": "phone", "kind": "ntfy", "url": refusing.url(), "topic": "t", "when": "always"}
    ]}}));
    let listener = common::listen_human(&desk, &["--no-notify", "--no-sound"]).await;
    desk.sim
        .control()
        .send_event(&common::new_chat(7, "Ann", "Hello?"))
        .await
        .unwrap();
    let within = std::time::Duration::from_secs(10);
    listener
        .stdout
        .wait_for(within, |l| l == "forwarded to hook")
        .await
        .unwrap_or_else(|| {
            panic!(
                "the webhook's delivery printed:\n{}\n{}",
                listener.stdout.text(),
                listener.stderr.text()
            )
        });
    listener
        .stdout
        .wait_for(within, |l| {
            l == "not forwarded to phone: ntfy refused the access token"
        })
        .await
        .expect("the refusal printed");
    let got = hook.wait_for(1, within).await.remove(0).json();
    assert_eq!(got["event"], "new_chat");
    assert_eq!(got["chats"][0]["name"], "Ann");
    common::quit(listener);

    let (ok, out, err) = desk.run(&["doctor"]);
    assert!(!ok, "the last forward to phone failed: {out}{err}");
    let line = out
        .lines()
        .find(|l| l.contains("forwarding"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.starts_with("FAIL"), "{line}");
    assert!(
        line.contains("the last forward to phone did not arrive"),
        "{line}"
    );
    assert!(line.contains("hook NewChat: delivered"), "{line}");
    assert!(
        line.contains("phone NewChat: not delivered: ntfy refused the access token"),
        "{line}"
    );
}
