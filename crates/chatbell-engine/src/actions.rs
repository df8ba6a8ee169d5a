//! What the engine does on the agent's behalf: mark a chat read, snooze it, find its web panel
//! link. Called by the engine's methods and by the buttons of a notification, which work with
//! no window at all (in the tray, in `chatbell-cli listen`).

use std::sync::Arc;

use chatbell_protocol::UserId;
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};

use crate::clock::Clock;
use crate::error::EngineError;
use crate::model::{EngineEvent, SettingsSection};
use crate::notifier::{Action, ServiceMsg};
use crate::outbox::Outbox;
use crate::queries::Queries;
use crate::settings::{SNOOZE_MINUTES, Settings};
use crate::web_panel::ChatFields;
use crate::writer::WriterMsg;

#[derive(Clone)]
pub(crate) struct Actions {
    pub writer: mpsc::Sender<WriterMsg>,
    pub notifier: Option<mpsc::Sender<ServiceMsg>>,
    pub outbox: Outbox,
    pub queries: Queries,
    pub clock: Arc<dyn Clock>,
    pub settings: watch::Receiver<Settings>,
}

impl Actions {
    /// Sends `msg` (built around a reply channel) to the writer and waits for its answer.
    async fn ask<T>(
        &self,
        msg: impl FnOnce(oneshot::Sender<T>) -> WriterMsg,
    ) -> Result<T, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(msg(reply))
            .await
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    fn dismiss(&self, user_id: UserId) {
        if let Some(tx) = &self.notifier {
            let _ = tx.try_send(ServiceMsg::Dismiss(user_id));
        }
    }

    /// Unread to zero (persisted) and the chat's notification closed; answers the new total.
    pub async fn mark_read(&self, user_id: UserId) -> Result<u64, EngineError> {
        let total = self
            .ask(|reply| WriterMsg::MarkRead { user_id, reply })
            .await??;
        self.dismiss(user_id);
        self.outbox.send(EngineEvent::ChatRead {
            user_id,
            unread_total: total,
        });
        Ok(total)
    }

    /// Puts a chat aside for `minutes` (`None`: the configured snooze).
    pub async fn snooze(
        &self,
        user_id: UserId,
        minutes: Option<u32>,
    ) -> Result<DateTime<Utc>, EngineError> {
        let minutes =
            minutes.unwrap_or_else(|| self.settings.borrow().notifications.snooze_minutes);
        let minutes = minutes.clamp(*SNOOZE_MINUTES.start(), *SNOOZE_MINUTES.end());
        let until = self.clock.utc() + chrono::TimeDelta::minutes(minutes.into());
        // The store keeps milliseconds: tell the same time it will read back.
        let until = crate::store::from_ms(crate::store::to_ms(until));
        self.set_snooze(user_id, Some(until)).await?;
        self.dismiss(user_id);
        Ok(until)
    }

    pub async fn set_snooze(
        &self,
        user_id: UserId,
        until: Option<DateTime<Utc>>,
    ) -> Result<(), EngineError> {
        let found = self
            .ask(|reply| WriterMsg::Snooze {
                user_id,
                until,
                reply,
            })
            .await??;
        if !found {
            return Err(EngineError::NoSuchChat(user_id));
        }
        self.outbox.send(EngineEvent::Snoozed { user_id, until });
        Ok(())
    }

    /// The chat's link into the web panel; `None` without a link or without the chat.
    pub async fn web_panel_url(&self, user_id: UserId) -> Result<Option<String>, EngineError> {
        let Some(panel) = self.settings.borrow().server.web_panel() else {
            return Ok(None);
        };
        let chat = self
            .queries
            .read(move |r| r.chat(user_id, &|_| false))
            .await?;
        Ok(chat.map(|c| {
            panel.url_for(ChatFields {
                user_id: c.user_id,
                username: c.username.as_deref(),
                source: c.source.as_deref(),
            })
        }))
    }

    /// Carries out the buttons pressed on notifications, until the notifier is gone.
    pub async fn run(self, mut pressed: mpsc::Receiver<(UserId, Action)>) {
        while let Some((user_id, action)) = pressed.recv().await {
            let done = match action {
                Action::Read => self.mark_read(user_id).await.map(|_| ()),
                Action::Snooze => self.snooze(user_id, None).await.map(|_| ()),
                Action::Settings => {
                    self.outbox.send(EngineEvent::SettingsRequested {
                        section: SettingsSection::Server,
                    });
                    Ok(())
                }
                Action::WebPanel => self.web_panel_url(user_id).await.map(|url| match url {
                    Some(url) => self
                        .outbox
                        .send(EngineEvent::WebPanelRequested { user_id, url }),
                    None => {
                        tracing::warn!(user_id, "web panel asked for, but no link is configured");
                    }
                }),
            };
            if let Err(e) = done {
                tracing::warn!(user_id, ?action, error = %e, "a notification's button failed");
            }
        }
    }
}
