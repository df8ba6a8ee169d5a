//! What the page may ask (`docs/ipc.md`), carried out: typed, one method each.

use chatbell_engine::alert_test::{AlertTest, Blocker};
use chatbell_engine::forwarder::ForwardCheck;
use chatbell_engine::model::{
    ChatOrder, ChatSummary, ConnState, Diagnostic, HistoryPage, SearchHit, Seq,
};
use chatbell_engine::net::{self, CheckReport};
use chatbell_engine::server_config;
use chatbell_engine::settings::forward::ForwardTarget;
use chatbell_engine::settings::{SNOOZE_MINUTES, ServerSettings, Settings};
use chatbell_engine::sound::{PlayReport, Tone};
use chatbell_engine::web_panel::WebPanel;
use chatbell_ipc::contract::{
    AppInfo, CommandError, CommandResult, Limits, Mode, SecretName, Snoozed, WebPanelPreview,
};
use chatbell_ipc::{CliReply, CliRequest, Command};
use chatbell_protocol::UserId;
use serde_json::Value;

use crate::reads::{self, answer};
use crate::resident::Resident;
use crate::{prefs, secrets, switch, tray_host, web_panel};

/// How long *Check connection* waits for the server before it says so.
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

impl Resident {
    /// Carries out one of the page's commands: the one door for a shell that forwards them
    /// (the Tauri shell in this process, or the window process over the socket).
    pub async fn call(&self, command: Command) -> CommandResult<Value> {
        match command {
            Command::AppInfo => answer(self.app_info().await),
            Command::ListChats {
                limit,
                offset,
                order,
            } => answer(self.list_chats(limit, offset, order).await),
            Command::GetChat { user_id } => answer(self.get_chat(user_id).await),
            Command::ChatHistory {
                user_id,
                before,
                limit,
            } => answer(self.chat_history(user_id, before, limit).await),
            Command::SearchMessages { query, limit } => {
                answer(self.search_messages(query, limit).await)
            }
            Command::MarkRead { user_id } => answer(self.mark_read(user_id).await),
            Command::SetOpenChat { user_id } => {
                self.set_open_chat(user_id);
                answer(Ok(()))
            }
            Command::SaveSettings { settings } => answer(self.save_settings(*settings).await),
            Command::SetSecret { name, value } => answer(self.set_secret(name, Some(value)).await),
            Command::ClearSecret { name } => answer(self.set_secret(name, None).await),
            Command::SetForwardSecret { id, value } => {
                answer(secrets::store_forward(id, Some(value)).await)
            }
            Command::ClearForwardSecret { id } => answer(secrets::store_forward(id, None).await),
            Command::TestForward { target } => answer(self.test_forward(*target).await),
            Command::CheckConnection { server } => answer(self.check_connection(*server).await),
            Command::MuteChat { user_id, minutes } => {
                answer(self.mute_chat(user_id, minutes).await)
            }
            Command::UnmuteChat { user_id } => answer(self.unmute_chat(user_id).await),
            Command::SnoozeChat { user_id, minutes } => {
                answer(self.snooze_chat(user_id, minutes).await)
            }
            Command::UnsnoozeChat { user_id } => answer(self.unsnooze_chat(user_id).await),
            Command::OpenWebPanel { user_id } => answer(self.open_web_panel(user_id).await),
            Command::PreviewWebPanel { template } => answer(preview_web_panel(&template)),
            Command::SetDnd { on } => answer(self.set_dnd(on).await),
            Command::PreviewSound { tone, volume } => {
                answer(self.preview_sound(tone, volume).await)
            }
            Command::TestAlerts => answer(self.test_alerts().await),
            Command::RecentDecisions => answer(self.recent_decisions()),
            Command::StartDemo => answer(self.start_demo().await),
            Command::RetryStart => answer(self.retry_start().await),
            Command::ReconnectNow => answer(self.reconnect_now().await),
            Command::PagePainted { dom_ms, painted_ms } => answer(page_painted(dom_ms, painted_ms)),
        }
    }

