//! The settings file on disk: read without blocking and without trusting its size, type or
//! encoding; anything that is not settings is moved aside, never lost or overwritten; written
//! atomically and privately.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde_json::{Map, Value};

use super::layers::{Layers, built_in, field_path, overlay, settings_of};
use super::{MAX_FILE_BYTES, Settings, SettingsError};

impl Settings {
    /// Reads settings; a missing file gives the defaults. A file that is not valid settings is
    /// moved aside (never lost, never overwritten) and reported in the error, with defaults
    /// returned alongside so the app can still start. Not valid: not JSON, a wrong or
    /// out-of-range value, not UTF-8, over [`MAX_FILE_BYTES`], or not a regular file (a FIFO
    /// there would otherwise block start-up). A folder in its place, or a file that cannot be
    /// opened, is reported and left alone. An existing file (and its folder) is tightened to
    /// the owner only.
    pub fn load(path: &Path) -> (Settings, Option<SettingsError>) {
        load_with(path, parse)
    }

    /// The agent's own choices in the file at `path` (see `layers.rs`), handled as
    /// [`Settings::load`] handles the file: valid when laid over the built-in values. A file
    /// written before settings were layered holds every field: it counts as the fields that
    /// differ from the built-in values.
    pub fn load_user(path: &Path) -> (Map<String, Value>, Option<SettingsError>) {
        load_with(path, parse_user)
    }

    /// Writes the agent's choices atomically, private as [`Settings::save`] writes.
    pub fn save_user(user: &Map<String, Value>, path: &Path) -> Result<(), SettingsError> {
        let mut file = Map::new();
        file.insert(LAYERED.into(), Value::from(LAYERED_VERSION));
        file.extend(user.clone());
        write_private(
            path,
            &serde_json::to_string_pretty(&file).expect("JSON serializes"),
        )
    }

    /// Validates and writes atomically (a crash mid-write leaves the old file). The file is
    /// 0600 and its folder 0700 whatever the umask.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        self.validate()?;
        write_private(
            path,
            &serde_json::to_string_pretty(self).expect("settings serialize"),
        )
    }
}

/// The key that marks a file of the agent's choices alone, and its version.
const LAYERED: &str = "layered";
const LAYERED_VERSION: u64 = 1;

fn write_private(path: &Path, text: &str) -> Result<(), SettingsError> {
    let write = |source| SettingsError::Write {
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private::dir(dir).map_err(write)?;
    }
    let tmp = path.with_extension("json.tmp");
    crate::private::write(&tmp, text.as_bytes()).map_err(write)?;
    std::fs::rename(&tmp, path).map_err(write)
}

/// What is at the settings path.
enum Contents {
    Missing,
    Text(String),
    /// Something that is not a settings file: to be moved aside, with what is wrong.
    Broken(String),
}

/// Reads the settings file without blocking and without reading more than
/// [`MAX_FILE_BYTES`] (+1, to tell "too big").
fn read_file(path: &Path) -> std::io::Result<Contents> {
    let file = match open_nonblocking(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::Missing),
        opened => opened?,
    };
    // The handle's type, not the path's: nothing can swap the file between the look and the read.
    let kind = file.metadata()?.file_type();
    if kind.is_dir() {
        return Err(std::io::ErrorKind::IsADirectory.into());
    }
    if !kind.is_file() {
        return Ok(Contents::Broken(
            "not a regular file (a pipe, socket or device)".into(),
        ));
    }
    tighten(path);
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Ok(Contents::Broken(format!(
            "larger than {} KiB",
            MAX_FILE_BYTES / 1024
        )));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Contents::Text(text),
        Err(e) => Contents::Broken(format!(
            "not UTF-8 text (at byte {})",
            e.utf8_error().valid_up_to()
        )),
    })
}

