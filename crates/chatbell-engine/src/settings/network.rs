//! The network's settings: `server.proxy` (which way out) and `server.tls` (whom to trust
//! besides the system, and who we are). How they are used: `crate::net`, `docs/network.md`.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `server.proxy`: which way out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProxySetting {
    /// What the desktop says (the portal, the environment, the OS's settings).
    #[default]
    System,
    /// Always connect directly.
    None,
    Url(ProxyUrl),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyScheme {
    Http,
    Socks5,
}

/// A proxy's address; never a password (that lives in the keychain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub scheme: ProxyScheme,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
}

/// Why a proxy setting cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyProblem {
    #[error("must be \"system\", \"none\" or a proxy URL such as http://proxy:3128")]
    NotAUrl,
    #[error("the scheme must be http or socks5")]
    Scheme,
    #[error("a proxy URL names a host and nothing after the port")]
    Shape,
    #[error("a password does not belong in the settings: save it as the proxy password")]
    Password,
}

impl ProxyUrl {
    /// Parses `http://[user@]host[:port]` or `socks5://…`; a trailing `/` is allowed. A
    /// password in the URL is refused: it would be kept in the settings file.
    pub fn parse(text: &str) -> Result<ProxyUrl, ProxyProblem> {
        let url = url::Url::parse(text.trim()).map_err(|_| ProxyProblem::NotAUrl)?;
        let scheme = match url.scheme() {
            "http" => ProxyScheme::Http,
            "socks5" | "socks5h" => ProxyScheme::Socks5,
            _ => return Err(ProxyProblem::Scheme),
        };
        if url.password().is_some() {
            return Err(ProxyProblem::Password);
        }
        let host = url.host_str().filter(|h| !h.is_empty());
        if host.is_none()
            || !matches!(url.path(), "" | "/")
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(ProxyProblem::Shape);
        }
        let user = match url.username() {
            "" => None,
            user => Some(
                percent_encoding::percent_decode_str(user)
                    .decode_utf8_lossy()
                    .into_owned(),
            ),
        };
        Ok(ProxyUrl {
            scheme,
            host: host
                .unwrap_or_default()
                .trim_matches(['[', ']'])
                .to_string(),
            port: url.port().unwrap_or(match scheme {
                ProxyScheme::Http => 8080,
                ProxyScheme::Socks5 => 1080,
            }),
            user,
        })
    }
}

impl fmt::Display for ProxyUrl {
    /// The URL as the agent wrote it, without any password: safe for logs and sentences.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            ProxyScheme::Http => "http",
            ProxyScheme::Socks5 => "socks5",
        };
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{scheme}://{user}{host}:{}", self.port)
    }
}

impl ProxySetting {
    pub fn parse(text: &str) -> Result<ProxySetting, ProxyProblem> {
        match text.trim() {
            "system" => Ok(ProxySetting::System),
            "none" => Ok(ProxySetting::None),
            url => ProxyUrl::parse(url).map(ProxySetting::Url),
        }
    }
}

impl fmt::Display for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::System => f.write_str("system"),
            ProxySetting::None => f.write_str("none"),
            ProxySetting::Url(url) => url.fmt(f),
        }
    }
}

/// `server.tls`: files that add to the trust or identify this computer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// A PEM bundle of CAs trusted for this server, besides the system's.
    pub ca_file: Option<PathBuf>,
    /// A PEM client certificate (chain), for servers that require mutual TLS; its key may be
    /// in the same file.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's PEM key, where it is a file of its own. It may be encrypted
    /// (PKCS#8); the passphrase lives in the keychain.
    pub client_key: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_settings_parse_and_print_without_secrets() {
        let p = |s| ProxySetting::parse(s);
        assert_eq!(p("system"), Ok(ProxySetting::System));
        assert_eq!(p(" none "), Ok(ProxySetting::None));
        let url = p("http://bob@proxy.corp:3128").unwrap();
        assert_eq!(url.to_string(), "http://bob@proxy.corp:3128");
        assert_eq!(
            p("socks5://[::1]:1080").unwrap().to_string(),
            "socks5://[::1]:1080"
        );
        assert_eq!(p("http://proxy").unwrap().to_string(), "http://proxy:8080");
        assert_eq!(
            p("http://bob:hunter2@proxy:3128"),
            Err(ProxyProblem::Password)
        );
        assert_eq!(p("ftp://proxy:21"), Err(ProxyProblem::Scheme));
        assert_eq!(p("http://proxy:3128/path"), Err(ProxyProblem::Shape));
        assert_eq!(p("proxy:3128"), Err(ProxyProblem::Scheme));
        assert_eq!(p("direct"), Err(ProxyProblem::NotAUrl));
    }
}