    pub async fn app_info(&self) -> CommandResult<AppInfo> {
        let session = self.session()?;
        let settings = self.settings();
        let mode = session.mode();
        let [has_token, has_proxy_password, has_key_passphrase] = secrets::stored().await;
        let forward_ids = settings
            .notifications
            .forward
            .iter()
            .map(|t| t.id.clone())
            .collect();
        let forward_secrets = secrets::forward_stored(forward_ids).await;
        let away = *session.engine.away().borrow();
        let info = AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            mode,
            server_url: settings.server.url.clone().filter(|_| mode == Mode::Server),
            has_token,
            has_proxy_password,
            has_key_passphrase,
            tray_available: self.tray_available(),
            pending_open_chat: self.update_view(|v| v.pending_open.take()),
            unread_total: session.engine.queries().unread_total().await?,
            waiting: session.engine.waiting(),
            connection: session.engine.state().borrow().clone(),
            settings,
            notice: self.take_notice(),
            audio: session.engine.audio_status(),
            pending_settings: self.update_view(|v| v.pending_settings.take()),
            limits: Limits::of_settings(),
            organization: self.organization(),
            forward_secrets,
            away,
        };
        self.refocus_engine();
        Ok(info)
    }

    /// `order` missing means by activity, as before there was a choice.
    pub async fn list_chats(
        &self,
        limit: u32,
        offset: u32,
        order: Option<ChatOrder>,
    ) -> CommandResult<Vec<ChatSummary>> {
        Ok(self
            .session()?
            .engine
            .queries()
            .chats_by(
                order.unwrap_or_default(),
                reads::bound(limit, &reads::CHATS_PER_PAGE),
                offset,
            )
            .await?)
    }

    pub async fn get_chat(&self, user_id: UserId) -> CommandResult<Option<ChatSummary>> {
        Ok(self.session()?.engine.queries().chat(user_id).await?)
    }

    pub async fn chat_history(
        &self,
        user_id: UserId,
        before: Option<Seq>,
        limit: u32,
    ) -> CommandResult<HistoryPage> {
        Ok(self
            .session()?
            .engine
            .queries()
            .history(
                user_id,
                before,
                reads::bound(limit, &reads::MESSAGES_PER_PAGE),
            )
            .await?)
    }

    pub async fn search_messages(
        &self,
        query: String,
        limit: u32,
    ) -> CommandResult<Vec<SearchHit>> {
        reads::check_query(&query)?;
        Ok(self
            .session()?
            .engine
            .queries()
            .search(query, reads::bound(limit, &reads::MESSAGES_PER_PAGE))
            .await?)
    }

    pub async fn mark_read(&self, user_id: UserId) -> CommandResult<u64> {
        Ok(self.session()?.engine.mark_read(user_id).await?)
    }

    pub fn set_open_chat(&self, user_id: Option<UserId>) {
        self.update_view(|v| v.open_chat = user_id);
        self.refocus_engine();
    }

    /// `chatbell-cli settings set|reset`, asked over the socket.
    pub async fn cli(&self, request: CliRequest) -> CliReply {
        prefs::cli(self, request).await
    }

    pub async fn save_settings(&self, settings: Settings) -> CommandResult<AppInfo> {
        prefs::update(self, move |s| *s = settings).await?;
        self.app_info().await
    }

    /// Stores a secret (`None`: removes it) and reconnects with the secrets as they are now.
    pub async fn set_secret(&self, name: SecretName, value: Option<String>) -> CommandResult<()> {
        secrets::store(name, value).await?;
        self.reread_secrets().await
    }

    /// Hands the connection the keychain's secrets as they are now (a server connection only):
    /// down, it retries at once; up, settings equal to its own change nothing.
    async fn reread_secrets(&self) -> CommandResult<()> {
        let session = self.session()?;
        if session.mode() == Mode::Server {
            let server = self.settings().server;
            let credentials = secrets::credentials(&server).await;
            session
                .engine
                .set_server(server_config(&server, credentials))
                .await;
        }
        Ok(())
    }

    /// Connects once to `server` — Settings → Connection's draft, checked as Save would check
    /// it, not saved — with the stored secrets, and says how it went.
    pub async fn check_connection(&self, server: ServerSettings) -> CommandResult<CheckReport> {
        let mut draft = self.settings();
        draft.server = server;
        draft.validate()?;
        let credentials = secrets::credentials(&draft.server).await;
        let Some(config) = server_config(&draft.server, credentials) else {
            return Err(CommandError::invalid(
                "no server address: type the address of your support service",
            ));
        };
        Ok(net::check(&config, CHECK_TIMEOUT).await?)
    }

    pub async fn mute_chat(
        &self,
        user_id: UserId,
        minutes: Option<u32>,
    ) -> CommandResult<Settings> {
        let until = minutes.map(|m| chrono::Utc::now() + chrono::Duration::minutes(m.into()));
        prefs::update(self, move |s| {
            s.notifications.mutes.insert(user_id, until);
        })
        .await
    }

    pub async fn unmute_chat(&self, user_id: UserId) -> CommandResult<Settings> {
        prefs::update(self, move |s| {
            s.notifications.mutes.remove(&user_id);
        })
        .await
    }

    /// `minutes: None` snoozes for the configured `notifications.snooze_minutes`.
    pub async fn snooze_chat(
        &self,
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
        let until = self.session()?.engine.snooze(user_id, minutes).await?;
        Ok(Snoozed {
            user_id,
            until: Some(until),
        })
    }

    pub async fn unsnooze_chat(&self, user_id: UserId) -> CommandResult<()> {
        Ok(self.session()?.engine.unsnooze(user_id).await?)
    }

    /// Opens the chat in the service's web panel, in the default browser.
    pub async fn open_web_panel(&self, user_id: UserId) -> CommandResult<()> {
        let Some(url) = self.session()?.engine.web_panel_url(user_id).await? else {
            return Err(CommandError::invalid(
                if self.settings().server.web_panel.is_none() {
                    "no web panel link is set: add one in Settings → Connection".to_string()
                } else {
                    format!("there is no chat with user id {user_id}")
                },
            ));
        };
        web_panel::open(url)
            .await
            .map_err(|e| CommandError::engine(format!("opening the web panel: {e}")))
    }

    /// Pauses or resumes notifications.
    pub async fn set_dnd(&self, on: bool) -> CommandResult<Settings> {
        prefs::set_dnd(self, on).await
    }

    /// Plays `tone` now at `volume` (0–100), answering once the audio device has played it:
    /// the settings screen's ▶, with the form's tone and volume before they are saved.
    pub async fn preview_sound(&self, tone: Tone, volume: u8) -> CommandResult<PlayReport> {
        if volume > 100 {
            return Err(CommandError::invalid(format!(
                "volume: from 0 to 100, not {volume}"
            )));
        }
        Ok(self.session()?.engine.preview_sound(tone, volume).await?)
    }

    /// "Test my alerts": the engine plays a sound and shows a sample notification; the tray is
    /// checked here. The bus is asked again (a tray extension may have been switched on since
    /// the start); if it does not answer, the last answer stands.
    /// A draft target's *Send test*: checked as the settings would check it, then sent now.
    pub async fn test_forward(&self, target: ForwardTarget) -> CommandResult<ForwardCheck> {
        chatbell_engine::settings::forward::check(
            &Default::default(),
            std::slice::from_ref(&target),
        )
        .map_err(|(field, problem)| CommandError::setting(field, problem))?;
        Ok(self.session()?.engine.test_forward(&target).await)
    }

    pub async fn test_alerts(&self) -> CommandResult<AlertTest> {
        let session = self.session()?;
        let (mut test, tray) = tokio::join!(session.engine.test_alerts(), tray_host::present());
        if let Some(present) = tray {
            self.set_tray_available(present);
        }
        if !self.tray_available() {
            test.blockers.push(Blocker::NoTrayHost);
        }
        Ok(test)
    }

    pub fn recent_decisions(&self) -> CommandResult<Vec<Diagnostic>> {
        Ok(self.session()?.engine.recent_decisions())
    }

    pub async fn start_demo(&self) -> CommandResult<AppInfo> {
        switch::switch(self, Mode::Demo).await?;
        self.app_info().await
    }

    /// "Try again" after the session could not start (its database in use, locked,
    /// damaged…): starts it again in the mode it was asked for; rejects with the same reason
    /// while the cause remains.
    pub async fn retry_start(&self) -> CommandResult<AppInfo> {
        switch::retry(self).await?;
        self.app_info().await
    }

    /// "Try again": with the keychain read again first, so a secret stored meanwhile (by
    /// `chatbell-cli proxy-password set`, say) is the one tried.
    pub async fn reconnect_now(&self) -> CommandResult<()> {
        let session = self.session()?;
        // Down, the connection retries at once on the secrets read again; online, it is asked
        // to reconnect. Never both: that would connect twice.
        let online = matches!(*session.engine.state().borrow(), ConnState::Online { .. });
        self.reread_secrets().await?;
        if online || session.mode() != Mode::Server {
            session.engine.reconnect_now().await;
        }
        Ok(())
    }
}

