//! `server.proxy: "system"`: the proxy the desktop names for a URL. On Linux the XDG desktop
//! portal's `ProxyResolver` (it follows GNOME's and KDE's settings, PAC files included), on
//! Windows the user's WinINet settings, on macOS the system configuration; where none of them
//! answers, the environment (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), as curl reads it.

use serde::Serialize;

use crate::secret::Secret;
use crate::settings::ProxyUrl;

/// Where the route came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteSource {
    /// `server.proxy` names it (a URL, or `"none"`).
    Setting,
    Portal,
    Environment,
    Windows,
    Macos,
    /// `"system"`, and nothing on this computer names a proxy.
    None,
}

/// The way to the server: directly or through a proxy, and who said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    #[serde(serialize_with = "as_text")]
    pub proxy: Option<ProxyUrl>,
    pub source: RouteSource,
    /// A password that came with the proxy's address (the environment's `user:pass@`); a
    /// proxy from the settings takes its password from the keychain instead.
    #[serde(skip)]
    pub password: Option<Secret>,
}

fn as_text<S: serde::Serializer>(proxy: &Option<ProxyUrl>, s: S) -> Result<S::Ok, S::Error> {
    match proxy {
        Some(p) => s.collect_str(p),
        None => s.serialize_none(),
    }
}

impl Route {
    pub fn direct(source: RouteSource) -> Route {
        Route {
            proxy: None,
            source,
            password: None,
        }
    }
}

/// How long the portal may take to answer before the environment is asked instead.
#[cfg(freedesktop)]
const PORTAL_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The desktop's route to `host:port` (`tls`: a `wss://` URL).
pub async fn resolve(host: &str, port: u16, tls: bool) -> Route {
    let uri = format!("{}://{host}:{port}/", if tls { "https" } else { "http" });
    #[cfg(freedesktop)]
    if let Some(route) = portal(&uri).await {
        return route;
    }
    #[cfg(target_os = "windows")]
    if let Some(route) = windows::route(host, tls) {
        return route;
    }
    #[cfg(target_os = "macos")]
    if let Some(route) = macos::route(host, tls) {
        return route;
    }
    let _ = &uri;
    environment(host, tls, |name| std::env::var(name).ok())
}

/// Parses a proxy the desktop names (`http://`, `socks5://`, `socks://`), keeping a password
/// that came with it. `direct://` and schemes Chatbell cannot speak (an `https://` proxy) are
/// `None`.
fn parse_named(text: &str) -> Option<(ProxyUrl, Option<Secret>)> {
    let text = text.trim();
    let text = if text.contains("://") {
        text.to_string()
    } else {
        format!("http://{text}")
    };
    let mut url = url::Url::parse(&text).ok()?;
    let password = url.password().map(|p| {
        Secret::new(
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned(),
        )
    });
    let _ = url.set_password(None);
    if url.scheme() == "socks" || url.scheme() == "socks5h" {
        // `socks://` is what GNOME's settings give for a SOCKS host.
        let rest = url.as_str().split_once("://")?.1.to_string();
        url = url::Url::parse(&format!("socks5://{rest}")).ok()?;
    }
    let proxy = ProxyUrl::parse(url.as_str()).ok()?;
    Some((proxy, password))
}

/// The environment's proxy for a host, as curl reads it: `https_proxy`/`HTTPS_PROXY` for
/// `wss://` (`http_proxy` for `ws://`; curl ignores the upper-case one), then `ALL_PROXY`;
/// `NO_PROXY` lists hosts and domains that go directly (`*` for all).
pub fn environment(host: &str, tls: bool, var: impl Fn(&str) -> Option<String>) -> Route {
    let pick = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
    };
    let named = if tls {
        pick(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"])
    } else {
        pick(&["http_proxy", "all_proxy", "ALL_PROXY"])
    };
    let Some(named) = named else {
        return Route::direct(RouteSource::None);
    };
    if let Some(no_proxy) = pick(&["no_proxy", "NO_PROXY"])
        && bypassed(host, &no_proxy)
    {
        return Route::direct(RouteSource::Environment);
    }
    match parse_named(&named) {
        Some((proxy, password)) => Route {
            proxy: Some(proxy),
            source: RouteSource::Environment,
            password,
        },
        None => {
            tracing::warn!(
                "the environment's proxy is not a URL Chatbell can use; connecting directly"
            );
            Route::direct(RouteSource::Environment)
        }
    }
}

