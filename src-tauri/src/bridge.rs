//! Engine events to the window and the tray.
//!
//! Store updates are merged over `FLUSH` so that a burst of thousands of events reaches the
//! webview as a few payloads per second, not thousands; everything else goes at once. The
//! tray follows the engine's derived unread total, never a count of its own.

use std::time::Duration;

use chatbell_engine::model::{ConnState, EngineEvent, StoreUpdate};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use crate::models::{ChatRead, StoreFailed, Stored, Typing, event};
use crate::state::AppState;
use crate::{tray, window};

/// The longest a store update waits to be merged with the next ones.
const FLUSH: Duration = Duration::from_millis(100);

pub async fn run(app: AppHandle, mut events: broadcast::Receiver<EngineEvent>) {
    let mut pending: Option<Stored> = None;
    let mut last_flush = Instant::now();
    loop {
        let deadline = pending.as_ref().map(|_| last_flush + FLUSH);
        tokio::select! {
            received = events.recv() => match received {
                Ok(event) => handle(&app, event, &mut pending),
                Err(RecvError::Lagged(missed)) => {
                    // Fell behind the engine: the views reload from the store.
                    tracing::debug!(missed, "UI bridge lagged; asking for a resync");
                    pending = None;
                    emit(&app, event::RESYNC, ());
                    resync_tray(&app).await;
                }
                Err(RecvError::Closed) => return,
            },
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {}
        }
        if pending.is_some() && Instant::now() >= last_flush + FLUSH {
            if let Some(stored) = pending.take() {
                tray::set_unread(&app, stored.unread_total);
                emit(&app, event::STORED, stored);
            }
            last_flush = Instant::now();
        }
    }
}

fn handle(app: &AppHandle, event: EngineEvent, pending: &mut Option<Stored>) {
    match event {
        EngineEvent::Connection(state) => {
            tray::set_connected(app, matches!(state, ConnState::Online { .. }));
            emit(app, event::CONNECTION, state);
        }
        EngineEvent::Stored(update) => {
            merge(pending.get_or_insert_with(Stored::default), update, app)
        }
        EngineEvent::Typing { user_id, typing } => {
            emit(app, event::TYPING, Typing { user_id, typing })
        }
        EngineEvent::ChatRead {
            user_id,
            unread_total,
        } => {
            tray::set_unread(app, unread_total);
            emit(
                app,
                event::CHAT_READ,
                ChatRead {
                    user_id,
                    unread_total,
                },
            );
        }
        EngineEvent::NotificationOpened { user_id } => window::open_chat(app, user_id),
        EngineEvent::StoreFailed { error } => emit(app, event::STORE_FAILED, StoreFailed { error }),
        EngineEvent::Failed { error } => {
            emit(app, event::STORE_FAILED, StoreFailed { error });
            let app = app.clone();
            tauri::async_runtime::spawn(async move { crate::session::restart_failed(&app).await });
        }
        // Kept by the engine for the diagnostics screen, which asks for them.
        EngineEvent::Decisions { .. } | EngineEvent::Delivery(_) => {}
    }
}

fn merge(into: &mut Stored, update: StoreUpdate, app: &AppHandle) {
    let open = app.state::<AppState>().view().open_chat;
    for chat in update.chats {
        match into.chats.iter_mut().find(|c| c.user_id == chat.user_id) {
            Some(existing) => *existing = chat,
            None => into.chats.push(chat),
        }
    }
    into.messages.extend(
        update
            .messages
            .into_iter()
            .filter(|m| Some(m.user_id) == open),
    );
    into.unread_total = update.unread_total;
    if update.gap.is_some() {
        into.gap = update.gap;
    }
}

fn emit<P: serde::Serialize + Clone>(app: &AppHandle, name: &str, payload: P) {
    // No window, no listener: the webview is rebuilt from the store when it opens.
    if app.get_webview_window(window::MAIN).is_some()
        && let Err(e) = app.emit_to(window::MAIN, name, payload)
    {
        tracing::debug!(error = %e, name, "emit failed");
    }
}

async fn resync_tray(app: &AppHandle) {
    let Ok(session) = app.state::<AppState>().session() else {
        return;
    };
    if let Ok(total) = session.engine.unread_total().await {
        tray::set_unread(app, total);
    }
}
