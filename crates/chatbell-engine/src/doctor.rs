//! "Why doesn't it work?": checks of everything Chatbell depends on, each with a verdict a
//! user can act on.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::i18n::{Lang, net_words, route_words, trust_words};
use crate::keychain::{Keychain, KeychainError};
use crate::net::ServerConfig;
use crate::notifier::Notifier;
use crate::store::{Reader, integrity_check};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

fn check(name: &'static str, result: Result<String, String>) -> Check {
    match result {
        Ok(detail) => Check {
            name,
            ok: true,
            detail,
        },
        Err(detail) => Check {
            name,
            ok: false,
            detail,
        },
    }
}

/// Runs every check. `server` is `None` when no server is configured (then it is reported,
/// not failed: demo mode needs none).
pub async fn run(
    db: &Path,
    keychain: &Keychain,
    notifier: Option<&mut dyn Notifier>,
    server: Option<&ServerConfig>,
    lang: Lang,
) -> Vec<Check> {
    let mut checks = Vec::new();
    checks.push(check(
        "notification daemon",
        match notifier {
            None => Err("no desktop notifier in this build".into()),
            Some(n) => n
                .server_info()
                .await
                .map(|i| {
                    format!(
                        "{} {} ({}), capabilities: {}",
                        i.name,
                        i.version,
                        i.vendor,
                        i.capabilities.join(", ")
                    )
                })
                .map_err(|e| e.to_string()),
        },
    ));
    // Opening the audio device can hang on a broken sound server: bounded like the keychain.
    let audio = match tokio::time::timeout(
        Duration::from_secs(5),
        tokio::task::spawn_blocking(crate::sound::probe_device),
    )
    .await
    {
        Err(_) => Err("the audio system did not answer within 5 s".to_string()),
        Ok(joined) => joined
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string())),
    };
    checks.push(check("audio", audio));
    let kc = keychain.clone();
    let keychain_result = match tokio::time::timeout(
        Duration::from_secs(5),
        tokio::task::spawn_blocking(move || {
            Ok::<_, KeychainError>((Keychain::store_name()?, kc.get()?))
        }),
    )
    .await
    {
        Err(_) => Err(
            "the keychain did not answer within 5 s (locked, or waiting for a password prompt?)"
                .to_string(),
        ),
        Ok(joined) => joined
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map(|(store, token)| {
                if token.is_some() {
                    format!("{store}: reachable; a token is stored")
                } else {
                    format!("{store}: reachable; no token stored")
                }
            }),
    };
    checks.push(check("keychain", keychain_result));

    let path = db.to_path_buf();
    let store = tokio::task::spawn_blocking(move || -> Result<String, String> {
        if !path.exists() {
            return Ok(format!(
                "{} does not exist yet (created on first run)",
                path.display()
            ));
        }
        let problems = integrity_check(&path).map_err(|e| e.to_string())?;
        if !problems.is_empty() {
            return Err(format!("integrity check failed: {}", problems.join("; ")));
        }
        let reader = Reader::open(&path).map_err(|e| e.to_string())?;
        let mismatches = reader.unread_mismatches().map_err(|e| e.to_string())?;
        if !mismatches.is_empty() {
            return Err(format!(
                "unread counts disagree with the messages in {} chats",
                mismatches.len()
            ));
        }
        if let Some((kept, actual)) = reader.total_mismatch().map_err(|e| e.to_string())? {
            return Err(format!(
                "the unread total says {kept}, the messages say {actual}"
            ));
        }
        let c = reader.counts().map_err(|e| e.to_string())?;
        Ok(format!(
            "{}: ok; {} events ({} malformed), {} chats, {} messages, {} gaps",
            path.display(),
            c.events,
            c.malformed,
            c.chats,
            c.messages,
            c.gaps
        ))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    checks.push(check("store", store));

    checks.push(check(
        "server",
        match server {
            None => Ok("no server configured (demo mode needs none)".into()),
            Some(server) => server_check(server, lang).await,
        },
    ));
    checks
}

/// The server's check: the route taken, the trust and the issuer, or the failure's sentence.
async fn server_check(server: &ServerConfig, lang: Lang) -> Result<String, String> {
    match crate::net::check(server, Duration::from_secs(10)).await {
        Ok(report) => {
            let mut detail = format!(
                "{} accepted the connection, {}",
                server.url,
                route_words(&report.route, lang)
            );
            if let Some(trust) = &report.trust {
                detail.push_str(&format!("; trusted by {}", trust_words(trust, lang)));
            }
            if let Some(issuer) = &report.issuer {
                detail.push_str(&format!("; certificate issued by “{issuer}”"));
            }
            Ok(detail)
        }
        Err(failure) => {
            let words = net_words(&failure, lang);
            // Where the failure is the route's, say which route was tried.
            let route = crate::net::route(server)
                .await
                .map(|r| format!(" ({})", route_words(&r, lang)))
                .unwrap_or_default();
            Err(format!("{}{route} {}", words.what, words.todo))
        }
    }
}
