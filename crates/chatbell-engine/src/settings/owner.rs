//! One owner for the settings of a running app.
//!
//! A change is an edit of the settings as they are when it is applied, and edits are applied
//! one at a time by one task: two changes made at once (a mute from the window while
//! do-not-disturb is switched from the tray) both land, since neither is computed from a copy
//! the other has already outdated. Each edit is validated, saved, published to everyone
//! following the settings (the tray, the window), and then applied (the engine, the
//! connection), in that order; the next edit waits until the last is applied.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot, watch};

use serde_json::{Map, Value};

use super::{Layers, Settings, SettingsError};

/// Applies a saved change to the rest of the app: `(old, new)`.
pub type Apply<E> = Box<
    dyn FnMut(Settings, Settings) -> Pin<Box<dyn Future<Output = Result<(), E>> + Send>> + Send,
>;

/// The agent's change: their file's new contents, from the layers as they are, or why not.
type Edit = Box<dyn FnOnce(&Layers) -> Result<Map<String, Value>, SettingsError> + Send>;

enum Msg<E> {
    /// The agent's change.
    Edit {
        edit: Edit,
        done: oneshot::Sender<Result<Settings, ChangeError<E>>>,
    },
    /// The organization's file changed.
    Organization {
        defaults: Map<String, Value>,
        locked: Map<String, Value>,
        done: oneshot::Sender<Result<Settings, ChangeError<E>>>,
    },
}

/// Why a change did not fully happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError<E> {
    /// Not valid, a field the organization locked, or the file could not be written: nothing
    /// changed.
    #[error(transparent)]
    Refused(SettingsError),
    /// Saved and published, but applying it failed (the settings stay changed).
    #[error(transparent)]
    Apply(E),
    /// The app is stopping.
    #[error("the settings can no longer be changed: Chatbell is stopping")]
    Stopped,
}

/// The handle to the owner task; cheap to clone.
pub struct SettingsOwner<E> {
    changes: mpsc::Sender<Msg<E>>,
    current: watch::Receiver<Settings>,
    layers: watch::Receiver<Layers>,
}

impl<E> Clone for SettingsOwner<E> {
    fn clone(&self) -> Self {
        SettingsOwner {
            changes: self.changes.clone(),
            current: self.current.clone(),
            layers: self.layers.clone(),
        }
    }
}

impl<E: Send + 'static> SettingsOwner<E> {
    /// The owner of `initial` as the agent's own settings, with no organization's, kept in the
    /// file at `path` (`None`: not saved, for tests and tools), and the task that applies the
    /// changes: spawn it on the app's runtime.
    pub fn new(
        initial: Settings,
        path: Option<PathBuf>,
        apply: Apply<E>,
    ) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let layers = Layers {
            user: Layers::user_from_whole(&initial),
            ..Layers::default()
        };
        SettingsOwner::with_layers(layers, path, apply)
    }

    /// The owner of settings in layers: the agent's file at `path` keeps the agent's own
    /// choices; the organization's come with [`SettingsOwner::organization`].
    pub fn with_layers(
        layers: Layers,
        path: Option<PathBuf>,
        apply: Apply<E>,
    ) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (changes, receiver) = mpsc::channel(16);
        let (publish, current) = watch::channel(layers.effective());
        let (publish_layers, layers_rx) = watch::channel(layers);
        let task = serve(receiver, publish, publish_layers, path, apply);
        (
            SettingsOwner {
                changes,
                current,
                layers: layers_rx,
            },
            task,
        )
    }

    /// The settings now.
    pub fn current(&self) -> Settings {
        self.current.borrow().clone()
    }

    /// The layers now: where each field comes from, what is locked.
    pub fn layers(&self) -> Layers {
        self.layers.borrow().clone()
    }

    /// Every published change, from now on.
    pub fn subscribe(&self) -> watch::Receiver<Settings> {
        self.current.clone()
    }

    /// Edits the settings as they are when the edit runs; answers with the settings after it,
    /// once they are applied. An edit of a field the organization locked is refused, naming it.
    pub async fn update(
        &self,
        edit: impl FnOnce(&mut Settings) + Send + 'static,
    ) -> Result<Settings, ChangeError<E>> {
        self.change(Box::new(move |layers| {
            let mut new = layers.effective();
            edit(&mut new);
            layers.user_for(&new)
        }))
        .await
    }

    /// Sets one field by its dotted key (`notifications.snooze_minutes`), as `chatbell-cli
    /// settings set` does: refused, naming the field, when it is not a setting, is locked or
    /// does not take `value`.
    pub async fn set(&self, key: String, value: Value) -> Result<Settings, ChangeError<E>> {
        self.change(Box::new(move |layers| layers.set(&key, value)))
            .await
    }

    /// Drops the agent's choice for a field, which follows the organization's default or the
    /// built-in value again.
    pub async fn reset(&self, key: String) -> Result<Settings, ChangeError<E>> {
        self.change(Box::new(move |layers| layers.reset(&key)))
            .await
    }

    async fn change(&self, edit: Edit) -> Result<Settings, ChangeError<E>> {
        let (done, answer) = oneshot::channel();
        self.changes
            .send(Msg::Edit { edit, done })
            .await
            .map_err(|_| ChangeError::Stopped)?;
        answer.await.map_err(|_| ChangeError::Stopped)?
    }

    /// The organization's file now says `defaults` and `locked` (both empty: no file, or one
    /// set aside). Answers once the settings that follow are applied.
    pub async fn organization(
        &self,
        defaults: Map<String, Value>,
        locked: Map<String, Value>,
    ) -> Result<Settings, ChangeError<E>> {
        let (done, answer) = oneshot::channel();
        self.changes
            .send(Msg::Organization {
                defaults,
                locked,
                done,
            })
            .await
            .map_err(|_| ChangeError::Stopped)?;
        answer.await.map_err(|_| ChangeError::Stopped)?
    }
}

