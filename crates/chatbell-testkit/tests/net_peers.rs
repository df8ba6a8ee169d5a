//! The kit's network peers are what they claim: certificates that verify (and fail) as
//! intended, proxies that tunnel, ask for passwords and refuse as a real one does, a relay
//! that records, and a portal that answers on the private bus.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use chatbell_testkit::{FakePortal, Pki, PrivateBus, Proxy, ProxyKind, Relay, find};

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_pki_verifies_as_intended() {
    let pki = Pki::new();
    let ca = path(pki.ca().cert_file());
    let server = pki.server();
    let (ok, text) = openssl(&["verify", "-CAfile", ca, path(&server.cert)]);
    assert!(ok, "{text}");
    let (ok, text) = openssl(&[
        "x509",
        "-noout",
        "-issuer",
        "-ext",
        "subjectAltName",
        "-in",
        path(&server.cert),
    ]);
    assert!(
        ok && text.contains("Corp Root CA")
            && text.contains("DNS:localhost")
            && text.contains("IP Address:127.0.0.1"),
        "{text}"
    );
    let (ok, text) = openssl(&["verify", "-CAfile", ca, path(&pki.expired_server().cert)]);
    assert!(!ok && text.contains("expired"), "{text}");
    let (ok, text) = openssl(&["verify", "-CAfile", ca, path(&pki.inspected_server().cert)]);
    assert!(!ok, "{text}");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        ca,
        "-verify_hostname",
        "localhost",
        path(&pki.wrong_name_server().cert),
    ]);
    assert!(!ok && text.contains("hostname mismatch"), "{text}");
    let client = pki.client();
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        path(pki.client_ca().cert_file()),
        "-purpose",
        "sslclient",
        path(&client.cert),
    ]);
    assert!(ok, "{text}");
    // Keys are the owner's alone.
    for key in [&server.key, &client.key] {
        let mode = std::fs::metadata(key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
    }
    // The encrypted key opens with its passphrase only.
    let encrypted = pki.encrypt_key(&client.key, "correct horse");
    let pem = std::fs::read_to_string(&encrypted).unwrap();
    assert!(pem.contains("BEGIN ENCRYPTED PRIVATE KEY"), "{pem}");
    assert_eq!(
        std::fs::metadata(&encrypted).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (ok, text) = openssl(&[
        "pkey",
        "-noout",
        "-in",
        path(&encrypted),
        "-passin",
        "pass:correct horse",
    ]);
    assert!(ok, "{text}");
    let (ok, _) = openssl(&[
        "pkey",
        "-noout",
        "-in",
        path(&encrypted),
        "-passin",
        "pass:wrong",
    ]);
    assert!(!ok);
    // The system store trusts the CA.
    let store = pki.system_store();
    let (ok, text) = openssl(&["verify", "-CAfile", path(&store), path(&server.cert)]);
    assert!(ok, "{text}");
    let (ok, text) = openssl(&[
        "verify",
        "-CApath",
        path(&pki.system_store_dir()),
        path(&server.cert),
    ]);
    assert!(ok, "{text}");
}

/// A one-shot TCP server that echoes what it reads: the tunnel's far end.
fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// `bob:s3cret` and `bob:nope` in Basic auth's base64.
const RIGHT: &str = "Ym9iOnMzY3JldA==";
const WRONG: &str = "Ym9iOm5vcGU=";

/// Sends a CONNECT to the proxy at `addr` (with Basic `credentials`, base64); returns the
/// status line and the open stream.
fn connect_via(
    addr: std::net::SocketAddr,
    port: u16,
    credentials: Option<&str>,
) -> (String, TcpStream) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    if let Some(c) = credentials {
        request.push_str(&format!("Proxy-Authorization: Basic {c}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while find(&head, b"\r\n\r\n").is_none() {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    (text.lines().next().unwrap_or("").to_string(), stream)
}

fn echoes(stream: &mut TcpStream) -> bool {
    stream.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).is_ok() && &buf == b"ping"
}

#[test]
fn tinyproxy_tunnels_asks_for_its_password_and_refuses_as_configured() {
    let target = echo_server();
    let open = Proxy::http();
    assert_eq!(open.url(), format!("http://{}", open.addr()));
    let (status, mut tunnel) = connect_via(open.addr(), target, None);
    assert!(status.contains(" 200 "), "{status}");
    assert!(echoes(&mut tunnel));
    assert!(
        open.log().contains(&format!("CONNECT 127.0.0.1:{target}")),
        "{}",
        open.log()
    );

    let guarded = Proxy::http_with_auth("bob", "s3cret");
    assert_eq!(
        guarded.url_with_user(),
        format!("http://bob@{}", guarded.addr())
    );
    assert!(
        connect_via(guarded.addr(), target, None)
            .0
            .contains(" 407 ")
    );
    // tinyproxy answers wrong credentials with 401, not 407.
    assert!(
        connect_via(guarded.addr(), target, Some(WRONG))
            .0
            .contains(" 401 ")
    );
    let (status, mut tunnel) = connect_via(guarded.addr(), target, Some(RIGHT));
    assert!(status.contains(" 200 "), "{status}");
    assert!(echoes(&mut tunnel));

    let refusing = Proxy::http_refusing_tunnels();
    let (status, _) = connect_via(refusing.addr(), target, None);
    assert!(status.contains(" 403 "), "{status}");
}

#[test]
fn a_proxy_is_killed_restarted_on_its_port_and_paused() {
    let target = echo_server();
    let mut proxy = Proxy::http();
    let (_, mut tunnel) = connect_via(proxy.addr(), target, None);
    assert!(echoes(&mut tunnel));
    proxy.kill();
    assert!(TcpStream::connect(proxy.addr()).is_err());
    let mut buf = [0u8; 4];
    let _ = tunnel.write_all(b"ping");
    assert!(
        !matches!(tunnel.read(&mut buf), Ok(4)),
        "a dead proxy's tunnel is closed"
    );
    proxy.restart();
    let (status, mut tunnel) = connect_via(proxy.addr(), target, None);
    assert!(status.contains(" 200 "), "{status}");
    assert!(echoes(&mut tunnel));
    // Paused: the tunnel stays open and carries nothing.
    proxy.pause();
    tunnel
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    tunnel.write_all(b"ping").unwrap();
    let err = tunnel.read(&mut buf).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    proxy.resume();
    tunnel
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    tunnel.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
}

/// A SOCKS5 CONNECT to 127.0.0.1:`port`; true when the proxy granted it.
fn socks5(
    addr: std::net::SocketAddr,
    port: u16,
    credentials: Option<(&str, &str)>,
) -> Option<TcpStream> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let method = if credentials.is_some() { 2 } else { 0 };
    s.write_all(&[5, 1, method]).unwrap();
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).ok()?;
    if reply[1] == 0xff {
        return None;
    }
    if let Some((user, pass)) = credentials {
        let mut auth = vec![1, user.len() as u8];
        auth.extend_from_slice(user.as_bytes());
        auth.push(pass.len() as u8);
        auth.extend_from_slice(pass.as_bytes());
        s.write_all(&auth).unwrap();
        s.read_exact(&mut reply).ok()?;
        if reply[1] != 0 {
            return None;
        }
    }
    let [hi, lo] = port.to_be_bytes();
    s.write_all(&[5, 1, 0, 1, 127, 0, 0, 1, hi, lo]).unwrap();
    let mut answer = [0u8; 10];
    s.read_exact(&mut answer).ok()?;
    (answer[1] == 0).then_some(s)
}

