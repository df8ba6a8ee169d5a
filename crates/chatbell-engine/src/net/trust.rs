//! Whom to trust, and who we are: the TLS configuration of one connect.
//!
//! Servers are verified against the operating system's trust store, so a CA that IT installed
//! works with no setting: on Windows and macOS through their own verifiers
//! (`rustls-platform-verifier`); elsewhere from the store OpenSSL-based tools read
//! (`rustls-native-certs`, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`) — what the
//! platform verifier itself does there. Only where that store is empty or missing are the
//! compiled-in Mozilla roots used, and the check says so. `server.tls.ca_file` adds a bundle;
//! `server.tls.client_cert`/`client_key` present a client certificate.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};

use super::failure::{FileProblem, FileRole, NetFailure};
use crate::secret::Secret;
use crate::settings::TlsSettings;

/// Which roots verified the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Store {
    /// The operating system's.
    System,
    /// The Mozilla roots compiled into Chatbell (the system's store is empty or missing).
    Compiled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustUsed {
    pub store: Store,
    pub extra_ca: Option<PathBuf>,
}

/// What the last handshake presented, for the words of a failure and for `doctor`.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// The server certificate's issuer (common name).
    pub issuer: Option<String>,
}

pub(crate) struct Tls {
    pub config: Arc<ClientConfig>,
    pub used: TrustUsed,
    pub seen: Arc<Mutex<Seen>>,
    /// The common names of the CA file's certificates: who signs this server's certificate.
    pub server_cas: Vec<String>,
}

/// The most a certificate or key file may weigh: a bundle of every public CA is ~250 KiB.
const MAX_FILE: u64 = 4 * 1024 * 1024;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the configuration for one connect. It reads files (the system's store, the CA file,
/// the client's certificate and key) and may decrypt a key: call it off the runtime's thread.
pub(crate) fn configure(
    settings: &TlsSettings,
    passphrase: Option<&Secret>,
) -> Result<Tls, NetFailure> {
    let extra = match &settings.ca_file {
        Some(path) => certificates(path, FileRole::CaFile)?,
        None => Vec::new(),
    };
    let server_cas = extra.iter().filter_map(subject_name).collect();
    let (verifier, store) = verifier(extra)?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let verifier = Arc::new(Watching {
        inner: verifier,
        seen: seen.clone(),
    });
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &settings.client_cert {
        None => builder.with_no_client_auth(),
        Some(cert_path) => {
            let chain = certificates(cert_path, FileRole::ClientCert)?;
            let (key_path, role) = match &settings.client_key {
                Some(key) => (key.as_path(), FileRole::ClientKey),
                None => (cert_path.as_path(), FileRole::ClientCert),
            };
            let key = private_key(key_path, role, passphrase)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| NetFailure::Tls {
                    detail: format!("the client certificate and key do not go together ({e})"),
                })?
        }
    };
    Ok(Tls {
        config: Arc::new(config),
        used: TrustUsed {
            store,
            extra_ca: settings.ca_file.clone(),
        },
        seen,
        server_cas,
    })
}

#[cfg(any(target_os = "windows", target_os = "macos"))]
fn verifier(
    extra: Vec<CertificateDer<'static>>,
) -> Result<(Arc<dyn ServerCertVerifier>, Store), NetFailure> {
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider())
        .map_err(|e| NetFailure::Tls {
            detail: format!("the system's certificate verifier cannot be used ({e})"),
        })?;
    Ok((Arc::new(verifier), Store::System))
}

#[cfg(not(any(target_os = "windows", target_os = "macos")))]
fn verifier(
    extra: Vec<CertificateDer<'static>>,
) -> Result<(Arc<dyn ServerCertVerifier>, Store), NetFailure> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(%error, "a certificate of the system's store was skipped");
    }
    let (added, _) = roots.add_parsable_certificates(native.certs);
    let store = if added > 0 {
        Store::System
    } else {
        tracing::warn!(
            "the system's trust store is empty or missing: the compiled-in roots are used"
        );
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Store::Compiled
    };
    roots.add_parsable_certificates(extra);
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| NetFailure::Tls {
                detail: format!("no certificate verifier ({e})"),
            })?;
    Ok((verifier, store))
}

