//! The UI's words (`ui/js/i18n/en.js`, `ru.js`): both languages have the same keys, and every
//! key the page names (in `index.html` and the modules' `t("…")` calls) exists. The page falls
//! back to English, then to the bare key, so a missing word would otherwise only show as
//! "settings.something" on screen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn ui() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(ui().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The top-level entries of a dictionary, each with whether it is a plural object: the files
/// put every entry on a line of its own starting with two spaces and the quoted key.
fn dictionary(path: &str) -> BTreeMap<String, bool> {
    let text = read(path);
    let mut entries = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("  \"") else {
            continue;
        };
        let Some((key, value)) = rest.split_once("\":") else {
            continue;
        };
        let plural = value.trim_start().starts_with('{');
        assert!(
            entries.insert(key.to_string(), plural).is_none(),
            "{path}: \"{key}\" twice"
        );
    }
    assert!(entries.len() > 100, "{path}: read only {entries:?}");
    entries
}

/// Every `"…"` that follows `marker` in `text`, where `marker` starts a word (so `t("` is not
/// the end of `closest("`).
fn quoted_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    text.match_indices(marker)
        .filter(|(at, _)| {
            !text[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '-')
        })
        .filter_map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            rest.split_once('"').map(|(key, _)| key)
        })
        .collect()
}

/// Every module of the page: `ui/js` and the folders under it.
fn modules() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![ui().join("js")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "js") {
                found.push(path);
            }
        }
    }
    assert!(found.len() > 15, "found only {found:?}");
    found
}

/// The strings of a `const NAME = ["a", "b"];` line.
fn js_list(text: &str, name: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("const {name} = [")))
        .unwrap_or_else(|| panic!("const {name} = [...] on one line"));
    let inner = line.split_once('[').unwrap().1.split_once(']').unwrap().0;
    inner
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn both_languages_have_the_same_words() {
    let en = dictionary("js/i18n/en.js");
    let ru = dictionary("js/i18n/ru.js");
    let en_keys: BTreeSet<_> = en.keys().collect();
    let ru_keys: BTreeSet<_> = ru.keys().collect();
    assert!(
        en_keys == ru_keys,
        "only in en: {:?}\nonly in ru: {:?}",
        en_keys.difference(&ru_keys).collect::<Vec<_>>(),
        ru_keys.difference(&en_keys).collect::<Vec<_>>()
    );
    for (key, plural) in &en {
        assert_eq!(ru[key], *plural, "\"{key}\": plural in one language only");
    }
}

#[test]
fn every_word_the_page_names_exists() {
    let en = dictionary("js/i18n/en.js");
    let mut named: BTreeSet<String> = BTreeSet::new();
    let html = read("index.html");
    named.extend(
        quoted_after(&html, "data-i18n=\"")
            .into_iter()
            .map(String::from),
    );
    for attrs in quoted_after(&html, "data-i18n-attr=\"") {
        for pair in attrs.split(';') {
            let (_, key) = pair.split_once(':').expect("attr:key");
            named.insert(key.trim().to_string());
        }
    }
    for path in modules() {
        let text = std::fs::read_to_string(&path).unwrap();
        named.extend(quoted_after(&text, "t(\"").into_iter().map(String::from));
    }
    // Keys put together in the modules: one per tone, per blocker, per problem and per unit
    // they know.
    named.extend(
        js_list(&read("js/settings/sounds.js"), "TONES")
            .iter()
            .map(|tone| format!("tone.{tone}")),
    );
    named.extend(
        js_list(&read("js/diagnostics.js"), "BLOCKERS")
            .iter()
            .map(|kind| format!("blocker.{kind}")),
    );
    let problems = read("js/problems.js");
    named.extend(
        js_list(&problems, "PROBLEMS")
            .iter()
            .map(|kind| format!("problem.{kind}")),
    );
    named.insert("problem.out_of_range_or_empty".into());
    named.extend(
        js_list(&problems, "UNITS")
            .iter()
            .map(|unit| format!("unit.{unit}")),
    );
    // The store problem's words, two per reason it knows (banners.js).
    for reason in js_list(&read("js/banners.js"), "STORE_REASONS") {
        named.insert(format!("store_problem.{reason}.what"));
        named.insert(format!("store_problem.{reason}.todo"));
    }
    assert!(named.len() > 200, "found only {named:?}");
    let missing: Vec<_> = named.iter().filter(|k| !en.contains_key(*k)).collect();
    assert!(missing.is_empty(), "no words for {missing:?}");
}