#[test]
fn microsocks_tunnels_with_and_without_a_password() {
    let target = echo_server();
    let open = Proxy::socks5();
    assert_eq!(open.url(), format!("socks5://{}", open.addr()));
    assert!(echoes(
        &mut socks5(open.addr(), target, None).expect("granted")
    ));
    // Killed and restarted on its port, it tunnels again.
    let mut open = open;
    open.kill();
    assert!(TcpStream::connect(open.addr()).is_err());
    open.restart();
    assert!(echoes(
        &mut socks5(open.addr(), target, None).expect("granted")
    ));

    let guarded = Proxy::socks5_with_auth("bob", "s3cret");
    assert_eq!(guarded.kind(), ProxyKind::Socks5);
    assert!(socks5(guarded.addr(), target, None).is_none());
    assert!(socks5(guarded.addr(), target, Some(("bob", "nope"))).is_none());
    assert!(echoes(
        &mut socks5(guarded.addr(), target, Some(("bob", "s3cret"))).expect("granted")
    ));
}

#[test]
fn the_relay_records_what_the_client_told_the_proxy() {
    let target = echo_server();
    let proxy = Proxy::http();
    let relay = Relay::in_front_of(&proxy);
    assert_eq!(
        relay.url(ProxyKind::Http),
        format!("http://{}", relay.addr())
    );
    let (status, mut tunnel) = connect_via(relay.addr(), target, None);
    assert!(status.contains(" 200 "), "{status}");
    assert!(echoes(&mut tunnel));
    let connections = relay.connections();
    assert_eq!(connections.len(), 1);
    assert!(
        connections[0]
            .request_head()
            .starts_with(&format!("CONNECT 127.0.0.1:{target} HTTP/1.1\r\n"))
    );
    assert!(find(&relay.sent(), b"ping").is_some());
    assert!(find(&connections[0].received, b"ping").is_some());
}

#[tokio::test]
async fn the_portal_answers_lookup_and_records_the_uris() {
    let bus = PrivateBus::start();
    let portal = FakePortal::start(&bus, &["http://127.0.0.1:3128"]).await;
    let conn = bus.connect().await;
    let lookup = async |uri: &str| -> Vec<String> {
        conn.call_method(
            Some("org.freedesktop.portal.Desktop"),
            "/org/freedesktop/portal/desktop",
            Some("org.freedesktop.portal.ProxyResolver"),
            "Lookup",
            &(uri,),
        )
        .await
        .unwrap()
        .body()
        .deserialize()
        .unwrap()
    };
    assert_eq!(
        lookup("https://support.corp.example/ws").await,
        ["http://127.0.0.1:3128"]
    );
    portal.set_answer(&["direct://"]);
    assert_eq!(lookup("https://other.example/").await, ["direct://"]);
    assert_eq!(
        portal.asked(),
        ["https://support.corp.example/ws", "https://other.example/"]
    );
}