/// Reads a small regular file: never a FIFO or a device that would block or never end. The
/// file is opened without blocking and judged by what was opened, so one swapped for a FIFO
/// between a look and the open cannot hang the connect.
fn read(path: &Path, role: FileRole) -> Result<Vec<u8>, NetFailure> {
    let fail = |problem| NetFailure::File {
        role,
        path: path.to_path_buf(),
        problem,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => fail(FileProblem::Missing),
        _ => fail(FileProblem::Unreadable),
    })?;
    let meta = file.metadata().map_err(|_| fail(FileProblem::Unreadable))?;
    if !meta.is_file() {
        return Err(fail(FileProblem::Unreadable));
    }
    if meta.len() > MAX_FILE {
        return Err(fail(FileProblem::TooLarge));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| fail(FileProblem::Unreadable))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(fail(FileProblem::TooLarge));
    }
    Ok(bytes)
}

fn certificates(path: &Path, role: FileRole) -> Result<Vec<CertificateDer<'static>>, NetFailure> {
    let bytes = read(path, role)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(NetFailure::File {
            role,
            path: path.to_path_buf(),
            problem: FileProblem::NoCertificates,
        });
    }
    Ok(certs)
}

fn private_key(
    path: &Path,
    role: FileRole,
    passphrase: Option<&Secret>,
) -> Result<PrivateKeyDer<'static>, NetFailure> {
    let fail = |problem| NetFailure::File {
        role,
        path: path.to_path_buf(),
        problem,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            return Err(fail(FileProblem::ReadableByOthers));
        }
    }
    let bytes = read(path, role)?;
    if let Ok(key) = PrivateKeyDer::from_pem_slice(&bytes) {
        return Ok(key);
    }
    // An encrypted PKCS#8 key: "-----BEGIN ENCRYPTED PRIVATE KEY-----".
    let text = String::from_utf8_lossy(&bytes);
    let begin = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
    let end = "-----END ENCRYPTED PRIVATE KEY-----";
    let (Some(from), Some(to)) = (text.find(begin), text.find(end)) else {
        return Err(fail(FileProblem::NoKey));
    };
    let pem = &text[from..to + end.len()];
    let (_, document) =
        pkcs8::der::Document::from_pem(pem).map_err(|_| fail(FileProblem::NoKey))?;
    let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(document.as_bytes())
        .map_err(|_| fail(FileProblem::NoKey))?;
    let passphrase = passphrase.ok_or(fail(FileProblem::PassphraseNeeded))?;
    let key = encrypted
        .decrypt(passphrase.expose())
        .map_err(|_| fail(FileProblem::WrongPassphrase))?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        key.as_bytes().to_vec(),
    )))
}

/// The issuer's common name of a DER certificate.
fn issuer_name(cert: &CertificateDer<'_>) -> Option<String> {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(cert.as_ref()).ok()?;
    common_name(&cert.tbs_certificate.issuer)
}

/// The subject's common name of a DER certificate.
fn subject_name(cert: &CertificateDer<'_>) -> Option<String> {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(cert.as_ref()).ok()?;
    common_name(&cert.tbs_certificate.subject)
}

fn common_name(name: &x509_cert::name::Name) -> Option<String> {
    use x509_cert::der::asn1::{ObjectIdentifier, PrintableStringRef, Utf8StringRef};
    const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == CN)
        .find_map(|atv| {
            atv.value
                .decode_as::<Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    atv.value
                        .decode_as::<PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_string())
                })
                .ok()
        })
}

/// The verifier, noting what the server presented (its issuer) before judging it.
#[derive(Debug)]
struct Watching {
    inner: Arc<dyn ServerCertVerifier>,
    seen: Arc<Mutex<Seen>>,
}

impl ServerCertVerifier for Watching {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        crate::sync::lock(&self.seen).issuer = issuer_name(end_entity);
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}
