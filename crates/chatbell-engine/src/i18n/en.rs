//! English.

use super::{Labels, Table};

pub(super) const TABLE: Table = Table {
    labels: Labels {
        open: "Open",
        read: "Mark as read",
        snooze: "Snooze",
        web_panel: "Open in web panel",
        open_settings: "Open Settings",
    },
    tray_open: "Open Chatbell",
    tray_pause: "Pause notifications",
    tray_resume: "Resume notifications",
    tray_quit: "Quit",
    nobody_waiting: "Nobody waiting",
    waiting: |n| format!("{n} waiting"),
    waiting_longest: |n, wait| format!("{n} waiting · longest {wait}"),
    title_waiting: |n| format!("Chatbell — {n} waiting"),
    test_summary: "Chatbell test notification",
    test_body: "Notifications work. New chats and messages will look like this.",
    fallback_demo: |error| {
        format!(
            "Chatbell could not start the demo ({error}); it shows its database without a connection."
        )
    },
    fallback_connection: |error| {
        format!(
            "Chatbell could not start the connection ({error}); it shows its database without a connection."
        )
    },
    token_refused: "The server refused the token",
    token_refused_body: "New chats are not reaching you. Update the token in Settings.",
    offline_since: |since| format!("Chatbell is offline since {since}"),
    offline_body: |why| format!("New chats are not reaching you: {why}."),
    no_network: "this computer has no network",
    unreachable: "the server cannot be reached",
    back: "Back online",
    back_body: |from, to| {
        format!("{from}–{to} not covered: chats written then did not arrive live.")
    },
    units: ["<1 min", "min", "h", "d"],
    urgent: "Urgent: ",
    one_waiting: |prefix, name, wait| format!("{prefix}{name} is waiting · {wait}"),
    many_waiting: |prefix, n, wait| format!("{prefix}{n} chats waiting, longest {wait}"),
    and_more: |more| format!(" and {more} more"),
    new_chat: |name| format!("New chat: {name}"),
    new_messages: |name, n| format!("{name} · {n} new messages"),
    attachment: |file| format!("Attachment: {file}"),
    digest: |messages, chats| format!("{messages} new messages in {chats} chats"),
};
