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

fn built_in() -> Value {
    serde_json::to_value(Settings::default()).expect("settings serialize")
}

/// Lays `top` over `base`, object by object; anything else in `top` replaces what is below.
pub(super) fn overlay(base: &mut Value, top: &Value) {
    match (base, top) {
        (Value::Object(base), Value::Object(top)) => {
            for (key, value) in top {
                match base.get_mut(key) {
                    Some(below) if below.is_object() && value.is_object() => overlay(below, value),
                    _ => {
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
    let mut value = built_in();
    for layer in layers {
        overlay(&mut value, &Value::Object((*layer).clone()));
    }
    let settings: Settings = serde_json::from_value(value).ok()?;
    settings.validate().ok()?;
    Some(settings)
}

/// Whether the settings have `key`: a path through their objects. Below a field whose built-in
/// value is empty or absent (a map of muted chats, quiet hours that are off) any key is taken:
/// the value's own check decides.
pub(super) fn known(key: &str) -> bool {
    let built_in = built_in();
    let mut node = &built_in;
    for part in key.split('.') {
        match node {
            Value::Object(map) if map.is_empty() => return true,
            Value::Object(map) => match map.get(part) {
                Some(next) => node = next,
                None => return false,
            },
            Value::Null => return true,
            _ => return false,
        }
    }
    !key.is_empty()
}

/// The settings `value` holds, where `keys` are the dotted keys that were written into it:
/// refused with the field's path when a key is not a setting, a value is of the wrong kind
/// (serde's own message quotes the value, so only the path is kept) or does not validate.
pub(super) fn settings_of(value: Value, keys: &[&str]) -> Result<Settings, SettingsError> {
    let refuse = |field: String, problem| SettingsError::Invalid { field, problem };
    if let Some(key) = keys.iter().find(|key| !known(key)) {
        return Err(refuse(key.to_string(), Problem::NoSuchSetting));
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
        let looks_like_a_key = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(if looks_like_a_key { name } else { "?" });
    }
    if out.is_empty() {
        out.push_str("(the whole file)");
    }
    out
}

/// Writes `new` at the dotted `key` of `value`, making the objects on the way (over an absent
/// value too).
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

/// Every leaf of `value` as `(dotted key, value)`: a leaf is anything but a non-empty object
/// (an empty one below the root is a leaf: a map with nothing in it).
pub(super) fn leaves(value: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match value {
        // The root is never a leaf: an empty one has none.
        Value::Object(map) if !map.is_empty() || prefix.is_empty() => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(value, &path, out);
            }
        }
        _ => out.push((prefix.to_string(), value.clone())),
    }
}

/// The dotted keys of the leaves `part` sets.
pub(super) fn keys(part: &Map<String, Value>) -> Vec<String> {
    let mut all = Vec::new();
    leaves(&Value::Object(part.clone()), "", &mut all);
    all.into_iter().map(|(key, _)| key).collect()
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

/// What `new` holds that `base` does not, as an overlay (`None`: nothing).
fn difference(new: &Value, base: &Value) -> Option<Value> {
    match (new, base) {
        (Value::Object(new), Value::Object(base)) if !new.is_empty() => {
            let mut out = Map::new();
            for (key, value) in new {
                // A key the base lacks is new, whatever its value (a chat muted for good is
                // `null` in the map of mutes).
                let diff = match base.get(key) {
                    None => Some(value.clone()),
                    Some(below) => difference(value, below),
                };
                if let Some(diff) = diff {
                    out.insert(key.clone(), diff);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        (new, base) if new == base => None,
        (new, _) => Some(new.clone()),
    }
}

/// Removes `key` (dotted) from `map`, and the objects it leaves empty.
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
    /// The settings that hold. Locked fields always win; where the layers do not make valid
    /// settings together (the organization's quiet hours starting when the agent's end), the
    /// organization's defaults give way first, then the agent's choices: the result is always
    /// valid.
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
        let mut all = Vec::new();
        leaves(&value, "", &mut all);
        all.into_iter()
            .map(|(key, value)| Shown {
                origin: self.origin(&key),
                key,
                value,
            })
            .collect()
    }

    /// The dotted keys the organization locked.
    pub fn locked_keys(&self) -> Vec<String> {
        keys(&self.locked)
    }

    /// The agent's file for `new`, the settings after an edit: refused when `new` is not valid
    /// or changes a locked field (naming it); else what `new` holds beyond the organization's
    /// defaults and the built-in values, locked fields left out.
    pub fn user_for(&self, new: &Settings) -> Result<Map<String, Value>, SettingsError> {
        new.validate()?;
        let new = serde_json::to_value(new).expect("settings serialize");
        let mut locked = Vec::new();
        leaves(&Value::Object(self.locked.clone()), "", &mut locked);
        for (key, value) in &locked {
            if get(&new, key) != Some(value) {
                return Err(SettingsError::Invalid {
                    field: key.clone(),
                    problem: Problem::Locked,
                });
            }
        }
        let base = serde_json::to_value(settle(&[&self.defaults]).unwrap_or_default())
            .expect("settings serialize");
        let Some(Value::Object(mut user)) = difference(&new, &base) else {
            return Ok(Map::new());
        };
        for (key, _) in &locked {
            remove(&mut user, key);
        }
        Ok(user)
    }

    /// The agent's file after `key` (dotted) is set to `value`: refused when the key is not a
    /// setting, is locked, or the value is not one it takes (naming the field).
    pub fn set(&self, key: &str, value: Value) -> Result<Map<String, Value>, SettingsError> {
        self.unlocked(key)?;
        let mut all = serde_json::to_value(self.effective()).expect("settings serialize");
        put(&mut all, key, value);
        self.user_for(&settings_of(all, &[key])?)
    }

    /// The agent's file after their choice for `key` (dotted) is dropped, so the field follows
    /// the organization's default or the built-in value again.
    pub fn reset(&self, key: &str) -> Result<Map<String, Value>, SettingsError> {
        self.unlocked(key)?;
        let mut user = self.user.clone();
        remove(&mut user, key);
        // What is left must still make settings (a part of quiet hours left alone would not).
        let mut all = built_in();
        for layer in [&user, &self.locked] {
            overlay(&mut all, &Value::Object(layer.clone()));
        }
        settings_of(all, &[])?;
        Ok(user)
    }

    /// Refuses a key that is not a setting, or that the organization locked.
    fn unlocked(&self, key: &str) -> Result<(), SettingsError> {
        let refuse = |problem| {
            Err(SettingsError::Invalid {
                field: key.to_string(),
                problem,
            })
        };
        if !known(key) {
            refuse(Problem::NoSuchSetting)
        } else if self.origin(key) == Origin::Locked {
            refuse(Problem::Locked)
        } else {
            Ok(())
        }
    }

    /// The agent's overlay from a whole settings file written before files were layered:
    /// what differs from the built-in values.
    pub fn user_from_whole(settings: &Settings) -> Map<String, Value> {
        let value = serde_json::to_value(settings).expect("settings serialize");
        match difference(&value, &built_in()) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
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
            l.locked_keys(),
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
            Value::Object(user),
            json!({"ui": {"language": "ru"}}),
            "only the change"
        );

        // Back to the default: the agent follows the organization again.
        s.ui.language = crate::settings::Language::System;
        s.notifications.snooze_minutes = 15;
        assert_eq!(l.user_for(&s).unwrap(), Map::new());

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

        // Set to the organization's default, it is no longer the agent's own.
        let user = l.set("notifications.snooze_minutes", json!(15)).unwrap();
        assert_eq!(Value::Object(user), json!({"ui": {"language": "ru"}}));
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
            (l.set("server", json!({})), "server", Problem::Locked),
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
        // Half of the quiet hours cannot be reset alone.
        let quiet = layers(
            json!({}),
            json!({}),
            json!({"notifications": {"quiet_hours": {"start": "22:00", "end": "07:00"}}}),
        );
        let (field, _) = refused(quiet.reset("notifications.quiet_hours.start"));
        assert_eq!(field, "notifications.quiet_hours");
        assert!(quiet.reset("notifications.quiet_hours").unwrap().is_empty());
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
            ]),
            proptest::option::of(prop_oneof![
                Just(Value::Null),
                (1u32..=3650).prop_map(|d| json!(d))
            ]),
        );
        fields.prop_map(|(url, snooze, sound, language, quiet, retention)| {
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
            map(v)
        })
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
            let mut locked_leaves = Vec::new();
            leaves(&Value::Object(locked.clone()), "", &mut locked_leaves);
            for (key, v) in &locked_leaves {
                prop_assert_eq!(get(&value, key), Some(v), "locked always wins: {}", key);
            }
            for shown in l.shown() {
                if shown.origin == Origin::BuiltIn {
                    prop_assert_eq!(Some(&shown.value), get(&built_in, &shown.key), "in no file: built-in");
                }
            }
            // The agent's choice of an unlocked field survives any new default.
            let moved = Layers { defaults: new_defaults, ..l.clone() };
            let after = serde_json::to_value(moved.effective()).unwrap();
            let mut chosen = Vec::new();
            leaves(&Value::Object(user), "", &mut chosen);
            for (key, v) in &chosen {
                if moved.origin(key) == Origin::User {
                    prop_assert_eq!(get(&after, key), Some(v), "the agent's {} survives", key);
                }
            }
            // What an edit keeps reads back as the same settings.
            let kept = l.user_for(&s).unwrap();
            let again = Layers { user: kept, ..l.clone() };
            prop_assert_eq!(again.effective(), s);
        }
    }
}
