//! Engine events to the window, the tray and the desktop, through the shell's `Desktop`.
//!
//! Store updates are merged over `FLUSH` so that a burst of thousands of events reaches the
//! webview as a few payloads per second, not thousands; everything else goes at once. The
//! tray follows the engine's derived unread total and waiting summary, never counts of its own.

use std::time::Duration;

use chatbell_engine::Engine;
use chatbell_engine::clock::{SystemClock, sleep_or_pending};
use chatbell_engine::model::{
    AlertLevel, ConnState, Decision, EngineEvent, Outcome, StoreUpdate, WaitingSummary,
};
use chatbell_ipc::contract::{ChatRead, Snoozed, StoreFailed, Stored, Typing, UiEvent};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use crate::resident::Resident;
use crate::{waiting, web_panel};

/// The longest a store update waits to be merged with the next ones.
const FLUSH: Duration = Duration::from_millis(100);

pub(crate) async fn run(app: Resident, mut events: broadcast::Receiver<EngineEvent>) {
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
                    app.desktop().emit(UiEvent::Resync);
                    resync_tray(&app).await;
                }
                Err(RecvError::Closed) => return,
            },
            _ = sleep_or_pending(&SystemClock, deadline.map(|d| d.into_std())) => {}
        }
        if pending.is_some() && Instant::now() >= last_flush + FLUSH {
            if let Some(stored) = pending.take() {
                app.change_tray(|look| look.unread = stored.unread_total);
                app.desktop().emit(UiEvent::Stored(stored));
            }
            last_flush = Instant::now();
        }
    }
}

fn handle(app: &Resident, event: EngineEvent, pending: &mut Option<Stored>) {
    match event {
        EngineEvent::Connection(state) => {
            app.change_tray(|look| look.connected = matches!(state, ConnState::Online { .. }));
            app.desktop().emit(UiEvent::Connection(state));
        }
        EngineEvent::Stored(update) => {
            merge(pending.get_or_insert_with(Stored::default), update, app)
        }
        EngineEvent::Typing { user_id, typing } => app
            .desktop()
            .emit(UiEvent::Typing(Typing { user_id, typing })),
        EngineEvent::ChatRead {
            user_id,
            unread_total,
        } => {
            app.change_tray(|look| look.unread = unread_total);
            app.desktop().emit(UiEvent::ChatRead(ChatRead {
                user_id,
                unread_total,
            }));
        }
        EngineEvent::NotificationOpened { user_id } => app.open_chat(user_id),
        // "Open Settings" on the "token refused" notification.
        EngineEvent::SettingsRequested { section } => app.open_settings(section),
        EngineEvent::Waiting(summary) => show_waiting(app, summary),
        EngineEvent::Snoozed { user_id, until } => app
            .desktop()
            .emit(UiEvent::Snoozed(Snoozed { user_id, until })),
        // "Open in web panel" on a notification: the engine filled the link from the template.
        EngineEvent::WebPanelRequested { user_id, url } => {
            app.spawn(async move {
                if let Err(e) = web_panel::open(url).await {
                    tracing::warn!(user_id, error = %e, "opening the web panel");
                }
            });
        }
        EngineEvent::Decisions { decisions } => {
            if decisions.iter().any(is_urgent_reminder) {
                app.desktop().ask_attention();
            }
        }
        EngineEvent::StoreFailed { error } => app
            .desktop()
            .emit(UiEvent::StoreFailed(StoreFailed { error })),
        EngineEvent::Failed { error } => {
            app.desktop()
                .emit(UiEvent::StoreFailed(StoreFailed { error }));
            app.report_failure();
        }
        // Kept by the engine for the diagnostics screen, which asks for them.
        EngineEvent::Delivery(_) | EngineEvent::Forwarded(_) => {}
        // The engine keeps the audio status from them (`AppInfo.audio`); a failing sound is
        // logged by the engine once, and the page reads the status when it shows it.
        EngineEvent::Sound(_) => {}
    }
}

/// A reminder shown at the urgent step (not one held back by quiet hours or do-not-disturb).
fn is_urgent_reminder(decision: &Decision) -> bool {
    matches!(decision.outcome, Outcome::Allowed)
        && decision
            .escalation
            .is_some_and(|e| e.level == AlertLevel::Urgent)
}

fn show_waiting(app: &Resident, summary: WaitingSummary) {
    waiting::show(app, summary.clone());
    app.desktop().emit(UiEvent::Waiting(summary));
}

fn merge(into: &mut Stored, update: StoreUpdate, app: &Resident) {
    let open = app.view().open_chat;
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

/// Tells the window of every change of the settings, wherever it came from (the window itself,
/// the tray's do-not-disturb).
pub(crate) fn follow_settings(app: &Resident) {
    let mut settings = app.settings_owner().subscribe();
    let me = app.clone();
    app.spawn(async move {
        while settings.changed().await.is_ok() {
            let now = settings.borrow_and_update().clone();
            me.desktop().emit(UiEvent::Settings(Box::new(now)));
        }
    });
}

/// What the tray and the title show, read from the engine: before a new engine's events flow,
/// and after events were missed.
pub(crate) async fn sync(app: &Resident, engine: &Engine) {
    // The engine may have gone online before its events were subscribed to.
    let online = matches!(*engine.state().borrow(), ConnState::Online { .. });
    app.change_tray(|look| look.connected = online);
    if let Ok(total) = engine.queries().unread_total().await {
        app.change_tray(|look| look.unread = total);
    }
    show_waiting(app, engine.waiting());
}

async fn resync_tray(app: &Resident) {
    let Ok(session) = app.session() else {
        return;
    };
    sync(app, &session.engine).await;
}
