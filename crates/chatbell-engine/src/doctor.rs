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

/// Whether the agent counts as away now, and who said so (the screensavers, Mutter, logind);
/// `doctor` asks once, whatever the targets.
pub async fn away(settings: &crate::settings::Settings) -> Check {
    let (signals, from) = crate::away::look(crate::away::Source::desktop().await).await;
    let away = crate::away::is_away(&signals, &settings.notifications.away);
    let locked = match signals.locked {
        Some(true) => "the screen is locked",
        Some(false) => "the screen is unlocked",
        None => "nothing says whether the screen is locked",
    };
    let idle = signals
        .idle
        .map(|i| format!(", idle {} s", i.as_secs()))
        .unwrap_or_else(|| ", no idle time to read".into());
    let threshold = match settings.notifications.away.idle_minutes {
        Some(m) => format!("away after {m} min idle or when locked"),
        None => "away only when locked".into(),
    };
    let from = match from.is_empty() {
        true => "no screensaver or session manager answered".to_string(),
        false => format!("from {}", from.join(", ")),
    };
    let verdict = if away { "away" } else { "at the desk" };
    check(
        "away",
        Ok(format!("{verdict}: {locked}{idle} ({threshold}; {from})")),
    )
}

/// The forwarding targets: what each is, whether its secret is stored, what it receives, and
/// how each of the last forwards ended (the store keeps them); failed unless the newest
/// forward to each target arrived. A test push is `chatbell-cli forward test`'s (it reaches
/// someone's phone).
pub async fn forwarding(settings: &crate::settings::Settings, db: &Path) -> Check {
    let targets = settings.notifications.forward.clone();
    if targets.is_empty() {
        return check(
            "forwarding",
            Ok("no targets (notifications.forward)".into()),
        );
    }
    let path = db.to_path_buf();
    let records = tokio::task::spawn_blocking(move || match path.exists() {
        true => Reader::open(&path).and_then(|r| r.forwards(RECORDS_SHOWN)),
        false => Ok(Vec::new()),
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    let stored = tokio::task::spawn_blocking({
        let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
        move || {
            ids.iter()
                .map(|id| {
                    crate::forward::secret_entry(id)
                        .get()
                        .ok()
                        .flatten()
                        .is_some()
                })
                .collect::<Vec<bool>>()
        }
    })
    .await
    .unwrap_or_default();
    let lines: Vec<String> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let secret = match stored.get(i) {
                Some(true) => "secret stored",
                _ => "no secret stored",
            };
            let role = if t.lead {
                "the lead: urgent waits".to_string()
            } else {
                let when = match t.when {
                    crate::settings::forward::When::Away => "while away",
                    crate::settings::forward::When::Always => "always",
                };
                format!("{:?} {when}", t.kinds).to_lowercase()
            };
            format!(
                "{} ({:?}; {secret}; {role})",
                t.id,
                crate::forward::Service::of(&t.kind)
            )
        })
        .collect();
    // The newest record per target decides; older ones are listed for the why.
    let failing: Vec<&str> = targets
        .iter()
        .filter(|t| {
            records
                .iter()
                .find(|r| r.target == t.id)
                .is_some_and(|newest| !newest.delivered)
        })
        .map(|t| t.id.as_str())
        .collect();
    let history: Vec<String> = records
        .iter()
        .map(|r| {
            let outcome = match (&r.error, r.delivered) {
                (_, true) => "delivered".to_string(),
                (Some(why), false) => format!("not delivered: {why}"),
                (None, false) => "not delivered".into(),
            };
            let at = r.at.format("%Y-%m-%d %H:%M:%S");
            format!("{at} {} {:?}: {outcome}", r.target, r.event)
        })
        .collect();
    let mut detail = format!(
        "{}; `chatbell-cli forward test` sends a test to each",
        lines.join("; ")
    );
    detail.push_str(&match history.is_empty() {
        true => "; nothing forwarded yet".to_string(),
        false => format!("; last forwards, newest first: {}", history.join("; ")),
    });
    match failing.is_empty() {
        true => check("forwarding", Ok(detail)),
        false => check(
            "forwarding",
            Err(format!(
                "the last forward to {} did not arrive; {detail}",
                failing.join(", ")
            )),
        ),
    }
}

/// How many of the last forwards `doctor` lists.
const RECORDS_SHOWN: u32 = 10;

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
