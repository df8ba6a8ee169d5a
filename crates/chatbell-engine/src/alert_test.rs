//! "Test my alerts": the shift-start self-test (a sound, a sample notification) and what would
//! keep an alert from the agent right now. Turning the checks' results and the settings into
//! that list is pure ([`blockers`]).

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use tokio::sync::{mpsc, oneshot};

use crate::notifier::{ServerInfo, ServiceMsg, TestShown};
use crate::settings::{NotificationSettings, SoundSettings};
use crate::sound::{PlayReport, Player, SoundError, Tone};

/// What the self-test found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertTest {
    pub sound: SoundCheck,
    pub notification: NotificationCheck,
    /// What would keep an alert from the agent; empty when nothing would.
    pub blockers: Vec<Blocker>,
    /// What the agent should know though nothing here can tell whether it applies now.
    pub notes: Vec<Note>,
    /// A test sent to each forwarding target: delivered, or why not.
    #[serde(default)]
    pub forwards: Vec<crate::forwarder::ForwardCheck>,
}

/// Something that may hold alerts back, which Chatbell cannot see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Note {
    /// Windows: Focus Assist (Do not disturb) may hold notifications back, and no documented
    /// API says whether it is on: Chatbell's own quiet hours are the reliable switch.
    FocusAssist,
}

/// The notes of this platform.
pub fn notes() -> Vec<Note> {
    if cfg!(windows) {
        vec![Note::FocusAssist]
    } else {
        Vec::new()
    }
}

/// The new-chat sound, played on the audio device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoundCheck {
    /// The device opened and the whole sound ran through it.
    pub played: bool,
    pub report: Option<PlayReport>,
    pub error: Option<String>,
}

/// The sample notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationCheck {
    pub shown: bool,
    pub error: Option<String>,
    /// The server that showed it.
    pub server: Option<ServerInfo>,
}

/// One thing that would keep an alert from the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Blocker {
    NoAudio {
        error: String,
    },
    NoNotificationServer {
        error: String,
    },
    NotificationsOff,
    SoundsOff,
    DoNotDisturb,
    /// Quiet hours now, until `until` (local, "HH:MM").
    QuietHours {
        until: String,
    },
    /// The server shows no buttons (mark read, snooze, open settings).
    NoActions,
    /// The server does not keep notifications: one missed while away is gone.
    NoPersistence,
    /// No tray to live in (the shell finds this out; the engine has no tray).
    NoTrayHost,
}

/// Plays the new-chat sound to the end, shows a sample notification (past the coalescer),
/// and lists what would keep a real alert from the agent at `local` under `settings`.
pub(crate) async fn run(
    settings: &NotificationSettings,
    player: Option<&Player>,
    notifier: Option<&mpsc::Sender<ServiceMsg>>,
    local: NaiveTime,
) -> AlertTest {
    let tone = settings.sounds.new_chat.unwrap_or(Tone::Chime);
    let volume = match settings.sounds.volume {
        0 => SoundSettings::default().volume,
        v => v,
    };
    let played = match player {
        Some(player) => player.play_now(tone, volume).await,
        None => Err(SoundError::Off),
    };
    let sound = match played {
        Ok(report) => SoundCheck {
            played: true,
            report: Some(report),
            error: None,
        },
        Err(e) => SoundCheck {
            played: false,
            report: None,
            error: Some(e.to_string()),
        },
    };
    let notification = show_sample(notifier).await;
    let blockers = blockers(&sound, &notification, settings, local);
    AlertTest {
        sound,
        notification,
        blockers,
        notes: notes(),
        forwards: Vec::new(),
    }
}

