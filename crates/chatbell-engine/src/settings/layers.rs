//! Settings in layers, field by field: what the organization locked, over what the agent chose,
//! over the organization's defaults, over the built-in values. Pure: the files are read
//! elsewhere (`organization.rs`, `file.rs`); this decides what holds and where it came from.
//!
//! The agent's file keeps only the fields the agent chose (an overlay), so a field never
//! touched follows the organization's default, also when IT changes it later, and a field the
//! agent chose keeps the agent's value whatever the default becomes.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Problem, Settings, SettingsError};

/// Where a field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    BuiltIn,
    /// The organization file's `defaults`.
    Organization,
    /// The agent's own settings file.
    User,
    /// The organization file's `locked`.
    Locked,
}

/// One field as it holds now: its dotted key, its value and where the value came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub key: String,
    pub value: Value,
    pub origin: Origin,
}

/// The layers of one app's settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layers {
    /// The organization's `defaults` (valid on their own, or empty).
    pub defaults: Map<String, Value>,
    /// The organization's `locked` (valid on their own, or empty).
    pub locked: Map<String, Value>,
    /// What the agent chose.
    pub user: Map<String, Value>,
}

/// The built-in settings as JSON: every layer is laid over them, and their shape says what a
/// field is. Made once.
pub(super) fn built_in() -> &'static Value {
    static BUILT_IN: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
        serde_json::to_value(Settings::default()).expect("settings serialize")
    });
    &BUILT_IN
}

/// The settings' shape: a group of settings (`notifications`, `server.tls`) is an object with
/// fields in the built-in value. Anything else — a number, text, a list, a value that may be
/// absent (quiet hours), a map keyed by data (muted chats, per-source timings) — is one field,
/// set, kept and replaced whole, so no layer ever holds half of one.
fn is_group(shape: &Value) -> bool {
    matches!(shape, Value::Object(fields) if !fields.is_empty())
}

/// Lays `top` over `base` field by field: into the groups, any field replaced whole.
pub(super) fn overlay(base: &mut Value, top: &Value) {
    overlay_in(base, top, built_in());
}

