//! Notifications over the freedesktop D-Bus interface (`org.freedesktop.Notifications`),
//! through notify-rust's zbus backend.

use std::collections::HashMap;

use notify_rust::{Hint, Notification, NotificationResponse, Timeout};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::text::escape_markup;
use super::{
    BoxFuture, CALL_TIMEOUT, Notifier, NotifierConfig, NotifyError, Request, Response, ServerInfo,
};

pub struct Freedesktop {
    config: NotifierConfig,
    responses_tx: mpsc::Sender<Response>,
    responses_rx: Option<mpsc::Receiver<Response>>,
    /// One task per live notification, waiting on its connection for the action or the close.
    /// (Servers like dunst send `ActionInvoked` only to the connection that sent `Notify`.)
    waiters: HashMap<u32, JoinHandle<()>>,
    /// Whether the server renders body markup (then the body must be escaped); asked once.
    markup: Option<bool>,
}

impl Freedesktop {
    pub fn new(config: NotifierConfig) -> Self {
        let (responses_tx, responses_rx) = mpsc::channel(64);
        Freedesktop {
            config,
            responses_tx,
            responses_rx: Some(responses_rx),
            waiters: HashMap::new(),
            markup: None,
        }
    }

    async fn capabilities() -> Result<Vec<String>, NotifyError> {
        // notify-rust offers this call only blocking.
        let call = tokio::task::spawn_blocking(notify_rust::get_capabilities);
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Err(_) => Err(NotifyError::Timeout(CALL_TIMEOUT)),
            Ok(Err(join)) => Err(NotifyError::Failed(join.to_string())),
            Ok(Ok(result)) => result.map_err(|e| NotifyError::NoServer(e.to_string())),
        }
    }

    async fn show_inner(&mut self, request: Request) -> Result<u32, NotifyError> {
        let markup = match self.markup {
            Some(m) => m,
            None => {
                let m = Self::capabilities()
                    .await?
                    .iter()
                    .any(|c| c == "body-markup");
                self.markup = Some(m);
                m
            }
        };
        let body = if markup {
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
        if request.sound {
            n.hint(Hint::SoundName("message-new-instant".into()));
        } else {
            n.hint(Hint::SuppressSound(true));
        }
        if let Some(id) = request.replaces {
            n.id(id);
        }
        let handle = match tokio::time::timeout(CALL_TIMEOUT, n.show_async()).await {
            Err(_) => return Err(NotifyError::Timeout(CALL_TIMEOUT)),
            Ok(Err(e)) => {
                // The server may have changed (restarted daemon): ask again next time.
                self.markup = None;
                return Err(NotifyError::NoServer(e.to_string()));
            }
            Ok(Ok(handle)) => handle,
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
            let call = async {
                let conn = zbus_session().await?;
                conn.call_method(
                    Some("org.freedesktop.Notifications"),
                    "/org/freedesktop/Notifications",
                    Some("org.freedesktop.Notifications"),
                    "CloseNotification",
                    &(id,),
                )
                .await
                .map(|_| ())
                .map_err(|e| NotifyError::Failed(e.to_string()))
            };
            tokio::time::timeout(CALL_TIMEOUT, call)
                .await
                .map_err(|_| NotifyError::Timeout(CALL_TIMEOUT))?
        })
    }

    fn take_responses(&mut self) -> Option<mpsc::Receiver<Response>> {
        self.responses_rx.take()
    }

    fn server_info(&mut self) -> BoxFuture<'_, Result<ServerInfo, NotifyError>> {
        Box::pin(async move {
            let call = tokio::task::spawn_blocking(notify_rust::get_server_information);
            let info = match tokio::time::timeout(CALL_TIMEOUT, call).await {
                Err(_) => return Err(NotifyError::Timeout(CALL_TIMEOUT)),
                Ok(Err(join)) => return Err(NotifyError::Failed(join.to_string())),
                Ok(Ok(result)) => result.map_err(|e| NotifyError::NoServer(e.to_string()))?,
            };
            Ok(ServerInfo {
                name: info.name,
                vendor: info.vendor,
                version: info.version,
                capabilities: Self::capabilities().await?,
            })
        })
    }
}

async fn zbus_session() -> Result<zbus::Connection, NotifyError> {
    zbus::Connection::session()
        .await
        .map_err(|e| NotifyError::NoServer(e.to_string()))
}
