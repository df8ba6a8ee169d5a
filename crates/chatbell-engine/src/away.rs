//! Whether the agent is at the desk (issue 28): away while the screen is locked, or once no
//! input has come for `notifications.away.idle_minutes`. The decision is pure ([`is_away`],
//! [`next_look`]); the desktop is asked by a [`Source`], followed by one task ([`follow`]) that
//! wakes on the lock's signals, at the next look at the idle time the threshold needs, and on a
//! change of the settings, and not at all while no forwarding target is set.
//!
//! - Linux and the BSDs, over D-Bus without a toolkit: `org.freedesktop.ScreenSaver`
//!   (`GetActive`, `ActiveChanged`, `GetSessionIdleTime` where offered: KDE, Xfce), GNOME's
//!   `org.gnome.ScreenSaver` (`GetActive`, `ActiveChanged`) and Mutter's idle monitor
//!   (`GetIdletime`), and logind's `LockedHint` of the caller's session on the system bus
//!   (`PropertiesChanged`), which any desktop that locks through logind sets.
//! - Windows and macOS: the idle time (`GetLastInputInfo`, IOKit's `HIDIdleTime`), read at each
//!   look; the lock is not read there, so a locked screen is away once idle past the threshold.

use std::time::Duration;

use crate::settings::forward::AwaySettings;

/// What the desktop says, each part only where it can be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Signals {
    /// The screen is locked (the screensaver is active).
    pub locked: Option<bool>,
    /// Since the last input.
    pub idle: Option<Duration>,
}

/// Away: the screen is locked, or idle past the threshold (when there is one and the idle
/// time can be read).
pub fn is_away(signals: &Signals, settings: &AwaySettings) -> bool {
    if signals.locked == Some(true) {
        return true;
    }
    match (settings.idle_minutes, signals.idle) {
        (Some(minutes), Some(idle)) => idle >= Duration::from_secs(u64::from(minutes) * 60),
        _ => false,
    }
}

/// When to read the idle time again, `signals` having just been read. Locked: not until the
/// unlock's signal (the lock decides alone). Idle past the threshold: every 15 s, to see the
/// agent come back (input has no signal). Otherwise when the threshold would be crossed with no
/// input meanwhile (at least 5 s away): it cannot be crossed sooner, so an agent at work is
/// looked at about once per threshold.
/// `None`: there is no idle threshold, or no idle time to read; the lock's signal is enough.
pub fn next_look(signals: &Signals, settings: &AwaySettings) -> Option<Duration> {
    if signals.locked == Some(true) {
        return None;
    }
    let threshold = Duration::from_secs(u64::from(settings.idle_minutes?) * 60);
    let idle = signals.idle?;
    if idle >= threshold {
        return Some(BACK_LOOK);
    }
    Some((threshold - idle).max(Duration::from_secs(5)))
}

/// How often an agent away by idleness is looked at, to see them come back.
pub const BACK_LOOK: Duration = Duration::from_secs(15);

/// Where the agent's presence is read.
pub enum Source {
    /// Nowhere: the agent is never away (tools, and tests that do not ask).
    None,
    /// The desktop's buses: the session's, and the system's for logind.
    #[cfg(freedesktop)]
    Freedesktop {
        session: Option<zbus::Connection>,
        system: Option<zbus::Connection>,
    },
    /// The operating system's own calls.
    #[cfg(any(windows, target_os = "macos"))]
    System,
}

impl Source {
    /// This desktop's source: on Linux the session and system buses (either may be missing).
    pub async fn desktop() -> Source {
        #[cfg(freedesktop)]
        {
            let (session, system) =
                tokio::join!(zbus::Connection::session(), zbus::Connection::system());
            Source::Freedesktop {
                session: session.ok(),
                system: system.ok(),
            }
        }
        #[cfg(any(windows, target_os = "macos"))]
        {
            Source::System
        }
        #[cfg(not(any(freedesktop, windows, target_os = "macos")))]
        {
            Source::None
        }
    }
}

/// Asks `source` once: what it says, and who answered (for `doctor`).
pub async fn look(source: Source) -> (Signals, Vec<&'static str>) {
    let mut desk = Desk::open(source).await;
    let signals = desk.read().await;
    (signals, desk.answered())
}

