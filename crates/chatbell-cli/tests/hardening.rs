//! `chatbell-cli` against what a hostile or unlucky machine does to its files: a hard link to
//! a database in use, another program's SQLite file, a umask that shares everything, a full
//! disk, and what reaches the terminal while that happens.

// The umask, the full disk (a FIFO in /proc's place) and signals are Unix's; the rest runs
// on Windows too, under Wine.

mod common;

#[cfg(unix)]
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::process::Command;
#[cfg(unix)]
use std::time::Duration;
#[cfg(target_os = "linux")]
use std::time::Instant;

#[cfg(unix)]
use chatbell_testkit::Spawned;
use common::Desk;
#[cfg(unix)]
use common::{message, until_online, wait_stored};

fn listen_args(desk: &Desk) -> Vec<String> {
    ["listen", "--no-notify", "--url", &desk.sim.ws_url()]
        .map(String::from)
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_listener_on_a_hard_link_of_the_database_is_refused() {
    let desk = Desk::new().await;
    let first = desk.listen(&["--no-notify"]).await;
    let link = desk.data_dir().join("other.db");
    std::fs::hard_link(desk.db(), &link).unwrap();
    let out = desk
        .cli()
        .arg("--db")
        .arg(&link)
        .args(listen_args(&desk))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(
        stderr.contains("in use by another running Chatbell engine"),
        "{stderr}"
    );
    common::quit(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_programs_sqlite_file_is_refused_and_left_untouched() {
    let desk = Desk::new().await;
    let path = desk.home.path().join("notes.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    for args in [listen_args(&desk), vec!["chats".into()]] {
        let out = desk
            .cli()
            .arg("--db")
            .arg(&path)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains("is not a Chatbell database"), "{stderr}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "byte-identical");
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
/// The CLI under `umask 022`, the usual default that makes new files world-readable.
fn with_umask_022(desk: &Desk) -> Command {
    let cli = desk.cli();
    let mut sh = Command::new("sh");
    sh.args(["-c", "umask 022 && exec \"$0\" \"$@\""])
        .arg(cli.get_program());
    for (k, v) in cli.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_file_is_private_whatever_the_umask_and_old_installs_are_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let desk = Desk::new().await;
    // An install from before: shared folder and files.
    std::fs::create_dir_all(desk.data_dir()).unwrap();
    std::fs::set_permissions(desk.data_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    desk.write_settings(serde_json::json!({}));
    let settings = desk.config_dir().join("settings.json");
    std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o644)).unwrap();

    let mut c = with_umask_022(&desk);
    c.args(listen_args(&desk)).arg("--json");
    let mut listener = until_online(c).await;
    desk.sim
        .control()
        .send_event(&message(1, 5, "Ann", "a private message"))
        .await
        .unwrap();
    wait_stored(&listener, 1).await;
    let db = desk.db();
    let sidecar = |suffix: &str| PathBuf::from(format!("{}{suffix}", db.display()));
    assert_eq!(mode(&desk.data_dir()), 0o700, "data folder");
    for f in [db.clone(), sidecar("-wal"), sidecar("-shm")] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    assert_eq!(mode(&settings), 0o600, "settings.json");
    listener.signal("TERM");
    assert!(listener.wait(Duration::from_secs(10)).success());
    assert_eq!(mode(&db), 0o600);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_each_cause_once_and_log_lines_carry_no_colour_codes() {
    let desk = Desk::new().await;
    let out = desk
        .cli()
        .args(["--db", "/dev/null/chatbell.db"])
        .args(listen_args(&desk))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("/dev/null"), "{stderr}");
    assert_eq!(
        stderr.matches("(os error").count(),
        1,
        "the cause once: {stderr}"
    );

    // Human output: the first connect attempt is announced once; logs to a pipe are plain.
    let mut c = desk.cli();
    c.env("CHATBELL_LOG", "info").args(listen_args(&desk));
    let mut listener = Spawned::spawn(c);
    listener
        .stdout
        .wait_for(Duration::from_secs(10), |l| l == "online")
        .await
        .expect("online");
    listener
        .stderr
        .wait_for(Duration::from_secs(5), |l| l.contains("online"))
        .await
        .expect("the info log line of going online");
    listener.signal("TERM");
    assert!(listener.wait(Duration::from_secs(10)).success());
    let stdout = listener.stdout.all();
    assert_eq!(
        stdout
            .iter()
            .filter(|l| l.starts_with("connecting"))
            .count(),
        1,
        "{stdout:?}"
    );
    let stderr = listener.stderr.text();
    assert!(!stderr.contains('\u{1b}'), "no ANSI codes: {stderr:?}");
}

/// A small tmpfs, so that the disk can really be filled (needs root; skipped elsewhere).
#[cfg(target_os = "linux")]
struct SmallDisk {
    dir: tempfile::TempDir,
}

#[cfg(target_os = "linux")]
impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !mounted {
            println!(
                "skipped: cannot mount a tmpfs here (needs root): the full-disk case is not run"
            );
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the disk refuses more.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path().join("filler")).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
}

#[cfg(target_os = "linux")]
impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_the_disk_is_full_exits_promptly_with_the_cause_and_keeps_what_was_committed()
{
    let Some(disk) = SmallDisk::mount("4m") else {
        return;
    };
    let desk = Desk::new().await;
    let db = disk.path().join("chatbell.db");
    let mut c = desk.cli();
    c.arg("--db").arg(&db);
    c.args(listen_args(&desk)).arg("--json");
    let mut listener = until_online(c).await;
    let control = desk.sim.control();
    for i in 1..=10 {
        control
            .send_event(&message(i, 5, "Ann", "before the disk filled"))
            .await
            .unwrap();
    }
    wait_stored(&listener, 10).await;

    disk.fill();
    for i in 11..=60 {
        control
            .send_event(&message(i, 5, "Ann", "x".repeat(2000).as_str()))
            .await
            .unwrap();
    }
    listener
        .stdout
        .wait_json(Duration::from_secs(10), |v| v["type"] == "store_failed")
        .await
        .expect("the store reports the full disk");

    let asked = Instant::now();
    listener.signal("TERM");
    let status = listener.wait(Duration::from_secs(10));
    let took = asked.elapsed();
    let stderr = listener.stderr.text();
    assert!(took <= Duration::from_secs(5), "exited after {took:?}");
    assert!(
        !status.success(),
        "lost events mean a failing exit: {stderr}"
    );
    assert!(
        stderr.contains("not stored") && stderr.contains("full"),
        "the cause is printed: {stderr}"
    );

    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let kept: i64 = conn
        .query_row(
            "SELECT count(*) FROM messages WHERE message_id <= 10",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 10, "what was committed is intact");
}
