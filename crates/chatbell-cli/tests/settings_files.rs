//! Settings files and flags the CLI must survive: a value out of range, a FIFO where the file
//! should be, and numbers on the command line past what the engine can take.

// A FIFO is Unix's; the rest runs on Windows too, under Wine.

mod common;

use std::path::Path;
use std::time::Duration;

use chatbell_engine::settings::RETENTION_DAYS;
#[cfg(unix)]
use chatbell_testkit::Spawned;
use common::{Desk, message, new_chat};

/// The names in the config folder, sorted.
fn config_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retention_out_of_range_is_set_aside_and_events_are_still_stored() {
    let desk = Desk::new().await;
    desk.write_settings(serde_json::json!({"store": {"retention_days": 97_000_000}}));
    let listener = desk.listen(&["--no-notify"]).await;

    let warning = listener
        .stderr
        .wait_for(Duration::from_secs(5), |l| l.contains("warning"))
        .await
        .unwrap_or_else(|| panic!("no warning; stderr:\n{}", listener.stderr.text()));
    let range = format!(
        "from {} to {} days",
        RETENTION_DAYS.start(),
        RETENTION_DAYS.end()
    );
    assert!(
        warning.contains("store.retention_days") && warning.contains(&range),
        "{warning}"
    );
    let files = config_files(&desk.config_dir());
    assert!(
        files.len() == 1 && files[0].starts_with("settings.json.invalid-"),
        "moved aside: {files:?}"
    );

    let mut burst = vec![new_chat(7, "Анна", "Здравствуйте")];
    burst.extend((1..=50).map(|id| message(id, 7, "Анна", &format!("сообщение {id}"))));
    let answer = desk
        .sim
        .control()
        .post_events(&serde_json::Value::Array(burst))
        .await
        .unwrap();
    assert_eq!(answer["total"], 51, "{answer}");
    listener
        .stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "stored"
                && v["messages"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m["message_id"] == 50))
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "the burst was not stored; stdout:\n{}\nstderr:\n{}",
                listener.stdout.text(),
                listener.stderr.text()
            )
        });
    let (ok, out, err) = desk.run(&["history", "7", "--json", "--limit", "100"]);
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().count(),
        51,
        "the first message and 50 more: {out}"
    );

    common::quit(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_flags_out_of_range_name_the_flag_and_the_range() {
    let desk = Desk::new().await;
    let days = format!("{}..={}", RETENTION_DAYS.start(), RETENTION_DAYS.end());
    let url = desk.sim.ws_url();
    let cases: [(&[&str], &str, &str); 8] = [
        (
            &["compact", "--older-than-days", "4294967295"],
            "--older-than-days",
            &days,
        ),
        (
            &["compact", "--older-than-days", "0"],
            "--older-than-days",
            &days,
        ),
        (
            &["compact", "--older-than-days", "36501"],
            "--older-than-days",
            &days,
        ),
        (&["chats", "--limit", "0"], "--limit", "1..=10000"),
        (
            &["history", "5", "--limit", "10001"],
            "--limit",
            "1..=10000",
        ),
        (
            &["search", "x", "--limit", "4294967295"],
            "--limit",
            "1..=10000",
        ),
        (
            &["listen", "--url", &url, "--ping-ms", "0"],
            "--ping-ms",
            "50..=600000",
        ),
        (
            &["listen", "--url", &url, "--dead-ms", "18446744073709551615"],
            "--dead-ms",
            "50..=600000",
        ),
    ];
    for (args, flag, range) in cases {
        let (ok, _, err) = desk.run(args);
        assert!(!ok, "{args:?} was accepted");
        assert!(err.contains(flag) && err.contains(range), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }

    // The edges themselves are taken.
    let (ok, out, err) = desk.run(&["compact", "--older-than-days", "36500"]);
    assert!(ok && out.contains("older than 36500 days"), "{out}{err}");
    let (ok, _, err) = desk.run(&["chats", "--limit", "10000"]);
    assert!(ok, "{err}");

    let (_, help, _) = desk.run(&["compact", "--help"]);
    let shown = format!("{}–{}", RETENTION_DAYS.start(), RETENTION_DAYS.end());
    assert!(help.contains(&shown), "the help shows the range: {help}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_at_the_settings_path_does_not_block_start_up() {
    let desk = Desk::new().await;
    std::fs::create_dir_all(desk.config_dir()).unwrap();
    let fifo = desk.config_dir().join("settings.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());

    let mut c = desk.cli();
    c.arg("doctor");
    let mut doctor = Spawned::spawn(c);
    // Panics (and the child is killed) if the settings read waits for a writer.
    doctor.wait(Duration::from_secs(10));
    let out = doctor.stdout.text();
    assert!(
        out.contains("FAIL settings") && out.contains("not a regular file"),
        "{out}\n{}",
        doctor.stderr.text()
    );
    let files = config_files(&desk.config_dir());
    assert!(
        files.len() == 1 && files[0].starts_with("settings.json.invalid-"),
        "moved aside: {files:?}"
    );
}
