//! Test peers that are the real thing, not mocks: a private `dbus-daemon`, a notification
//! server that owns `org.freedesktop.Notifications` and records every call, a
//! StatusNotifierWatcher that records tray registrations, a Secret Service
//! (`gnome-keyring-daemon`), and helpers for the child processes under test.
//!
//! Each test starts its own bus, so tests run in parallel without sharing state, and the
//! processes under test get it through `DBUS_SESSION_BUS_ADDRESS`. A virtual display (Xvfb),
//! or a headless Wayland compositor (weston), and a minimal WebDriver client drive the desktop
//! app in a real window; `desktop` puts them together around the app and the simulator. A
//! hostile WebSocket server plays the faults a well-behaved one never would. For the network
//! behind a company's: `pki` makes a throwaway CA, server and client certificates at run time,
//! `proxy` runs real proxies on loopback (tinyproxy for HTTP CONNECT, microsocks for SOCKS5) and
//! a relay that records what a client told them, and `portal` answers the desktop portal's
//! `ProxyResolver.Lookup` on a private bus. `layering` reads a
//! crate's source for import circles. `wait` is how every test waits: `eventually(what,
//! within, check)`, which says on timeout what it waited for and what it saw last.

/// Items of the Linux desktop's peers (D-Bus, X11, Wayland, PulseAudio, proxies, WebDriver):
/// the tests that use them are Linux's.
macro_rules! linux_only {
    ($($item:item)*) => { $(#[cfg(target_os = "linux")] $item)* };
}

linux_only! {
    mod audio;
    mod bus;
    pub mod desktop;
    mod display;
    mod keyring;
    mod notifications;
    mod portal;
    mod proxy;
    mod screensaver;
    mod screen;
    mod tray;
    mod wayland;
    pub mod webdriver;
}

mod hostile;
mod http;
pub mod layering;
mod pki;
mod process;
mod wait;

pub use hostile::{HostileServer, Misbehaviour, OVERSIZE};
pub use http::{Answer, Recorded, RecordingHttp};
pub use pki::{CLIENT_CA, Ca, CertFiles, PROXY_CA, Pki, SERVER_CA};
pub use process::{Lines, PROXY_ENV, Spawned, free_port, logs_in, processes_of, write_into_place};
pub use wait::{
    Text, TimedOut, eventually, eventually_blocking, try_eventually, try_eventually_blocking,
    watch_until,
};
#[cfg(target_os = "linux")]
pub use {
    audio::{Burst, Pcm, PulseServer, Recording},
    bus::{PrivateBus, in_private_desktop},
    display::VirtualDisplay,
    keyring::SecretService,
    notifications::{Behaviour, HintValue, NotificationServer, NotifyCall},
    portal::{FakePortal, PORTAL_NAME, PORTAL_PATH, PROXY_RESOLVER},
    proxy::{Captured, Proxy, ProxyKind, ProxyOptions, Relay, find},
    screen::{Screen, saturated},
    screensaver::{FakeIdleMonitor, FakeLogind, FakeScreenSaver},
    tray::{TrayItem, TrayWatcher},
    wayland::Weston,
};
