//! A stand-in `org.freedesktop.ScreenSaver` on a private bus, as KDE and other desktops offer
//! it: whether the screen is locked (`GetActive`, the `ActiveChanged` signal when it changes)
//! and how long since the last input (`GetSessionIdleTime`, in seconds). The test locks and
//! unlocks, and sets the idle time.

use std::sync::{Arc, Mutex};

use zbus::object_server::SignalEmitter;

use crate::PrivateBus;

const NAME: &str = "org.freedesktop.ScreenSaver";
const PATH: &str = "/org/freedesktop/ScreenSaver";

#[derive(Debug, Default)]
struct State {
    active: bool,
    idle_secs: u32,
}

struct Saver {
    state: Arc<Mutex<State>>,
}

#[zbus::interface(name = "org.freedesktop.ScreenSaver")]
impl Saver {
    fn get_active(&self) -> bool {
        self.state.lock().unwrap().active
    }

    fn get_session_idle_time(&self) -> u32 {
        self.state.lock().unwrap().idle_secs
    }

    #[zbus(signal)]
    async fn active_changed(emitter: &SignalEmitter<'_>, active: bool) -> zbus::Result<()>;
}

/// Owns `org.freedesktop.ScreenSaver` on its bus while it lives.
pub struct FakeScreenSaver {
    conn: zbus::Connection,
    state: Arc<Mutex<State>>,
}

impl FakeScreenSaver {
    /// Unlocked, no idle time.
    pub async fn start(bus: &PrivateBus) -> FakeScreenSaver {
        Self::start_at(bus.address()).await
    }

    /// On the bus at `address` (a desktop's own, as `in_private_desktop` gives it).
    pub async fn start_at(address: &str) -> FakeScreenSaver {
        let state = Arc::new(Mutex::new(State::default()));
        let conn = zbus::connection::Builder::address(address)
            .expect("a bus address")
            .serve_at(
                PATH,
                Saver {
                    state: state.clone(),
                },
            )
            .expect("serves the screensaver")
            .name(NAME)
            .expect("a bus name")
            .build()
            .await
            .expect("owns org.freedesktop.ScreenSaver");
        FakeScreenSaver { conn, state }
    }

    /// Locks or unlocks the screen, and says so (`ActiveChanged`).
    pub async fn lock(&self, active: bool) {
        self.state.lock().unwrap().active = active;
        let emitter = SignalEmitter::new(&self.conn, PATH).expect("path");
        Saver::active_changed(&emitter, active)
            .await
            .expect("signal sent");
    }

    /// The seconds since the last input from now on.
    pub fn set_idle(&self, secs: u32) {
        self.state.lock().unwrap().idle_secs = secs;
    }
}

const LOGIND: &str = "org.freedesktop.login1";
const MANAGER: &str = "/org/freedesktop/login1";
/// logind's alias for the caller's own session: calls work there, signals come from the
/// session's real path.
const AUTO: &str = "/org/freedesktop/login1/session/auto";
/// Session "2", its path escaped as logind escapes it.
const SESSION: &str = "/org/freedesktop/login1/session/_32";
const SESSION_ID: &str = "2";

struct Session {
    locked: Arc<Mutex<bool>>,
}

#[zbus::interface(name = "org.freedesktop.login1.Session")]
impl Session {
    #[zbus(property)]
    fn locked_hint(&self) -> bool {
        *self.locked.lock().unwrap()
    }

    #[zbus(property)]
    fn id(&self) -> String {
        SESSION_ID.into()
    }
}

struct Manager;

#[zbus::interface(name = "org.freedesktop.login1.Manager")]
impl Manager {
    fn get_session(&self, id: &str) -> zbus::fdo::Result<zbus::zvariant::OwnedObjectPath> {
        match id {
            SESSION_ID => Ok(zbus::zvariant::OwnedObjectPath::try_from(SESSION).unwrap()),
            _ => Err(zbus::fdo::Error::Failed(format!("no session {id}"))),
        }
    }
}

/// A stand-in logind on a bus (the test's "system bus"), shaped as logind is: the caller's
/// session answers at `session/auto` and at its own path (`session/_32`), the manager finds
/// the one from the other (`GetSession`), and `LockedHint` changes are announced
/// (`PropertiesChanged`) from the real path only, as logind does when a desktop locks.
pub struct FakeLogind {
    conn: zbus::Connection,
    locked: Arc<Mutex<bool>>,
}

impl FakeLogind {
    /// Unlocked.
    pub async fn start(bus: &PrivateBus) -> FakeLogind {
        Self::start_at(bus.address()).await
    }

    /// On the bus at `address`.
    pub async fn start_at(address: &str) -> FakeLogind {
        let locked = Arc::new(Mutex::new(false));
        let conn = zbus::connection::Builder::address(address)
            .expect("a bus address")
            .serve_at(
                SESSION,
                Session {
                    locked: locked.clone(),
                },
            )
            .expect("serves the session")
            .serve_at(
                AUTO,
                Session {
                    locked: locked.clone(),
                },
            )
            .expect("serves the session's alias")
            .serve_at(MANAGER, Manager)
            .expect("serves the manager")
            .name(LOGIND)
            .expect("a bus name")
            .build()
            .await
            .expect("owns org.freedesktop.login1");
        FakeLogind { conn, locked }
    }

    /// Sets `LockedHint`, and says so from the session's real path.
    pub async fn lock(&self, locked: bool) {
        *self.locked.lock().unwrap() = locked;
        let iface = self
            .conn
            .object_server()
            .interface::<_, Session>(SESSION)
            .await
            .expect("the session is served");
        iface
            .get()
            .await
            .locked_hint_changed(iface.signal_emitter())
            .await
            .expect("PropertiesChanged sent");
    }
}

const MUTTER: &str = "org.gnome.Mutter.IdleMonitor";
const MONITOR: &str = "/org/gnome/Mutter/IdleMonitor/Core";

struct Monitor {
    idle_ms: Arc<Mutex<u64>>,
}

#[zbus::interface(name = "org.gnome.Mutter.IdleMonitor")]
impl Monitor {
    fn get_idletime(&self) -> u64 {
        *self.idle_ms.lock().unwrap()
    }
}

/// A stand-in for GNOME's idle monitor (Mutter's `GetIdletime`, in milliseconds), where
/// `org.freedesktop.ScreenSaver` offers no idle time.
pub struct FakeIdleMonitor {
    _conn: zbus::Connection,
    idle_ms: Arc<Mutex<u64>>,
}

impl FakeIdleMonitor {
    pub async fn start(bus: &PrivateBus) -> FakeIdleMonitor {
        let idle_ms = Arc::new(Mutex::new(0));
        let conn = zbus::connection::Builder::address(bus.address())
            .expect("a bus address")
            .serve_at(
                MONITOR,
                Monitor {
                    idle_ms: idle_ms.clone(),
                },
            )
            .expect("serves the idle monitor")
            .name(MUTTER)
            .expect("a bus name")
            .build()
            .await
            .expect("owns org.gnome.Mutter.IdleMonitor");
        FakeIdleMonitor {
            _conn: conn,
            idle_ms,
        }
    }

    /// The seconds since the last input from now on.
    pub fn set_idle(&self, secs: u64) {
        *self.idle_ms.lock().unwrap() = secs * 1000;
    }
}