async fn serve<E: Send + 'static>(
    mut changes: mpsc::Receiver<Msg<E>>,
    publish: watch::Sender<Settings>,
    publish_layers: watch::Sender<Layers>,
    path: Option<PathBuf>,
    mut apply: Apply<E>,
) {
    while let Some(msg) = changes.recv().await {
        let old = publish.borrow().clone();
        let mut layers = publish_layers.borrow().clone();
        let (done, edited) = match msg {
            Msg::Edit { edit, done } => {
                let saved = edit(&layers).and_then(|user| {
                    path.as_deref()
                        .map_or(Ok(()), |p| Settings::save_user(&user, p))
                        .map(|()| user)
                });
                match saved {
                    Err(e) => {
                        let _ = done.send(Err(ChangeError::Refused(e)));
                        continue;
                    }
                    Ok(user) => layers.user = user,
                }
                (done, true)
            }
            Msg::Organization {
                defaults,
                locked,
                done,
            } => {
                layers.defaults = defaults;
                layers.locked = locked;
                (done, false)
            }
        };
        let new = layers.effective();
        publish_layers.send_replace(layers);
        // An edit is applied even when it changes nothing (what it configures may have failed
        // before); a new organization's file only when the settings move.
        let answer = if new == old && !edited {
            Ok(new)
        } else {
            publish.send_replace(new.clone());
            apply(old, new.clone())
                .await
                .map(|()| new)
                .map_err(ChangeError::Apply)
        };
        // The caller may have gone (a closed window): the change stands all the same.
        let _ = done.send(answer);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    fn spawn(
        initial: Settings,
        path: Option<PathBuf>,
        apply: Apply<String>,
    ) -> SettingsOwner<String> {
        let (owner, task) = SettingsOwner::new(initial, path, apply);
        tokio::spawn(task);
        owner
    }

    /// An apply step that takes a while and records what it was given.
    fn slow_apply(seen: Arc<Mutex<Vec<(Settings, Settings)>>>) -> Apply<String> {
        Box::new(move |old, new| {
            let seen = seen.clone();
            Box::pin(async move {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(1)).await;
                seen.lock().unwrap().push((old, new));
                Ok(())
            })
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_made_at_once_all_land() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let owner = spawn(Settings::default(), None, slow_apply(seen.clone()));
        let mut tasks = Vec::new();
        for user in 0..40 {
            let owner = owner.clone();
            tasks.push(tokio::spawn(async move {
                owner
                    .update(move |s| {
                        s.notifications.mutes.insert(user, None);
                    })
                    .await
            }));
        }
        let dnd = owner.clone();
        tasks.push(tokio::spawn(async move {
            dnd.update(|s| s.notifications.do_not_disturb = true).await
        }));
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let now = owner.current();
        assert_eq!(now.notifications.mutes.len(), 40, "no mute was lost");
        assert!(now.notifications.do_not_disturb, "nor do-not-disturb");
        // Applied one at a time, each from the settings the one before left.
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 41);
        for pair in seen.windows(2) {
            assert_eq!(pair[0].1, pair[1].0);
        }
    }

    #[tokio::test]
    async fn an_invalid_change_changes_nothing_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let owner = spawn(
            Settings::default(),
            Some(path.clone()),
            slow_apply(seen.clone()),
        );
        let mut following = owner.subscribe();
        let refused = owner
            .update(|s| s.server.url = Some("ftp://nope".into()))
            .await
            .unwrap_err();
        assert!(matches!(refused, ChangeError::Refused(_)), "{refused}");
        assert!(refused.to_string().contains("server.url"), "{refused}");
        assert!(!path.exists(), "nothing saved");
        assert!(seen.lock().unwrap().is_empty(), "nothing applied");
        assert!(!following.has_changed().unwrap(), "nothing published");

        let saved = owner
            .update(|s| s.notifications.do_not_disturb = true)
            .await
            .unwrap();
        assert!(following.has_changed().unwrap(), "published");
        assert_eq!(*following.borrow_and_update(), saved);
        assert_eq!(Settings::load(&path).0, saved, "saved");
    }

    #[tokio::test]
    async fn a_failed_apply_is_reported_and_the_saved_change_stands() {
        let owner = spawn(
            Settings::default(),
            None,
            Box::new(|_, _| Box::pin(async { Err("the engine has stopped".to_string()) })),
        );
        let e = owner
            .update(|s| s.notifications.do_not_disturb = true)
            .await
            .unwrap_err();
        assert!(matches!(e, ChangeError::Apply(ref m) if m == "the engine has stopped"));
        assert!(owner.current().notifications.do_not_disturb);
    }

    #[tokio::test]
    async fn the_organization_s_file_moves_the_settings_and_locks_what_it_locks() {
        use serde_json::json;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let layers = Layers::default();
        let (owner, task) = SettingsOwner::<String>::with_layers(
            layers,
            Some(path.clone()),
            slow_apply(seen.clone()),
        );
        tokio::spawn(task);

        // The agent chooses a language; the file keeps that and nothing else.
        owner
            .update(|s| s.ui.language = crate::settings::Language::Ru)
            .await
            .unwrap();
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(file, json!({"layered": 1, "ui": {"language": "ru"}}));

        // IT sets a default and locks the server; the agent's choice stands.
        let Value::Object(defaults) =
            json!({"notifications": {"snooze_minutes": 20}, "ui": {"language": "en"}})
        else {
            unreachable!()
        };
        let Value::Object(locked) = json!({"server": {"url": "wss://corp.example/ws"}}) else {
            unreachable!()
        };
        let now = owner.organization(defaults, locked).await.unwrap();
        assert_eq!(now.notifications.snooze_minutes, 20);
        assert_eq!(now.server.url.as_deref(), Some("wss://corp.example/ws"));
        assert_eq!(now.ui.language, crate::settings::Language::Ru);
        assert_eq!(seen.lock().unwrap().last().unwrap().1, now, "applied");
        assert_eq!(
            crate::settings::layers::keys(&owner.layers().locked),
            ["server.url"]
        );

        // The locked field cannot be changed; the file is as it was.
        let e = owner
            .update(|s| s.server.url = Some("wss://mine.example/ws".into()))
            .await
            .unwrap_err();
        match e {
            ChangeError::Refused(SettingsError::Invalid { field, problem }) => {
                assert_eq!(field, "server.url");
                assert_eq!(problem, crate::settings::Problem::Locked);
            }
            other => panic!("{other:?}"),
        }
        let again: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(again, file);
        assert_eq!(Settings::load_user(&path).0, owner.layers().user);
    }
}