/// Follows `source`: whether the agent is away, published whenever it changes. Nothing is
/// read while `settings` name no forwarding target (nobody to tell), so a desktop without
/// forwarding wakes for none of it.
pub fn follow(
    source: Source,
    mut settings: tokio::sync::watch::Receiver<crate::settings::Settings>,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
) -> tokio::sync::watch::Receiver<bool> {
    let (away, out) = tokio::sync::watch::channel(false);
    if let Source::None = source {
        return out;
    }
    tokio::spawn(async move {
        let mut desk = Desk::open(source).await;
        // What the last full read said: a timer's look asks only the idle time (the locks
        // are followed by their signals), so an idle desktop costs one call a minute.
        let mut last: Option<Signals> = None;
        let mut timer = false;
        loop {
            let (wanted, now) = {
                let s = settings.borrow_and_update();
                (!s.notifications.forward.is_empty(), s.notifications.away)
            };
            let look = if wanted {
                let signals = match (std::mem::take(&mut timer), last) {
                    (true, Some(known)) => Signals {
                        idle: desk.read_idle().await,
                        ..known
                    },
                    _ => desk.read().await,
                };
                last = Some(signals);
                let is = is_away(&signals, &now);
                away.send_if_modified(|was| std::mem::replace(was, is) != is);
                next_look(&signals, &now)
            } else {
                away.send_if_modified(|was| std::mem::replace(was, false));
                None
            };
            let deadline = look.map(|wait| clock.mono() + wait);
            tokio::select! {
                _ = away.closed() => return,
                changed = settings.changed() => if changed.is_err() { return },
                _ = desk.changed(), if wanted => {}
                _ = crate::clock::sleep_or_pending(&*clock, deadline) => timer = true,
            }
        }
    });
    out
}

#[cfg(freedesktop)]
pub mod freedesktop {
    //! The desktop's word over D-Bus: the screensavers' and logind's locks (signals), and the
    //! idle time (`org.freedesktop.ScreenSaver`'s, else Mutter's).

    use std::pin::Pin;
    use std::time::Duration;

    use futures_util::{Stream, StreamExt};

    use super::Signals;