/// The settings screen offers the engine's tones, in the engine's order.
#[test]
fn the_sound_choices_are_the_engines_tones() {
    let engine: Vec<String> = chatbell_engine::sound::Tone::ALL
        .iter()
        .map(|tone| {
            serde_json::to_value(tone)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(js_list(&read("js/settings/sounds.js"), "TONES"), engine);
}

/// The settings form keeps no copy of the engine's limits or of its fields: a number input
/// takes its bounds from `AppInfo.limits` (`data-limit`, set by the page), and every input names
/// a field of `Settings` (`data-field`), the path a refused setting's error names.
#[test]
fn the_settings_form_names_the_apps_fields_and_limits() {
    let html = read("index.html");
    let tags: Vec<&str> = html.split('<').filter(|t| t.starts_with("input")).collect();
    for tag in tags
        .iter()
        .filter(|t| t.contains(" data-field=\"") || t.contains(" data-limit=\""))
    {
        for written in [" min=\"", " max=\"", " maxlength=\""] {
            assert!(!tag.contains(written), "a bound written in the page: {tag}");
        }
    }

    let limits = serde_json::to_value(chatbell_ipc::contract::Limits::of_settings()).unwrap();
    let named_limits = quoted_after(&html, "data-limit=\"");
    assert!(named_limits.len() >= 4, "{named_limits:?}");
    for name in &named_limits {
        assert!(
            limits.get(*name).is_some(),
            "data-limit=\"{name}\" is not in AppInfo.limits"
        );
    }

    // A settings value with every optional part present, as JSON: each data-field is a path in it.
    let mut settings = chatbell_engine::settings::Settings::default();
    settings.store.retention_days = Some(90);
    settings.server.url = Some("wss://x.example/ws".into());
    settings.server.web_panel = Some("https://x.example/{user_id}".into());
    let escalation = &mut settings.notifications.escalation;
    for source in ["telegram", "widget"] {
        let own = chatbell_engine::settings::SourceLadders {
            new_chat: escalation.new_chat,
            new_message: escalation.new_message,
        };
        escalation.sources.insert(source.into(), own);
    }
    let mut json = serde_json::to_value(&settings).unwrap();
    json["notifications"]["quiet_hours"] = serde_json::json!({ "start": "22:00", "end": "08:00" });
    let is_path = |path: &str| {
        path.split('.')
            .try_fold(&json, |node, key| node.get(key))
            .is_some()
    };
    let fields = quoted_after(&html, "data-field=\"");
    assert!(fields.len() > 12, "{fields:?}");
    for field in &fields {
        assert!(is_path(field), "data-field=\"{field}\" is not a setting");
    }
    // The ladder tables' inputs get theirs from ladders.js: its tables, kinds and steps.
    let ladders = read("js/settings/ladders.js");
    let kinds: Vec<String> = js_pairs(&ladders, "KINDS");
    let steps: Vec<String> = js_pairs(&ladders, "STEPS");
    assert_eq!(kinds, ["new_chat", "new_message"]);
    assert_eq!(steps.len(), 3, "{steps:?}");
    for base in [
        "notifications.escalation".to_string(),
        "notifications.escalation.sources.telegram".into(),
        "notifications.escalation.sources.widget".into(),
    ] {
        for kind in &kinds {
            for step in &steps {
                let path = format!("{base}.{kind}.{step}");
                assert!(is_path(&path), "{path} is not a setting");
            }
        }
    }
    assert_eq!(
        html.matches("type=\"number\"").count(),
        3,
        "one ladder input in its template, the retention and the snooze"
    );
}

/// The first strings of each pair of a `const NAME = [["a", "x"], ["b", "y"]];` line.
fn js_pairs(text: &str, name: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("const {name} = [")))
        .unwrap_or_else(|| panic!("const {name} = [...] on one line"));
    line.split("[\"")
        .skip(1)
        .filter_map(|pair| pair.split_once('"').map(|(first, _)| first.to_string()))
        .collect()
}
