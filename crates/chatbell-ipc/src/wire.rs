//! The messages on the local socket, one JSON object per line, and the handshake that opens
//! every connection: the client says who it is and which protocol it speaks, and the resident
//! process welcomes it or refuses it with a sentence saying why (never a garbled exchange
//! between two builds that do not understand each other).

use std::path::PathBuf;

use chatbell_engine::model::{ChatOrder, Seq};
use chatbell_engine::settings::forward::ForwardTarget;
use chatbell_engine::settings::{ServerSettings, Settings};
use chatbell_engine::sound::Tone;
use chatbell_protocol::UserId;
use serde::{Deserialize, Serialize};

use crate::contract::{CommandError, SecretName, UiEvent};

/// The protocol both sides speak; any change to the messages below raises it.
pub const PROTOCOL: u32 = 5;

/// The longest line either side accepts (a large `stored` batch fits many times over).
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// The first line of every connection. Its shape never changes, so a build of any protocol can
/// read it and answer in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    /// The client's build (`CARGO_PKG_VERSION`), for the refusal's words and the log.
    pub version: String,
    pub role: Role,
}

/// Who is connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The window process: commands and events for as long as it lives.
    Window,
    /// A second `chatbell` launched: asks for the window, then leaves.
    Launcher,
    /// `chatbell-cli`: one [`CliRequest`], answered by one [`CliReply`], then it leaves.
    Cli,
}

/// What `chatbell-cli` asks the running resident, which owns the settings while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum CliRequest {
    /// `settings set KEY VALUE`: one field by its dotted key.
    SetSetting {
        key: String,
        value: serde_json::Value,
    },
    /// `settings reset KEY`: the field follows the organization's default or the built-in
    /// value again.
    ResetSetting { key: String },
}

impl CliRequest {
    /// The dotted key it is about (what a log may say of it: never the value).
    pub fn key(&self) -> &str {
        match self {
            CliRequest::SetSetting { key, .. } | CliRequest::ResetSetting { key } => key,
        }
    }
}

/// The resident's answer to a [`CliRequest`]: the settings after it, or why not.
pub type CliReply = Result<Settings, CommandError>;

/// The resident's answer to [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Welcome(Welcome),
    /// The connection is closed after this.
    Refused {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub protocol: u32,
    pub version: String,
    /// The database the window reads through its own read-only connections.
    pub db: PathBuf,
}

/// A command of the page (`docs/ipc.md`: `snake_case`, with the page's argument names), the one
/// list of them. The window process answers the reads of the store itself, from its own
/// read-only connection (`is_read`), and sends the resident the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", content = "args", rename_all = "snake_case")]
pub enum Command {
    AppInfo,
    ListChats {
        limit: u32,
        offset: u32,
        order: Option<ChatOrder>,
    },
    GetChat {
        user_id: UserId,
    },
    ChatHistory {
        user_id: UserId,
        before: Option<Seq>,
        limit: u32,
    },
    SearchMessages {
        query: String,
        limit: u32,
    },
    MarkRead {
        user_id: UserId,
    },
    SetOpenChat {
        user_id: Option<UserId>,
    },
    SaveSettings {
        settings: Box<Settings>,
    },
    /// Stores a secret in the keychain (and reconnects with it).
    SetSecret {
        name: SecretName,
        value: String,
    },
    ClearSecret {
        name: SecretName,
    },
    /// Stores a forwarding target's secret (ntfy's access token, Gotify's application token, a
    /// webhook's secret address) under its id, saved or not yet.
    SetForwardSecret {
        id: String,
        value: String,
    },
    ClearForwardSecret {
        id: String,
    },
    /// Sends a test to `target` (a draft of one of `notifications.forward`, not saved) now;
    /// answers a `ForwardCheck`.
    TestForward {
        target: Box<ForwardTarget>,
    },
    /// Connects once with `server` (a draft of `Settings.server`, not saved) and the stored
    /// secrets; answers a `CheckReport` or a `net` error.
    CheckConnection {
        server: Box<ServerSettings>,
    },
    MuteChat {
        user_id: UserId,
        minutes: Option<u32>,
    },
    UnmuteChat {
        user_id: UserId,
    },
    SnoozeChat {
        user_id: UserId,
        minutes: Option<u32>,
    },
    UnsnoozeChat {
        user_id: UserId,
    },
    OpenWebPanel {
        user_id: UserId,
    },
    PreviewWebPanel {
        template: String,
    },
    SetDnd {
        on: bool,
    },
    PreviewSound {
        tone: Tone,
        volume: u8,
    },
    TestAlerts,
    RecentDecisions,
    StartDemo,
    RetryStart,
    ReconnectNow,
    /// The page's own timing of its opening, once per window (ms after its navigation
    /// started, from `performance`): logged for the benchmark and for a slow opening's report.
    PagePainted {
        dom_ms: f64,
        painted_ms: f64,
    },
}