async fn show_sample(notifier: Option<&mpsc::Sender<ServiceMsg>>) -> NotificationCheck {
    let failed = |error: &str| NotificationCheck {
        shown: false,
        error: Some(error.into()),
        server: None,
    };
    let Some(tx) = notifier else {
        return failed("notifications are not available in this process");
    };
    let (reply, answer) = oneshot::channel();
    if tx.send(ServiceMsg::Test { reply }).await.is_err() {
        return failed("the notifier has stopped");
    }
    match answer.await {
        Ok(TestShown {
            result: Ok(()),
            server,
        }) => NotificationCheck {
            shown: true,
            error: None,
            server,
        },
        Ok(TestShown { result: Err(e), .. }) => failed(&e.to_string()),
        Err(_) => failed("the notifier has stopped"),
    }
}

/// What would keep an alert from the agent, given what the checks found and the settings now.
pub fn blockers(
    sound: &SoundCheck,
    notification: &NotificationCheck,
    settings: &NotificationSettings,
    local: NaiveTime,
) -> Vec<Blocker> {
    let mut out = Vec::new();
    if let (false, Some(error)) = (sound.played, &sound.error) {
        out.push(Blocker::NoAudio {
            error: error.clone(),
        });
    }
    if let (false, Some(error)) = (notification.shown, &notification.error) {
        out.push(Blocker::NoNotificationServer {
            error: error.clone(),
        });
    }
    if !settings.enabled {
        out.push(Blocker::NotificationsOff);
    }
    if !settings.sound || settings.sounds.new_chat.is_none() || settings.sounds.volume == 0 {
        out.push(Blocker::SoundsOff);
    }
    if settings.do_not_disturb {
        out.push(Blocker::DoNotDisturb);
    }
    if let Some(quiet) = settings.quiet_hours
        && quiet.contains(local)
    {
        out.push(Blocker::QuietHours {
            until: quiet.end.format("%H:%M").to_string(),
        });
    }
    if let Some(server) = &notification.server {
        let has = |cap: &str| server.capabilities.iter().any(|c| c == cap);
        if !has("actions") {
            out.push(Blocker::NoActions);
        }
        if !has("persistence") {
            out.push(Blocker::NoPersistence);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::QuietHours;

    fn at(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn server(caps: &[&str]) -> Option<ServerInfo> {
        Some(ServerInfo {
            name: "n".into(),
            vendor: "v".into(),
            version: "1".into(),
            capabilities: caps.iter().map(|c| c.to_string()).collect(),
        })
    }

    /// Under Wine for Windows: Focus Assist is said there, as a note (the test can still pass).
    #[test]
    fn windows_alone_notes_focus_assist() {
        assert_eq!(notes().contains(&Note::FocusAssist), cfg!(windows));
    }

    #[test]
    fn every_blocker_is_named_and_a_good_setup_has_none() {
        let played = SoundCheck {
            played: true,
            report: None,
            error: None,
        };
        let shown = NotificationCheck {
            shown: true,
            error: None,
            server: server(&["actions", "persistence", "body"]),
        };
        let good = NotificationSettings::default();
        assert_eq!(blockers(&played, &shown, &good, at(12, 0)), []);

        let silent = SoundCheck {
            played: false,
            report: None,
            error: Some("no audio device: gone".into()),
        };
        let failed = NotificationCheck {
            shown: false,
            error: Some("no notification server".into()),
            server: None,
        };
        let mut bad = NotificationSettings {
            enabled: false,
            do_not_disturb: true,
            quiet_hours: Some(QuietHours {
                start: at(22, 0),
                end: at(8, 0),
            }),
            ..NotificationSettings::default()
        };
        bad.sounds.new_chat = None;
        assert_eq!(
            blockers(&silent, &failed, &bad, at(23, 0)),
            [
                Blocker::NoAudio {
                    error: "no audio device: gone".into()
                },
                Blocker::NoNotificationServer {
                    error: "no notification server".into()
                },
                Blocker::NotificationsOff,
                Blocker::SoundsOff,
                Blocker::DoNotDisturb,
                Blocker::QuietHours {
                    until: "08:00".into()
                },
            ]
        );
        let bare = NotificationCheck {
            server: server(&["body"]),
            ..shown
        };
        assert_eq!(
            blockers(&played, &bare, &good, at(12, 0)),
            [Blocker::NoActions, Blocker::NoPersistence]
        );
    }
}
