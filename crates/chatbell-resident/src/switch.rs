//! Replacing the running session: at the start, when the window asks for the demo or to try
//! again, when the settings name another server, and after the engine failed.

use std::sync::Arc;
use std::time::Duration;

use chatbell_engine::i18n::Lang;
use chatbell_engine::i18n::fallback_notice;
use chatbell_engine::settings::Settings;
use chatbell_ipc::contract::{CommandError, CommandResult, Mode, UiEvent};
use tokio::time::Instant;

use crate::bridge;
use crate::resident::{Resident, StartFailure};
use crate::session::Session;

/// The least time between two restarts after failures, so that a fault that comes back at
/// every start does not spin.
const RESTART_AT_MOST_EVERY: Duration = Duration::from_secs(60);

/// A session in `mode`, its events followed from the first: what the tray and the title show
/// is read once, then kept up to date by the bridge.
async fn start(app: &Resident, mode: Mode, settings: &Settings) -> CommandResult<Arc<Session>> {
    let session = Session::start(mode, settings, app.focus()).await?;
    // Subscribed before the first read, so no change falls between the two.
    let events = session.engine.events();
    bridge::sync(app, &session.engine).await;
    session.followed_by(tokio::spawn(bridge::run(app.clone(), events)));
    Ok(session)
}

/// Starts the engine again each time the bridge reports that it failed (its store writer
/// died), in the mode it ran in; the first at once, then at most once a minute.
pub(crate) async fn restart_after_failures(app: Resident) {
    let mut last: Option<Instant> = None;
    loop {
        app.engine_failed().await;
        if let Some(last) = last {
            tokio::time::sleep_until(last + RESTART_AT_MOST_EVERY).await;
        }
        last = Some(Instant::now());
        let Ok(failed) = app.session() else {
            continue;
        };
        let mode = failed.mode();
        tracing::warn!(?mode, "restarting the engine after its failure");
        if let Err(e) = switch(&app, mode).await {
            tracing::error!(error = %e, "restarting the engine failed");
        }
    }
}

/// Replaces the running session with one in `mode`, then stops the old one. If it cannot start,
/// the failure is kept by the resident (every command answers with it while no session runs, and
/// `retry_start` tries the same mode again) and a window that is open is told to reload.
pub(crate) async fn switch(app: &Resident, mode: Mode) -> CommandResult<()> {
    let settings = app.settings();
    let old = app.replace_session(None);
    if let Some(old) = &old {
        old.stop().await;
    }
    match start(app, mode, &settings).await {
        Ok(session) => {
            app.desktop().database(session.engine.db_path());
            app.replace_session(Some(session));
            app.set_start_failure(None);
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, ?mode, "cannot start the session");
            app.set_start_failure(Some(StartFailure {
                mode,
                error: e.clone(),
            }));
            // Keep the app usable: fall back to the main store without a connection, unless that
            // is the store that just failed (it would fail the same way; a locked one only after
            // another busy wait, with the window not yet shown at launch).
            let same_store = mode != Mode::Demo && matches!(e, CommandError::Store { .. });
            if mode != Mode::Unconfigured
                && !same_store
                && let Ok(fallback) = start(app, Mode::Unconfigured, &settings).await
            {
                app.desktop().database(fallback.engine.db_path());
                app.replace_session(Some(fallback));
                if !app.desktop().window_open() {
                    // Nobody asked and heard the error (the start, a restart after a failure).
                    app.set_notice(fallback_notice(
                        mode == Mode::Demo,
                        &e.to_string(),
                        Lang::of(settings.ui.language),
                    ));
                }
            }
            // A window showing the old session reloads, and so hears why there is no new one.
            app.desktop().emit(UiEvent::Resync);
            Err(e)
        }
    }
}

/// The window's "Try again": starts the session that could not start, in the mode it was asked
/// for. Nothing failed: the running session stays.
pub(crate) async fn retry(app: &Resident) -> CommandResult<()> {
    match app.start_failure() {
        Some(failure) => switch(app, failure.mode).await,
        None => Ok(()),
    }
}