impl Command {
    /// The page's `invoke(name, args)` as a command, or why it is not one. A command without
    /// arguments may come with `{}` or nothing.
    pub fn parse(name: &str, args: serde_json::Value) -> Result<Command, CommandError> {
        let empty = args.is_null() || args.as_object().is_some_and(|a| a.is_empty());
        let mut tagged = serde_json::json!({ "command": name, "args": args });
        let parsed = serde_json::from_value(tagged.clone()).or_else(|e| {
            if !empty {
                return Err(e);
            }
            tagged.as_object_mut().map(|t| t.remove("args"));
            serde_json::from_value(tagged).map_err(|_| e)
        });
        parsed.map_err(|e| CommandError::invalid(format!("{name}: {e}")))
    }

    /// Whether the command only reads the store (the chat list, a chat, its history, search):
    /// the window answers it from its own read-only connection.
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Command::ListChats { .. }
                | Command::GetChat { .. }
                | Command::ChatHistory { .. }
                | Command::SearchMessages { .. }
        )
    }
}

/// From the window (or a launcher) to the resident, after the handshake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToResident {
    /// A command; answered by a `Reply` with the same `id`.
    Call { id: u64, command: Command },
    /// Whether the window has the keyboard focus (the open chat counts as watched only then).
    Focus { focused: bool },
    /// Show the window (a launcher's only message).
    Open,
}

/// From the resident to the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToWindow {
    Reply {
        id: u64,
        result: Result<serde_json::Value, CommandError>,
    },
    /// For the page.
    Event(UiEvent),
    /// Raise the window and give it the focus (a launch, the tray's Open).
    Show,
    /// A customer's wait turned urgent: the taskbar's urgency hint, never the focus.
    Attention,
    /// The window's title ("Chatbell — 3 waiting").
    Title { title: String },
    /// The unread total, for the taskbar or dock entry's count.
    Unread { total: u64 },
    /// The session moved to another database (the demo started): read that one from now on.
    Database { db: PathBuf },
    /// The agent quit Chatbell from the tray: close.
    Quit,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_pages_calls_parse_with_their_arguments() {
        for args in [json!({}), json!(null)] {
            assert_eq!(Command::parse("app_info", args).unwrap(), Command::AppInfo);
        }
        assert_eq!(
            Command::parse(
                "list_chats",
                json!({"limit": 50, "offset": 0, "order": "waiting"})
            )
            .unwrap(),
            Command::ListChats {
                limit: 50,
                offset: 0,
                order: Some(ChatOrder::Waiting)
            }
        );
        assert_eq!(
            Command::parse("set_open_chat", json!({"user_id": null})).unwrap(),
            Command::SetOpenChat { user_id: None }
        );
        assert_eq!(
            Command::parse("set_open_chat", json!({})).unwrap(),
            Command::SetOpenChat { user_id: None }
        );
        assert_eq!(
            Command::parse(
                "set_secret",
                json!({"name": "proxy_password", "value": "hunter2"})
            )
            .unwrap(),
            Command::SetSecret {
                name: SecretName::ProxyPassword,
                value: "hunter2".into()
            }
        );
        assert_eq!(
            Command::parse("clear_secret", json!({"name": "key_passphrase"})).unwrap(),
            Command::ClearSecret {
                name: SecretName::KeyPassphrase
            }
        );
        let mut server = Settings::default().server;
        server.url = Some("wss://support.corp.example/ws".into());
        assert_eq!(
            Command::parse("check_connection", json!({ "server": server })).unwrap(),
            Command::CheckConnection {
                server: Box::new(server)
            }
        );
        assert!(Command::parse("set_secret", json!({"name": "api_key", "value": "x"})).is_err());
        assert!(
            Command::parse("search_messages", json!({"query": "x", "limit": 5}))
                .unwrap()
                .is_read()
        );
        assert!(
            !Command::parse("mark_read", json!({"user_id": 7}))
                .unwrap()
                .is_read()
        );
    }

    #[test]
    fn a_call_that_is_not_a_command_is_refused_in_words() {
        let cases = [
            ("rm_rf", json!({})),
            ("mark_read", json!({"user_id": "seven"})),
            ("mark_read", json!({})),
            ("list_chats", json!([1, 2])),
            ("app_info", json!({"extra": 1, "more": [1]})),
        ];
        for (name, args) in cases {
            match Command::parse(name, args.clone()) {
                Err(CommandError::Invalid { message }) => {
                    assert!(message.starts_with(&format!("{name}: ")), "{message}")
                }
                other => panic!("{name} {args}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_message_reads_back_as_written() {
        let messages = [
            ToResident::Call {
                id: 3,
                command: Command::SnoozeChat {
                    user_id: 9,
                    minutes: Some(15),
                },
            },
            ToResident::Focus { focused: true },
            ToResident::Open,
        ];
        for m in messages {
            let line = serde_json::to_string(&m).unwrap();
            assert!(!line.contains('\n'));
            assert_eq!(serde_json::from_str::<ToResident>(&line).unwrap(), m);
        }
    }
}
