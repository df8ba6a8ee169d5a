//! Notifications over the freedesktop D-Bus interface (`org.freedesktop.Notifications`):
//! `Notify` through notify-rust's zbus backend, the other calls straight over zbus.
//!
//! Every call is async and bounded by [`CALL_TIMEOUT`]: a daemon that never answers costs a
//! dropped future, never a thread (notify-rust's `get_capabilities` and
//! `get_server_information` block one until the daemon answers, which a hung one never does).

use std::collections::HashMap;

use notify_rust::{Hint, Notification, NotificationResponse, Timeout, Urgency};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{
    BoxFuture, CALL_TIMEOUT, Notifier, NotifierConfig, NotifyError, Request, Response, ServerInfo,
};

const SERVICE: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";

pub struct Freedesktop {
    config: NotifierConfig,
    responses_tx: mpsc::Sender<Response>,
    responses_rx: Option<mpsc::Receiver<Response>>,
    /// One task per live notification, waiting on its connection for the action or the close.
    /// (Servers like dunst send `ActionInvoked` only to the connection that sent `Notify`.)
    waiters: HashMap<u32, JoinHandle<()>>,
    /// What the server can do, asked once (again after it failed): whether it renders body
    /// markup (then the body must be escaped) and shows action buttons.
    caps: Option<Caps>,
    /// The session-bus connection for the calls whose answer is all we need (capabilities,
    /// server information, close): made on first use, made again after it failed.
    bus: Option<zbus::Connection>,
}

#[derive(Debug, Clone, Copy)]
struct Caps {
    markup: bool,
    actions: bool,
}

impl Freedesktop {
    pub fn new(config: NotifierConfig) -> Self {
        let (responses_tx, responses_rx) = mpsc::channel(64);
        Freedesktop {
            config,
            responses_tx,
            responses_rx: Some(responses_rx),
            waiters: HashMap::new(),
            caps: None,
            bus: None,
        }
    }

    /// Calls a method of the notification server within [`CALL_TIMEOUT`]; returns the reply.
    async fn call(
        &mut self,
        method: &'static str,
        body: &(impl serde::Serialize + zbus::zvariant::DynamicType + Sync),
    ) -> Result<zbus::Message, NotifyError> {
        let bus = self.bus.take();
        let call = async {
            let conn = match bus {
                Some(conn) => conn,
                None => zbus::Connection::session()
                    .await
                    .map_err(|e| NotifyError::NoServer(e.to_string()))?,
            };
            let reply = conn
                .call_method(Some(SERVICE), PATH, Some(SERVICE), method, body)
                .await;
            Ok::<_, NotifyError>((conn, reply))
        };
        // On a timeout the connection goes with the call: the next call starts afresh.
        let (conn, reply) = tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| NotifyError::Timeout(CALL_TIMEOUT))??;
        match reply {
            Ok(reply) => {
                self.bus = Some(conn);
                Ok(reply)
            }
            Err(e) => {
                // An error reply came over a connection that works; anything else did not.
                if matches!(e, zbus::Error::FDO(_) | zbus::Error::MethodError(..)) {
                    self.bus = Some(conn);
                }
                Err(call_error(e))
            }
        }
    }

    async fn capabilities(&mut self) -> Result<Vec<String>, NotifyError> {
        self.call("GetCapabilities", &())
            .await?
            .body()
            .deserialize()
            .map_err(bad_reply)
    }

    async fn show_inner(&mut self, request: Request) -> Result<u32, NotifyError> {
        let caps = match self.caps {
            Some(caps) => caps,
            None => {
                let list = self.capabilities().await?;
                let has = |name: &str| list.iter().any(|c| c == name);
                let caps = Caps {
                    markup: has("body-markup"),
                    actions: has("actions"),
                };
                self.caps = Some(caps);
                caps
            }
        };
        let body = if caps.markup {
            escape_markup(&request.body)
        } else {
            request.body
        };
        let mut n = Notification::new();
        n.appname(&self.config.app_name)
            .summary(&request.summary)
            .body(&body)
            .icon(&self.config.icon)
            .action("default", request.open_label)
            .hint(Hint::DesktopEntry(self.config.desktop_entry.clone()))
            .hint(Hint::Category("im.received".into()))
            .timeout(Timeout::Default);
        // Without the capability a server may show the keys as text, or refuse the call.
        if caps.actions {
            for (action, label) in &request.actions {
                n.action(action.key(), label);
            }
        }
        if request.critical {
            n.urgency(Urgency::Critical);
        }
        if request.sound {
            n.hint(Hint::SoundName("message-new-instant".into()));
        } else {
            n.hint(Hint::SuppressSound(true));
        }
        if let Some(id) = request.replaces {
            n.id(id);
        }
        // `show_async` opens a connection of its own (the one the click comes back on). On a
        // timeout the future is dropped with it, and zbus aborts the connection's reader task.
        let handle = match tokio::time::timeout(CALL_TIMEOUT, n.show_async()).await {
            Ok(Ok(handle)) => handle,
            // The server may have changed (a restarted daemon): ask again next time.
            Ok(Err(e)) => {
                self.caps = None;
                return Err(NotifyError::NoServer(e.to_string()));
            }
            Err(_) => {
                self.caps = None;
                return Err(NotifyError::Timeout(CALL_TIMEOUT));
            }
        };
        let id = handle.id();
        let tx = self.responses_tx.clone();
        let waiter = tokio::spawn(async move {
            handle
                .wait_for_action_async(|response| {
                    let response = match response {
                        NotificationResponse::Default => Response::Invoked {
                            id,
                            action: "default".into(),
                        },
                        NotificationResponse::Action(action) => Response::Invoked {
                            id,
                            action: action.clone(),
                        },
                        NotificationResponse::Closed(_) => Response::Closed { id },
                        _ => return,
                    };
                    let _ = tx.try_send(response);
                })
                .await;
        });
        if let Some(old) = self.waiters.insert(id, waiter) {
            old.abort();
        }
        self.waiters.retain(|_, w| !w.is_finished());
        Ok(id)
    }
}

