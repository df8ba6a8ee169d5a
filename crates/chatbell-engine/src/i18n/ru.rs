//! Russian.

use super::{Labels, Table};

/// The plural form: 1 сообщение, 2 сообщения, 5 сообщений (21 сообщение, 11 сообщений).
fn plural<'a>(n: u32, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    match (n % 10, n % 100) {
        (1, r) if r != 11 => one,
        (2..=4, r) if !(12..=14).contains(&r) => few,
        _ => many,
    }
}

fn new_messages(n: u32) -> &'static str {
    plural(n, "новое сообщение", "новых сообщения", "новых сообщений")
}

pub(super) const TABLE: Table = Table {
    labels: Labels {
        open: "Открыть",
        read: "Прочитано",
        snooze: "Отложить",
        web_panel: "Открыть в веб-панели",
        open_settings: "Открыть настройки",
    },
    tray_open: "Открыть Chatbell",
    tray_pause: "Приостановить уведомления",
    tray_resume: "Возобновить уведомления",
    tray_quit: "Выйти",
    nobody_waiting: "Никто не ждёт",
    waiting: |n| format!("Ждут: {n}"),
    waiting_longest: |n, wait| format!("Ждут: {n} · дольше всех {wait}"),
    title_waiting: |n| format!("Chatbell — ждут: {n}"),
    test_summary: "Проверка уведомлений Chatbell",
    test_body: "Уведомления работают. Так будут выглядеть новые чаты и сообщения.",
    fallback_demo: |error| {
        format!("Chatbell не смог запустить демо ({error}); показана его база без подключения.")
    },
    fallback_connection: |error| {
        format!("Chatbell не смог подключиться ({error}); показана его база без подключения.")
    },
    token_refused: "Сервер не принял токен",
    token_refused_body: "Новые чаты до вас не доходят. Обновите токен в настройках.",
    offline_since: |since| format!("Chatbell не на связи с {since}"),
    offline_body: |why| format!("Новые чаты до вас не доходят: {why}."),
    no_network: "у компьютера нет сети",
    unreachable: "сервер недоступен",
    back: "Снова на связи",
    back_body: |from, to| format!("{from}–{to} без связи: чаты за это время не пришли вовремя."),
    units: ["<1 мин", "мин", "ч", "дн."],
    urgent: "Срочно: ",
    one_waiting: |prefix, name, wait| format!("{prefix}{name} ждёт · {wait}"),
    // "ждут" opens the digest: capitalised when nothing comes before it.
    many_waiting: |prefix, n, wait| {
        let verb = if prefix.is_empty() {
            "Ждут"
        } else {
            "ждут"
        };
        let chats = plural(n, "чат", "чата", "чатов");
        format!("{prefix}{verb} {n} {chats}, дольше всех {wait}")
    },
    and_more: |more| format!(" и ещё {more}"),
    new_chat: |name| format!("Новый чат: {name}"),
    new_messages: |name, n| format!("{name} · {n} {}", new_messages(n)),
    attachment: |file| format!("Вложение: {file}"),
    digest: |messages, chats| {
        let place = if chats % 10 == 1 && chats % 100 != 11 {
            "чате"
        } else {
            "чатах"
        };
        format!("{messages} {} в {chats} {place}", new_messages(messages))
    },
};
