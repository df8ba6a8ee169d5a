//! The organization's file: defaults and locked settings that IT puts on every machine
//! (`docs/deployment.md`). Chatbell only reads it — never moves, rewrites or deletes it — and a
//! bad one never stops Chatbell: it is set aside as a whole, with which file and which field is
//! wrong, and the agent's and the built-in settings hold.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::layers::{built_in, fields, keys, overlay, settings_of, shown_key};
use super::{Layers, MAX_FILE_BYTES, Problem, Settings, SettingsError};

/// The settings' layers as the files say now.
#[derive(Debug)]
pub struct Loaded {
    pub layers: Layers,
    /// Why the agent's file could not be used (it is then left out, kept beside as it was).
    pub user_error: Option<SettingsError>,
    /// The organization's file as read (its parts are in `layers`, unless set aside).
    pub organization: Organization,
}

/// Reads the agent's file at `user` and the organization's at `org`, as every part of Chatbell
/// does: the app, `listen`, `doctor` and `settings`. Never fails: trouble is in `user_error`
/// and `organization.problem`, for the caller to say.
pub fn load_layers(user: &Path, org: &Path) -> Loaded {
    let (user, user_error) = Settings::load_user(user);
    let organization = Organization::load(org);
    Loaded {
        layers: Layers {
            defaults: organization.defaults.clone(),
            locked: organization.locked.clone(),
            user,
        },
        user_error,
        organization,
    }
}

/// The file's place: `CHATBELL_ORG_SETTINGS` (tests, packagers), else the system's.
pub fn path() -> PathBuf {
    if let Some(path) = std::env::var_os("CHATBELL_ORG_SETTINGS").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    system_path()
}

#[cfg(target_os = "windows")]
fn system_path() -> PathBuf {
    let data = std::env::var_os("ProgramData").unwrap_or_else(|| r"C:\ProgramData".into());
    PathBuf::from(data).join("Chatbell").join("settings.json")
}

#[cfg(target_os = "macos")]
fn system_path() -> PathBuf {
    PathBuf::from("/Library/Application Support/Chatbell/settings.json")
}

#[cfg(not(any(target_os = "windows", target_os = "macos")))]
fn system_path() -> PathBuf {
    PathBuf::from("/etc/chatbell/settings.json")
}

/// What is wrong with the organization's file. Never quotes a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrgProblem {
    #[error("it cannot be read")]
    Unreadable,
    #[error("it is not a regular file (a folder, pipe, socket or device)")]
    NotAFile,
    #[error("it is larger than 1 MiB")]
    TooLarge,
    #[error("it is not JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("it must be an object with \"defaults\" and \"locked\", each an object of settings")]
    Shape,
    #[error("{field}: the API token is personal and lives in each agent's keychain, not here")]
    Token { field: String },
    /// A field that is not a setting, or a value the setting does not take.
    #[error("{field}: {problem}")]
    Setting { field: String, problem: Problem },
}

/// The organization's file as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Organization {
    pub path: PathBuf,
    /// Whether there is a file (a missing one is no trouble: most computers have none).
    pub present: bool,
    pub defaults: Map<String, Value>,
    pub locked: Map<String, Value>,
    /// Why the file is set aside; then `defaults` and `locked` are empty.
    pub problem: Option<OrgProblem>,
}

impl Organization {
    /// The dotted keys the file locks.
    pub fn locked_keys(&self) -> Vec<String> {
        keys(&self.locked)
    }

    /// The dotted keys the file gives defaults for.
    pub fn default_keys(&self) -> Vec<String> {
        keys(&self.defaults)
    }

    /// Reads the file at `path`, without blocking on a pipe and without reading more than
    /// 1 MiB. Never fails: trouble is kept in `problem` (and logged by the caller, once).
    pub fn load(path: &Path) -> Organization {
        let mut org = Organization {
            path: path.to_path_buf(),
            ..Organization::default()
        };
        let text = match read(path) {
            Ok(None) => return org,
            Ok(Some(text)) => text,
            Err(problem) => {
                org.present = true;
                org.problem = Some(problem);
                return org;
            }
        };
        org.present = true;
        match parse(&text) {
            Ok((defaults, locked)) => {
                org.defaults = defaults;
                org.locked = locked;
            }
            Err(problem) => org.problem = Some(problem),
        }
        org
    }
}

