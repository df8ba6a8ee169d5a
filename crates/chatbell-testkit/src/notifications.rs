use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue as OwnedVariant;

use crate::PrivateBus;

/// A hint as received, reduced to what tests compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HintValue {
    Bool(bool),
    Str(String),
    Int(i64),
    Other(String),
}

impl From<&OwnedVariant> for HintValue {
    fn from(v: &OwnedVariant) -> Self {
        if let Ok(b) = bool::try_from(v) {
            HintValue::Bool(b)
        } else if let Ok(s) = String::try_from(&**v) {
            HintValue::Str(s)
        } else if let Ok(i) = i32::try_from(v) {
            HintValue::Int(i.into())
        } else if let Ok(i) = u8::try_from(v) {
            HintValue::Int(i.into())
        } else {
            HintValue::Other(format!("{v:?}"))
        }
    }
}

/// One `Notify` call, exactly as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifyCall {
    pub app_name: String,
    pub replaces_id: u32,
    pub app_icon: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
    pub hints: BTreeMap<String, HintValue>,
    pub expire_timeout: i32,
    /// The id this server answered.
    pub id: u32,
    /// When the call arrived (for latency measurements).
    #[serde(skip)]
    pub arrived: std::time::Instant,
}

/// How the server behaves: well, or like the broken daemons the notifier must survive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers every call.
    #[default]
    Normal,
    /// Never answers `GetCapabilities` (the call stays pending); answers everything else.
    HangCapabilities,
    /// Never answers any call.
    HangEverything,
    /// Answers every call with `org.freedesktop.DBus.Error.Failed` and this message.
    ErrorEverything(String),
}

#[derive(Default)]
struct Log {
    calls: Vec<NotifyCall>,
    closed_by_client: Vec<u32>,
    /// Every method call received, by name, answered or not.
    requests: Vec<&'static str>,
    next_id: u32,
}

struct Server {
    log: Arc<Mutex<Log>>,
    capabilities: Vec<String>,
    behaviour: Behaviour,
}

impl Server {
    /// Records the call, then answers as the behaviour says: `Ok` to go on, an error to return,
    /// or never.
    async fn receive(&self, method: &'static str) -> zbus::fdo::Result<()> {
        self.log.lock().unwrap().requests.push(method);
        match &self.behaviour {
            Behaviour::Normal => Ok(()),
            Behaviour::HangCapabilities if method != "GetCapabilities" => Ok(()),
            Behaviour::HangCapabilities | Behaviour::HangEverything => std::future::pending().await,
            Behaviour::ErrorEverything(message) => Err(zbus::fdo::Error::Failed(message.clone())),
        }
    }
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: std::collections::HashMap<String, OwnedVariant>,
        expire_timeout: i32,
    ) -> zbus::fdo::Result<u32> {
        self.receive("Notify").await?;
        let mut log = self.log.lock().unwrap();
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            log.next_id += 1;
            log.next_id
        };
        let hints = hints
            .iter()
            .map(|(k, v)| (k.clone(), HintValue::from(v)))
            .collect();
        log.calls.push(NotifyCall {
            app_name,
            replaces_id,
            app_icon,
            summary,
            body,
            actions,
            hints,
            expire_timeout,
            id,
            arrived: std::time::Instant::now(),
        });
        Ok(id)
    }

    async fn close_notification(
        &self,
        id: u32,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        self.receive("CloseNotification").await?;
        self.log.lock().unwrap().closed_by_client.push(id);
        let _ = Self::notification_closed(&emitter, id, 3).await;
        Ok(())
    }

    async fn get_capabilities(&self) -> zbus::fdo::Result<Vec<String>> {
        self.receive("GetCapabilities").await?;
        Ok(self.capabilities.clone())
    }

    async fn get_server_information(&self) -> zbus::fdo::Result<(String, String, String, String)> {
        self.receive("GetServerInformation").await?;
        Ok((
            "chatbell-test-server".into(),
            "Chatbell tests".into(),
            "1.0".into(),
            "1.2".into(),
        ))
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

/// Owns `org.freedesktop.Notifications` on a private bus and records every call.
pub struct NotificationServer {
    conn: zbus::Connection,
    log: Arc<Mutex<Log>>,
}

const PATH: &str = "/org/freedesktop/Notifications";

impl NotificationServer {
    /// Starts a server advertising these capabilities (e.g. `body`, `body-markup`, `actions`).
    /// A test of a missing daemon starts none; starting one later on the same bus is a daemon
    /// that appears.
    pub async fn start(bus: &PrivateBus, capabilities: &[&str]) -> NotificationServer {
        Self::start_with(bus, capabilities, Behaviour::Normal).await
    }

    /// A server that behaves as told: hangs or fails its calls.
    pub async fn start_with(
        bus: &PrivateBus,
        capabilities: &[&str],
        behaviour: Behaviour,
    ) -> NotificationServer {
        Self::serve(bus.address(), capabilities, behaviour).await
    }

    /// The same as [`NotificationServer::start`], on a bus known only by its address (a parent
    /// process's private bus).
    pub async fn start_at(address: &str, capabilities: &[&str]) -> NotificationServer {
        Self::serve(address, capabilities, Behaviour::Normal).await
    }

    async fn serve(
        address: &str,
        capabilities: &[&str],
        behaviour: Behaviour,
    ) -> NotificationServer {
        let log = Arc::new(Mutex::new(Log::default()));
        let server = Server {
            log: log.clone(),
            capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
            behaviour,
        };
        let conn = zbus::connection::Builder::address(address)
            .expect("a bus address")
            .serve_at(PATH, server)
            .expect("serves the notifications")
            .name("org.freedesktop.Notifications")
            .expect("a bus name")
            .build()
            .await
            .expect("owns org.freedesktop.Notifications");
        NotificationServer { conn, log }
    }

    pub fn calls(&self) -> Vec<NotifyCall> {
        self.log.lock().unwrap().calls.clone()
    }

    /// Every method call received so far (`Notify`, `GetCapabilities`, …), in order, whether it
    /// was answered, refused or left hanging.
    pub fn requests(&self) -> Vec<&'static str> {
        self.log.lock().unwrap().requests.clone()
    }

    /// Ids the client asked to close with `CloseNotification`.
    pub fn closed_by_client(&self) -> Vec<u32> {
        self.log.lock().unwrap().closed_by_client.clone()
    }

    /// Waits until at least `n` calls have arrived (or the timeout passes) and returns them all.
    pub async fn wait_calls(&self, n: usize, timeout: Duration) -> Vec<NotifyCall> {
        let what = format!("{n} notification(s)");
        crate::try_eventually(&what, timeout, async || {
            let calls = self.calls();
            match calls.len() >= n {
                true => Ok(calls),
                false => Err(calls.len()),
            }
        })
        .await
        .unwrap_or_else(|_| self.calls())
    }

    /// Emits `ActionInvoked(id, action)`, as when the user clicks the notification.
    pub async fn invoke(&self, id: u32, action: &str) {
        let emitter = SignalEmitter::new(&self.conn, PATH).expect("path");
        Server::action_invoked(&emitter, id, action)
            .await
            .expect("signal sent");
    }

    /// Emits `NotificationClosed(id, reason)`; reason 1 = expired, 2 = dismissed by the user.
    pub async fn close(&self, id: u32, reason: u32) {
        let emitter = SignalEmitter::new(&self.conn, PATH).expect("path");
        Server::notification_closed(&emitter, id, reason)
            .await
            .expect("signal sent");
    }
}
