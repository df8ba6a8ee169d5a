//! A throwaway PKI made at run time (rcgen), as PEM files in a folder of the test's own: the
//! company's CA, server certificates it signed (good, expired, for the wrong name), a client CA
//! and a client certificate for mutual TLS, a TLS-inspecting proxy's CA, an encrypted key, and a
//! bundle to play the system's trust store (`SSL_CERT_FILE`). Nothing of it outlives the test;
//! nothing secret is in the repository.
//!
//! Keys are written mode 0600, as a careful user keeps them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

const OPENSSL_MISSING: &str =
    "openssl (Debian package openssl) must be installed: run `cargo xtask setup`";

/// The CN of the CA that signs the servers' certificates.
pub const SERVER_CA: &str = "Corp Root CA";
/// The CN of the CA that signs the clients' certificates.
pub const CLIENT_CA: &str = "Corp Client CA";
/// The CN of the CA a TLS-inspecting proxy re-signs every certificate with.
pub const PROXY_CA: &str = "Inspecting Proxy CA";

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The certificate (the leaf only).
    pub cert: PathBuf,
    /// Its private key, PKCS#8, unencrypted, mode 0600.
    pub key: PathBuf,
}

/// A certificate authority of the test's own.
pub struct Ca {
    name: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
    file: PathBuf,
}

impl Ca {
    fn new(dir: &Path, name: &str, stem: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Chatbell tests");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a key"))
            .expect("a CA certificate");
        let file = dir.join(format!("{stem}.pem"));
        std::fs::write(&file, issuer.pem()).expect("writes the CA certificate");
        Ca {
            name: name.to_string(),
            issuer,
            dir: dir.to_path_buf(),
            file,
        }
    }

    /// Its common name (what an "unknown issuer" message names).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its certificate, a PEM file (what `server.tls.ca_file` or `--client-ca` takes).
    pub fn cert_file(&self) -> &Path {
        &self.file
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses; the first is its common
    /// name), valid now.
    pub fn server(&self, stem: &str, names: &[&str]) -> CertFiles {
        self.issue(stem, names[0], names, Purpose::Server, Validity::Now)
    }

    /// A server certificate for `names` that expired in 2021.
    pub fn expired_server(&self, stem: &str, names: &[&str]) -> CertFiles {
        self.issue(stem, names[0], names, Purpose::Server, Validity::Expired)
    }

    /// A client certificate with common name `name` (and no alternative names).
    pub fn client(&self, stem: &str, name: &str) -> CertFiles {
        self.issue(stem, name, &[], Purpose::Client, Validity::Now)
    }

    fn issue(
        &self,
        stem: &str,
        cn: &str,
        names: &[&str],
        purpose: Purpose,
        validity: Validity,
    ) -> CertFiles {
        let key = KeyPair::generate().expect("a key");
        let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("certificate parameters");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![match purpose {
            Purpose::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Purpose::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }];
        if let Validity::Expired = validity {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("a signed certificate");
        let files = CertFiles {
            cert: self.dir.join(format!("{stem}.pem")),
            key: self.dir.join(format!("{stem}.key")),
        };
        std::fs::write(&files.cert, cert.pem()).expect("writes the certificate");
        write_private(&files.key, key.serialize_pem().as_bytes());
        files
    }
}

enum Purpose {
    Server,
    Client,
}

enum Validity {
    Now,
    Expired,
}

/// Writes a file only its owner reads (0600).
fn write_private(path: &Path, bytes: &[u8]) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    file.write_all(bytes).expect("writes the key");
}

/// The folder and the CAs; files for servers and clients are made on demand (each a few
/// milliseconds: ECDSA P-256).
pub struct Pki {
    dir: tempfile::TempDir,
    ca: Ca,
    client_ca: Ca,
    proxy_ca: Ca,
}

impl Pki {
    /// The three CAs: [`SERVER_CA`], [`CLIENT_CA`] and [`PROXY_CA`].
    pub fn new() -> Pki {
        Pki::named(SERVER_CA)
    }

