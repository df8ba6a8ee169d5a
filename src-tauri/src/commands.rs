//! The IPC surface: every command the UI may call (each granted one by one in
//! `capabilities/main.json`), typed, small. The contract is written down in `docs/ipc.md`.

use chatbell_engine::alert_test::{AlertTest, Blocker};
use chatbell_engine::model::{ChatOrder, ChatSummary, Diagnostic, HistoryPage, SearchHit, Seq};
use chatbell_engine::settings::{SNOOZE_MINUTES, Settings};
use chatbell_engine::sound::{PlayReport, Tone};
use chatbell_engine::web_panel::WebPanel;
use chatbell_ipc::contract::{
    AppInfo, CommandError, CommandResult, Mode, Snoozed, WebPanelPreview,
};
use chatbell_protocol::UserId;
use tauri::{AppHandle, Manager, State};

use crate::state::AppState;
use crate::{platform, prefs, session, token, web_panel, window};

#[tauri::command(rename_all = "snake_case")]
pub async fn app_info(app: AppHandle, state: State<'_, AppState>) -> CommandResult<AppInfo> {
    info(&app, &state).await
}

async fn info(app: &AppHandle, state: &AppState) -> CommandResult<AppInfo> {
    let session = state.session()?;
    let settings = state.settings();
    let mode = session.mode();
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        mode,
        server_url: settings.server.url.clone().filter(|_| mode == Mode::Server),
        has_token: token::has_token().await,
        tray_available: state.tray_available(),
        pending_open_chat: state.update_view(|v| v.pending_open.take()),
        unread_total: session.engine.unread_total().await?,
        waiting: session.engine.waiting().await?,
        connection: session.engine.state().borrow().clone(),
        settings,
        notice: state.take_notice(),
        audio: session.engine.audio_status(),
        pending_settings: state.update_view(|v| v.pending_settings.take()),
    })
    .inspect(|_| window::refocus_engine(app))
}