    #[zbus::proxy(
        interface = "org.freedesktop.ScreenSaver",
        default_service = "org.freedesktop.ScreenSaver",
        default_path = "/org/freedesktop/ScreenSaver"
    )]
    pub trait ScreenSaver {
        fn get_active(&self) -> zbus::Result<bool>;
        fn get_session_idle_time(&self) -> zbus::Result<u32>;
        #[zbus(signal)]
        fn active_changed(&self, active: bool) -> zbus::Result<()>;
    }

    pub mod gnome {
        //! GNOME's own screensaver interface (its shell answers it, not the freedesktop one).
        #[zbus::proxy(
            interface = "org.gnome.ScreenSaver",
            default_service = "org.gnome.ScreenSaver",
            default_path = "/org/gnome/ScreenSaver"
        )]
        pub trait GnomeScreenSaver {
            fn get_active(&self) -> zbus::Result<bool>;
            #[zbus(signal)]
            fn active_changed(&self, active: bool) -> zbus::Result<()>;
        }
    }
    use gnome::GnomeScreenSaverProxy;

    #[zbus::proxy(
        interface = "org.gnome.Mutter.IdleMonitor",
        default_service = "org.gnome.Mutter.IdleMonitor",
        default_path = "/org/gnome/Mutter/IdleMonitor/Core"
    )]
    pub trait IdleMonitor {
        /// Milliseconds since the last input.
        fn get_idletime(&self) -> zbus::Result<u64>;
    }

    #[zbus::proxy(
        interface = "org.freedesktop.login1.Session",
        default_service = "org.freedesktop.login1",
        default_path = "/org/freedesktop/login1/session/auto"
    )]
    pub trait LoginSession {
        #[zbus(property)]
        fn locked_hint(&self) -> zbus::Result<bool>;
        #[zbus(property)]
        fn id(&self) -> zbus::Result<String>;
    }

    #[zbus::proxy(
        interface = "org.freedesktop.login1.Manager",
        default_service = "org.freedesktop.login1",
        default_path = "/org/freedesktop/login1"
    )]
    pub trait LoginManager {
        fn get_session(&self, id: &str) -> zbus::Result<zbus::zvariant::OwnedObjectPath>;
    }

    /// The caller's session at its own path: logind answers calls at `session/auto`, but
    /// announces `LockedHint` changes only from the session's real path (`session/_32`).
    async fn login_session(bus: &zbus::Connection) -> Option<LoginSessionProxy<'static>> {
        let auto = LoginSessionProxy::builder(bus)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .ok()?;
        let id = auto.id().await.ok()?;
        let path = LoginManagerProxy::new(bus)
            .await
            .ok()?
            .get_session(&id)
            .await
            .ok()?;
        LoginSessionProxy::builder(bus)
            .path(path)
            .ok()?
            .build()
            .await
            .ok()
    }

    type Changes = Pin<Box<dyn Stream<Item = ()> + Send>>;

    /// The proxies, made once, and the lock signals merged into one stream.
    pub(super) struct Desk {
        saver: Option<ScreenSaverProxy<'static>>,
        gnome: Option<GnomeScreenSaverProxy<'static>>,
        mutter: Option<IdleMonitorProxy<'static>>,
        logind: Option<LoginSessionProxy<'static>>,
        changes: Option<futures_util::stream::SelectAll<Changes>>,
        /// Who answered the last read.
        pub answered: Vec<&'static str>,
        /// The screensaver offers the idle time (KDE's does, GNOME's does not).
        saver_idle: bool,
    }

    impl Desk {
        pub async fn open(
            session: Option<zbus::Connection>,
            system: Option<zbus::Connection>,
        ) -> Desk {
            let mut desk = Desk {
                saver: None,
                gnome: None,
                mutter: None,
                logind: None,
                changes: None,
                answered: Vec::new(),
                saver_idle: true,
            };
            let mut changes: Vec<Changes> = Vec::new();
            if let Some(bus) = &session {
                if let Ok(p) = ScreenSaverProxy::builder(bus)
                    .cache_properties(zbus::proxy::CacheProperties::No)
                    .build()
                    .await
                {
                    if let Ok(s) = p.receive_active_changed().await {
                        changes.push(Box::pin(s.map(|_| ())));
                    }
                    desk.saver = Some(p);
                }
                if let Ok(p) = GnomeScreenSaverProxy::builder(bus)
                    .cache_properties(zbus::proxy::CacheProperties::No)
                    .build()
                    .await
                {
                    if let Ok(s) = p.receive_active_changed().await {
                        changes.push(Box::pin(s.map(|_| ())));
                    }
                    desk.gnome = Some(p);
                }
                desk.mutter = IdleMonitorProxy::builder(bus)
                    .cache_properties(zbus::proxy::CacheProperties::No)
                    .build()
                    .await
                    .ok();
            }
            if let Some(bus) = &system
                && let Some(p) = login_session(bus).await
            {
                changes.push(Box::pin(p.receive_locked_hint_changed().await.map(|_| ())));
                desk.logind = Some(p);
            }
            if !changes.is_empty() {
                desk.changes = Some(futures_util::stream::select_all(changes));
            }
            desk
        }

        /// What the desktop says now: locked if any lock says so; the idle time from the
        /// screensaver, else Mutter. Each part `None` where nobody can be asked.
        pub async fn read(&mut self) -> Signals {
            async fn ask<T>(
                call: Option<impl std::future::Future<Output = zbus::Result<T>>>,
            ) -> Option<T> {
                call?.await.ok()
            }
            let (saver, gnome, logind, saver_idle, mutter_idle) = tokio::join!(
                ask(self.saver.as_ref().map(|p| p.get_active())),
                ask(self.gnome.as_ref().map(|p| p.get_active())),
                ask(self.logind.as_ref().map(|p| p.locked_hint())),
                ask(self.saver.as_ref().map(|p| p.get_session_idle_time())),
                ask(self.mutter.as_ref().map(|p| p.get_idletime())),
            );
            self.answered = [
                ("org.freedesktop.ScreenSaver", saver.is_some()),
                ("org.gnome.ScreenSaver", gnome.is_some()),
                ("logind", logind.is_some()),
                ("Mutter's idle monitor", mutter_idle.is_some()),
            ]
            .into_iter()
            .filter_map(|(name, answered)| answered.then_some(name))
            .collect();
            let locks = [saver, gnome, logind];
            let locked = match locks.contains(&Some(true)) {
                true => Some(true),
                false => locks.iter().find_map(|l| *l),
            };
            // Who did not answer is not asked again: a desktop has what it has.
            if saver.is_none() && saver_idle.is_none() {
                self.saver = None;
            }
            if saver_idle.is_none() {
                self.saver_idle = false;
            }
            if gnome.is_none() {
                self.gnome = None;
            }
            if logind.is_none() {
                self.logind = None;
            }
            if mutter_idle.is_none() {
                self.mutter = None;
            }
            let idle = saver_idle
                .map(|s| Duration::from_secs(s.into()))
                .or(mutter_idle.map(Duration::from_millis));
            Signals { locked, idle }
        }

        /// The idle time alone: the screensaver's where it offers one, else Mutter's.
        pub async fn read_idle(&mut self) -> Option<Duration> {
            if let (Some(saver), true) = (&self.saver, self.saver_idle) {
                return saver
                    .get_session_idle_time()
                    .await
                    .ok()
                    .map(|s| Duration::from_secs(s.into()));
            }
            let mutter = self.mutter.as_ref()?;
            mutter.get_idletime().await.ok().map(Duration::from_millis)
        }

        /// The next lock or unlock.
        pub async fn changed(&mut self) {
            match self.changes.as_mut() {
                Some(changes) => {
                    if changes.next().await.is_none() {
                        self.changes = None;
                    }
                }
                None => std::future::pending().await,
            }
        }
    }
}