fn read(path: &Path) -> Result<Option<String>, OrgProblem> {
    let file = match super::file::open_nonblocking(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // Windows refuses to open a folder as a file.
        Err(_) if path.is_dir() => return Err(OrgProblem::NotAFile),
        Err(_) => return Err(OrgProblem::Unreadable),
        Ok(file) => file,
    };
    let meta = file.metadata().map_err(|_| OrgProblem::Unreadable)?;
    if !meta.file_type().is_file() {
        return Err(OrgProblem::NotAFile);
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| OrgProblem::Unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(OrgProblem::TooLarge);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| OrgProblem::NotJson { line: 1, column: 1 })
}

/// Part of the settings, as JSON: `{"notifications": {"snooze_minutes": 15}}`.
type Part = Map<String, Value>;

/// The file's `defaults` and `locked`, each checked as settings of their own.
pub(super) fn parse(text: &str) -> Result<(Part, Part), OrgProblem> {
    let value: Value = serde_json::from_str(text).map_err(|e| OrgProblem::NotJson {
        line: e.line(),
        column: e.column(),
    })?;
    let Value::Object(mut top) = value else {
        return Err(OrgProblem::Shape);
    };
    let mut section = |name: &str| match top.remove(name) {
        None => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(OrgProblem::Shape),
    };
    let defaults = section("defaults")?;
    let locked = section("locked")?;
    if !top.is_empty() {
        return Err(OrgProblem::Shape);
    }
    for part in [&defaults, &locked] {
        check(part)?;
    }
    Ok((defaults, locked))
}

/// A part of settings: no token, no field the settings do not have, and valid laid over the
/// built-in values.
fn check(part: &Map<String, Value>) -> Result<(), OrgProblem> {
    let keys: Vec<String> = fields(&Value::Object(part.clone()))
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    if let Some(key) = keys
        .iter()
        .find(|key| key.split('.').any(|p| p.contains("token")))
    {
        return Err(OrgProblem::Token {
            field: shown_key(key),
        });
    }
    let mut value = built_in().clone();
    overlay(&mut value, &Value::Object(part.clone()));
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    settings_of(value, &keys).map(drop).map_err(|e| match e {
        SettingsError::Invalid { field, problem } => OrgProblem::Setting { field, problem },
        // `settings_of` refuses fields only.
        _ => OrgProblem::Shape,
    })
}

/// Whether a file event may have changed the organization's `file` in `folder`: a change of the
/// file itself (written, replaced by a rename, removed, its permissions), or of the folder or one
/// above it on the way (made, removed, renamed) while it is awaited. Reads are not changes —
/// reading the file opens it, and an open that woke the next read would read forever — nor is
/// anything about the folder's other files (or, while `/etc/chatbell` is awaited, `/etc`'s).
fn matters(event: &notify::Event, file: &Path, folder: &Path) -> bool {
    if matches!(event.kind, notify::EventKind::Access(_)) {
        return false;
    }
    event
        .paths
        .iter()
        .any(|p| p == file || folder.starts_with(p))
}

/// How long after a change of the file it is read: an editor's save is several events.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(150);