    /// The same with the servers' CA named `ca_name`.
    pub fn named(ca_name: &str) -> Pki {
        let dir = tempfile::tempdir().expect("a folder for the PKI");
        let ca = Ca::new(dir.path(), ca_name, "ca");
        let client_ca = Ca::new(dir.path(), CLIENT_CA, "client-ca");
        let proxy_ca = Ca::new(dir.path(), PROXY_CA, "proxy-ca");
        Pki {
            dir,
            ca,
            client_ca,
            proxy_ca,
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA that signs the servers' certificates.
    pub fn ca(&self) -> &Ca {
        &self.ca
    }

    /// The CA that signs the clients' certificates (the server's `--client-ca`).
    pub fn client_ca(&self) -> &Ca {
        &self.client_ca
    }

    /// The CA of a TLS-inspecting proxy: trusted by nobody but itself.
    pub fn proxy_ca(&self) -> &Ca {
        &self.proxy_ca
    }

    /// The server's certificate for `localhost` and `127.0.0.1`, signed by [`Pki::ca`]:
    /// `server.pem`, `server.key`.
    pub fn server(&self) -> CertFiles {
        self.ca.server("server", &["localhost", "127.0.0.1"])
    }

    /// The same, expired.
    pub fn expired_server(&self) -> CertFiles {
        self.ca
            .expired_server("server-expired", &["localhost", "127.0.0.1"])
    }

    /// A certificate of [`Pki::ca`] for another name (`wrong.example`): a name mismatch on
    /// `localhost`.
    pub fn wrong_name_server(&self) -> CertFiles {
        self.ca.server("server-wrong-name", &["wrong.example"])
    }

    /// What a TLS-inspecting proxy presents for `localhost`: re-signed by [`Pki::proxy_ca`].
    pub fn inspected_server(&self) -> CertFiles {
        self.proxy_ca
            .server("server-inspected", &["localhost", "127.0.0.1"])
    }

    /// The agent's client certificate, signed by [`Pki::client_ca`].
    pub fn client(&self) -> CertFiles {
        self.client_ca.client("client", "agent@corp.example")
    }

    /// A client certificate signed by a CA the server does not know.
    pub fn stranger_client(&self) -> CertFiles {
        Ca::new(self.dir(), "Stranger CA", "stranger-ca").client("client-stranger", "stranger")
    }

    /// `key` encrypted with `passphrase` (PKCS#8, PBES2, AES-256-CBC, by `openssl pkcs8`):
    /// `<key stem>.enc.key`, mode 0600.
    pub fn encrypt_key(&self, key: &Path, passphrase: &str) -> PathBuf {
        let out = key.with_extension("enc.key");
        let run = Command::new("openssl")
            .args([
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-passout",
                "env:PASSPHRASE",
            ])
            .arg("-in")
            .arg(key)
            .env("PASSPHRASE", passphrase)
            .output()
            .expect(OPENSSL_MISSING);
        assert!(
            run.status.success(),
            "openssl pkcs8 failed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        write_private(&out, &run.stdout);
        out
    }

    /// A bundle holding [`Pki::ca`] alone, to point `SSL_CERT_FILE` at: a private "system
    /// store" that trusts the company's CA and nothing else.
    pub fn system_store(&self) -> PathBuf {
        let path = self.dir().join("system-store.pem");
        std::fs::write(&path, self.ca.pem()).expect("writes the bundle");
        path
    }

    /// A folder for `SSL_CERT_DIR` with [`Pki::ca`] in it (named by OpenSSL's subject hash,
    /// as `c_rehash` names them, when `openssl` is there; the plain name too).
    pub fn system_store_dir(&self) -> PathBuf {
        let dir = self.dir().join("system-store.d");
        std::fs::create_dir_all(&dir).expect("a folder for the store");
        std::fs::write(dir.join("corp-root-ca.pem"), self.ca.pem()).expect("writes the CA");
        if let Ok(out) = Command::new("openssl")
            .args(["x509", "-noout", "-subject_hash", "-in"])
            .arg(self.ca.cert_file())
            .output()
            && out.status.success()
        {
            let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
            std::fs::write(dir.join(format!("{hash}.0")), self.ca.pem()).expect("writes the CA");
        }
        dir
    }

    /// The simulator's TLS for `server`, requiring clients signed by [`Pki::client_ca`] when
    /// `require_clients`.
    pub fn sim_tls(&self, server: &CertFiles, require_clients: bool) -> chatbell_sim::SimTls {
        chatbell_sim::SimTls {
            cert: server.cert.clone(),
            key: server.key.clone(),
            client_ca: require_clients.then(|| self.client_ca.cert_file().to_path_buf()),
        }
    }
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}
