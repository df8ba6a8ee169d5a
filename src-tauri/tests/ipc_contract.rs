//! One contract, five places that must agree: the commands of the IPC crate's contract
//! (`chatbell-ipc`'s `Command`, which the shell's one invoke handler reads every call into),
//! the permissions generated for them (`build.rs`), the ones the window is granted
//! (`capabilities/main.json`), the ones the page calls (`ui/js/api.js`) and the table in
//! `docs/ipc.md`; the event names in the contract (`UiEvent::name`), `api.js` and
//! `docs/ipc.md`; and the reasons a
//! store error gives, in the engine, `docs/ipc.md` and the page's words. Read as text: a
//! command added in one place and forgotten in another fails here, not in the agent's hands.

use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Every name that follows `marker` up to the first of `end` (e.g. `commands::` up to `,`).
fn after(text: &str, marker: &str, end: &[char]) -> BTreeSet<String> {
    text.match_indices(marker)
        .map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            rest[..rest.find(end).unwrap_or(rest.len())].to_string()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// The strings in double quotes in `text`, in order (`"a", "b"` gives a and b).
fn quoted<T: FromIterator<String>>(text: &str) -> T {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

/// The part of `text` between `start` and the next `end`.
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}")) + start.len();
    let rest = &text[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The variants of `pub enum name` in `text`, in snake_case (`MarkRead` gives mark_read).
fn variants(text: &str, name: &str) -> BTreeSet<String> {
    section(text, &format!("pub enum {name} {{"), "\n}\n")
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|l| {
            let ident: String = l.chars().take_while(|c| c.is_alphanumeric()).collect();
            let mut snake = String::new();
            for (i, c) in ident.chars().enumerate() {
                if c.is_ascii_uppercase() {
                    if i > 0 {
                        snake.push('_');
                    }
                    snake.push(c.to_ascii_lowercase());
                } else {
                    snake.push(c);
                }
            }
            snake
        })
        .collect()
}

#[test]
fn every_command_is_permitted_granted_called_and_documented() {
    let registered = variants(&read("../crates/chatbell-ipc/src/wire.rs"), "Command");
    assert!(registered.len() > 20, "read only {registered:?}");

    let build = read("build.rs");
    let permitted: BTreeSet<String> = quoted(section(&build, "COMMANDS: &[&str] = &[", "];"));
    assert_eq!(permitted, registered, "build.rs COMMANDS");

    let capabilities: serde_json::Value =
        serde_json::from_str(&read("capabilities/main.json")).unwrap();
    let granted: BTreeSet<String> = capabilities["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(granted, registered, "capabilities/main.json grants");

    let api = read("../ui/js/api.js");
    let called = after(&api, "call(\"", &['"']);
    assert_eq!(called, registered, "ui/js/api.js calls");

    let ipc = read("../docs/ipc.md");
    let documented = after(section(&ipc, "## Commands", "\n## "), "\n| `", &['`']);
    assert_eq!(documented, registered, "docs/ipc.md's commands table");
}

#[test]
fn every_event_has_one_name_everywhere() {
    let contract = read("../crates/chatbell-ipc/src/contract.rs");
    let shell: BTreeSet<String> = after(
        section(&contract, "pub fn name(&self)", "\n    }\n"),
        "=> \"",
        &['"'],
    );
    assert!(shell.len() > 5, "read only {shell:?}");

    let api = read("../ui/js/api.js");
    let page = after(
        section(&api, "EVENTS = Object.freeze({", "});"),
        ": \"",
        &['"'],
    );
    assert_eq!(page, shell, "ui/js/api.js EVENTS");

    let ipc = read("../docs/ipc.md");
    let documented = after(section(&ipc, "## Events", "\n## "), "\n| `", &['`']);
    assert_eq!(documented, shell, "docs/ipc.md's events table");
}

/// The reasons a store error gives (`CommandError.reason`): the engine's `StoreReason::ALL`, as
/// serialized, is the list `docs/ipc.md` gives and the list the page has words for.
#[test]
fn every_store_reason_is_documented_and_worded() {
    let engine: Vec<String> = chatbell_engine::store::StoreReason::ALL
        .iter()
        .map(|r| {
            serde_json::to_value(r)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(engine.len() > 5, "read only {engine:?}");

    let ipc = read("../docs/ipc.md");
    let line = section(&ipc, "\nStoreReason ", "\n");
    let documented: Vec<String> = quoted(line);
    assert_eq!(documented, engine, "docs/ipc.md's StoreReason");
    // Each is explained there too, on a line of its own.
    let explained = section(&ipc, "\nStoreReason ", "\n```");
    for reason in &engine {
        assert!(
            explained.contains(&format!("\n             {reason} ")),
            "docs/ipc.md explains no {reason}"
        );
    }

    let banners = read("../ui/js/banners.js");
    let worded: Vec<String> = quoted(section(&banners, "const STORE_REASONS = [", "];"));
    assert_eq!(worded, engine, "ui/js/banners.js STORE_REASONS");
}

/// What a refused setting says (`CommandError` of kind "setting"): the engine's `Problem` kinds
/// and `Unit`s are the lists `docs/ipc.md` gives and the ones the page words (`problems.js`).
#[test]
fn every_settings_problem_is_documented_and_worded() {
    let engine = read("../crates/chatbell-engine/src/settings/problem.rs");
    let problems = read("../ui/js/problems.js");
    let ipc = read("../docs/ipc.md");

    let kinds = variants(&engine, "Problem");
    assert!(kinds.len() > 10, "read only {kinds:?}");
    let worded: BTreeSet<String> = quoted(section(&problems, "const PROBLEMS = [", "];"));
    assert_eq!(worded, kinds, "ui/js/problems.js PROBLEMS");
    let documented = after(section(&ipc, "\nProblem ", "\nUnit "), "kind: \"", &['"']);
    assert_eq!(documented, kinds, "docs/ipc.md's Problem");

    let units = variants(&engine, "Unit");
    assert!(units.len() > 5, "read only {units:?}");
    let worded: BTreeSet<String> = quoted(section(&problems, "const UNITS = [", "];"));
    assert_eq!(worded, units, "ui/js/problems.js UNITS");
    let documented: BTreeSet<String> = quoted(section(&ipc, "\nUnit ", "\n"));
    assert_eq!(documented, units, "docs/ipc.md's Unit");
}

/// Why the organization's settings file is set aside (`OrgProblem`, in `OrganizationInfo`): the
/// engine's kinds are the list `docs/ipc.md` gives and the one the banner words (`banners.js`),
/// each with its words in both languages.
#[test]
fn every_organization_problem_is_documented_and_worded() {
    let engine = read("../crates/chatbell-engine/src/settings/organization.rs");
    let kinds = variants(&engine, "OrgProblem");
    assert!(kinds.len() > 5, "read only {kinds:?}");
    let banners = read("../ui/js/banners.js");
    let worded: BTreeSet<String> = quoted(section(&banners, "const ORG_PROBLEMS = [", "];"));
    assert_eq!(worded, kinds, "ui/js/banners.js ORG_PROBLEMS");
    let ipc = read("../docs/ipc.md");
    let documented = after(
        section(&ipc, "\nOrgProblem ", "\n             why"),
        "kind: \"",
        &['"'],
    );
    assert_eq!(documented, kinds, "docs/ipc.md's OrgProblem");
    for language in ["en", "ru"] {
        let words = read(&format!("../ui/js/i18n/{language}.js"));
        for kind in &kinds {
            assert!(
                words.contains(&format!("\n  \"org_problem.{kind}\": ")),
                "ui/js/i18n/{language}.js has no org_problem.{kind}"
            );
        }
    }
}

/// Why a connection failed (`NetFailure`, in ConnState "offline" and a `net` error): the
/// engine's kinds, file problems, file roles and route sources are the lists `docs/ipc.md` gives
/// and the ones the page words (`net-words.js`).
#[test]
fn every_net_failure_is_documented_and_worded() {
    let failure = read("../crates/chatbell-engine/src/net/failure.rs");
    let system = read("../crates/chatbell-engine/src/net/system.rs");
    let page = read("../ui/js/net-words.js");
    let ipc = read("../docs/ipc.md");

    let kinds = variants(&failure, "NetFailure");
    assert!(kinds.len() > 15, "read only {kinds:?}");
    let worded: BTreeSet<String> = quoted(section(&page, "const NET_KINDS = [", "];"));
    assert_eq!(worded, kinds, "ui/js/net-words.js NET_KINDS");
    let net = section(&ipc, "\nNetFailure ", "\nCheckReport ");
    let documented = after(net, "kind: \"", &['"']);
    assert_eq!(documented, kinds, "docs/ipc.md's NetFailure");

    for (name, list) in [("FileProblem", "FILE_PROBLEMS"), ("FileRole", "FILE_ROLES")] {
        let engine = variants(&failure, name);
        assert!(engine.len() > 2, "read only {engine:?}");
        let worded: BTreeSet<String> = quoted(section(&page, &format!("const {list} = ["), "];"));
        assert_eq!(worded, engine, "ui/js/net-words.js {list}");
        let (field, end) = match name {
            "FileRole" => ("role:", "path"),
            _ => ("problem:", "}"),
        };
        let documented: BTreeSet<String> = quoted(section(net, field, end));
        assert_eq!(documented, engine, "docs/ipc.md's NetFailure file {field}");
    }

    let sources = variants(&system, "RouteSource");
    let worded: BTreeSet<String> = quoted(section(&page, "const ROUTE_SOURCES = [", "];"));
    assert_eq!(worded, sources, "ui/js/net-words.js ROUTE_SOURCES");
    let documented: BTreeSet<String> = quoted(section(&ipc, "\nRoute ", "\n"));
    let documented: BTreeSet<String> = documented
        .into_iter()
        .filter(|s| s != "proxy" && s != "source")
        .collect();
    assert_eq!(documented, sources, "docs/ipc.md's Route");
}

/// The secrets the page saves (`settings/secrets.js`) are the contract's `SecretName`s, and
/// `AppInfo` says of each whether it is stored (`has_<name>`).
#[test]
fn every_secret_is_saved_by_the_page_and_told_in_app_info() {
    let names: Vec<String> = chatbell_ipc::contract::SecretName::ALL
        .iter()
        .map(|n| {
            serde_json::to_value(n)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let page: Vec<String> = quoted(section(
        &read("../ui/js/settings/secrets.js"),
        "const SECRETS = [",
        "];",
    ));
    assert_eq!(page, names, "ui/js/settings/secrets.js SECRETS");
    let contract = read("../crates/chatbell-ipc/src/contract.rs");
    let info = section(&contract, "pub struct AppInfo {", "\n}");
    for name in &names {
        assert!(
            info.contains(&format!("pub has_{name}: bool,")),
            "AppInfo has no has_{name}"
        );
    }
    let ipc = read("../docs/ipc.md");
    let documented: Vec<String> = quoted(section(&ipc, "\nSecretName ", "\n"));
    assert_eq!(documented, names, "docs/ipc.md's SecretName");
}