/// Opens for reading; on unix with `O_NONBLOCK`, so a FIFO opens at once instead of waiting
/// for a writer (the flag changes nothing for a regular file).
pub(super) fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Settings written before files were kept private are made so; failing that (a file of
/// another user's, a read-only disk) is no reason not to start.
fn tighten(path: &Path) {
    let folder = path.parent().filter(|d| !d.as_os_str().is_empty());
    let result =
        crate::private::file(path).and_then(|()| folder.map_or(Ok(()), crate::private::dir));
    if let Err(error) = result {
        tracing::warn!(path = %path.display(), %error, "cannot make the settings private");
    }
}

/// Reads the file at `path` with `parse`; a missing file, or one set aside, gives `T`'s
/// default (see [`Settings::load`]).
fn load_with<T: Default>(
    path: &Path,
    parse: impl Fn(&str) -> Result<T, String>,
) -> (T, Option<SettingsError>) {
    let problem = match read_file(path) {
        Ok(Contents::Missing) => return (T::default(), None),
        Ok(Contents::Text(text)) => match parse(&text) {
            Ok(parsed) => return (parsed, None),
            Err(problem) => problem,
        },
        Ok(Contents::Broken(problem)) => problem,
        Err(source) => {
            return (
                T::default(),
                Some(SettingsError::Read {
                    path: path.into(),
                    source,
                }),
            );
        }
    };
    let moved_to = aside_path(path);
    if let Err(source) = std::fs::rename(path, &moved_to) {
        return (
            T::default(),
            Some(SettingsError::Write {
                path: moved_to,
                source,
            }),
        );
    }
    (
        T::default(),
        Some(SettingsError::Unreadable {
            path: path.into(),
            problem,
            moved_to,
        }),
    )
}

/// The agent's choices: a layered file's fields (which must make valid settings over the
/// built-in values), or an older whole file's differences from them.
fn parse_user(text: &str) -> Result<Map<String, Value>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| json_problem(None, &e))?;
    match value {
        Value::Object(mut map) if map.get(LAYERED) == Some(&Value::from(LAYERED_VERSION)) => {
            map.remove(LAYERED);
            let mut all = built_in().clone();
            overlay(&mut all, &Value::Object(map.clone()));
            settings_of(all, &[]).map_err(|e| e.to_string())?;
            Ok(map)
        }
        _ => parse(text).map(|settings| Layers::user_from_whole(&settings)),
    }
}

/// JSON into settings, then [`Settings::validate`]; the error names where and what kind.
fn parse(text: &str) -> Result<Settings, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let settings: Settings = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| json_problem(Some(e.path()), e.inner()))?;
    de.end().map_err(|e| json_problem(None, &e))?;
    settings.validate().map_err(|e| e.to_string())?;
    Ok(settings)
}

/// serde's messages quote the value (``unknown variant `hunter2` ``), so a problem is told by
/// its kind, field and position instead.
fn json_problem(field: Option<&serde_path_to_error::Path>, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Data => format!(
            "{}: not a value this setting takes ({at})",
            field.map_or_else(|| "?".into(), field_path)
        ),
        Category::Syntax => format!("not valid JSON ({at})"),
        Category::Eof => format!("the JSON ends too early ({at})"),
        Category::Io => format!("cannot be read ({at})"),
    }
}

/// `settings.json.invalid-<stamp>`; `-2`, `-3`… after it when that is taken (two bad files in
/// one second), since `rename` would replace the one kept before.
fn aside_path(path: &Path) -> PathBuf {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let base = path.file_name().unwrap_or_default();
    let named = |suffix: String| {
        let mut name = base.to_os_string();
        name.push(format!(".invalid-{stamp}{suffix}"));
        path.with_file_name(name)
    };
    let mut candidate = named(String::new());
    for n in 2.. {
        if std::fs::symlink_metadata(&candidate).is_err() {
            break;
        }
        candidate = named(format!("-{n}"));
    }
    candidate
}

#[cfg(test)]
mod tests {
    use chrono::NaiveTime;

    use super::*;
    use crate::settings::{QuietHours, check_url};

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn round_trips_and_keeps_unreadable_files_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        assert_eq!(
            Settings::load(&path).0,
            Settings::default(),
            "missing file gives defaults"
        );