fn overlay_in(base: &mut Value, top: &Value, shape: &Value) {
    match (base, top) {
        (Value::Object(base), Value::Object(top)) if is_group(shape) => {
            for (key, value) in top {
                let below = shape.get(key).unwrap_or(&Value::Null);
                match base.get_mut(key) {
                    Some(under) => overlay_in(under, value, below),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, top) => *base = top.clone(),
    }
}

/// The settings `layers` make, if they deserialize and validate.
fn settle(layers: &[&Map<String, Value>]) -> Option<Settings> {
    let mut value = built_in().clone();
    for layer in layers {
        overlay(&mut value, &Value::Object((*layer).clone()));
    }
    let settings: Settings = serde_json::from_value(value).ok()?;
    settings.validate().ok()?;
    Some(settings)
}

/// The most a dotted key may be before it is not shown in an error (a hostile file's or
/// command line's key is not repeated back at length).
const MAX_KEY: usize = 256;

/// Whether `name` looks like a part of a settings key (shown as it is in an error).
fn looks_like_a_key(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `key` as an error may show it: itself if it looks like a dotted key, else `?`.
pub fn shown_key(key: &str) -> String {
    if key.len() <= MAX_KEY && key.split('.').all(looks_like_a_key) {
        key.to_string()
    } else {
        "?".to_string()
    }
}

/// Where `key` (dotted) leads in the settings' shape: a field or a group; `None` when the key is
/// not the settings' (it may not go below a field: a muted chat is set with all the mutes).
fn shape_at(key: &str) -> Option<&'static Value> {
    let mut node = built_in();
    for part in key.split('.') {
        if !is_group(node) {
            return None;
        }
        node = node.get(part)?;
    }
    Some(node)
}

/// Whether `key` (dotted) names a field or a group of the settings.
pub(super) fn known(key: &str) -> bool {
    !key.is_empty() && shape_at(key).is_some()
}

/// Whether `key` (dotted) names one field (not a group): what `set` takes.
fn is_field(key: &str) -> bool {
    !key.is_empty() && shape_at(key).is_some_and(|shape| !is_group(shape))
}

/// The settings `value` holds, where `keys` are the dotted keys that were written into it:
/// refused with the field's path when a key is not a setting, a value is of the wrong kind
/// (serde's own message quotes the value, so only the path is kept) or does not validate.
pub(super) fn settings_of(value: Value, keys: &[&str]) -> Result<Settings, SettingsError> {
    let refuse = |field: String, problem| SettingsError::Invalid { field, problem };
    if let Some(key) = keys.iter().find(|key| !known(key)) {
        return Err(refuse(shown_key(key), Problem::NoSuchSetting));
    }
    let settings: Settings = serde_path_to_error::deserialize(value)
        .map_err(|e| refuse(field_path(e.path()), Problem::WrongType))?;
    settings.validate()?;
    Ok(settings)
}

/// `notifications.quiet_hours.start`, `server.subscriptions[3]`. A data error can only sit
/// under known fields and integer map keys (unknown fields are skipped unread), but a key is
/// still shown only if it looks like one.
pub(super) fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        let name = match segment {
            Segment::Seq { index } => {
                out.push_str(&format!("[{index}]"));
                continue;
            }
            Segment::Map { key } | Segment::Enum { variant: key } => key.as_str(),
            Segment::Unknown => "?",
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(if looks_like_a_key(name) { name } else { "?" });
    }
    if out.is_empty() {
        out.push_str("(the whole file)");
    }
    out
}

/// Writes `new` at the dotted `key` of `value`, making the groups on the way.
fn put(value: &mut Value, key: &str, new: Value) {
    let mut node = value;
    for part in key.split('.') {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        node = node
            .as_object_mut()
            .expect("made an object")
            .entry(part)
            .or_insert(Value::Null);
    }
    *node = new;
}

/// Every field `value` sets, as `(dotted key, value)`, through the settings' groups. A key that
/// is not the settings' is listed where it leaves their shape (for `known` to refuse it).
pub(super) fn fields(value: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    fields_in(value, built_in(), "", &mut out);
    out
}

fn fields_in(value: &Value, shape: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if is_group(shape) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                fields_in(value, shape.get(key).unwrap_or(&Value::Null), &path, out);
            }
        }
        _ => out.push((prefix.to_string(), value.clone())),
    }
}

/// The dotted keys of the fields `part` sets.
pub(super) fn keys(part: &Map<String, Value>) -> Vec<String> {
    fields(&Value::Object(part.clone()))
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

/// The value at a dotted key.
pub(super) fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(value, |v, part| v.get(part))
}

/// Whether `map` sets `key` or a field above it.
fn sets(map: &Map<String, Value>, key: &str) -> bool {
    let mut node = map;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        match node.get(part) {
            None => return false,
            Some(Value::Object(inner)) if parts.peek().is_some() => node = inner,
            Some(_) => return true,
        }
    }
    true
}

/// Removes `key` (dotted) from `map`, and the groups it leaves empty.
fn remove(map: &mut Map<String, Value>, key: &str) {
    match key.split_once('.') {
        None => {
            map.remove(key);
        }
        Some((head, rest)) => {
            if let Some(Value::Object(inner)) = map.get_mut(head) {
                remove(inner, rest);
                if inner.is_empty() {
                    map.remove(head);
                }
            }
        }
    }
}

impl Layers {
    /// The settings that hold. Locked fields always win. Where the layers do not make valid
    /// settings together (the agent's client key with no certificate once the organization's
    /// default certificate is gone, say), the organization's defaults are left out, then the
    /// agent's choices: the result is always valid.
    pub fn effective(&self) -> Settings {
        [
            vec![&self.defaults, &self.user, &self.locked],
            vec![&self.user, &self.locked],
            vec![&self.locked],
        ]
        .iter()
        .find_map(|layers| settle(layers))
        .unwrap_or_default()
    }