/// Whether `NO_PROXY` (comma- or space-separated) exempts `host`: `*`, the host itself, or a
/// domain it is in (`corp.example` and `.corp.example` both cover `chat.corp.example`). A port
/// on an entry is ignored, as most tools do.
fn bypassed(host: &str, no_proxy: &str) -> bool {
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    no_proxy
        .split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches("*.").trim_start_matches('.');
            let entry = match entry.rsplit_once(':') {
                Some((name, port))
                    if port.chars().all(|c| c.is_ascii_digit()) && !name.contains(':') =>
                {
                    name
                }
                _ => entry,
            };
            let entry = entry.trim_matches(['[', ']']).to_ascii_lowercase();
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

#[cfg(freedesktop)]
#[zbus::proxy(
    interface = "org.freedesktop.portal.ProxyResolver",
    default_service = "org.freedesktop.portal.Desktop",
    default_path = "/org/freedesktop/portal/desktop"
)]
trait ProxyResolver {
    fn lookup(&self, uri: &str) -> zbus::Result<Vec<String>>;
}

/// The portal's answer: its first proxy Chatbell can speak, or direct. `None` when no portal
/// answers (no session bus, no portal, or no answer in time).
#[cfg(freedesktop)]
async fn portal(uri: &str) -> Option<Route> {
    let ask = async {
        let bus = zbus::Connection::session().await?;
        let resolver = ProxyResolverProxy::new(&bus).await?;
        resolver.lookup(uri).await
    };
    let answer = match tokio::time::timeout(PORTAL_WITHIN, ask).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "no proxy portal; the environment decides");
            return None;
        }
        Err(_) => {
            tracing::info!(
                "the proxy portal did not answer within {PORTAL_WITHIN:?}; the environment decides"
            );
            return None;
        }
    };
    for named in &answer {
        if named.starts_with("direct://") {
            return Some(Route::direct(RouteSource::Portal));
        }
        if let Some((proxy, password)) = parse_named(named) {
            return Some(Route {
                proxy: Some(proxy),
                source: RouteSource::Portal,
                password,
            });
        }
    }
    // Only the schemes: an address the portal names may carry a user's password.
    let schemes: Vec<&str> = answer
        .iter()
        .map(|a| a.split_once("://").map_or("?", |(scheme, _)| scheme))
        .collect();
    tracing::warn!(
        ?schemes,
        "the proxy portal named no proxy Chatbell can use; connecting directly"
    );
    Some(Route::direct(RouteSource::Portal))
}

/// The user's WinINet settings (what Edge and Internet Options show): a manual proxy and its
/// bypass list. An automatic-configuration script is not run; the environment decides then.
#[cfg(target_os = "windows")]
mod windows {
    use super::{Route, RouteSource, bypassed, parse_named};
    use winreg::RegKey;
    use winreg::enums::HKEY_CURRENT_USER;

    pub(super) fn route(host: &str, tls: bool) -> Option<Route> {
        let key = RegKey::predef(HKEY_CURRENT_USER)
            .open_subkey(r"Software\Microsoft\Windows\CurrentVersion\Internet Settings")
            .ok()?;
        let enabled: u32 = key.get_value("ProxyEnable").unwrap_or(0);
        if enabled == 0 {
            return Some(Route::direct(RouteSource::Windows));
        }
        let server: String = key.get_value("ProxyServer").ok()?;
        let bypass: String = key.get_value("ProxyOverride").unwrap_or_default();
        let local = !host.contains('.');
        if bypass
            .split(';')
            .any(|e| (e.trim() == "<local>" && local) || bypassed(host, e))
        {
            return Some(Route::direct(RouteSource::Windows));
        }
        // "host:port" for every protocol, or "http=h:p;https=h:p;socks=h:p".
        let wanted = if tls { "https" } else { "http" };
        let named = if server.contains('=') {
            let pairs: Vec<(&str, &str)> = server
                .split(';')
                .filter_map(|p| p.split_once('='))
                .collect();
            let find = |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(k))
                    .map(|(_, v)| *v)
            };
            // WinINet's `socks=` is SOCKS4, which Chatbell does not speak: the environment
            // decides then.
            match find(wanted) {
                Some(v) => v.to_string(),
                None if find("socks").is_some() => return None,
                None => return Some(Route::direct(RouteSource::Windows)),
            }
        } else {
            server
        };
        let (proxy, password) = parse_named(&named)?;
        Some(Route {
            proxy: Some(proxy),
            source: RouteSource::Windows,
            password,
        })
    }
}

