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

use super::{Settings, SettingsError};

/// Applies a saved change to the rest of the app: `(old, new)`.
pub type Apply<E> = Box<
    dyn FnMut(Settings, Settings) -> Pin<Box<dyn Future<Output = Result<(), E>> + Send>> + Send,
>;

type Edit = Box<dyn FnOnce(&mut Settings) + Send>;

struct Change<E> {
    edit: Edit,
    done: oneshot::Sender<Result<Settings, ChangeError<E>>>,
}

/// Why a change did not fully happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError<E> {
    /// Not valid, or the file could not be written: nothing changed.
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
    changes: mpsc::Sender<Change<E>>,
    current: watch::Receiver<Settings>,
}

impl<E> Clone for SettingsOwner<E> {
    fn clone(&self) -> Self {
        SettingsOwner {
            changes: self.changes.clone(),
            current: self.current.clone(),
        }
    }
}

impl<E: Send + 'static> SettingsOwner<E> {
    /// The owner of `initial`, kept in the file at `path` (`None`: not saved, for tests and
    /// tools), and the task that applies the changes: spawn it on the app's runtime.
    pub fn new(
        initial: Settings,
        path: Option<PathBuf>,
        apply: Apply<E>,
    ) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (changes, receiver) = mpsc::channel(16);
        let (publish, current) = watch::channel(initial);
        let task = serve(receiver, publish, path, apply);
        (SettingsOwner { changes, current }, task)
    }

    /// The settings now.
    pub fn current(&self) -> Settings {
        self.current.borrow().clone()
    }

    /// Every published change, from now on.
    pub fn subscribe(&self) -> watch::Receiver<Settings> {
        self.current.clone()
    }

    /// Edits the settings as they are when the edit runs; answers with the settings after it,
    /// once they are applied.
    pub async fn update(
        &self,
        edit: impl FnOnce(&mut Settings) + Send + 'static,
    ) -> Result<Settings, ChangeError<E>> {
        let (done, answer) = oneshot::channel();
        let change = Change {
            edit: Box::new(edit),
            done,
        };
        self.changes
            .send(change)
            .await
            .map_err(|_| ChangeError::Stopped)?;
        answer.await.map_err(|_| ChangeError::Stopped)?
    }
}

async fn serve<E: Send + 'static>(
    mut changes: mpsc::Receiver<Change<E>>,
    publish: watch::Sender<Settings>,
    path: Option<PathBuf>,
    mut apply: Apply<E>,
) {
    while let Some(Change { edit, done }) = changes.recv().await {
        let old = publish.borrow().clone();
        let mut new = old.clone();
        edit(&mut new);
        let saved = new
            .validate()
            .and_then(|()| path.as_deref().map_or(Ok(()), |p| new.save(p)));
        let answer = match saved {
            Err(e) => Err(ChangeError::Refused(e)),
            Ok(()) => {
                publish.send_replace(new.clone());
                apply(old, new.clone())
                    .await
                    .map(|()| new)
                    .map_err(ChangeError::Apply)
            }
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
}
