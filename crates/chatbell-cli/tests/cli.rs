//! The `chatbell-cli` commands, the keychain, crashes and bad input, against real parts.

// Tests that need Linux's peers (a private D-Bus, gnome-keyring, PulseAudio, /proc) are gated;
// the rest run on Windows too, under Wine.

mod common;

use std::time::Duration;

use chatbell_sim::SimConfig;
#[cfg(target_os = "linux")]
use chatbell_testkit::SecretService;
use chatbell_testkit::Spawned;
use common::{Desk, message, new_chat, wait_stored};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_stores_and_the_query_commands_show_it() {
    let desk = Desk::new().await;
    let listener = desk.listen(&["--no-notify"]).await;
    let control = desk.sim.control();
    control
        .send_event(&new_chat(123456789, "Иван Петров", "Привет!"))
        .await
        .unwrap();
    control
        .send_event(&message(
            123,
            123456789,
            "Иван Петров",
            "Когда будет доставка?",
        ))
        .await
        .unwrap();
    control
        .send_event(&message(
            124,
            -5,
            "\u{1b}[2JEvil\u{7}",
            "\u{1b}]0;pwned\u{7}text",
        ))
        .await
        .unwrap();
    wait_stored(&listener, 124).await;

    let (ok, out, _) = desk.run(&["chats"]);
    assert!(ok);
    assert!(
        out.contains("Иван Петров") && out.contains("Когда будет доставка?"),
        "{out}"
    );
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{7}'),
        "terminal escapes are neutralized: {out:?}"
    );
    assert!(out.contains("\\u{1b}[2JEvil"), "{out}");

    let (ok, out, _) = desk.run(&["chats", "--json"]);
    assert!(ok);
    let chats: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ivan = chats.iter().find(|c| c["user_id"] == 123456789).unwrap();
    assert_eq!(ivan["unread"], 2);

    let (ok, out, _) = desk.run(&["history", "123456789", "--json"]);
    assert!(ok);
    assert_eq!(out.lines().count(), 2);
    let (ok, out, _) = desk.run(&["history", "123456789", "--before", "123", "--json"]);
    assert!(ok);
    assert!(
        out.contains("Привет!") && !out.contains("доставка"),
        "{out}"
    );
    let (ok, out, _) = desk.run(&["history", "-5"]);
    assert!(ok && out.contains("text"), "{out}");

    let (ok, out, _) = desk.run(&["search", "доставк"]);
    assert!(ok && out.contains("[доставка]"), "{out}");
    let (ok, out, _) = desk.run(&["search", "\"unbalanced AND ("]);
    assert!(ok && out.contains("No messages match"), "{out}");

    let (ok, out, _) = desk.run(&["read", "123456789"]);
    assert!(ok && out.contains("marked read"), "{out}");
    let (_, out, _) = desk.run(&["chats", "--json"]);
    assert!(
        out.lines()
            .any(|l| l.contains("123456789") && l.contains("\"unread\":0")),
        "{out}"
    );

    common::quit(listener);
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_burst_loses_nothing_that_was_reported() {
    let desk = Desk::with_sim(SimConfig {
        client_queue: 1_000_000,
        ..SimConfig::default()
    })
    .await;
    let mut listener = desk.listen(&["--no-notify"]).await;
    desk.sim.control().burst(200_000, 9).await.unwrap();
    listener
        .stdout
        .wait_json(Duration::from_secs(20), |v| {
            v["type"] == "stored" && v["frames"].as_u64().unwrap_or(0) > 100
        })
        .await
        .expect("the burst is being stored");
    tokio::time::sleep(Duration::from_millis(300)).await;
    listener.signal("KILL");
    listener.wait(Duration::from_secs(5));
    tokio::time::sleep(Duration::from_millis(200)).await;

    let reported = listener.stdout.json();
    let decided: Vec<i64> = reported
        .iter()
        .filter(|v| v["type"] == "decision" && v["kind"] == "new_message")
        .filter_map(|v| v["message_id"].as_i64())
        .collect();
    let stored_frames: u64 = reported
        .iter()
        .filter(|v| v["type"] == "stored")
        .filter_map(|v| v["frames"].as_u64())
        .sum();
    assert!(
        decided.len() > 100,
        "some notifications were decided before the kill"
    );

    let conn = rusqlite::Connection::open(desk.db()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let events: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert!(
        events as u64 >= stored_frames,
        "{events} events in the store, {stored_frames} reported stored"
    );
    let mut stmt = conn
        .prepare("SELECT 1 FROM messages WHERE message_id = ?1")
        .unwrap();
    for id in &decided {
        assert!(
            stmt.exists([id]).unwrap(),
            "message {id} was reported but is not in the store"
        );
    }
    drop(stmt);
    drop(conn);
    // And the next start works, with the crash recorded as a gap.
    let restarted = desk.listen(&["--no-notify"]).await;
    restarted
        .stdout
        .wait_json(Duration::from_secs(5), |v| {
            v["type"] == "stored" && v["gap"].is_object()
        })
        .await
        .expect("the time away is marked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_lives_in_the_keychain_and_is_never_printed() {
    let secret = "s3cret-Token-7f9a";
    let desk = Desk::with_sim(SimConfig {
        token: Some(secret.into()),
        ..SimConfig::default()
    })
    .await;
    // On Windows the keychain is the Wine prefix's Credential Manager.
    #[cfg(target_os = "linux")]
    let _keyring = SecretService::start(&desk.bus, desk.home.path()).await;
    let mut everything = String::new();

    let (ok, out, err) = desk.run(&["token", "status"]);
    assert!(ok && out.contains("No token"), "{out}{err}");
    everything += &desk.store_secret("token", secret);
    let (ok, out, err) = desk.run(&["token", "status"]);
    assert!(ok && out.contains("A token is stored"), "{out}{err}");
    everything += &out;

    // listen takes the token from the keychain and gets in.
    let listener = desk.listen(&["--no-notify"]).await;
    drop(listener);
    let (_, out, err) = desk.run(&["doctor"]);
    assert!(
        out.contains("keychain") && out.contains("a token is stored"),
        "{out}{err}"
    );
    everything += &out;
    everything += &err;

    let (ok, out, _) = desk.run(&["token", "clear"]);
    assert!(ok && out.contains("removed"), "{out}");
    let mut c = desk.cli();
    c.args([
        "listen",
        "--json",
        "--no-notify",
        "--url",
        &desk.sim.ws_url(),
    ]);
    let refused = Spawned::spawn(c);
    let state = refused
        .stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "connection" && v["state"] == "unauthorized"
        })
        .await
        .expect("refused without the token");
    assert_eq!(state["status"], 401);
    everything += &refused.stdout.text();
    everything += &refused.stderr.text();
    assert!(!everything.contains(secret), "the token was printed");
    let log = std::fs::read_dir(desk.home.path()).unwrap().count();
    assert!(log > 0);
    let settings =
        std::fs::read_to_string(desk.config_dir().join("settings.json")).unwrap_or_default();
    assert!(!settings.contains(secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_a_non_zero_exit() {
    let desk = Desk::new().await;
    let (ok, _, err) = desk.run(&["listen", "--url", "http://example.com/ws"]);
    assert!(
        !ok && err.contains("must start with ws:// or wss://"),
        "{err}"
    );
    let (ok, _, err) = desk.run(&[
        "listen",
        "--url",
        "ws://h/ws",
        "--token-env",
        "CHATBELL_NO_SUCH_VAR",
    ]);
    assert!(
        !ok && err.contains("CHATBELL_NO_SUCH_VAR is not set"),
        "{err}"
    );
    let (ok, _, err) = desk.run(&["chats"]);
    assert!(!ok && err.contains("no database"), "{err}");
    let (ok, _, err) = desk.run(&["history", "not-a-number"]);
    assert!(!ok && err.contains("invalid value"), "{err}");

    // Locked: an engine is running on the database.
    let listener = desk.listen(&["--no-notify"]).await;
    let (ok, _, err) = desk.run(&["compact"]);
    assert!(
        !ok && err.contains("in use by another running Chatbell engine"),
        "{err}"
    );
    let (ok, _, err) = desk.run(&["listen", "--url", &desk.sim.ws_url()]);
    assert!(!ok && err.contains("in use"), "{err}");
    drop(listener);

    // Not a database at all: reported and left alone.
    std::fs::write(desk.db(), b"definitely not sqlite".repeat(200)).unwrap();
    let _ = std::fs::remove_file(desk.db().with_extension("db-wal"));
    for args in [
        &["chats"][..],
        &["listen", "--url", "ws://127.0.0.1:1/ws"][..],
    ] {
        let (ok, _, err) = desk.run(args);
        assert!(
            !ok && err.contains("is not a Chatbell database (it is not an SQLite database)"),
            "{args:?}: {err}"
        );
    }
    assert!(std::fs::read(desk.db()).unwrap().starts_with(b"definitely"));
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_every_dependency() {
    let desk = Desk::new().await;
    let _server =
        chatbell_testkit::NotificationServer::start(&desk.bus, &["body", "actions"]).await;
    let _keyring = SecretService::start(&desk.bus, desk.home.path()).await;
    // A sound server too (without one, `audio` fails: tests/sounds.rs).
    let pulse = chatbell_testkit::PulseServer::start();
    desk.write_settings(serde_json::json!({"server": {"url": desk.sim.ws_url()}}));
    let run = desk
        .cli()
        .envs(pulse.env())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let (ok, out, err) = (
        run.status.success(),
        String::from_utf8_lossy(&run.stdout).to_string(),
        String::from_utf8_lossy(&run.stderr).to_string(),
    );
    let checks: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "notification daemon",
            "audio",
            "keychain",
            "store",
            "server",
            "organization",
            "away",
            "forwarding"
        ]
    );
    assert!(ok, "{out}{err}");
    // No screensaver on this desktop's bus: at the desk, and said where nothing answered.
    assert_eq!(
        checks[6]["detail"],
        "at the desk: nothing says whether the screen is locked, no idle time to read \
         (away after 5 min idle or when locked; no screensaver or session manager answered)"
    );
    assert_eq!(checks[7]["detail"], "no targets (notifications.forward)");
    assert!(
        checks[0]["detail"]
            .as_str()
            .unwrap()
            .contains("chatbell-test-server")
    );

    // A server that is down fails the check and the exit code.
    desk.write_settings(serde_json::json!({"server": {"url": "ws://127.0.0.1:1/ws"}}));
    let (ok, out, _) = desk.run(&["doctor"]);
    assert!(!ok && out.contains("FAIL server"), "{out}");
}