/// The system configuration's proxies (System Settings → Network → Proxies).
#[cfg(target_os = "macos")]
mod macos {
    use super::{Route, RouteSource, bypassed, parse_named};
    use system_configuration::core_foundation::number::CFNumber;
    use system_configuration::core_foundation::string::CFString;
    use system_configuration::dynamic_store::SCDynamicStoreBuilder;

    pub(super) fn route(host: &str, tls: bool) -> Option<Route> {
        let proxies = SCDynamicStoreBuilder::new("chatbell")
            .build()
            .get_proxies()?;
        let number = |key: &str| -> Option<i64> {
            proxies
                .find(CFString::new(key))
                .and_then(|v| v.downcast::<CFNumber>())
                .and_then(|n| n.to_i64())
        };
        let text = |key: &str| -> Option<String> {
            proxies
                .find(CFString::new(key))
                .and_then(|v| v.downcast::<CFString>())
                .map(|s| s.to_string())
        };
        // The bypass list is an array of strings; safe Rust cannot read an untyped array's
        // items, but its description lists them quoted: `("*.local", "169.254/16")`.
        if let Some(list) = proxies.find(CFString::new("ExceptionsList")) {
            let described = format!("{:?}", *list);
            let exempt = described
                .trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
                .split(',')
                .map(|e| e.trim().trim_matches('"'))
                .any(|e| !e.is_empty() && bypassed(host, e));
            if exempt {
                return Some(Route::direct(RouteSource::Macos));
            }
        }
        let (enable, proxy, port, scheme) = if tls {
            ("HTTPSEnable", "HTTPSProxy", "HTTPSPort", "http")
        } else {
            ("HTTPEnable", "HTTPProxy", "HTTPPort", "http")
        };
        let named = if number(enable) == Some(1) {
            text(proxy).map(|h| format!("{scheme}://{h}:{}", number(port).unwrap_or(8080)))
        } else if number("SOCKSEnable") == Some(1) {
            text("SOCKSProxy")
                .map(|h| format!("socks5://{h}:{}", number("SOCKSPort").unwrap_or(1080)))
        } else {
            None
        };
        let Some(named) = named else {
            return Some(Route::direct(RouteSource::Macos));
        };
        let (proxy, password) = parse_named(&named)?;
        Some(Route {
            proxy: Some(proxy),
            source: RouteSource::Macos,
            password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_environment_names_the_proxy_and_no_proxy_exempts() {
        let vars = [
            ("HTTPS_PROXY", "http://bob:pw@proxy:3128"),
            ("NO_PROXY", "localhost, .corp.example,10.0.0.1:8443"),
        ];
        let r = environment("chat.example.com", true, env(&vars));
        assert_eq!(r.source, RouteSource::Environment);
        assert_eq!(r.proxy.unwrap().to_string(), "http://bob@proxy:3128");
        assert_eq!(r.password.unwrap().expose(), "pw");
        for exempt in ["localhost", "chat.corp.example", "corp.example", "10.0.0.1"] {
            let r = environment(exempt, true, env(&vars));
            assert_eq!(r.proxy, None, "{exempt}");
        }
        // ws:// reads the lower-case http_proxy only, as curl does.
        assert_eq!(environment("h", false, env(&vars)).proxy, None);
        let all = [("ALL_PROXY", "socks5://s:1080")];
        assert_eq!(
            environment("h", false, env(&all))
                .proxy
                .unwrap()
                .to_string(),
            "socks5://s:1080"
        );
        let star = [("https_proxy", "proxy:3128"), ("no_proxy", "*")];
        assert_eq!(environment("h", true, env(&star)).proxy, None);
        assert_eq!(environment("h", true, env(&[])).source, RouteSource::None);
    }

    #[test]
    fn named_proxies_are_read_as_desktops_write_them() {
        let p = |s| parse_named(s).map(|(p, _)| p.to_string());
        assert_eq!(p("proxy:3128"), Some("http://proxy:3128".into()));
        assert_eq!(p("socks://s:1080"), Some("socks5://s:1080".into()));
        assert_eq!(p("https://secure-proxy:443"), None);
    }
}