    /// Where the value of `key` (dotted) comes from.
    pub fn origin(&self, key: &str) -> Origin {
        if sets(&self.locked, key) {
            Origin::Locked
        } else if sets(&self.user, key) {
            Origin::User
        } else if sets(&self.defaults, key) {
            Origin::Organization
        } else {
            Origin::BuiltIn
        }
    }

    /// Every field as it holds now, with its origin, in the settings' order.
    pub fn shown(&self) -> Vec<Shown> {
        let value = serde_json::to_value(self.effective()).expect("settings serialize");
        fields(&value)
            .into_iter()
            .map(|(key, value)| Shown {
                origin: self.origin(&key),
                key,
                value,
            })
            .collect()
    }

    /// The agent's file after an edit that leaves the settings as `new`: the agent's choices so
    /// far, with every field the edit changed now theirs. Refused when `new` is not valid or
    /// changes a locked field (naming it). A field the edit left alone stays as it was —
    /// the agent's choice, or following the organization's default.
    pub fn user_for(&self, new: &Settings) -> Result<Map<String, Value>, SettingsError> {
        new.validate()?;
        let now = serde_json::to_value(self.effective()).expect("settings serialize");
        let new = serde_json::to_value(new).expect("settings serialize");
        let mut user = Value::Object(self.user.clone());
        for (key, value) in fields(&new) {
            if get(&now, &key) == Some(&value) {
                continue;
            }
            if self.origin(&key) == Origin::Locked {
                return Err(SettingsError::Invalid {
                    field: key,
                    problem: Problem::Locked,
                });
            }
            put(&mut user, &key, value);
        }
        match user {
            Value::Object(user) => Ok(user),
            _ => unreachable!("the agent's choices are an object"),
        }
    }

    /// The agent's file after the field `key` (dotted) is set to `value`, the agent's choice
    /// from now on (also when it is the organization's default): refused when the key is not
    /// one field of the settings, is locked, or the value is not one it takes (naming it).
    pub fn set(&self, key: &str, value: Value) -> Result<Map<String, Value>, SettingsError> {
        if !is_field(key) {
            return Err(SettingsError::Invalid {
                field: shown_key(key),
                problem: Problem::NoSuchSetting,
            });
        }
        self.unlocked(key)?;
        let mut all = serde_json::to_value(self.effective()).expect("settings serialize");
        put(&mut all, key, value);
        let new = serde_json::to_value(settings_of(all, &[key])?).expect("settings serialize");
        let mut user = Value::Object(self.user.clone());
        put(
            &mut user,
            key,
            get(&new, key).cloned().unwrap_or(Value::Null),
        );
        match user {
            Value::Object(user) => Ok(user),
            _ => unreachable!("the agent's choices are an object"),
        }
    }

    /// The agent's file after their choice for `key` (dotted: a field, or a group for all its
    /// fields) is dropped, so it follows the organization's default or the built-in value again.
    pub fn reset(&self, key: &str) -> Result<Map<String, Value>, SettingsError> {
        self.unlocked(key)?;
        let mut user = self.user.clone();
        remove(&mut user, key);
        // What is left must still make settings with the locks (a client key whose
        // certificate was the choice reset would not).
        let mut all = built_in().clone();
        for layer in [&user, &self.locked] {
            overlay(&mut all, &Value::Object(layer.clone()));
        }
        settings_of(all, &[])?;
        Ok(user)
    }

    /// Refuses a key that is not the settings', or that the organization locked.
    fn unlocked(&self, key: &str) -> Result<(), SettingsError> {
        let refuse = |problem| {
            Err(SettingsError::Invalid {
                field: shown_key(key),
                problem,
            })
        };
        if !known(key) {
            refuse(Problem::NoSuchSetting)
        } else if self.origin(key) == Origin::Locked {
            // (`origin` of a group is `Locked` when any field in it is.)
            refuse(Problem::Locked)
        } else {
            Ok(())
        }
    }

