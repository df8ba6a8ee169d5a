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
    let js = std::fs::read_dir(ui().join("js")).unwrap();
    for file in js.flatten() {
        let path = file.path();
        if path.extension().is_some_and(|e| e == "js") {
            let text = std::fs::read_to_string(&path).unwrap();
            named.extend(quoted_after(&text, "t(\"").into_iter().map(String::from));
        }
    }
    // Keys put together in settings.js: one per tone and per blocker it knows.
    let settings = read("js/settings.js");
    named.extend(
        js_list(&settings, "TONES")
            .iter()
            .map(|tone| format!("tone.{tone}")),
    );
    named.extend(
        js_list(&settings, "BLOCKERS")
            .iter()
            .map(|kind| format!("blocker.{kind}")),
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
    assert_eq!(js_list(&read("js/settings.js"), "TONES"), engine);
}
