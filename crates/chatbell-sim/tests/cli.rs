//! The `chatbell-sim` binary: flags, errors, Ctrl-C.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_chatbell-sim");

#[test]
fn help_documents_every_flag_and_endpoint() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--listen",
        "--token",
        "--token-param",
        "--rate",
        "--seed",
        "--burst",
        "--max-clients",
        "--client-queue",
        "--tls-cert",
        "--tls-key",
        "--client-ca",
        "/ws",
        "/clients",
        "/events",
        "/faults",
        "/burst",
        "/health",
        "reset",
        "close",
        "stall",
        "malformed",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn bad_flags_are_refused_clearly() {
    let out = Command::new(BIN).args(["--rate", "fast"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'fast' for '--rate"));
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--rate=-1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rate -1 is not"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(BIN)
        .args(["--listen", &addr])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot listen on {addr}")) && err.contains("--listen"),
        "{err}"
    );
}

// SIGINT through kill(1); Windows' console events are another test's.
#[cfg(unix)]
#[test]
fn ctrl_c_shuts_down_cleanly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::Duration;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(BIN)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not exit after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the simulator with `args` after `--listen 127.0.0.1:0`, expecting it to refuse them;
/// returns what it said.
fn refused(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} accepted");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn tls_flags_go_together_and_bad_files_are_named() {
    let err = refused(&["--tls-cert", "/nonexistent/cert.pem"]);
    assert!(err.contains("--tls-key"), "{err}");
    let err = refused(&["--client-ca", "/nonexistent/ca.pem"]);
    assert!(err.contains("--tls-cert"), "{err}");
    let err = refused(&[
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert!(
        // The system's words: "No such file or directory", Windows' "The system cannot find
        // the path specified" / "Path not found".
        err.contains("--tls-cert /nonexistent/cert.pem")
            && ["No such file", "not find", "not found"]
                .iter()
                .any(|w| err.contains(w)),
        "{err}"
    );
}