    /// The agent's choices from a whole settings file written before files were layered: the
    /// fields that differ from the built-in values.
    pub fn user_from_whole(settings: &Settings) -> Map<String, Value> {
        let value = serde_json::to_value(settings).expect("settings serialize");
        let mut user = Value::Object(Map::new());
        for (key, value) in fields(&value) {
            if get(built_in(), &key) != Some(&value) {
                put(&mut user, &key, value);
            }
        }
        match user {
            Value::Object(user) => user,
            _ => unreachable!("the agent's choices are an object"),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("an object"),
        }
    }

    fn layers(defaults: Value, locked: Value, user: Value) -> Layers {
        Layers {
            defaults: map(defaults),
            locked: map(locked),
            user: map(user),
        }
    }

    #[test]
    fn each_field_comes_from_the_highest_layer_that_sets_it() {
        let l = layers(
            json!({"server": {"url": "wss://org.example/ws"}, "notifications": {"snooze_minutes": 15}}),
            json!({"notifications": {"escalation": {"new_chat": {"every_min": 2}}}}),
            json!({"notifications": {"snooze_minutes": 30, "escalation": {"new_chat": {"every_min": 9}}}}),
        );
        let s = l.effective();
        assert_eq!(s.server.url.as_deref(), Some("wss://org.example/ws"));
        assert_eq!(
            s.notifications.snooze_minutes, 30,
            "the agent's over the default"
        );
        let every = get(
            &serde_json::to_value(&s).unwrap(),
            "notifications.escalation.new_chat.every_min",
        )
        .cloned();
        assert_eq!(every, Some(json!(2)), "locked over the agent's");
        assert_eq!(l.origin("server.url"), Origin::Organization);
        assert_eq!(l.origin("notifications.snooze_minutes"), Origin::User);
        assert_eq!(
            l.origin("notifications.escalation.new_chat.every_min"),
            Origin::Locked
        );
        assert_eq!(l.origin("ui.language"), Origin::BuiltIn);
        assert_eq!(
            keys(&l.locked),
            ["notifications.escalation.new_chat.every_min"]
        );
        let shown = l.shown();
        assert!(
            shown
                .iter()
                .any(|f| f.key == "server.url" && f.origin == Origin::Organization)
        );
        assert!(
            shown
                .iter()
                .any(|f| f.key == "ui.theme" && f.origin == Origin::BuiltIn)
        );
    }

