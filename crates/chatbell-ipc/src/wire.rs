//! The messages on the local socket, one JSON object per line, and the handshake that opens
//! every connection: the client says who it is and which protocol it speaks, and the resident
//! process welcomes it or refuses it with a sentence saying why (never a garbled exchange
//! between two builds that do not understand each other).

use std::path::PathBuf;

use chatbell_engine::model::{ChatOrder, Seq};
use chatbell_engine::settings::Settings;
use chatbell_engine::sound::Tone;
use chatbell_protocol::UserId;
use serde::{Deserialize, Serialize};

use crate::contract::{CommandError, Mode, UiEvent};

/// The protocol both sides speak; any change to the messages below raises it.
pub const PROTOCOL: u32 = 1;

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
}

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
    pub mode: Mode,
}

/// A command from the page that the resident carries out. The variants are the commands of
/// `docs/ipc.md` (`snake_case`, with the page's argument names) other than the reads of the
/// store, which the window answers from its own connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", content = "args", rename_all = "snake_case")]
pub enum Command {
    AppInfo,
    MarkRead {
        user_id: UserId,
    },
    SetOpenChat {
        user_id: Option<UserId>,
    },
    SaveSettings {
        settings: Box<Settings>,
    },
    SetToken {
        token: String,
    },
    ClearToken,
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
}

/// The reads of the store the window answers itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", content = "args", rename_all = "snake_case")]
pub enum Read {
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
    Database { db: PathBuf, mode: Mode },
    /// The agent quit Chatbell from the tray: close.
    Quit,
}
