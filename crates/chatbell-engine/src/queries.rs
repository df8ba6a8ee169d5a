//! Reads of the store for whoever shows it (the window, the CLI, the benchmarks): one read-only
//! connection shared by them, on the blocking pool. The reminders read through a connection of
//! their own, so a slow search here never delays one.

use std::sync::{Arc, Mutex};

use chatbell_protocol::UserId;

use crate::clock::Clock;
use crate::error::EngineError;
use crate::model::{ChatOrder, ChatSummary, HistoryPage, SearchHit, Seq};
use crate::store::{Reader, StoreCounts, StoreError};
use crate::sync::lock;
use crate::typing::Typing;

#[derive(Clone)]
pub struct Queries {
    reader: Arc<Mutex<Reader>>,
    typing: Arc<Mutex<Typing>>,
    clock: Arc<dyn Clock>,
}

impl Queries {
    pub(crate) fn new(reader: Reader, typing: Arc<Mutex<Typing>>, clock: Arc<dyn Clock>) -> Self {
        Queries {
            reader: Arc::new(Mutex::new(reader)),
            typing,
            clock,
        }
    }

    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Reader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || f(&lock(&reader)))
            .await
            .map_err(|_| EngineError::Stopped)?
            .map_err(EngineError::from)
    }

    fn typing_fn(&self) -> impl Fn(UserId) -> bool + Send + 'static {
        let typing = self.typing.clone();
        let clock = self.clock.clone();
        move |user| lock(&typing).is_typing(user, clock.mono())
    }

    /// Chats by last activity, newest first.
    pub async fn chats(&self, limit: u32, offset: u32) -> Result<Vec<ChatSummary>, EngineError> {
        self.chats_by(ChatOrder::Activity, limit, offset).await
    }

    /// Chats in the given order (the longest wait first, or the newest activity).
    pub async fn chats_by(
        &self,
        order: ChatOrder,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ChatSummary>, EngineError> {
        let typing = self.typing_fn();
        self.read(move |r| r.chats_by(order, limit, offset, &typing))
            .await
    }

    pub async fn chat(&self, user_id: UserId) -> Result<Option<ChatSummary>, EngineError> {
        let typing = self.typing_fn();
        self.read(move |r| r.chat(user_id, &typing)).await
    }

    pub async fn history(
        &self,
        user_id: UserId,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<HistoryPage, EngineError> {
        self.read(move |r| r.history(user_id, before, limit)).await
    }

    pub async fn search(&self, query: String, limit: u32) -> Result<Vec<SearchHit>, EngineError> {
        self.read(move |r| r.search(&query, limit)).await
    }

    pub async fn unread_total(&self) -> Result<u64, EngineError> {
        self.read(|r| r.unread_total()).await
    }

    /// Row counts (scans every table: for diagnostics, not for polling).
    pub async fn counts(&self) -> Result<StoreCounts, EngineError> {
        self.read(|r| r.counts()).await
    }

    /// How many frames the raw log holds, cheaply (the newest row id).
    pub async fn frames_stored(&self) -> Result<u64, EngineError> {
        self.read(|r| r.frames_stored()).await
    }
}