/// The desktop being asked, on this platform.
struct Desk {
    #[cfg(freedesktop)]
    bus: Option<freedesktop::Desk>,
}

impl Desk {
    async fn open(source: Source) -> Desk {
        match source {
            Source::None => Desk {
                #[cfg(freedesktop)]
                bus: None,
            },
            #[cfg(freedesktop)]
            Source::Freedesktop { session, system } => Desk {
                bus: Some(freedesktop::Desk::open(session, system).await),
            },
            #[cfg(any(windows, target_os = "macos"))]
            Source::System => Desk {},
        }
    }

    // `&mut`: the merged signal streams are `Send` but not `Sync`.
    async fn read(&mut self) -> Signals {
        #[cfg(freedesktop)]
        if let Some(bus) = &mut self.bus {
            return bus.read().await;
        }
        #[cfg(any(windows, target_os = "macos"))]
        return tokio::task::spawn_blocking(system::read)
            .await
            .unwrap_or_default();
        #[allow(unreachable_code)]
        Signals::default()
    }

    /// The idle time alone (a timer's look).
    async fn read_idle(&mut self) -> Option<Duration> {
        #[cfg(freedesktop)]
        if let Some(bus) = &mut self.bus {
            return bus.read_idle().await;
        }
        self.read().await.idle
    }

    /// Who answered the last read.
    fn answered(&self) -> Vec<&'static str> {
        #[cfg(freedesktop)]
        if let Some(bus) = &self.bus {
            return bus.answered.clone();
        }
        if cfg!(windows) {
            return vec!["GetLastInputInfo"];
        }
        if cfg!(target_os = "macos") {
            return vec!["IOKit's HIDIdleTime"];
        }
        Vec::new()
    }

    async fn changed(&mut self) {
        #[cfg(freedesktop)]
        if let Some(bus) = &mut self.bus {
            return bus.changed().await;
        }
        std::future::pending().await
    }
}

#[cfg(any(windows, target_os = "macos"))]
mod system {
    //! Windows and macOS: the idle time (`GetLastInputInfo`; IOKit's `HIDIdleTime`) through
    //! `user-idle`. Whether the screen is locked is not read here: the calls that say so need
    //! code the workspace does not allow (`unsafe`) or a window of their own, so a locked
    //! screen counts as away once idle past the threshold.

    use super::Signals;

    pub fn read() -> Signals {
        Signals {
            locked: None,
            idle: user_idle::UserIdle::get_time()
                .ok()
                .map(|t| std::time::Duration::from_millis(t.as_milliseconds() as u64)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE: AwaySettings = AwaySettings {
        idle_minutes: Some(5),
    };
    const LOCK_ONLY: AwaySettings = AwaySettings { idle_minutes: None };

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn a_locked_screen_or_a_long_idle_is_away() {
        let cases = [
            (Some(true), None, FIVE, true),
            (Some(true), secs(0), LOCK_ONLY, true),
            (Some(false), secs(299), FIVE, false),
            (Some(false), secs(300), FIVE, true),
            (None, secs(301), FIVE, true),
            (Some(false), secs(10_000), LOCK_ONLY, false),
            (None, None, FIVE, false),
        ];
        for (locked, idle, settings, away) in cases {
            assert_eq!(
                is_away(&Signals { locked, idle }, &settings),
                away,
                "{locked:?} {idle:?} {settings:?}"
            );
        }
    }

    #[test]
    fn the_idle_time_is_read_no_more_often_than_the_threshold_needs() {
        let idle = |idle| Signals {
            locked: Some(false),
            idle,
        };
        assert_eq!(next_look(&idle(secs(0)), &FIVE), secs(300));
        assert_eq!(next_look(&idle(secs(270)), &FIVE), secs(30));
        assert_eq!(next_look(&idle(secs(298)), &FIVE), secs(5));
        // Away by idleness: looked at to see the agent come back.
        assert_eq!(next_look(&idle(secs(600)), &FIVE), Some(BACK_LOOK));
        assert_eq!(next_look(&idle(secs(0)), &LOCK_ONLY), None);
        assert_eq!(next_look(&idle(None), &FIVE), None);
        // Locked: the unlock's signal wakes it.
        let locked = Signals {
            locked: Some(true),
            idle: secs(600),
        };
        assert_eq!(next_look(&locked, &FIVE), None);
    }
}