    #[test]
    fn an_edit_is_kept_as_what_the_agent_chose_and_a_locked_field_is_refused() {
        let l = layers(
            json!({"notifications": {"snooze_minutes": 15}}),
            json!({"server": {"url": "wss://org.example/ws"}}),
            json!({}),
        );
        let mut s = l.effective();
        s.ui.language = crate::settings::Language::Ru;
        let user = l.user_for(&s).unwrap();
        assert_eq!(
            Value::Object(user.clone()),
            json!({"ui": {"language": "ru"}}),
            "only the change"
        );

        // A later edit keeps it, whatever else it changes.
        let chose = Layers { user, ..l.clone() };
        let mut s = chose.effective();
        s.notifications.privacy = true;
        assert_eq!(
            Value::Object(chose.user_for(&s).unwrap()),
            json!({"ui": {"language": "ru"}, "notifications": {"privacy": true}})
        );

        s.server.url = Some("wss://mine.example/ws".into());
        match l.user_for(&s) {
            Err(SettingsError::Invalid { field, problem }) => {
                assert_eq!(field, "server.url");
                assert_eq!(problem, Problem::Locked);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_field_is_set_and_reset_by_its_dotted_key() {
        let l = layers(
            json!({"notifications": {"snooze_minutes": 15}}),
            json!({"server": {"url": "wss://org.example/ws"}}),
            json!({"ui": {"language": "ru"}}),
        );
        let key = "notifications.escalation.new_chat.every_min";
        let user = l.set(key, json!(3)).unwrap();
        let set = Layers { user, ..l.clone() };
        assert_eq!(
            set.effective().notifications.escalation.new_chat.every_min,
            3
        );
        assert_eq!(set.origin(key), Origin::User);
        assert_eq!(set.user["ui"]["language"], "ru", "the other choices stay");

        // Set to the organization's default, it is the agent's own all the same (a new default
        // will not move it); reset, it follows the organization again.
        let user = l.set("notifications.snooze_minutes", json!(15)).unwrap();
        assert_eq!(user["notifications"]["snooze_minutes"], 15);
        let user = set.reset(key).unwrap();
        assert_eq!(Value::Object(user), json!({"ui": {"language": "ru"}}));
        // Into an absent value (quiet hours off) whole, as JSON.
        let user = l
            .set(
                "notifications.quiet_hours",
                json!({"start": "22:00", "end": "07:00"}),
            )
            .unwrap();
        assert_eq!(user["notifications"]["quiet_hours"]["end"], "07:00");

        let refused = |r: Result<Map<String, Value>, SettingsError>| match r {
            Err(SettingsError::Invalid { field, problem }) => (field, problem),
            other => panic!("{other:?}"),
        };
        let cases = [
            (
                l.set("server.url", json!("wss://mine.example/ws")),
                "server.url",
                Problem::Locked,
            ),
            (l.reset("server.url"), "server.url", Problem::Locked),
            (l.set("server", json!({})), "server", Problem::NoSuchSetting),
            (l.reset("server"), "server", Problem::Locked),
            (
                l.set("notifications.mutes.42", json!(null)),
                "notifications.mutes.42",
                Problem::NoSuchSetting,
            ),
            (l.set("", json!(1)), "?", Problem::NoSuchSetting),
            (l.set("a..b", json!(1)), "?", Problem::NoSuchSetting),
            (
                l.set(&"x.".repeat(10_000), json!(1)),
                "?",
                Problem::NoSuchSetting,
            ),
            (
                l.set("notifications.snooze_minuets", json!(5)),
                "notifications.snooze_minuets",
                Problem::NoSuchSetting,
            ),
            (l.reset("ui.colour"), "ui.colour", Problem::NoSuchSetting),
            (
                l.set("notifications.snooze_minutes", json!("hunter2")),
                "notifications.snooze_minutes",
                Problem::WrongType,
            ),
            (
                l.set("notifications.quiet_hours.start", json!("22:00")),
                "notifications.quiet_hours.start",
                Problem::NoSuchSetting,
            ),
            (
                l.set("notifications.quiet_hours", json!({"start": "22:00"})),
                "notifications.quiet_hours",
                Problem::WrongType,
            ),
        ];
        for (result, field, problem) in cases {
            assert_eq!(refused(result), (field.to_string(), problem));
        }
        let (field, problem) = refused(l.set("notifications.snooze_minutes", json!(0)));
        assert_eq!(field, "notifications.snooze_minutes");
        assert!(matches!(problem, Problem::OutOfRange { .. }), "{problem:?}");
        // Quiet hours are one field: set and reset whole.
        let quiet = layers(
            json!({}),
            json!({}),
            json!({"notifications": {"quiet_hours": {"start": "22:00", "end": "07:00"}}}),
        );
        let (field, _) = refused(quiet.reset("notifications.quiet_hours.start"));
        assert_eq!(field, "notifications.quiet_hours.start");
        assert!(quiet.reset("notifications.quiet_hours").unwrap().is_empty());
        // A group resets every choice in it.
        assert_eq!(
            Value::Object(set.reset("notifications").unwrap()),
            json!({"ui": {"language": "ru"}})
        );
    }

    /// A field that may be absent (quiet hours) or is a map (per-source timings, mutes) is one
    /// field: an agent who changes half of the organization's quiet hours keeps the whole of
    /// theirs, a map emptied stays empty over the organization's, and a locked value written
    /// another way ("8:00") does not make every save a change of it.
    #[test]
    fn fields_are_kept_whole_and_compared_as_the_settings_read_them() {
        let l = layers(
            json!({"notifications": {
                "quiet_hours": {"start": "20:00", "end": "08:00"},
                "escalation": {"sources": {"widget": {
                    "new_chat": {"realert_after_min": 1, "every_min": 1, "urgent_after_min": 5},
                    "new_message": {"realert_after_min": 1, "every_min": 1, "urgent_after_min": 5}
                }}}
            }}),
            json!({"notifications": {"mutes": {}}, "ui": {"theme": "dark"}, "server": {"tls": {}}}),
            json!({}),
        );
        let mut s = l.effective();
        s.notifications.quiet_hours.as_mut().unwrap().end =
            chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap();
        s.notifications.escalation.sources.clear();
        let user = l.user_for(&s).unwrap();
        assert_eq!(
            Value::Object(user.clone()),
            json!({"notifications": {
                "quiet_hours": {"start": "20:00", "end": "07:00"},
                "escalation": {"sources": {}}
            }})
        );
        let after = Layers { user, ..l.clone() }.effective();
        assert_eq!(after, s, "read back as edited");
        assert!(after.notifications.escalation.sources.is_empty());

        // Locked quiet hours written "8:00" read as 08:00: an edit of something else goes.
        let locked = layers(
            json!({}),
            json!({"notifications": {"quiet_hours": {"start": "22:00", "end": "8:00"}}}),
            json!({}),
        );
        let mut s = locked.effective();
        s.notifications.privacy = true;
        assert!(locked.user_for(&s).is_ok());
        assert_eq!(
            keys(&locked.locked),
            ["notifications.quiet_hours"],
            "an empty group locks nothing"
        );
    }

    #[test]
    fn a_whole_old_file_keeps_only_what_differs_from_the_built_in_values() {
        let mut s = Settings::default();
        s.server.url = Some("wss://a.example/ws".into());
        let user = Layers::user_from_whole(&s);
        assert_eq!(
            Value::Object(user),
            json!({"server": {"url": "wss://a.example/ws"}})
        );
    }

    /// Some valid values of some fields, each field whole (quiet hours start and end together,
    /// so that no two layers make hours that start when they end only by mixing halves).
    fn part() -> impl Strategy<Value = Map<String, Value>> {
        let fields = (
            proptest::option::of(prop_oneof![
                Just(json!("wss://a.example/ws")),
                Just(json!("ws://b.example:8080/events")),
                Just(Value::Null),
            ]),
            proptest::option::of((1u32..=240).prop_map(|m| json!(m))),
            proptest::option::of(any::<bool>().prop_map(|b| json!(b))),
            proptest::option::of(prop_oneof![
                Just(json!("en")),
                Just(json!("ru")),
                Just(json!("system"))
            ]),
            proptest::option::of(prop_oneof![
                Just(Value::Null),
                Just(json!({"start": "22:00", "end": "08:00"})),
                Just(json!({"start": "12:00", "end": "13:00"})),
                // Read as 09:00: compared as the settings read it.
                Just(json!({"start": "9:00", "end": "17:00"})),
            ]),
            proptest::option::of(prop_oneof![
                Just(Value::Null),
                (1u32..=3650).prop_map(|d| json!(d))
            ]),
            (
                proptest::option::of(prop_oneof![
                    Just(json!({})),
                    Just(json!({"widget": {
                        "new_chat": {"realert_after_min": 1, "every_min": 1, "urgent_after_min": 5},
                        "new_message": {"realert_after_min": 3, "every_min": 2, "urgent_after_min": null}
                    }})),
                ]),
                proptest::option::of(prop_oneof![
                    Just(json!({})),
                    Just(json!({"5": null})),
                    Just(json!({"-7": null, "9": null})),
                ]),
                proptest::option::of((1u32..=60).prop_map(|m| json!(m))),
            ),
        );
        fields.prop_map(
            |(url, snooze, sound, language, quiet, retention, (sources, mutes, every))| {
                let mut v = json!({});
                let mut put = |key: &str, value: Option<Value>| {
                    if let Some(value) = value {
                        let mut top = json!({});
                        let mut node = &mut top;
                        let parts: Vec<&str> = key.split('.').collect();
                        for (i, p) in parts.iter().enumerate() {
                            let next = if i + 1 == parts.len() {
                                value.clone()
                            } else {
                                json!({})
                            };
                            node = node
                                .as_object_mut()
                                .unwrap()
                                .entry(p.to_string())
                                .or_insert(next);
                        }
                        overlay(&mut v, &top);
                    }
                };
                put("server.url", url);
                put("notifications.snooze_minutes", snooze);
                put("notifications.sound", sound);
                put("ui.language", language);
                put("notifications.quiet_hours", quiet);
                put("store.retention_days", retention);
                put("notifications.escalation.sources", sources);
                put("notifications.mutes", mutes);
                put("notifications.escalation.new_chat.every_min", every);
                map(v)
            },
        )
    }

    proptest! {
        #[test]
        fn the_layers_hold_their_promises(
            defaults in part(), new_defaults in part(), locked in part(), user in part()
        ) {
            let l = Layers { defaults, locked: locked.clone(), user: user.clone() };
            let s = l.effective();
            prop_assert!(s.validate().is_ok(), "the merged settings always validate");
            let value = serde_json::to_value(&s).unwrap();
            let built_in = built_in();
            for (key, _) in fields(&Value::Object(locked.clone())) {
                let alone = serde_json::to_value(settle(&[&locked]).unwrap()).unwrap();
                prop_assert_eq!(get(&value, &key), get(&alone, &key), "locked always wins: {}", key);
            }
            for shown in l.shown() {
                if shown.origin == Origin::BuiltIn {
                    prop_assert_eq!(Some(&shown.value), get(built_in, &shown.key), "in no file: built-in");
                }
            }
            // The agent's choice of an unlocked field survives any new default.
            let moved = Layers { defaults: new_defaults.clone(), ..l.clone() };
            let after = serde_json::to_value(moved.effective()).unwrap();
            for (key, _) in fields(&Value::Object(user)) {
                if moved.origin(&key) == Origin::User && settle(&[&new_defaults, &moved.user, &locked]).is_some() {
                    let v = serde_json::to_value(settle(&[&moved.user]).unwrap()).unwrap();
                    prop_assert_eq!(get(&after, &key), get(&v, &key), "the agent's {} survives", key);
                }
            }
            // What an edit keeps reads back as the same settings.
            let kept = l.user_for(&s).unwrap();
            let again = Layers { user: kept, ..l.clone() };
            prop_assert_eq!(again.effective(), s);
        }

        /// An edit of one field, then new defaults: the edited field keeps the agent's value,
        /// and the agent's file, written and read back, gives the same settings.
        #[test]
        fn an_edit_survives_new_defaults_and_the_file(
            defaults in part(), new_defaults in part(), user in part(), edit in part()
        ) {
            let l = Layers { defaults, locked: Map::new(), user };
            let before = serde_json::to_value(l.effective()).unwrap();
            let mut value = before.clone();
            overlay(&mut value, &Value::Object(edit.clone()));
            let Ok(new) = settings_of(value, &[]) else {
                return Ok(());
            };
            let user = l.user_for(&new).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("settings.json");
            Settings::save_user(&user, &path).unwrap();
            let (read, error) = Settings::load_user(&path);
            prop_assert!(error.is_none(), "{:?}", error);
            prop_assert_eq!(&read, &user);
            let edited = Layers { user: read, ..l.clone() };
            prop_assert_eq!(edited.effective(), new.clone());
            let moved = Layers { defaults: new_defaults, ..edited };
            if settle(&[&moved.defaults, &moved.user]).is_some() {
                let after = serde_json::to_value(moved.effective()).unwrap();
                let new = serde_json::to_value(&new).unwrap();
                // What the edit changed (an edit to the value a field has is no choice).
                for (key, _) in fields(&Value::Object(edit)) {
                    if get(&before, &key) != get(&new, &key) {
                        prop_assert_eq!(get(&after, &key), get(&new, &key), "the edit of {} holds", key);
                    }
                }
            }
        }
    }
}
