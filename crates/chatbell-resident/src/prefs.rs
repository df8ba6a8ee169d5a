//! Settings in the running app: loaded at start, then changed only through their one owner
//! (`SettingsOwner`: one change at a time, each from the settings as they are), which saves
//! them, publishes them (the tray, the waiting line and the window follow), and has them
//! applied here to what they configure (start at login, the engine, the connection, the web
//! panel link).

use chatbell_engine::settings::organization::{self, Loaded, Organization};
use chatbell_engine::settings::{
    ChangeError, Layers, Problem, ServerSettings, Settings, SettingsOwner,
};
use chatbell_engine::{paths, server_config};
use chatbell_ipc::CliRequest;
use chatbell_ipc::contract::{CommandError, CommandResult, Mode, OrganizationInfo};

use crate::resident::Resident;
use crate::secrets;
use crate::{autostart, switch};

/// The settings in their layers: the agent's file (or nothing, with a notice, when it could
/// not be read: the bad file is kept beside it, never overwritten) and the organization's file
/// (set aside as a whole when it is bad, said in the log), read once at start.
pub fn load() -> Loaded {
    let loaded = organization::load_layers(&paths::settings_path(), &organization::path());
    if let Some(e) = &loaded.user_error {
        tracing::warn!(error = %e, "settings");
    }
    let org = &loaded.organization;
    if let Some(problem) = &org.problem {
        tracing::warn!(file = %org.path.display(), %problem, "the organization's settings are set aside");
    }
    loaded
}

/// Follows the organization's file from `first`, as it was read at start: the window is told
/// what it locks and what is wrong with it, and each change is handed to the settings' owner,
/// which publishes and applies what moves, and told to the window.
pub(crate) fn follow_organization(resident: &Resident, first: Organization) {
    resident.set_organization(OrganizationInfo::of(&first));
    let mut changes = organization::watch(first.path.clone(), first);
    let owner = resident.settings_owner().clone();
    let me = resident.clone();
    resident.spawn(async move {
        while let Some(org) = changes.recv().await {
            if let Err(e) = owner
                .organization(org.defaults.clone(), org.locked.clone())
                .await
            {
                tracing::warn!(error = %e, "the organization's settings could not be applied");
            }
            me.set_organization(OrganizationInfo::of(&org));
        }
    });
}

/// The owner of `settings` (kept in the settings file) and its task, for the caller to run.
/// Changes are applied to the resident `resident` returns (none: it is gone, nothing to do).
pub(crate) fn own(
    layers: Layers,
    resident: impl Fn() -> Option<Resident> + Send + Sync + 'static,
) -> (
    SettingsOwner<CommandError>,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let resident = std::sync::Arc::new(resident);
    SettingsOwner::with_layers(
        layers,
        Some(paths::settings_path()),
        Box::new(move |old, new| {
            let resident = resident.clone();
            Box::pin(async move {
                match resident() {
                    Some(r) => apply(&r, old, new).await,
                    None => Ok(()),
                }
            })
        }),
    )
}

/// Changes the settings as they are when the change runs; answers with the result, applied.
pub async fn update(
    resident: &Resident,
    edit: impl FnOnce(&mut Settings) + Send + 'static,
) -> CommandResult<Settings> {
    let owner = resident.settings_owner().clone();
    answer(owner.update(edit).await)
}

/// `chatbell-cli settings set|reset`: one field, by its dotted key.
pub async fn cli(resident: &Resident, request: CliRequest) -> CommandResult<Settings> {
    let owner = resident.settings_owner().clone();
    answer(match request {
        CliRequest::SetSetting { key, value } => owner.set(key, value).await,
        CliRequest::ResetSetting { key } => owner.reset(key).await,
    })
}

fn answer(change: Result<Settings, ChangeError<CommandError>>) -> CommandResult<Settings> {
    change.map_err(|e| match e {
        ChangeError::Refused(e) => e.into(),
        ChangeError::Apply(e) => e,
        e @ ChangeError::Stopped => CommandError::engine(e.to_string()),
    })
}

/// Start at login is the system's: the installer may have turned it on, the agent may have
/// turned it off in the system's list of startup apps. The setting is made to say what is, so
/// the switch in Settings shows it (a locked setting is left as the organization wants it).
pub async fn adopt_start_at_login(resident: &Resident) {
    let on = match tokio::task::spawn_blocking(autostart::is_on).await {
        Ok(Ok(on)) => on,
        Ok(Err(e)) => {
            return tracing::warn!(error = %e, "cannot tell whether Chatbell starts at login");
        }
        Err(e) => return tracing::warn!(error = %e, "cannot tell whether Chatbell starts at login"),
    };
    if resident.settings().ui.start_at_login == on {
        return;
    }
    tracing::info!(
        on,
        "start at login was changed outside Chatbell: the setting follows"
    );
    if let Err(e) = update(resident, move |s| s.ui.start_at_login = on).await {
        tracing::warn!(error = %e, "start at login: the setting cannot follow the system");
    }
}

/// Pauses or resumes notifications (the tray menu and the UI).
pub async fn set_dnd(resident: &Resident, on: bool) -> CommandResult<Settings> {
    update(resident, move |s| s.notifications.do_not_disturb = on).await
}

/// Applies a saved change to what it configures.
async fn apply(resident: &Resident, old: Settings, new: Settings) -> CommandResult<()> {
    if new.ui.start_at_login != old.ui.start_at_login {
        autostart::set(new.ui.start_at_login).map_err(|e| {
            CommandError::setting(
                "ui.start_at_login",
                Problem::NotApplied {
                    error: e.to_string(),
                },
            )
        })?;
    }

    // A forwarding target removed, or moved to another server, takes its secret with it.
    let forget = chatbell_engine::settings::forward::secrets_to_forget(
        &old.notifications.forward,
        &new.notifications.forward,
    );
    for id in forget {
        if let Err(e) = secrets::store_forward(id, None).await {
            tracing::warn!(error = %e, "a removed forwarding target's secret stays in the keychain");
        }
    }

    let session = resident.session()?;
    let engine = &session.engine;
    // Every task of the engine takes what it uses: the policy, sounds, language, reminders,
    // the offline alarm, the web panel link.
    engine.set_settings(new.clone());
    // Applied here, not by a task, so a store that refuses it answers the save.
    if new.store.retention_days != old.store.retention_days
        && let Some(days) = new.store.retention_days
    {
        engine.apply_retention(days).await?;
    }
    // The web panel link is the server's too, but changing it must not reconnect.
    let connection = |s: &Settings| ServerSettings {
        web_panel: None,
        ..s.server.clone()
    };
    let reconnect = connection(&new) != connection(&old);
    match session.mode() {
        // The demo keeps running until a real server is configured.
        Mode::Demo if reconnect && new.server.url.is_some() => {
            switch::switch(resident, Mode::Server).await?
        }
        Mode::Demo => {}
        Mode::Server | Mode::Unconfigured => {
            if reconnect {
                let credentials = secrets::credentials(&new.server).await;
                let server = server_config(&new.server, credentials);
                session.set_mode(if server.is_some() {
                    Mode::Server
                } else {
                    Mode::Unconfigured
                });
                for user in old
                    .server
                    .subscriptions
                    .iter()
                    .filter(|u| !new.server.subscriptions.contains(u))
                {
                    engine.unsubscribe(*user);
                }
                for user in new
                    .server
                    .subscriptions
                    .iter()
                    .filter(|u| !old.server.subscriptions.contains(u))
                {
                    engine.subscribe(*user);
                }
                engine.set_server(server).await;
            }
        }
    }
    Ok(())
}