        let mut s = Settings::default();
        s.server.url = Some("ws://127.0.0.1:8765/ws".into());
        s.notifications.quiet_hours = Some(QuietHours {
            start: t("22:00"),
            end: t("07:30"),
        });
        s.notifications.mutes.insert(-5, None);
        s.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"22:00\""), "{text}");
        let (loaded, err) = Settings::load(&path);
        assert!(err.is_none());
        assert_eq!(loaded, s);

        // Older or newer files: unknown fields ignored, missing fields defaulted.
        std::fs::write(
            &path,
            r#"{"server":{"url":"ws://h/ws","future":1},"new_section":{}}"#,
        )
        .unwrap();
        let (loaded, err) = Settings::load(&path);
        assert!(err.is_none());
        assert_eq!(loaded.server.url.as_deref(), Some("ws://h/ws"));
        assert!(loaded.notifications.enabled);

        std::fs::write(&path, "{ not json").unwrap();
        let (loaded, err) = Settings::load(&path);
        assert_eq!(loaded, Settings::default());
        let err = err.unwrap();
        let SettingsError::Unreadable { moved_to, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(
            std::fs::read_to_string(moved_to).unwrap(),
            "{ not json",
            "the bad file is kept"
        );
        assert!(!path.exists());

        std::fs::write(&path, r#"{"server":{"url":"ftp://x"}}"#).unwrap();
        let err = Settings::load(&path).1.unwrap().to_string();
        assert!(err.contains("server.url"), "{err}");
    }

    #[test]
    fn the_agent_s_file_keeps_only_their_choices_and_reads_back_part_of_a_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        // One step of a ladder, not the whole ladder: read over the built-in values.
        let user = serde_json::json!({
            "notifications": {"escalation": {"new_chat": {"every_min": 3}}}
        });
        let Value::Object(user) = user else {
            unreachable!()
        };
        Settings::save_user(&user, &path).unwrap();
        let (loaded, err) = Settings::load_user(&path);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(loaded, user);
        assert!(path.exists(), "kept in place");

        // A value the field does not take sets the file aside, naming the field only.
        std::fs::write(
            &path,
            r#"{"layered": 1, "notifications": {"snooze_minutes": "hunter2"}}"#,
        )
        .unwrap();
        let (loaded, err) = Settings::load_user(&path);
        assert!(loaded.is_empty());
        let err = err.unwrap().to_string();
        assert!(err.contains("notifications.snooze_minutes"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");

        // A whole file from before the layers: what differs from the built-in values.
        let mut s = Settings::default();
        s.notifications.snooze_minutes = 25;
        s.save(&path).unwrap();
        let (loaded, err) = Settings::load_user(&path);
        assert!(err.is_none());
        assert_eq!(
            Value::Object(loaded),
            serde_json::json!({"notifications": {"snooze_minutes": 25}})
        );
    }

    #[test]
    fn bad_files_in_the_same_second_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let mut kept = Vec::new();
        for i in 0..3 {
            std::fs::write(&path, format!("{{ bad {i}")).unwrap();
            let Some(SettingsError::Unreadable { moved_to, .. }) = Settings::load(&path).1 else {
                panic!("moved aside")
            };
            kept.push(moved_to);
        }
        for (i, moved_to) in kept.iter().enumerate() {
            let text = std::fs::read_to_string(moved_to).unwrap();
            assert_eq!(text, format!("{{ bad {i}"), "{}", moved_to.display());
        }
    }

    /// Loads `text` as a settings file; returns the error's message.
    fn load_error(text: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, text).unwrap();
        let (loaded, err) = Settings::load(&path);
        assert_eq!(loaded, Settings::default());
        let err = err.expect("an error");
        assert!(
            matches!(err, SettingsError::Unreadable { .. }),
            "moved aside: {err}"
        );
        err.to_string()
    }

    #[test]
    fn errors_name_the_field_never_the_value() {
        let cases = [
            (r#"{"ui":{"language":"hunter2-SECRET"}}"#, "ui.language:"),
            (r#"{"ui":{"theme":{"hunter2":1}}}"#, "ui.theme:"),
            (
                r#"{"notifications":{"quiet_hours":{"start":"hunter2","end":"08:00"}}}"#,
                "notifications.quiet_hours.start:",
            ),
            (
                r#"{"store":{"retention_days":"hunter2"}}"#,
                "store.retention_days:",
            ),
            (
                r#"{"store":{"retention_days":97000000}}"#,
                "store.retention_days: must be from 1 to 36500 days",
            ),
            (
                r#"{"server":{"subscriptions":[1,"hunter2"]}}"#,
                "server.subscriptions[1]:",
            ),
            (r#"{"server":{"auth":"hunter2"}}"#, "server.auth:"),
            // serde_json counts a key that is not a number as bad JSON, not a bad value.
            (
                r#"{"notifications":{"mutes":{"hunter2":null}}}"#,
                "not valid JSON (line 1, column 28)",
            ),
            (
                r#"{"notifications":{"mutes":{"5":"hunter2"}}}"#,
                "notifications.mutes.5:",
            ),
            (r#"{"server":{"url":"http://hunter2/ws"}}"#, "server.url:"),
            (r#"{"server":{"url":"ws://hunter2 x/"}}"#, "server.url:"),
            (
                r#"{"server":{"query_param":"hunter2!"}}"#,
                "server.query_param:",
            ),
            (r#"{"server":{"hunter2":[1,}}"#, "not valid JSON (line 1"),
            (r#"{"hunter2"#, "ends too early"),
            (r#"{} "hunter2""#, "not valid JSON (line 1, column"),
        ];
        for (text, want) in cases {
            let err = load_error(text.as_bytes());
            assert!(err.contains(want), "{text}: {err}");
            assert!(
                !err.contains("hunter2"),
                "{text}: the value is quoted: {err}"
            );
        }
        for url in [
            "http://hunter2",
            "ws://",
            "ws://h/hunter2 x",
            "hunter2",
            "ws://hunter2:99999/",
        ] {
            let problem = check_url(url).unwrap_err();
            let wire = serde_json::to_string(&problem).unwrap();
            assert!(!problem.to_string().contains("hunter2"), "{url}: {problem}");
            assert!(!wire.contains("hunter2"), "{url}: {wire}");
        }
        assert_eq!(
            check_url("http://hunter2/ws").unwrap_err().to_string(),
            "must start with ws:// or wss://"
        );
    }

    #[test]
    fn files_that_are_not_settings_text_are_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let max = MAX_FILE_BYTES as usize;
        // Valid JSON each time, so only the size or the encoding can be what is refused.
        let padded = |len: usize| format!("{{}}{}", " ".repeat(len - 2)).into_bytes();
        let not_utf8 = b"{\"ui\":{\"theme\":\"dark\"}} \xff\xfe".to_vec();
        let cases: [(Vec<u8>, Option<&str>); 3] = [
            (padded(max), None),
            (padded(max + 1), Some("larger than 1024 KiB")),
            (not_utf8, Some("not UTF-8 text (at byte 24)")),
        ];
        for (bytes, want) in cases {
            std::fs::write(&path, &bytes).unwrap();
            let (loaded, err) = Settings::load(&path);
            assert_eq!(loaded, Settings::default());
            match (err, want) {
                (None, None) => assert!(path.exists()),
                (
                    Some(SettingsError::Unreadable {
                        problem, moved_to, ..
                    }),
                    Some(want),
                ) => {
                    assert_eq!(problem, want);
                    assert!(!path.exists());
                    assert!(std::fs::read(&moved_to).unwrap() == bytes, "kept as it was");
                    std::fs::remove_file(moved_to).unwrap();
                }
                (err, _) => panic!("{} bytes: {err:?}, want {want:?}", bytes.len()),
            }
        }
    }

    #[test]
    fn a_folder_in_its_place_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::create_dir(&path).unwrap();
        let (loaded, err) = Settings::load(&path);
        assert_eq!(loaded, Settings::default());
        assert!(matches!(err, Some(SettingsError::Read { .. })), "{err:?}");
        assert!(path.is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_moved_aside_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let fifo = path.clone();
        // A thread, so a load that blocks fails the test instead of hanging it.
        std::thread::spawn(move || tx.send(Settings::load(&fifo)).unwrap());
        let (loaded, err) = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("load blocked on the FIFO");
        assert_eq!(loaded, Settings::default());
        let Some(SettingsError::Unreadable {
            problem, moved_to, ..
        }) = err
        else {
            panic!("{err:?}")
        };
        assert!(problem.contains("not a regular file"), "{problem}");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(moved_to).unwrap().file_type().is_fifo());
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn settings_are_the_owners_only_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let set = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("config/chatbell");
        let path = dir.join("settings.json");

        Settings::default().save(&path).unwrap();
        assert_eq!((mode(&dir), mode(&path)), (0o700, 0o600), "made private");
        assert!(!path.with_extension("json.tmp").exists());

        // Written before this rule (or by hand with the umask's 0644): tightened when loaded.
        set(&dir, 0o755);
        set(&path, 0o644);
        let (_, err) = Settings::load(&path);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            (mode(&dir), mode(&path)),
            (0o700, 0o600),
            "tightened at load"
        );

        // A stale .tmp left readable by an older version is tightened before it is written.
        set(&dir, 0o755);
        set(&path, 0o644);
        let stale = path.with_extension("json.tmp");
        std::fs::write(&stale, "{}").unwrap();
        set(&stale, 0o644);
        Settings::default().save(&path).unwrap();
        assert_eq!(
            (mode(&dir), mode(&path)),
            (0o700, 0o600),
            "tightened at save"
        );

        // A bad file is tightened before it is moved aside: the copy is private too.
        set(&path, 0o644);
        std::fs::write(&path, "{").unwrap();
        let Some(SettingsError::Unreadable { moved_to, .. }) = Settings::load(&path).1 else {
            panic!("moved aside")
        };
        assert_eq!(mode(&moved_to), 0o600);
    }
}
