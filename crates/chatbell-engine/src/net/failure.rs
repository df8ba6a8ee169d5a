//! Why a connection could not be made, as a cause the agent can act on. Each kind has its
//! sentence (what is wrong, what to do) in [`crate::i18n::net_words`]; the page words the same
//! kinds from its own catalogue, and a test keeps the two the same.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NetFailure {
    /// The server's name cannot be looked up.
    Dns {
        host: String,
    },
    /// No route to any network.
    NoNetwork,
    /// The server refused the TCP connection.
    Refused {
        host: String,
    },
    /// No answer within the connect timeout.
    Timeout {
        seconds: u64,
    },
    /// The chain ends at a CA this computer does not trust; `issuer` is the certificate's
    /// issuer's common name, when there is one.
    UnknownIssuer {
        issuer: Option<String>,
    },
    /// An unknown issuer seen through a proxy: most likely a proxy that inspects TLS and signs
    /// every certificate with the company's CA.
    TlsInspected {
        issuer: Option<String>,
        proxy: String,
    },
    NameMismatch {
        host: String,
    },
    Expired,
    NotYetValid,
    /// The server asks for a client certificate and none is set.
    ClientCertRequired,
    /// The server refused the client certificate it was given.
    ClientCertRefused,
    /// Any other TLS failure.
    Tls {
        detail: String,
    },
    ProxyUnreachable {
        proxy: String,
    },
    /// The proxy would not open the tunnel (`status` is the HTTP status; 0 for SOCKS).
    ProxyRefused {
        proxy: String,
        status: u16,
    },
    /// The proxy wants a password and none is saved.
    ProxyAuthRequired {
        proxy: String,
    },
    /// The proxy refused the saved password.
    ProxyAuthFailed {
        proxy: String,
    },
    /// The proxy could not reach the server (HTTP 500, 502–504; 0 for SOCKS): the server is down,
    /// its name unknown to the proxy, or its port wrong.
    ProxyNoServer {
        proxy: String,
        status: u16,
    },
    ProxyFailed {
        proxy: String,
        detail: String,
    },
    /// The server answered HTTP instead of a WebSocket.
    HttpStatus {
        status: u16,
    },
    /// The server refused the token (HTTP 401/403; a check says so, a connection retries).
    TokenRefused {
        status: u16,
    },
    BadUrl {
        detail: String,
    },
    /// The token holds characters an HTTP header cannot carry.
    TokenHeader,
    /// A certificate or key file named in the settings cannot be used.
    File {
        role: FileRole,
        path: PathBuf,
        problem: FileProblem,
    },
    /// A live connection ended.
    Lost {
        detail: String,
    },
    Other {
        detail: String,
    },
}

/// Which setting names the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    CaFile,
    ClientCert,
    ClientKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileProblem {
    Missing,
    Unreadable,
    TooLarge,
    NoCertificates,
    NoKey,
    /// A private key that other users of the computer can read.
    ReadableByOthers,
    /// The key is encrypted and no passphrase is saved.
    PassphraseNeeded,
    WrongPassphrase,
}

impl NetFailure {
    /// Whether only the agent (or IT) can fix it: retrying as often as for a server that is
    /// away would change nothing.
    pub fn needs_the_agent(&self) -> bool {
        matches!(
            self,
            NetFailure::UnknownIssuer { .. }
                | NetFailure::TlsInspected { .. }
                | NetFailure::NameMismatch { .. }
                | NetFailure::ClientCertRequired
                | NetFailure::ClientCertRefused
                | NetFailure::ProxyAuthRequired { .. }
                | NetFailure::ProxyAuthFailed { .. }
                | NetFailure::BadUrl { .. }
                | NetFailure::TokenRefused { .. }
                | NetFailure::TokenHeader
                | NetFailure::File { .. }
        )
    }
}