/// Follows the organization's file from `first`, the caller's own reading: each time it
/// changes (or appears, or goes), its new contents are sent, once they differ from the last.
/// The system's file notifications (inotify on Linux, through `notify`) wake it: there is no
/// polling timer. Its folder is watched, not the file, so a file replaced by a rename (as
/// configuration tools write) is followed; a folder that is not there yet is waited for in the
/// folder above. It is read once more as soon as it is watched, so a change between the
/// caller's reading and the watch is not missed. Ends when the receiver is dropped.
pub fn watch(path: PathBuf, first: Organization) -> tokio::sync::mpsc::Receiver<Organization> {
    use notify::{RecursiveMode, Watcher};
    let (out, receiver) = tokio::sync::mpsc::channel(4);
    let (poke, mut pokes) = tokio::sync::mpsc::channel::<()>(1);
    let look_again = poke.clone();
    let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (file, awaited) = (path.clone(), folder.clone());
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // An error may mean events were lost: read again to be sure.
        if event.is_ok_and(|e| !matters(&e, &file, &awaited)) {
            return;
        }
        // A full channel is a read already due: it will see this change too.
        let _ = poke.try_send(());
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(error) => {
            tracing::warn!(%error, "the organization's settings cannot be followed; read at start only");
            return receiver;
        }
    };
    // The folder, or the nearest one above it that exists (to see the folder appear).
    let arm = move |watcher: &mut notify::RecommendedWatcher, watched: &mut Option<PathBuf>| {
        let target = if folder.is_dir() {
            folder.clone()
        } else {
            match folder.ancestors().skip(1).find(|a| a.is_dir()) {
                Some(above) => above.to_path_buf(),
                None => return,
            }
        };
        if watched.as_ref() == Some(&target) {
            return;
        }
        if let Some(old) = watched.take() {
            let _ = watcher.unwatch(&old);
        }
        match watcher.watch(&target, RecursiveMode::NonRecursive) {
            Ok(()) => *watched = Some(target),
            Err(error) => {
                tracing::warn!(%error, folder = %target.display(), "cannot watch the organization's settings folder")
            }
        }
    };
    let mut watched = None;
    arm(&mut watcher, &mut watched);
    // Watched from here on: what changed since the caller read it is read now.
    let _ = look_again.try_send(());
    drop(look_again);
    tokio::spawn(async move {
        let mut last = first;
        loop {
            tokio::select! {
                _ = out.closed() => return,
                poked = pokes.recv() => if poked.is_none() { return },
            }
            tokio::time::sleep(SETTLE).await;
            // Events that came while settling are this read's.
            while pokes.try_recv().is_ok() {}
            arm(&mut watcher, &mut watched);
            let read_path = path.clone();
            let Ok(now) = tokio::task::spawn_blocking(move || Organization::load(&read_path)).await
            else {
                return;
            };
            if now != last {
                if let Some(problem) = &now.problem {
                    tracing::warn!(file = %now.path.display(), %problem, "the organization's settings are set aside");
                } else {
                    tracing::info!(file = %now.path.display(), "the organization's settings changed");
                }
                last = now.clone();
                if out.send(now).await.is_err() {
                    return;
                }
            }
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Option<OrgProblem> {
        parse(text).err()
    }

    #[test]
    fn a_good_file_gives_its_defaults_and_locked_parts() {
        let (defaults, locked) = parse(
            r#"{"defaults": {"notifications": {"snooze_minutes": 15}},
                "locked": {"server": {"url": "wss://support.corp.example/ws", "subscriptions": [7]}}}"#,
        )
        .unwrap();
        assert_eq!(defaults["notifications"]["snooze_minutes"], 15);
        assert_eq!(locked["server"]["subscriptions"][0], 7);
        assert_eq!(parse("{}").unwrap(), (Map::new(), Map::new()));
    }

    /// The example the `.deb` ships (`/usr/share/doc/chatbell/examples/settings.json`) and
    /// `docs/deployment.md` explains is a good file.
    #[test]
    fn the_shipped_example_is_a_good_file() {
        let example = include_str!("../../../../docs/examples/settings.json");
        let (defaults, locked) = parse(example).unwrap();
        assert_eq!(defaults["notifications"]["snooze_minutes"], 15);
        assert_eq!(locked["server"]["url"], "wss://support.example.com/events");
    }

    #[test]
    fn a_bad_file_says_which_field_and_never_the_value() {
        let cases = [
            ("not json", "it is not JSON (line 1, column 2)"),
            ("[1]", "it must be an object"),
            (r#"{"defaults": 3}"#, "it must be an object"),
            (r#"{"extra": {}}"#, "it must be an object"),
            (
                r#"{"locked": {"server": {"token": "hunter2"}}}"#,
                "server.token: the API token is personal",
            ),
            (
                r#"{"defaults": {"notifications": {"snooze_minuets": 5}}}"#,
                "notifications.snooze_minuets: is not a setting",
            ),
            (
                r#"{"defaults": {"notifications": {"snooze_minutes": "hunter2"}}}"#,
                "notifications.snooze_minutes: is not a value this setting takes",
            ),
            (
                r#"{"locked": {"notifications": {"snooze_minutes": 0}}}"#,
                "notifications.snooze_minutes: must be from",
            ),
            (
                r#"{"defaults": {"server": {"url": "http://hunter2.example"}}}"#,
                "server.url: must start with ws:// or wss://",
            ),
        ];
        for (text, words) in cases {
            let said = problem(text)
                .unwrap_or_else(|| panic!("{text}"))
                .to_string();
            assert!(said.starts_with(words), "{text}: {said}");
            assert!(!said.contains("hunter2"), "{said}");
        }
    }

    #[test]
    fn files_that_cannot_be_read_are_set_aside_and_left_where_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Organization::load(&dir.path().join("settings.json"));
        assert!(!missing.present && missing.problem.is_none());

        let folder = dir.path().join("folder.json");
        std::fs::create_dir(&folder).unwrap();
        assert_eq!(
            Organization::load(&folder).problem,
            Some(OrgProblem::NotAFile)
        );

        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; MAX_FILE_BYTES as usize + 2]).unwrap();
        assert_eq!(Organization::load(&big).problem, Some(OrgProblem::TooLarge));

        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo.json");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(made.success());
            // Opened without blocking, judged by what was opened: no writer needed.
            let org = Organization::load(&fifo);
            assert_eq!(org.problem, Some(OrgProblem::NotAFile));
            assert!(fifo.exists(), "left where it is");
        }

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, b"{\"locked\": {\"ui\": {\"theme\": 5}}}").unwrap();
        let org = Organization::load(&bad);
        assert!(org.present && org.defaults.is_empty() && org.locked.is_empty());
        assert!(
            matches!(&org.problem, Some(OrgProblem::Setting { field, .. }) if field == "ui.theme"),
            "{:?}",
            org.problem
        );
        assert!(bad.exists(), "never moved or rewritten");
    }

    /// What wakes a read: changes of the file and of the way to its folder; never a read of the
    /// file (which the watcher's own reads would repeat forever) nor other files nearby.
    #[test]
    fn only_changes_of_the_file_or_its_folder_wake_a_read() {
        use notify::event::{
            AccessKind, AccessMode, CreateKind, DataChange, EventKind, MetadataKind, ModifyKind,
            RemoveKind, RenameMode,
        };
        let file = Path::new("/etc/chatbell/settings.json");
        let folder = Path::new("/etc/chatbell");
        let event = |kind, paths: &[&str]| notify::Event {
            kind,
            paths: paths.iter().map(PathBuf::from).collect(),
            attrs: Default::default(),
        };
        let cases = [
            (
                EventKind::Access(AccessKind::Open(AccessMode::Read)),
                &["/etc/chatbell/settings.json"][..],
                false,
            ),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                &["/etc/chatbell/settings.json"],
                false,
            ),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                &["/etc/chatbell/settings.json"],
                false,
            ),
            (
                EventKind::Modify(ModifyKind::Data(DataChange::Any)),
                &["/etc/chatbell/settings.json"],
                true,
            ),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::Permissions)),
                &["/etc/chatbell/settings.json"],
                true,
            ),
            (
                EventKind::Remove(RemoveKind::File),
                &["/etc/chatbell/settings.json"],
                true,
            ),
            (
                EventKind::Create(CreateKind::File),
                &["/etc/chatbell/.settings.json.tmp"],
                false,
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &[
                    "/etc/chatbell/.settings.json.tmp",
                    "/etc/chatbell/settings.json",
                ],
                true,
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                &["/etc/chatbell/settings.json"],
                true,
            ),
            (
                EventKind::Create(CreateKind::Folder),
                &["/etc/chatbell"],
                true,
            ),
            (
                EventKind::Remove(RemoveKind::Folder),
                &["/etc/chatbell"],
                true,
            ),
            (
                EventKind::Modify(ModifyKind::Data(DataChange::Any)),
                &["/etc/chatbell/other.json"],
                false,
            ),
            (
                EventKind::Modify(ModifyKind::Data(DataChange::Any)),
                &["/etc/passwd"],
                false,
            ),
            (
                EventKind::Create(CreateKind::Folder),
                &["/etc/chatbell-old"],
                false,
            ),
        ];
        for (kind, paths, wakes) in cases {
            assert_eq!(
                matters(&event(kind, paths), file, folder),
                wakes,
                "{kind:?} {paths:?}"
            );
        }
    }

    // Under Wine this test never ends (over 60 s, inside notify's ReadDirectoryChangesW
    // backend; compare notify-rs/notify#674): Windows' own watcher is not run here.
    #[cfg_attr(windows, ignore = "notify's Windows watcher hangs under Wine")]
    #[tokio::test]
    async fn a_change_of_the_file_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        // The folder does not exist yet: it is waited for in the one above.
        let path = dir.path().join("chatbell").join("settings.json");
        let mut changes = watch(path.clone(), Organization::load(&path));
        std::fs::create_dir(path.parent().unwrap()).unwrap();
        // As configuration tools write: a new file renamed into place.
        let tmp = dir.path().join("chatbell").join(".settings.json.tmp");
        std::fs::write(
            &tmp,
            r#"{"locked": {"notifications": {"snooze_minutes": 20}}}"#,
        )
        .unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let seen = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            loop {
                let org = changes.recv().await.unwrap();
                if org.present {
                    return org;
                }
            }
        })
        .await
        .expect("the change was seen within 2 s");
        assert_eq!(seen.locked["notifications"]["snooze_minutes"], 20);

        std::fs::remove_file(&path).unwrap();
        let gone = tokio::time::timeout(std::time::Duration::from_secs(2), changes.recv())
            .await
            .expect("its removal was seen within 2 s")
            .unwrap();
        assert!(!gone.present && gone.locked.is_empty());
    }
}
