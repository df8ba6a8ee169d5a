//! The local socket for real: a listener in a private folder, clients of this build and of
//! others, a stale socket, a second resident, and a process of another user. On Windows the
//! same tests run on the named pipe (under Wine here), but for the Unix socket's file.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chatbell_ipc::Command;
use chatbell_ipc::socket::{self, BindError, ConnectError, Listener};
use chatbell_ipc::wire::{Hello, PROTOCOL, Role, ToResident, ToWindow, Welcome};

fn welcome(_: Role) -> Welcome {
    Welcome {
        protocol: PROTOCOL,
        version: "test".into(),
        db: PathBuf::from("/tmp/chatbell.db"),
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Serves one connection: greets it and answers one call with its command's name.
async fn serve_one(listener: &Listener) -> Result<Role, String> {
    let peer = listener.accept().await.unwrap();
    let (role, mut receiver, mut sender) = peer.greet(welcome).await?;
    if let Ok(ToResident::Call { id, command }) = receiver.recv::<ToResident>().await {
        let name = serde_json::to_value(&command).unwrap()["command"].clone();
        sender
            .send(&ToWindow::Reply {
                id,
                result: Ok(name),
            })
            .await
            .unwrap();
    }
    Ok(role)
}

#[tokio::test]
async fn a_window_says_hello_is_welcomed_and_its_calls_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/chatbell.sock");
    let listener = Listener::bind(&path).await.unwrap();
    #[cfg(unix)]
    {
        assert_eq!(mode(path.parent().unwrap()), 0o700, "the folder is private");
        assert_eq!(mode(&path), 0o600, "the socket is private");
    }

    let server = async { serve_one(&listener).await };
    let client = async {
        let (welcome, mut receiver, mut sender) =
            socket::connect(&path, Role::Window).await.unwrap();
        assert_eq!(welcome.db, PathBuf::from("/tmp/chatbell.db"));
        sender
            .send(&ToResident::Call {
                id: 7,
                command: Command::MarkRead { user_id: 42 },
            })
            .await
            .unwrap();
        receiver.recv::<ToWindow>().await.unwrap()
    };
    let (role, reply) = tokio::join!(server, client);
    assert_eq!(role, Ok(Role::Window));
    assert_eq!(
        reply,
        ToWindow::Reply {
            id: 7,
            result: Ok(serde_json::json!("mark_read"))
        }
    );
    drop(listener);
    assert!(!path.exists(), "the socket goes with its resident");
    assert!(
        matches!(
            socket::connect(&path, Role::Launcher).await,
            Err(ConnectError::NotRunning { .. })
        ),
        "nobody answers once it is gone"
    );
}

/// A connection that speaks no protocol: the socket's own stream.
async fn raw(path: &Path) -> impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin {
    #[cfg(unix)]
    return tokio::net::UnixStream::connect(path).await.unwrap();
    #[cfg(windows)]
    return tokio::net::windows::named_pipe::ClientOptions::new()
        .open(socket::pipe_name(path))
        .unwrap();
}

#[tokio::test]
async fn a_client_of_another_protocol_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chatbell.sock");
    let listener = Listener::bind(&path).await.unwrap();
    let newer = Hello {
        protocol: PROTOCOL + 1,
        version: "9.9.9".into(),
        role: Role::Window,
    };
    let (served, connected) =
        tokio::join!(serve_one(&listener), socket::connect_with(&path, &newer));
    let Err(ConnectError::Refused(reason)) = connected else {
        panic!("not refused: {:?}", connected.map(|c| c.0));
    };
    assert!(reason.contains("9.9.9"), "{reason}");
    assert!(
        reason.contains(&format!("protocol {}", PROTOCOL + 1)),
        "{reason}"
    );
    assert!(
        reason.contains("Quit Chatbell"),
        "says what to do: {reason}"
    );
    assert_eq!(served, Err(reason));
}

#[tokio::test]
async fn garbage_instead_of_hello_is_refused_and_a_huge_line_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chatbell.sock");
    let listener = Listener::bind(&path).await.unwrap();

    let client = async {
        let mut stream = raw(&path).await;
        stream.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    };
    let (served, answer) = tokio::join!(serve_one(&listener), client);
    assert!(served.unwrap_err().contains("not a Chatbell hello"));
    assert!(answer.contains("refused"), "{answer}");

    // A line that never ends: refused once it passes the limit, not buffered forever.
    let client = async {
        let mut stream = raw(&path).await;
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..(chatbell_ipc::wire::MAX_LINE >> 20) + 2 {
            if stream.write_all(&chunk).await.is_err() {
                break;
            }
        }
    };
    let (served, ()) = tokio::join!(serve_one(&listener), client);
    assert!(served.unwrap_err().contains("longer than"));
}

#[tokio::test]
async fn one_resident_at_a_time_and_a_stale_socket_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chatbell.sock");
    let first = Listener::bind(&path).await.unwrap();
    match Listener::bind(&path).await {
        Err(BindError::AlreadyRunning { path: p }) => assert_eq!(p, path),
        other => panic!("a second resident bound: {:?}", other.err()),
    }
    drop(first);
    // As a resident killed with -9 leaves it: the file, nobody listening.
    #[cfg(unix)]
    {
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
    }
    let _again = Listener::bind(&path)
        .await
        .expect("the stale socket is replaced");
    assert!(matches!(
        socket::connect(&dir.path().join("none.sock"), Role::Launcher).await,
        Err(ConnectError::NotRunning { .. })
    ));
}

/// A process of another user that reaches the socket (here the folder and socket are opened
/// up on purpose) is closed unanswered.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_process_of_another_user_is_not_answered() {
    if std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("setpriv (util-linux) is needed for this test");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chatbell.sock");
    let listener = Listener::bind(&path).await.unwrap();
    for p in [dir.path(), &path] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let hello = serde_json::to_string(&Hello {
        protocol: PROTOCOL,
        version: "x".into(),
        role: Role::Window,
    })
    .unwrap();
    // As `nobody`: connect, say hello, print whatever comes back (a closed
    // or reset connection: nothing).
    let script = format!(
        "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect({:?})\ns.settimeout(10)\ntry:\n  s.sendall({:?}.encode()+b'\\n')\n  data=s.recv(4096)\nexcept (BrokenPipeError, ConnectionResetError):\n  data=b''\nprint(repr(data))",
        path.display().to_string(),
        hello
    );
    let stranger = tokio::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
        ])
        .arg(&script)
        .output();
    // The stranger is dropped at accept; a connection of ours then is served, proving the
    // listener went past the stranger.
    let ours = async {
        let stranger = stranger.await.unwrap();
        let (welcome, _, _) = socket::connect(&path, Role::Launcher).await.unwrap();
        (stranger, welcome)
    };
    let (served, (stranger, _)) = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        tokio::join!(serve_one(&listener), ours)
    })
    .await
    .expect("no hang");
    assert_eq!(served, Ok(Role::Launcher));
    let said = String::from_utf8_lossy(&stranger.stdout);
    assert_eq!(
        said.trim(),
        "b''",
        "the stranger heard nothing: {stranger:?}"
    );
}
