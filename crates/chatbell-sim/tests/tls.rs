//! The simulator over `wss://`, with and without client certificates, against a rustls client
//! and certificates made at run time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chatbell_sim::{SimConfig, SimHandle, SimTls};
use futures_util::StreamExt;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;

/// A CA of the test's own.
fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A leaf signed by `ca`: (certificate PEM, key PEM).
fn leaf(ca: &CertifiedIssuer<'static, KeyPair>, names: &[&str]) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "chatbell test");
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

struct Pki {
    dir: tempfile::TempDir,
    server_ca: CertifiedIssuer<'static, KeyPair>,
    client_ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        Pki {
            dir: tempfile::tempdir().unwrap(),
            server_ca: ca("Sim Test Server CA"),
            client_ca: ca("Sim Test Client CA"),
        }
    }

    fn tls(&self, require_clients: bool) -> SimTls {
        let (cert, key) = leaf(&self.server_ca, &["localhost", "127.0.0.1"]);
        SimTls {
            cert: write(self.dir.path(), "server.pem", &cert),
            key: write(self.dir.path(), "server.key", &key),
            client_ca: require_clients
                .then(|| write(self.dir.path(), "client-ca.pem", &self.client_ca.pem())),
        }
    }
}

async fn sim(tls: SimTls) -> SimHandle {
    chatbell_sim::start(SimConfig {
        tls: Some(tls),
        ..SimConfig::quiet()
    })
    .await
    .expect("simulator starts")
}

/// Opens `url` with TLS trusting `ca`, presenting `client` (certificate PEM, key PEM) if given,
/// and waits for the first text frame the simulator then sends.
async fn first_frame(
    sim: &SimHandle,
    ca: &CertifiedIssuer<'static, KeyPair>,
    client: Option<(String, String)>,
) -> Result<String, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
    };
    let tcp = TcpStream::connect(sim.addr()).await.unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let (mut ws, _) = tokio_tungstenite::client_async(sim.ws_url(), tls)
        .await
        .map_err(|e| format!("WebSocket: {e}"))?;
    sim.control()
        .wait_clients(Duration::from_secs(10), |c| c.len() == 1)
        .await
        .unwrap();
    let event = json!({"event": "user_online", "data": {"user_id": 7}, "timestamp": "2026-01-10T15:31:00Z"});
    sim.control().send_event(&event).await.unwrap();
    let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .map_err(|_| "no frame within 10 s".to_string())?;
    match frame {
        Some(Ok(Message::Text(text))) => Ok(text.to_string()),
        other => Err(format!("{other:?}")),
    }
}

#[tokio::test]
async fn serves_wss_with_a_private_ca_and_the_control_api_in_plain_http() {
    let pki = Pki::new();
    let sim = sim(pki.tls(false)).await;
    assert!(sim.is_tls());
    assert_eq!(
        sim.ws_url(),
        format!("wss://localhost:{}/ws", sim.addr().port())
    );
    let frame = first_frame(&sim, &pki.server_ca, None).await.unwrap();
    assert!(frame.contains("user_online"), "{frame}");
    // Plain ws:// on a TLS port is refused in words.
    let plain = format!("ws://{}/ws", sim.addr());
    let err = tokio_tungstenite::connect_async(plain).await.unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_client_ca_requires_a_client_certificate_it_signed() {
    let pki = Pki::new();
    let sim = sim(pki.tls(true)).await;
    let ours = leaf(&pki.client_ca, &["agent"]);
    let frame = first_frame(&sim, &pki.server_ca, Some(ours)).await.unwrap();
    assert!(frame.contains("user_online"), "{frame}");

    let none = first_frame(&sim, &pki.server_ca, None).await.unwrap_err();
    assert!(none.contains("CertificateRequired"), "{none}");
    let stranger = leaf(&ca("Someone Else CA"), &["agent"]);
    let refused = first_frame(&sim, &pki.server_ca, Some(stranger))
        .await
        .unwrap_err();
    assert!(refused.contains("UnknownCA"), "{refused}");
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_files_are_refused_naming_the_flag_and_the_file() {
    let pki = Pki::new();
    let good = pki.tls(true);
    let missing = pki.dir.path().join("nope.pem");
    let not_pem = write(pki.dir.path(), "junk.pem", "hello");
    let cases = [
        (
            SimTls {
                cert: missing.clone(),
                ..good.clone()
            },
            "--tls-cert",
            "nope.pem",
        ),
        (
            SimTls {
                cert: not_pem.clone(),
                ..good.clone()
            },
            "--tls-cert",
            "no CERTIFICATE",
        ),
        (
            SimTls {
                key: good.cert.clone(),
                ..good.clone()
            },
            "--tls-key",
            "no private key",
        ),
        (
            SimTls {
                client_ca: Some(not_pem.clone()),
                ..good.clone()
            },
            "--client-ca",
            "junk.pem",
        ),
    ];
    for (tls, flag, words) in cases {
        let err = chatbell_sim::start(SimConfig {
            tls: Some(tls),
            ..SimConfig::quiet()
        })
        .await
        .err()
        .expect("refused");
        let text = err.to_string();
        assert!(
            text.contains(flag) && text.contains(words),
            "{flag}, {words}: {text}"
        );
    }
}
