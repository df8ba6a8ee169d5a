//! The task that owns the notifier: coalesces, renders, shows, and reports back.

use std::collections::HashMap;
use std::sync::Arc;

use chatbell_protocol::UserId;
use tokio::sync::{mpsc, oneshot};

use super::text::{Lang, open_label, words};
use super::{Notifier, NotifyError, Request, Response};
use crate::clock::Clock;
use crate::coalesce::{Coalescer, Command, Content, Incoming};
use crate::model::{Delivery, EngineEvent, Slot};
use crate::outbox::Outbox;

pub(crate) enum ServiceMsg {
    Notify {
        incoming: Incoming,
        sound: bool,
    },
    /// The agent opened this chat: close its notification.
    Dismiss(UserId),
    Prefs {
        lang: Lang,
        privacy: bool,
    },
    /// Show a sample notification now, past the coalescer; answer whether it was shown.
    Test {
        reply: oneshot::Sender<Result<(), NotifyError>>,
    },
}

pub(crate) struct NotifyService {
    pub notifier: Box<dyn Notifier>,
    pub coalescer: Coalescer,
    pub lang: Lang,
    pub privacy: bool,
    pub outbox: Outbox,
    pub clock: Arc<dyn Clock>,
    ids: HashMap<Slot, u32>,
}

impl NotifyService {
    pub fn new(
        notifier: Box<dyn Notifier>,
        coalescer: Coalescer,
        lang: Lang,
        privacy: bool,
        outbox: Outbox,
        clock: Arc<dyn Clock>,
    ) -> Self {
        NotifyService {
            notifier,
            coalescer,
            lang,
            privacy,
            outbox,
            clock,
            ids: HashMap::new(),
        }
    }

    pub async fn run(mut self, mut rx: mpsc::Receiver<ServiceMsg>) {
        let mut responses = self.notifier.take_responses();
        loop {
            let deadline = self
                .coalescer
                .next_deadline()
                .map(tokio::time::Instant::from_std);
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(msg) => self.handle(msg).await,
                    None => return,
                },
                Some(response) = async { match responses.as_mut() { Some(r) => r.recv().await, None => None } } => {
                    self.response(response);
                }
                _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                    let commands = self.coalescer.tick(self.clock.mono());
                    self.execute(commands).await;
                }
            }
        }
    }

    async fn handle(&mut self, msg: ServiceMsg) {
        match msg {
            ServiceMsg::Notify { incoming, sound } => {
                let commands = self.coalescer.push(incoming, sound, self.clock.mono());
                self.execute(commands).await;
            }
            ServiceMsg::Dismiss(user_id) => {
                let commands = self.coalescer.dismiss(user_id).into_iter().collect();
                self.execute(commands).await;
            }
            ServiceMsg::Prefs { lang, privacy } => {
                self.lang = lang;
                self.privacy = privacy;
            }
            ServiceMsg::Test { reply } => {
                let (summary, body) = match self.lang {
                    Lang::En => (
                        "Chatbell test notification",
                        "Notifications work. New chats and messages will look like this.",
                    ),
                    Lang::Ru => (
                        "Проверка уведомлений Chatbell",
                        "Уведомления работают. Так будут выглядеть новые чаты и сообщения.",
                    ),
                };
                let request = Request {
                    summary: summary.into(),
                    body: body.into(),
                    open_label: open_label(self.lang),
                    sound: true,
                    replaces: None,
                };
                let _ = reply.send(self.notifier.show(request).await.map(|_| ()));
            }
        }
    }

    async fn execute(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Show {
                    slot,
                    content,
                    sound,
                } => {
                    let w = words(&content, self.lang, self.privacy);
                    let replaces = self.ids.get(&slot).copied();
                    let count = match &content {
                        Content::Chat { count, .. } => *count,
                        Content::Digest { messages, .. } => *messages,
                    };
                    let request = Request {
                        summary: w.summary.clone(),
                        body: w.body,
                        open_label: w.open_label,
                        sound,
                        replaces,
                    };
                    match self.notifier.show(request).await {
                        Ok(id) => {
                            self.ids.insert(slot, id);
                            let shown = Delivery::Shown {
                                slot,
                                replaced: replaces.is_some(),
                                count,
                                sound,
                                summary: w.summary,
                            };
                            self.outbox.send(EngineEvent::Delivery(shown));
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "notification not shown");
                            self.ids.remove(&slot);
                            self.coalescer.closed(slot);
                            self.outbox.send(EngineEvent::Delivery(Delivery::Failed {
                                slot,
                                error: e.to_string(),
                            }));
                        }
                    }
                }
                Command::Close { slot } => {
                    if let Some(id) = self.ids.remove(&slot) {
                        if let Err(e) = self.notifier.close(id).await {
                            tracing::debug!(error = %e, "closing a notification failed");
                        }
                        self.outbox
                            .send(EngineEvent::Delivery(Delivery::Closed { slot }));
                    }
                }
            }
        }
    }

    fn slot_of(&self, id: u32) -> Option<Slot> {
        self.ids.iter().find(|(_, i)| **i == id).map(|(s, _)| *s)
    }

    fn response(&mut self, response: Response) {
        match response {
            Response::Invoked { id, action } => {
                let Some(slot) = self.slot_of(id) else { return };
                tracing::info!(?slot, action, "notification clicked");
                let user_id = match slot {
                    Slot::Chat(user) => Some(user),
                    Slot::Digest => None,
                };
                self.outbox
                    .send(EngineEvent::NotificationOpened { user_id });
            }
            Response::Closed { id } => {
                if let Some(slot) = self.slot_of(id) {
                    self.ids.remove(&slot);
                    self.coalescer.closed(slot);
                    self.outbox
                        .send(EngineEvent::Delivery(Delivery::Closed { slot }));
                }
            }
        }
    }
}
