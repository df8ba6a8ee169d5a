//! The UI's words (`ui/js/i18n/en.js`, `ru.js`): both languages have the same keys, and every
//! key the page names (in `index.html` and the modules' `t("…")` calls) exists. The page falls
//! back to English, then to the bare key, so a missing word would otherwise only show as
//! "settings.something" on screen.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{modules, ui};

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
    named.extend(
        js_list(&read("js/diagnostics.js"), "NOTES")
            .iter()
            .map(|kind| format!("note.{kind}")),
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
    // Each secret's words (settings/secrets.js).
    let secrets = read("js/settings/secrets.js");
    for name in js_list(&secrets, "SECRETS") {
        for what in js_list(&secrets, "WORDS") {
            named.insert(format!("settings.{name}_{what}"));
        }
        named.insert(format!("settings.{name}"));
        named.insert(format!("settings.err_{name}_empty"));
    }
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
    // What a control locks with (settings/locks.js) is a setting too.
    let locks = quoted_after(&html, "data-locks=\"");
    assert!(locks.len() >= 4, "{locks:?}");
    for field in &locks {
        assert!(is_path(field), "data-locks=\"{field}\" is not a setting");
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
        4,
        "one ladder input in its template, the retention, the snooze and the idle minutes \
         (a forwarding target's from_step is built by away.js with its row)"
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

/// The sentence of `key` in a dictionary file, as written (`"key": "…",` on one line).
fn sentence(path: &str, key: &str) -> String {
    let text = read(path);
    let marker = format!("  \"{key}\": \"");
    let line = text
        .lines()
        .find(|l| l.starts_with(&marker))
        .unwrap_or_else(|| panic!("{path}: no \"{key}\" on a line of its own"));
    let value = &line[marker.len()..];
    let value = value
        .strip_suffix("\",")
        .or_else(|| value.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{path}: \"{key}\" is not one string: {line}"));
    value.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// `{name}` in `template` replaced as the page's `t()` does, from a JSON object's fields.
fn fill(template: &str, params: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut out = template.to_string();
    for (name, value) in params {
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => continue,
            other => other.to_string(),
        };
        out = out.replace(&format!("{{{name}}}"), &text);
    }
    out
}

/// A failure of each kind the engine has (every file problem for every role, an issuer with
/// and without a name), as the page receives it.
fn sample_failures() -> Vec<serde_json::Value> {
    use serde_json::json;
    let proxy = "http://bob@proxy.corp.example:3128";
    let mut samples = vec![
        json!({"kind": "dns", "host": "support.corp.example"}),
        json!({"kind": "no_network"}),
        json!({"kind": "refused", "host": "support.corp.example"}),
        json!({"kind": "timeout", "seconds": 15}),
        json!({"kind": "unknown_issuer", "issuer": "Corp Root CA"}),
        json!({"kind": "unknown_issuer", "issuer": null}),
        json!({"kind": "tls_inspected", "issuer": "Corp Inspection CA", "proxy": proxy}),
        json!({"kind": "tls_inspected", "issuer": null, "proxy": proxy}),
        json!({"kind": "name_mismatch", "host": "support.corp.example"}),
        json!({"kind": "expired"}),
        json!({"kind": "not_yet_valid"}),
        json!({"kind": "client_cert_required"}),
        json!({"kind": "client_cert_refused"}),
        json!({"kind": "tls", "detail": "peer sent no certificates"}),
        json!({"kind": "proxy_unreachable", "proxy": proxy}),
        json!({"kind": "proxy_refused", "proxy": proxy, "status": 403}),
        json!({"kind": "proxy_refused", "proxy": "socks5://proxy:1080", "status": 0}),
        json!({"kind": "proxy_auth_required", "proxy": proxy}),
        json!({"kind": "proxy_auth_failed", "proxy": proxy}),
        json!({"kind": "proxy_no_server", "proxy": proxy, "status": 502}),
        json!({"kind": "proxy_failed", "proxy": proxy, "detail": "the proxy closed the connection"}),
        json!({"kind": "http_status", "status": 502}),
        json!({"kind": "token_refused", "status": 401}),
        json!({"kind": "bad_url", "detail": "the address names no host"}),
        json!({"kind": "token_header"}),
        json!({"kind": "lost", "detail": "no pong within 20 s"}),
        json!({"kind": "other", "detail": "something else"}),
    ];
    let page = read("js/net-words.js");
    for role in js_list(&page, "FILE_ROLES") {
        for problem in js_list(&page, "FILE_PROBLEMS") {
            samples.push(json!({"kind": "file", "role": role, "path": "/home/agent/certs/corp.pem", "problem": problem}));
        }
    }
    // And one of each kind as the engine lists them, so a kind added there is worded here.
    samples.extend(
        chatbell_engine::net::NetFailure::examples()
            .iter()
            .map(|f| serde_json::to_value(f).unwrap()),
    );
    samples
}

/// The page words a connection's failure with the engine's own sentences: for a failure of
/// every kind, the UI's "net.…" sentences filled as `net-words.js` fills them are the engine's
/// `i18n::net_words`, in both languages, so the status bar, *Check connection*, the offline
/// notification and `doctor` say the same.
#[test]
fn the_page_words_a_connection_failure_as_the_engine_does() {
    use chatbell_engine::i18n::{Lang, net_words};
    use chatbell_engine::net::NetFailure;
    let page = read("js/net-words.js");
    let kinds = js_list(&page, "NET_KINDS");
    let mut worded = BTreeSet::new();
    for (file, lang) in [("js/i18n/en.js", Lang::En), ("js/i18n/ru.js", Lang::Ru)] {
        for sample in sample_failures() {
            let failure: NetFailure =
                serde_json::from_value(sample.clone()).unwrap_or_else(|e| panic!("{sample}: {e}"));
            let kind = sample["kind"].as_str().unwrap();
            assert!(kinds.iter().any(|k| k == kind), "NET_KINDS has no {kind}");
            worded.insert(kind.to_string());
            // The key, as net-words.js `keyOf` makes it.
            let key = match kind {
                "file" => format!("net.file.{}", sample["problem"].as_str().unwrap()),
                "unknown_issuer" | "tls_inspected" if sample["issuer"].is_null() => {
                    format!("net.{kind}_unnamed")
                }
                _ => format!("net.{kind}"),
            };
            let mut params = sample.as_object().unwrap().clone();
            if let Some(role) = sample["role"].as_str() {
                let label = sentence(file, &format!("net.role.{role}"));
                params.insert("role_label".into(), label.into());
            }
            let engine = net_words(&failure, lang);
            let what = fill(&sentence(file, &format!("{key}.what")), &params);
            let todo = fill(&sentence(file, &format!("{key}.todo")), &params);
            assert_eq!(what, engine.what, "{file}: {key}.what for {sample}");
            assert_eq!(todo, engine.todo, "{file}: {key}.todo for {sample}");
            assert!(
                !what.contains('{'),
                "{file}: {key}.what left a placeholder: {what}"
            );
        }
    }
    let kinds: BTreeSet<String> = kinds.into_iter().collect();
    assert_eq!(worded, kinds, "a sample of every kind the page words");
}

/// *Check connection*'s route reads as `doctor`'s: "via proxy … from the desktop's settings",
/// "direct".
#[test]
fn the_page_words_a_route_as_the_engine_does() {
    use chatbell_engine::i18n::{Lang, route_words};
    use chatbell_engine::net::{ProxyUrl, Route, RouteSource};
    let page = read("js/net-words.js");
    let sources = js_list(&page, "ROUTE_SOURCES");
    for (file, lang) in [("js/i18n/en.js", Lang::En), ("js/i18n/ru.js", Lang::Ru)] {
        for source in &sources {
            let source_value: RouteSource = match source.as_str() {
                "setting" => RouteSource::Setting,
                "portal" => RouteSource::Portal,
                "environment" => RouteSource::Environment,
                "windows" => RouteSource::Windows,
                "macos" => RouteSource::Macos,
                "none" => RouteSource::None,
                other => panic!("ROUTE_SOURCES: {other} is not a RouteSource"),
            };
            assert_eq!(
                serde_json::to_value(source_value).unwrap(),
                serde_json::json!(source),
                "the source's name on the wire"
            );
            let proxy = ProxyUrl::parse("http://bob@proxy.corp.example:3128").unwrap();
            let mut params = serde_json::Map::new();
            params.insert("proxy".into(), proxy.to_string().into());
            params.insert(
                "source".into(),
                sentence(file, &format!("net.source.{source}")).into(),
            );
            let direct = Route::direct(source_value);
            assert_eq!(
                fill(&sentence(file, "net.route.direct"), &params),
                route_words(&direct, lang),
                "{file}: direct ({source})"
            );
            let via = Route {
                proxy: Some(proxy.clone()),
                source: source_value,
                password: None,
            };
            assert_eq!(
                fill(&sentence(file, "net.route.via"), &params),
                route_words(&via, lang),
                "{file}: via a proxy ({source})"
            );
        }
    }
}

/// Which certificates verified the server reads as `doctor` says it.
#[test]
fn the_page_words_the_trust_as_the_engine_does() {
    use chatbell_engine::i18n::{Lang, trust_words};
    use chatbell_engine::net::TrustUsed;
    use serde_json::json;
    for (file, lang) in [("js/i18n/en.js", Lang::En), ("js/i18n/ru.js", Lang::Ru)] {
        for store in ["system", "compiled"] {
            for extra in [None, Some("/etc/ssl/corp-root-ca.pem")] {
                let wire = json!({ "store": store, "extra_ca": extra });
                let trust = TrustUsed {
                    store: serde_json::from_value(json!(store)).unwrap(),
                    extra_ca: extra.map(std::path::PathBuf::from),
                };
                assert_eq!(
                    serde_json::to_value(&trust).unwrap(),
                    wire,
                    "TrustUsed on the wire"
                );
                let base = sentence(file, &format!("net.trust.{store}"));
                let page = match extra {
                    None => base,
                    Some(path) => {
                        let mut params = serde_json::Map::new();
                        params.insert("store".into(), base.into());
                        params.insert("file".into(), path.into());
                        fill(&sentence(file, "net.trust.with_file"), &params)
                    }
                };
                assert_eq!(page, trust_words(&trust, lang), "{file}: {wire}");
            }
        }
    }
}
