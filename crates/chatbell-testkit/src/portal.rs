//! A fake XDG desktop portal on a private bus, answering `ProxyResolver.Lookup` the way
//! `xdg-desktop-portal` does from GNOME's or KDE's proxy settings: a list of proxy URIs for a
//! URI (`["direct://"]` when the desktop says no proxy). It records every URI it was asked
//! about.

use std::sync::{Arc, Mutex};

use crate::PrivateBus;

/// The portal's well-known name, object path and interface.
pub const PORTAL_NAME: &str = "org.freedesktop.portal.Desktop";
pub const PORTAL_PATH: &str = "/org/freedesktop/portal/desktop";
pub const PROXY_RESOLVER: &str = "org.freedesktop.portal.ProxyResolver";

#[derive(Default)]
struct State {
    answer: Vec<String>,
    asked: Vec<String>,
}

struct Resolver {
    state: Arc<Mutex<State>>,
}

#[zbus::interface(name = "org.freedesktop.portal.ProxyResolver")]
impl Resolver {
    /// `Lookup(s uri) -> as proxies`.
    fn lookup(&self, uri: String) -> Vec<String> {
        let mut state = self.state.lock().unwrap();
        state.asked.push(uri);
        state.answer.clone()
    }

    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        1
    }
}

/// The fake portal, owning `org.freedesktop.portal.Desktop` on its bus while it lives.
pub struct FakePortal {
    _conn: zbus::Connection,
    state: Arc<Mutex<State>>,
}

impl FakePortal {
    /// Serves on `bus`, answering `answer` (e.g. `["http://127.0.0.1:3128"]`, `["direct://"]`).
    pub async fn start(bus: &PrivateBus, answer: &[&str]) -> FakePortal {
        FakePortal::start_at(bus.address(), answer).await
    }

    /// The same on a bus known by its address (a parent process's private bus).
    pub async fn start_at(address: &str, answer: &[&str]) -> FakePortal {
        let state = Arc::new(Mutex::new(State {
            answer: answer.iter().map(|a| a.to_string()).collect(),
            asked: Vec::new(),
        }));
        let resolver = Resolver {
            state: state.clone(),
        };
        let conn = zbus::connection::Builder::address(address)
            .expect("a bus address")
            .serve_at(PORTAL_PATH, resolver)
            .expect("serves the proxy resolver")
            .name(PORTAL_NAME)
            .expect("a bus name")
            .build()
            .await
            .expect("owns org.freedesktop.portal.Desktop");
        FakePortal { _conn: conn, state }
    }

    /// Answers `answer` from now on.
    pub fn set_answer(&self, answer: &[&str]) {
        self.state.lock().unwrap().answer = answer.iter().map(|a| a.to_string()).collect();
    }

    /// The URIs asked about so far, in order.
    pub fn asked(&self) -> Vec<String> {
        self.state.lock().unwrap().asked.clone()
    }
}
