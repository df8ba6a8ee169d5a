//! The IPC surface: every command the UI may call (each granted one by one in
//! `capabilities/main.json`), handed to the resident that carries it out. The contract is
//! written down in `docs/ipc.md`.

use chatbell_engine::alert_test::AlertTest;
use chatbell_engine::model::{ChatOrder, ChatSummary, Diagnostic, HistoryPage, SearchHit, Seq};
use chatbell_engine::settings::Settings;
use chatbell_engine::sound::{PlayReport, Tone};
use chatbell_ipc::contract::{AppInfo, CommandResult, Snoozed, WebPanelPreview};
use chatbell_protocol::UserId;
use chatbell_resident::Resident;
use tauri::State;

#[tauri::command(rename_all = "snake_case")]
pub async fn app_info(r: State<'_, Resident>) -> CommandResult<AppInfo> {
    r.app_info().await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_chats(
    r: State<'_, Resident>,
    limit: u32,
    offset: u32,
    order: Option<ChatOrder>,
) -> CommandResult<Vec<ChatSummary>> {
    r.list_chats(limit, offset, order).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_chat(
    r: State<'_, Resident>,
    user_id: UserId,
) -> CommandResult<Option<ChatSummary>> {
    r.get_chat(user_id).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn chat_history(
    r: State<'_, Resident>,
    user_id: UserId,
    before: Option<Seq>,
    limit: u32,
) -> CommandResult<HistoryPage> {
    r.chat_history(user_id, before, limit).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn search_messages(
    r: State<'_, Resident>,
    query: String,
    limit: u32,
) -> CommandResult<Vec<SearchHit>> {
    r.search_messages(query, limit).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn mark_read(r: State<'_, Resident>, user_id: UserId) -> CommandResult<u64> {
    r.mark_read(user_id).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_open_chat(r: State<'_, Resident>, user_id: Option<UserId>) {
    r.set_open_chat(user_id)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_settings(r: State<'_, Resident>, settings: Settings) -> CommandResult<AppInfo> {
    r.save_settings(settings).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_token(r: State<'_, Resident>, token: String) -> CommandResult<()> {
    r.set_token(Some(token)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn clear_token(r: State<'_, Resident>) -> CommandResult<()> {
    r.set_token(None).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn mute_chat(
    r: State<'_, Resident>,
    user_id: UserId,
    minutes: Option<u32>,
) -> CommandResult<Settings> {
    r.mute_chat(user_id, minutes).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn unmute_chat(r: State<'_, Resident>, user_id: UserId) -> CommandResult<Settings> {
    r.unmute_chat(user_id).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn snooze_chat(
    r: State<'_, Resident>,
    user_id: UserId,
    minutes: Option<u32>,
) -> CommandResult<Snoozed> {
    r.snooze_chat(user_id, minutes).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn unsnooze_chat(r: State<'_, Resident>, user_id: UserId) -> CommandResult<()> {
    r.unsnooze_chat(user_id).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn open_web_panel(r: State<'_, Resident>, user_id: UserId) -> CommandResult<()> {
    r.open_web_panel(user_id).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn preview_web_panel(template: String) -> CommandResult<WebPanelPreview> {
    chatbell_resident::preview_web_panel(&template)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_dnd(r: State<'_, Resident>, on: bool) -> CommandResult<Settings> {
    r.set_dnd(on).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn preview_sound(
    r: State<'_, Resident>,
    tone: Tone,
    volume: u8,
) -> CommandResult<PlayReport> {
    r.preview_sound(tone, volume).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn test_alerts(r: State<'_, Resident>) -> CommandResult<AlertTest> {
    r.test_alerts().await
}

#[tauri::command(rename_all = "snake_case")]
pub fn recent_decisions(r: State<'_, Resident>) -> CommandResult<Vec<Diagnostic>> {
    r.recent_decisions()
}

#[tauri::command(rename_all = "snake_case")]
pub async fn start_demo(r: State<'_, Resident>) -> CommandResult<AppInfo> {
    r.start_demo().await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn retry_start(r: State<'_, Resident>) -> CommandResult<AppInfo> {
    r.retry_start().await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn reconnect_now(r: State<'_, Resident>) -> CommandResult<()> {
    r.reconnect_now().await
}
