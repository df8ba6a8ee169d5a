//! Chatbell's own sounds, heard: `chatbell-cli listen` plays on a private PulseAudio server
//! whose output is recorded, while a recording notification server on a private D-Bus shows
//! what the desktop was asked for. A sound is judged by the bursts of loud audio in the
//! recording (their number and length), never by timestamps.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use chatbell_engine::sound::Tone;
use chatbell_testkit::{HintValue, NotificationServer, NotifyCall, Pcm, PulseServer, Spawned};
use common::{Desk, message, new_chat, until_online};

const CAPS: &[&str] = &["body", "body-markup", "actions", "sound"];
const WITHIN: Duration = Duration::from_secs(10);

/// `chatbell-cli listen --json` in this desktop, its sounds going to `pulse`.
async fn listen_with(desk: &Desk, env: &[(String, String)]) -> Spawned {
    let mut c = desk.cli();
    c.envs(env.iter().map(|(k, v)| (k, v)))
        .args(["listen", "--json", "--url", &desk.sim.ws_url()]);
    until_online(c).await
}

/// `chatbell-cli listen` with its human output, with this environment and these arguments;
/// returns once online.
async fn listen_human_with(desk: &Desk, env: &[(&str, &str)], args: &[&str]) -> Spawned {
    let mut c = desk.cli();
    c.envs(env.iter().copied())
        .args(["listen", "--url", &desk.sim.ws_url()])
        .args(args);
    let listener = Spawned::spawn(c);
    let online = listener.stdout.wait_for(WITHIN, |l| l == "online").await;
    assert!(
        online.is_some(),
        "never online; stdout:\n{}\nstderr:\n{}",
        listener.stdout.text(),
        listener.stderr.text()
    );
    listener
}

/// Waits for the `--json` line saying the sound of `kind` played; returns it.
async fn played(listener: &Spawned, kind: &str) -> serde_json::Value {
    listener
        .stdout
        .wait_json(WITHIN, |v| v["type"] == "sound" && v["kind"] == kind)
        .await
        .unwrap_or_else(|| {
            panic!(
                "no {kind} sound reported; stdout:\n{}\nstderr:\n{}",
                listener.stdout.text(),
                listener.stderr.text()
            )
        })
}

/// Waits for the `--json` line saying the notification `summary` was shown; returns it. Its
/// `sound` says whether a sound was chosen for the notification: a chosen sound is queued
/// before the notification is shown, so `false` there is the decision itself, not a pause in
/// which none happened to play.
async fn shown_report(listener: &Spawned, summary: &str) -> serde_json::Value {
    listener
        .stdout
        .wait_json(WITHIN, |v| {
            v["type"] == "delivery" && v["result"] == "shown" && v["summary"] == summary
        })
        .await
        .unwrap_or_else(|| panic!("{summary:?} not shown:\n{}", listener.stdout.text()))
}

/// Waits for the `n`th notification; returns it.
async fn notification(server: &NotificationServer, n: usize) -> NotifyCall {
    let calls = server.wait_calls(n, WITHIN).await;
    assert!(
        calls.len() >= n,
        "only {} notifications: {calls:#?}",
        calls.len()
    );
    calls[n - 1].clone()
}

/// The recording once the sound reported as started has played out: the report comes when
/// the device takes the first samples, so wait for the burst to end (the sink runs on, so
/// quiet follows a sound in the recording), then stop.
fn after_the_sound(recording: chatbell_testkit::Recording) -> Pcm {
    let ended = recording.wait(WITHIN, |pcm| pcm.ends_quiet(Duration::from_millis(200)));
    assert!(ended.is_some(), "the sound never ended in the recording");
    recording.stop()
}