/// The template filled for a sample chat, or why it cannot be used (as `server.web_panel`'s
/// problem, the one Save would meet).
pub fn preview_web_panel(template: &str) -> CommandResult<WebPanelPreview> {
    WebPanel::parse(template)
        .map(|panel| WebPanelPreview {
            url: panel.preview(),
        })
        .map_err(|e| CommandError::setting("server.web_panel", e.into()))
}

/// The page's timing of its opening, logged once per window (the benchmark reads the line).
/// The times are the page's to report, so only ones a page could measure are taken.
pub fn page_painted(dom_ms: f64, painted_ms: f64) -> CommandResult<()> {
    let plausible = |ms: f64| (0.0..=600_000.0).contains(&ms);
    if !plausible(dom_ms) || !plausible(painted_ms) {
        return Err(CommandError::invalid(format!(
            "page_painted: times must be 0 to 600000 ms, not {dom_ms} and {painted_ms}"
        )));
    }
    tracing::info!(dom_ms, painted_ms, "page painted");
    Ok(())
}

#[cfg(test)]
mod page_timing {
    use chatbell_ipc::Command;

    use super::page_painted;

    #[test]
    fn a_pages_timing_is_taken_only_when_a_page_could_have_measured_it() {
        assert_eq!(
            Command::parse(
                "page_painted",
                serde_json::json!({"dom_ms": 41.5, "painted_ms": 97.25})
            )
            .unwrap(),
            Command::PagePainted {
                dom_ms: 41.5,
                painted_ms: 97.25
            }
        );
        assert!(page_painted(41.5, 97.25).is_ok());
        for (dom, painted) in [(-1.0, 10.0), (10.0, f64::INFINITY), (10.0, 600_001.0)] {
            let refused = page_painted(dom, painted).unwrap_err();
            assert!(
                matches!(
                    refused,
                    chatbell_ipc::contract::CommandError::Invalid { .. }
                ),
                "{dom} {painted}: {refused:?}"
            );
        }
        assert!(Command::parse("page_painted", serde_json::json!({"dom_ms": "soon"})).is_err());
    }
}