impl Notifier for Freedesktop {
    fn show(&mut self, request: Request) -> BoxFuture<'_, Result<u32, NotifyError>> {
        Box::pin(self.show_inner(request))
    }

    fn close(&mut self, id: u32) -> BoxFuture<'_, Result<(), NotifyError>> {
        Box::pin(async move {
            if let Some(waiter) = self.waiters.remove(&id) {
                waiter.abort();
            }
            // notify-rust closes only through the handle of the connection that showed the
            // notification, which may be gone: call CloseNotification directly.
            self.call("CloseNotification", &(id,)).await.map(|_| ())
        })
    }

    fn take_responses(&mut self) -> Option<mpsc::Receiver<Response>> {
        self.responses_rx.take()
    }

    fn server_info(&mut self) -> BoxFuture<'_, Result<ServerInfo, NotifyError>> {
        Box::pin(async move {
            let (name, vendor, version, _spec): (String, String, String, String) = self
                .call("GetServerInformation", &())
                .await?
                .body()
                .deserialize()
                .map_err(bad_reply)?;
            Ok(ServerInfo {
                name,
                vendor,
                version,
                capabilities: self.capabilities().await?,
            })
        })
    }
}

/// A failed call, in the words of [`NotifyError`].
fn call_error(e: zbus::Error) -> NotifyError {
    match &e {
        zbus::Error::FDO(fdo)
            if matches!(
                **fdo,
                zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
            ) =>
        {
            NotifyError::NoServer(e.to_string())
        }
        // The bus's own answer that nobody owns the name comes as a method error, by name.
        zbus::Error::MethodError(name, ..)
            if matches!(
                name.as_str(),
                "org.freedesktop.DBus.Error.ServiceUnknown"
                    | "org.freedesktop.DBus.Error.NameHasNoOwner"
            ) =>
        {
            NotifyError::NoServer(e.to_string())
        }
        // The daemon is there and answered with an error.
        zbus::Error::FDO(_) | zbus::Error::MethodError(..) => NotifyError::Failed(e.to_string()),
        // No session bus, or the connection to it broke.
        _ => NotifyError::NoServer(e.to_string()),
    }
}

fn bad_reply(e: zbus::Error) -> NotifyError {
    NotifyError::Failed(format!("unexpected reply: {e}"))
}

/// Escapes text for the freedesktop body markup (a subset of HTML): what a customer typed is
/// shown as typed, never as bold text or a link.
fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_markup(r#"<b>x</b> & <a href="http://e.vil">'y'</a>"#),
            "&lt;b&gt;x&lt;/b&gt; &amp; &lt;a href=&quot;http://e.vil&quot;&gt;&apos;y&apos;&lt;/a&gt;"
        );
    }
}