fn assert_lasts(burst: &chatbell_testkit::Burst, tone: Tone) {
    let expected = tone.duration().as_secs_f64();
    assert!(
        (burst.duration_s - expected).abs() <= expected * 0.25,
        "{tone:?} lasts {expected} s; the recording's burst {} s: {burst:?}",
        burst.duration_s
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_chat_plays_the_chime_once_and_asks_the_desktop_for_silence() {
    let desk = Desk::new().await;
    let pulse = PulseServer::start();
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    desk.write_settings(
        serde_json::json!({"notifications": {"sound": true, "sounds": {
            "new_chat": "chime", "new_message": "pop", "escalation": "alarm", "volume": 80
        }}}),
    );
    let recording = pulse.record();
    let listener = listen_with(&desk, &pulse.env()).await;

    desk.sim
        .control()
        .send_event(&new_chat(1, "Ann", "hello"))
        .await
        .unwrap();
    let shown = notification(&server, 1).await;
    assert_eq!(shown.summary, "New chat: Ann");
    assert_eq!(
        shown.hints.get("suppress-sound"),
        Some(&HintValue::Bool(true)),
        "Chatbell plays the sound itself: the desktop must not add its own"
    );
    let sound = played(&listener, "new_chat").await;
    assert_eq!(sound["tone"], "chime", "{sound}");
    assert_eq!(sound["outcome"]["result"], "played", "{sound}");
    assert_eq!(
        sound["outcome"]["duration_ms"],
        Tone::Chime.duration().as_millis() as u64,
        "{sound}"
    );

    let pcm = after_the_sound(recording);
    let bursts = pcm.bursts();
    assert_eq!(bursts.len(), 1, "one chime: {bursts:?}");
    assert_lasts(&bursts[0], Tone::Chime);
    // Volume 80 is 0.64 of full scale on the tones' curve (the sink mixes at unity).
    assert!(
        (0.6..=0.68).contains(&bursts[0].peak),
        "peak {} of full scale at volume 80",
        bursts[0].peak
    );
    let sounds = listener
        .stdout
        .json()
        .into_iter()
        .filter(|v| v["type"] == "sound")
        .count();
    assert_eq!(sounds, 1, "{}", listener.stdout.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_set_to_off_plays_nothing_while_the_others_still_play() {
    let desk = Desk::new().await;
    let pulse = PulseServer::start();
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    desk.write_settings(serde_json::json!({"notifications": {"sounds": {
        "new_chat": null, "new_message": "pop"
    }}}));
    let recording = pulse.record();
    let listener = listen_with(&desk, &pulse.env()).await;

    desk.sim
        .control()
        .send_event(&new_chat(1, "Ann", "hello"))
        .await
        .unwrap();
    let shown = notification(&server, 1).await;
    assert_eq!(shown.summary, "New chat: Ann");
    let delivered = shown_report(&listener, "New chat: Ann").await;
    assert_eq!(delivered["sound"], false, "no sound chosen: {delivered}");
    // Then a message in another chat (one in Ann's would join her notification, silently):
    // its pop is the barrier that proves the new chat is past — and that a silent kind does
    // not use up the sound limit (sounds play in order, one at a time).
    desk.sim
        .control()
        .send_event(&message(2, 2, "Bob", "are you there?"))
        .await
        .unwrap();
    let sound = played(&listener, "new_message").await;
    assert_eq!(sound["tone"], "pop", "{sound}");

    let bursts = after_the_sound(recording).bursts();
    assert_eq!(bursts.len(), 1, "the pop alone, no chime: {bursts:?}");
    assert_lasts(&bursts[0], Tone::Pop);
    let kinds: Vec<serde_json::Value> = listener
        .stdout
        .json()
        .into_iter()
        .filter(|v| v["type"] == "sound")
        .map(|v| v["kind"].clone())
        .collect();
    assert_eq!(kinds, ["new_message"], "{}", listener.stdout.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_audio_server_notifications_still_show_and_the_failure_is_said_once() {
    let desk = Desk::new().await;
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let nowhere = [("PULSE_SERVER", "unix:/nonexistent")];
    // No sound limit (the test knob): a second new chat wants a sound as the first did, where
    // by default one within 10 s of another's sound gets none.
    let listener = listen_human_with(&desk, &nowhere, &["--sound-interval-ms", "0"]).await;

    desk.sim
        .control()
        .send_event(&new_chat(1, "Ann", "hello"))
        .await
        .unwrap();
    let first = notification(&server, 1).await;
    assert_eq!(first.summary, "New chat: Ann");
    // The device was asked at the start: the very first alert already asks the desktop for
    // its sound.
    assert_eq!(
        first.hints.get("sound-name"),
        Some(&HintValue::Str("message-new-instant".into())),
        "{first:#?}"
    );
    let failed = listener
        .stdout
        .wait_for(WITHIN, |l| l.starts_with("sound: failed:"))
        .await
        .unwrap_or_else(|| panic!("no failure reported:\n{}", listener.stdout.text()));
    assert!(failed.contains("no audio device"), "{failed}");

    // A second chat, which wants a sound too: its notification asks the desktop for its own
    // (ours fail), and is the barrier for counting the failure lines.
    desk.sim
        .control()
        .send_event(&new_chat(2, "Bob", "hi"))
        .await
        .unwrap();
    let second = notification(&server, 2).await;
    assert_eq!(second.summary, "New chat: Bob");
    assert_eq!(
        (
            second.hints.get("sound-name"),
            second.hints.get("suppress-sound")
        ),
        (Some(&HintValue::Str("message-new-instant".into())), None),
        "our sounds fail: the desktop's sound instead: {second:#?}"
    );
    let failures = listener
        .stdout
        .all()
        .iter()
        .filter(|l| l.starts_with("sound: failed:"))
        .count();
    assert_eq!(failures, 1, "said once:\n{}", listener.stdout.text());

    // `doctor` says the same.
    let out = desk
        .cli()
        .envs(nowhere)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let audio: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|c| c["name"] == "audio")
        .unwrap_or_else(|| panic!("no audio check:\n{stdout}"));
    assert_eq!(audio["ok"], false, "{audio}");
    assert!(
        audio["detail"]
            .as_str()
            .unwrap()
            .contains("no audio device"),
        "{audio}"
    );
    let human = desk.cli().envs(nowhere).arg("doctor").output().unwrap();
    let human = String::from_utf8_lossy(&human.stdout);
    let line = human
        .lines()
        .find(|l| l.contains("audio"))
        .unwrap_or_else(|| panic!("no audio line:\n{human}"));
    assert!(line.contains("no audio device"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_sound_nothing_plays_and_the_desktop_is_asked_for_silence() {
    let desk = Desk::new().await;
    let pulse = PulseServer::start();
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let recording = pulse.record();
    let mut c = desk.cli();
    c.envs(pulse.env()).args([
        "listen",
        "--json",
        "--no-sound",
        "--url",
        &desk.sim.ws_url(),
    ]);
    let listener = until_online(c).await;

    desk.sim
        .control()
        .send_event(&new_chat(1, "Ann", "hello"))
        .await
        .unwrap();
    let shown = notification(&server, 1).await;
    assert_eq!(
        shown.hints.get("suppress-sound"),
        Some(&HintValue::Bool(true)),
        "--no-sound: no sound from the desktop either"
    );
    let delivered = shown_report(&listener, "New chat: Ann").await;
    assert_eq!(delivered["sound"], false, "no sound chosen: {delivered}");
    assert!(
        !listener.stdout.json().iter().any(|v| v["type"] == "sound"),
        "{}",
        listener.stdout.text()
    );
    let pcm = recording.stop();
    assert!(pcm.is_silent(), "{:?}", pcm.bursts());
}
