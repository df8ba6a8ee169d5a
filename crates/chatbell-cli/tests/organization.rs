//! The organization's settings from the command line: where each value comes from, one field
//! set and reset, a locked one refused, `doctor`'s line, and a running `listen` that follows the
//! file.

// Following the file while notifying needs Linux's notification peer; the rest runs on
// Windows too, under Wine.

mod common;

#[cfg(target_os = "linux")]
use std::time::Duration;

#[cfg(target_os = "linux")]
use chatbell_testkit::NotificationServer;
use common::Desk;
#[cfg(target_os = "linux")]
use common::message;
use serde_json::{Value, json};

#[cfg(target_os = "linux")]
const CAPS: &[&str] = &["body", "actions"];

/// Runs the CLI; fails the test unless it succeeds; returns its standard output.
fn ok(desk: &Desk, args: &[&str]) -> String {
    let (success, out, err) = desk.run(args);
    assert!(success, "{args:?}: {err}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_show_says_where_each_value_comes_from() {
    let desk = Desk::new().await;
    desk.write_org_settings(json!({
        "defaults": {"notifications": {"snooze_minutes": 20}},
        "locked": {"server": {"url": "wss://corp.example/ws"}}
    }));
    let org = desk.org_settings();
    desk.write_settings(json!({"layered": 1, "ui": {"language": "ru"}}));
    let out = ok(&desk, &["settings", "show", "--origin"]);
    let user_file = desk.config_dir().join("settings.json");
    for line in [
        format!(
            "organization default\t{}\tnotifications.snooze_minutes=20",
            org.display()
        ),
        format!(
            "locked by the organization\t{}\tserver.url=\"wss://corp.example/ws\"",
            org.display()
        ),
        format!("your file\t{}\tui.language=\"ru\"", user_file.display()),
        "built-in\tui.theme=\"system\"".to_string(),
    ] {
        assert!(out.lines().any(|l| l == line), "{line:?} in\n{out}");
    }
    let plain = ok(&desk, &["settings", "show"]);
    assert!(
        plain
            .lines()
            .any(|l| l == "notifications.snooze_minutes=20"),
        "{plain}"
    );
    let json = ok(&desk, &["settings", "show", "--json"]);
    let locked = json
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["key"] == "server.url")
        .unwrap();
    assert_eq!(locked["origin"], "locked");
    assert_eq!(locked["file"], org.display().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_set_and_reset_one_field_and_refuse_a_locked_one() {
    let desk = Desk::new().await;
    desk.write_org_settings(json!({
        "defaults": {"notifications": {"snooze_minutes": 20}},
        "locked": {"server": {"url": "wss://corp.example/ws"}}
    }));
    let user_file = desk.config_dir().join("settings.json");
    let key = "notifications.escalation.new_chat.every_min";
    let out = ok(&desk, &["settings", "set", key, "3"]);
    assert_eq!(
        out.trim(),
        format!("your file\t{}\t{key}=3", user_file.display())
    );
    let out = ok(
        &desk,
        &["settings", "set", "notifications.snooze_minutes", "45"],
    );
    assert!(out.contains("your file"), "{out}");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&user_file).unwrap()).unwrap();
    assert_eq!(
        file["notifications"],
        json!({"escalation": {"new_chat": {"every_min": 3}}, "snooze_minutes": 45}),
        "only the agent's choices are kept: {file}"
    );

    // Reset: the organization's default holds again.
    let out = ok(
        &desk,
        &["settings", "reset", "notifications.snooze_minutes"],
    );
    assert_eq!(
        out.trim(),
        format!(
            "organization default\t{}\tnotifications.snooze_minutes=20",
            desk.org_settings().display()
        )
    );

    // Refused, naming the field, never quoting the value; nothing written.
    let before = std::fs::read_to_string(&user_file).unwrap();
    for (args, says) in [
        (
            vec!["settings", "set", "server.url", "wss://mine.example/ws"],
            "server.url: is set by your organization",
        ),
        (
            vec!["settings", "reset", "server.url"],
            "server.url: is set by your organization",
        ),
        (
            vec!["settings", "set", "notifications.snooze_minuets", "5"],
            "notifications.snooze_minuets: is not a setting",
        ),
        (
            vec!["settings", "set", "notifications.snooze_minutes", "hunter2"],
            "notifications.snooze_minutes: is not a value this setting takes",
        ),
        (
            vec!["settings", "set", "notifications.snooze_minutes", "0"],
            "notifications.snooze_minutes: must be from 1 to",
        ),
    ] {
        let (success, _, err) = desk.run(&args);
        assert!(!success, "{args:?} succeeded");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !err.contains("hunter2") && !err.contains("mine.example"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read_to_string(&user_file).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_says_what_the_organization_s_file_does_or_what_is_wrong_with_it() {
    let desk = Desk::new().await;
    let line = |out: &str| {
        out.lines()
            .find(|l| l.contains(" organization "))
            .unwrap_or_else(|| panic!("no organization line in\n{out}"))
            .to_string()
    };
    let org = desk.org_settings().display().to_string();
    let (_, out, _) = desk.run(&["doctor"]);
    assert_eq!(
        line(&out),
        format!("ok   organization         none ({org})")
    );

    desk.write_org_settings(json!({
        "defaults": {"notifications": {"snooze_minutes": 20, "privacy": true}},
        "locked": {"server": {"url": "wss://corp.example/ws"}}
    }));
    let (_, out, _) = desk.run(&["doctor"]);
    assert_eq!(
        line(&out),
        format!("ok   organization         {org}: 2 defaults; locked: server.url")
    );

    desk.write_org_settings(json!({"locked": {"notifications": {"snooze_minutes": "hunter2"}}}));
    let (_, out, _) = desk.run(&["doctor"]);
    let said = line(&out);
    assert!(said.starts_with("FAIL organization"), "{said}");
    assert!(
        said.ends_with(&format!(
            "{org} is set aside, the built-in and your settings hold: notifications.snooze_minutes: is not a value this setting takes"
        )),
        "{said}"
    );
    assert!(!said.contains("hunter2"));
}

/// A running `listen` follows the organization's file within 2 s: a new lock changes what the
/// next notification shows.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_listen_follows_the_organization_s_file() {
    let desk = Desk::new().await;
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let listener = desk.listen(&[]).await;
    let control = desk.sim.control();
    control
        .send_event(&message(1, 3, "Maria", "my order is late"))
        .await
        .unwrap();
    let calls = server.wait_calls(1, Duration::from_secs(5)).await;
    assert_eq!(calls[0].body, "my order is late");

    desk.write_org_settings(json!({"locked": {"notifications": {"privacy": true}}}));
    let followed = listener
        .stderr
        .wait_for(Duration::from_secs(2), |l| {
            l.starts_with("the organization's settings (") && l.ends_with(") changed")
        })
        .await;
    assert!(
        followed.is_some(),
        "not followed within 2 s; stderr:\n{}",
        listener.stderr.text()
    );
    control
        .send_event(&message(2, 4, "Ivan", "my card number is 4111"))
        .await
        .unwrap();
    let calls = server.wait_calls(2, Duration::from_secs(5)).await;
    assert_eq!(
        (calls[1].summary.as_str(), calls[1].body.as_str()),
        ("Ivan", ""),
        "privacy holds for the next notification"
    );
}