impl NetFailure {
    /// One of each kind (each file problem, each issuer case), for the tests that check every
    /// kind is worded, here and on the page. The match below fails to compile when a kind is
    /// added and not listed.
    #[doc(hidden)]
    pub fn examples() -> Vec<NetFailure> {
        use NetFailure as F;
        let proxy = || "http://bob@proxy.corp:3128".to_string();
        let mut all = vec![
            F::Dns {
                host: "chat.corp.example".into(),
            },
            F::NoNetwork,
            F::Refused {
                host: "chat.corp.example".into(),
            },
            F::Timeout { seconds: 15 },
            F::UnknownIssuer {
                issuer: Some("Corp Root CA".into()),
            },
            F::UnknownIssuer { issuer: None },
            F::TlsInspected {
                issuer: Some("Inspecting Proxy CA".into()),
                proxy: proxy(),
            },
            F::TlsInspected {
                issuer: None,
                proxy: proxy(),
            },
            F::NameMismatch {
                host: "chat.corp.example".into(),
            },
            F::Expired,
            F::NotYetValid,
            F::ClientCertRequired,
            F::ClientCertRefused,
            F::Tls {
                detail: "handshake failure".into(),
            },
            F::ProxyUnreachable { proxy: proxy() },
            F::ProxyRefused {
                proxy: proxy(),
                status: 403,
            },
            F::ProxyAuthRequired { proxy: proxy() },
            F::ProxyAuthFailed { proxy: proxy() },
            F::ProxyNoServer {
                proxy: proxy(),
                status: 502,
            },
            F::ProxyFailed {
                proxy: proxy(),
                detail: "the proxy's answer is not HTTP".into(),
            },
            F::HttpStatus { status: 500 },
            F::TokenRefused { status: 401 },
            F::BadUrl {
                detail: "empty host".into(),
            },
            F::TokenHeader,
            F::Lost {
                detail: "no frame or pong for 30s".into(),
            },
            F::Other {
                detail: "broken pipe".into(),
            },
        ];
        for role in [FileRole::CaFile, FileRole::ClientCert, FileRole::ClientKey] {
            for problem in [
                FileProblem::Missing,
                FileProblem::Unreadable,
                FileProblem::TooLarge,
                FileProblem::NoCertificates,
                FileProblem::NoKey,
                FileProblem::ReadableByOthers,
                FileProblem::PassphraseNeeded,
                FileProblem::WrongPassphrase,
            ] {
                all.push(F::File {
                    role,
                    path: "/etc/chatbell/corp.pem".into(),
                    problem,
                });
            }
        }
        for f in &all {
            match f {
                F::Dns { .. }
                | F::NoNetwork
                | F::Refused { .. }
                | F::Timeout { .. }
                | F::UnknownIssuer { .. }
                | F::TlsInspected { .. }
                | F::NameMismatch { .. }
                | F::Expired
                | F::NotYetValid
                | F::ClientCertRequired
                | F::ClientCertRefused
                | F::Tls { .. }
                | F::ProxyUnreachable { .. }
                | F::ProxyRefused { .. }
                | F::ProxyAuthRequired { .. }
                | F::ProxyAuthFailed { .. }
                | F::ProxyFailed { .. }
                | F::ProxyNoServer { .. }
                | F::HttpStatus { .. }
                | F::TokenRefused { .. }
                | F::BadUrl { .. }
                | F::TokenHeader
                | F::File { .. }
                | F::Lost { .. }
                | F::Other { .. } => {}
            }
        }
        all
    }
}

impl std::error::Error for NetFailure {}

/// Classifies an I/O error of a connect to `host`.
pub(crate) fn io_failure(e: &std::io::Error, host: &str) -> NetFailure {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NetworkUnreachable | ErrorKind::NetworkDown | ErrorKind::HostUnreachable => {
            NetFailure::NoNetwork
        }
        ErrorKind::ConnectionRefused => NetFailure::Refused { host: host.into() },
        _ => NetFailure::Other {
            detail: e.to_string(),
        },
    }
}

/// Classifies a TLS failure. `issuer` is the presented certificate's issuer (captured by the
/// verifier), `proxy` the proxy on the route.
pub(crate) fn tls_failure(
    e: &rustls::Error,
    host: &str,
    issuer: Option<String>,
    proxy: Option<&str>,
) -> NetFailure {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match e {
        E::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature => match proxy {
                Some(proxy) => NetFailure::TlsInspected {
                    issuer,
                    proxy: proxy.into(),
                },
                None => NetFailure::UnknownIssuer { issuer },
            },
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                NetFailure::NameMismatch { host: host.into() }
            }
            C::Expired | C::ExpiredContext { .. } => NetFailure::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => NetFailure::NotYetValid,
            C::Other(o) if o.to_string().contains("UnknownIssuer") => match proxy {
                Some(proxy) => NetFailure::TlsInspected {
                    issuer,
                    proxy: proxy.into(),
                },
                None => NetFailure::UnknownIssuer { issuer },
            },
            other => NetFailure::Tls {
                detail: format!("{other:?}"),
            },
        },
        E::AlertReceived(A::CertificateRequired) => NetFailure::ClientCertRequired,
        E::AlertReceived(
            A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::AccessDenied,
        ) => NetFailure::ClientCertRefused,
        other => NetFailure::Tls {
            detail: other.to_string(),
        },
    }
}