/// `order` missing means by activity, as before there was a choice.
#[tauri::command(rename_all = "snake_case")]
pub async fn list_chats(
    state: State<'_, AppState>,
    limit: u32,
    offset: u32,
    order: Option<ChatOrder>,
) -> CommandResult<Vec<ChatSummary>> {
    Ok(state
        .session()?
        .engine
        .chats_by(order.unwrap_or_default(), limit.clamp(1, 500), offset)
        .await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_chat(
    state: State<'_, AppState>,
    user_id: UserId,
) -> CommandResult<Option<ChatSummary>> {
    Ok(state.session()?.engine.chat(user_id).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn chat_history(
    state: State<'_, AppState>,
    user_id: UserId,
    before: Option<Seq>,
    limit: u32,
) -> CommandResult<HistoryPage> {
    Ok(state
        .session()?
        .engine
        .history(user_id, before, limit.clamp(1, 200))
        .await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn search_messages(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> CommandResult<Vec<SearchHit>> {
    if query.chars().count() > 200 {
        return Err(CommandError::invalid("search: at most 200 characters"));
    }
    Ok(state
        .session()?
        .engine
        .search(query, limit.clamp(1, 200))
        .await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn mark_read(state: State<'_, AppState>, user_id: UserId) -> CommandResult<u64> {
    Ok(state.session()?.engine.mark_read(user_id).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_open_chat(app: AppHandle, state: State<'_, AppState>, user_id: Option<UserId>) {
    state.update_view(|v| v.open_chat = user_id);
    window::refocus_engine(&app);
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: Settings,
) -> CommandResult<AppInfo> {
    prefs::update(&app, move |s| *s = settings).await?;
    info(&app, &state).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_token(app: AppHandle, token: String) -> CommandResult<()> {
    token::set_token(&app, Some(token)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn clear_token(app: AppHandle) -> CommandResult<()> {
    token::set_token(&app, None).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn mute_chat(
    app: AppHandle,
    user_id: UserId,
    minutes: Option<u32>,
) -> CommandResult<Settings> {
    let until = minutes.map(|m| chrono::Utc::now() + chrono::Duration::minutes(m.into()));
    prefs::update(&app, move |s| {
        s.notifications.mutes.insert(user_id, until);
    })
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn unmute_chat(app: AppHandle, user_id: UserId) -> CommandResult<Settings> {
    prefs::update(&app, move |s| {
        s.notifications.mutes.remove(&user_id);
    })
    .await
}

/// `minutes: null` snoozes for the configured `notifications.snooze_minutes`.
#[tauri::command(rename_all = "snake_case")]
pub async fn snooze_chat(
    state: State<'_, AppState>,
    user_id: UserId,
    minutes: Option<u32>,
) -> CommandResult<Snoozed> {
    if let Some(m) = minutes
        && !SNOOZE_MINUTES.contains(&m)
    {
        return Err(CommandError::invalid(format!(
            "snooze: from {} to {} minutes",
            SNOOZE_MINUTES.start(),
            SNOOZE_MINUTES.end()
        )));
    }
    let until = state.session()?.engine.snooze(user_id, minutes).await?;
    Ok(Snoozed {
        user_id,
        until: Some(until),
    })
}

#[tauri::command(rename_all = "snake_case")]
pub async fn unsnooze_chat(state: State<'_, AppState>, user_id: UserId) -> CommandResult<()> {
    Ok(state.session()?.engine.unsnooze(user_id).await?)
}

/// Opens the chat in the service's web panel, in the default browser.
#[tauri::command(rename_all = "snake_case")]
pub async fn open_web_panel(
    app: AppHandle,
    state: State<'_, AppState>,
    user_id: UserId,
) -> CommandResult<()> {
    let Some(url) = state.session()?.engine.web_panel_url(user_id).await? else {
        return Err(CommandError::invalid(
            if state.settings().server.web_panel.is_none() {
                "no web panel link is set: add one in Settings → Connection".to_string()
            } else {
                format!("there is no chat with user id {user_id}")
            },
        ));
    };
    web_panel::open(&app, url)
        .await
        .map_err(|e| CommandError::engine(format!("opening the web panel: {e}")))
}

/// The template filled for a sample chat, or why it cannot be used.
#[tauri::command(rename_all = "snake_case")]
pub fn preview_web_panel(template: String) -> CommandResult<WebPanelPreview> {
    WebPanel::parse(&template)
        .map(|panel| WebPanelPreview {
            url: panel.preview(),
        })
        .map_err(|e| CommandError::invalid(e.to_string()))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_dnd(app: AppHandle, on: bool) -> CommandResult<Settings> {
    prefs::set_dnd(&app, on).await
}

/// Plays `tone` now at `volume` (0–100), answering once the audio device has played it: the
/// settings screen's ▶, with the form's tone and volume before they are saved.
#[tauri::command(rename_all = "snake_case")]
pub async fn preview_sound(
    state: State<'_, AppState>,
    tone: Tone,
    volume: u8,
) -> CommandResult<PlayReport> {
    if volume > 100 {
        return Err(CommandError::invalid(format!(
            "volume: from 0 to 100, not {volume}"
        )));
    }
    Ok(state.session()?.engine.preview_sound(tone, volume).await?)
}

/// "Test my alerts": the engine plays a sound and shows a sample notification; the tray is the
/// shell's to check. The bus is asked again (a tray extension may have been switched on since
/// the start); if it does not answer, the last answer stands.
#[tauri::command(rename_all = "snake_case")]
pub async fn test_alerts(state: State<'_, AppState>) -> CommandResult<AlertTest> {
    let session = state.session()?;
    let (mut test, tray) =
        tokio::join!(session.engine.test_alerts(), platform::tray_host_present());
    if let Some(present) = tray {
        state.set_tray_available(present);
    }
    if !state.tray_available() {
        test.blockers.push(Blocker::NoTrayHost);
    }
    Ok(test)
}

#[tauri::command(rename_all = "snake_case")]
pub fn recent_decisions(state: State<'_, AppState>) -> CommandResult<Vec<Diagnostic>> {
    Ok(state.session()?.engine.recent_decisions())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn start_demo(app: AppHandle) -> CommandResult<AppInfo> {
    session::switch(&app, Mode::Demo).await?;
    info(&app, &app.state::<AppState>()).await
}

/// "Try again" after the session could not start (its database in use, locked, damaged…):
/// starts it again in the mode it was asked for; rejects with the same reason while the cause
/// remains.
#[tauri::command(rename_all = "snake_case")]
pub async fn retry_start(app: AppHandle) -> CommandResult<AppInfo> {
    session::retry(&app).await?;
    info(&app, &app.state::<AppState>()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn reconnect_now(state: State<'_, AppState>) -> CommandResult<()> {
    state.session()?.engine.reconnect_now().await;
    Ok(())
}
