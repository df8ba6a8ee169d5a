//! Russian.

use super::{Labels, Table};
use crate::forward::command::CommandError;
use crate::forward::failure::{Failure, Service};
use crate::forward::http::PostError;
use crate::forward::request::BuildError;
use crate::net::{FileProblem, FileRole, NetFailure, RouteSource, Store};

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
    offline_failure: |what, todo| format!("Новые чаты до вас не доходят. {what} {todo}"),
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
    away_line: |to| format!("Нет на месте — пересылаю: {to}"),
    away_summary: |n, wait| match n {
        1 => format!("Пока вас не было: 1 чат, {wait}"),
        n => {
            let chats = plural(n, "чат", "чата", "чатов");
            format!("Пока вас не было: {n} {chats}, дольше всех {wait}")
        }
    },
    away_body: |to| format!("Переслано: {to}. Откройте Chatbell, чтобы увидеть, кто ещё ждёт."),
    lead_one: |name, wait| format!("{name} ждёт уже {wait}, чтобы кто-нибудь открыл чат"),
    lead_many: |n, wait| {
        let chats = plural(n, "чат", "чата", "чатов");
        format!("{n} {chats} ждут, чтобы их открыли, дольше всех {wait}")
    },
    forward_trouble: |to| format!("Пересылка ({to}) не работает"),
    forward_dropped: "для этого получателя накопилось слишком много пересылок; эта отброшена",
    forward_withdrawn: "не отправлено: чат тем временем открыли",
    keychain_silent: "системное хранилище паролей не ответило (заблокировано или ждёт пароль?)",
};

/// Why a forward did not arrive, naming the service.
pub(super) fn forward_failure(service: Service, f: &Failure) -> String {
    let name = match service {
        Service::Ntfy => "ntfy",
        Service::Gotify => "Gotify",
        Service::Webhook => "Вебхук",
        Service::Command => "Команда",
    };
    match f {
        Failure::Post(PostError::Status(401 | 403)) => match service {
            Service::Ntfy => "ntfy отклонил токен доступа".into(),
            Service::Gotify => "Gotify отклонил токен приложения".into(),
            _ => format!("{name}: запрос отклонён как неавторизованный"),
        },
        Failure::Post(PostError::Status(404)) => {
            format!("{name}: такого адреса нет (HTTP 404), проверьте адрес сервера")
        }
        Failure::Post(PostError::Status(s)) if *s >= 500 || *s == 429 => {
            format!("{name}: сбой на сервере (HTTP {s})")
        }
        Failure::Post(PostError::Status(s)) => format!("{name} отклонил пересылку (HTTP {s})"),
        Failure::Post(PostError::Timeout(t)) => {
            format!("{name} не ответил за {} с", t.as_secs())
        }
        Failure::Post(PostError::Net(n)) => format!("{name} недоступен: {}", net(n).0),
        Failure::Post(PostError::Io(e)) => format!("{name}: подключение оборвалось: {e}"),
        Failure::Post(PostError::NotHttp) => format!("{name} ответил не по HTTP"),
        Failure::Post(PostError::BadHeader(header)) => {
            format!("{name}: в секрете перенос строки (заголовок {header}), сохраните его заново")
        }
        Failure::Keychain => TABLE.keychain_silent.into(),
        Failure::Build(BuildError::NoGotifyToken) => {
            "не сохранён токен приложения Gotify: добавьте его в Настройках → Уведомления".into()
        }
        Failure::Build(BuildError::NoWebhookUrl) => {
            "у вебхука нет адреса: укажите его или сохраните секретный адрес".into()
        }
        Failure::Command(CommandError::Start { program, error }) => {
            format!("{} не запускается: {error}", program.display())
        }
        Failure::Command(CommandError::Timeout { program, limit }) => format!(
            "{} не завершилась за {} с и была остановлена",
            program.display(),
            limit.as_secs()
        ),
        Failure::Command(CommandError::Failed {
            program,
            status,
            said,
        }) => match said {
            Some(said) => format!(
                "{} завершилась с ошибкой ({status}): {said}",
                program.display()
            ),
            None => format!("{} завершилась с ошибкой ({status})", program.display()),
        },
    }
}

/// A connection failure: what is wrong, and what to do.
pub(super) fn net(f: &NetFailure) -> (String, String) {
    use NetFailure as F;
    let keeps_trying = "Chatbell продолжает попытки.";
    let in_settings = "Исправьте его в Настройках → Подключение.";
    let (what, todo) = match f {
        F::Dns { host } => (
            format!("Имя {host} не найдено."),
            "Проверьте адрес сервера или спросите ИТ-отдел, доступен ли он из этой сети.".into(),
        ),
        F::NoNetwork => (
            "У компьютера нет сети.".into(),
            "Подключитесь к сети: Chatbell переподключится сам.".into(),
        ),
        F::Refused { host } => (
            format!("{host} отклонил подключение."),
            format!("Сервис чатов может не работать, или порт указан неверно. {keeps_trying}"),
        ),
        F::Timeout { seconds } => (
            format!("Сервер не ответил за {seconds} с."),
            format!("Сеть или межсетевой экран могут обрывать подключение. {keeps_trying}"),
        ),
        F::UnknownIssuer { issuer: Some(issuer) } => (
            format!("Сертификат сервера подписан «{issuer}», которому этот компьютер не доверяет."),
            "Попросите у ИТ-отдела сертификат центра сертификации или добавьте его в поле «Центр сертификации».".into(),
        ),
        F::UnknownIssuer { issuer: None } => (
            "Сертификат сервера подписан центром, которому этот компьютер не доверяет.".into(),
            "Попросите у ИТ-отдела сертификат центра сертификации или добавьте его в поле «Центр сертификации».".into(),
        ),
        F::TlsInspected { issuer: Some(issuer), proxy } => (
            format!("Прокси {proxy}, похоже, просматривает защищённые подключения: сертификат подписан «{issuer}», которому этот компьютер не доверяет."),
            "Попросите у ИТ-отдела этот сертификат и добавьте его в поле «Центр сертификации».".into(),
        ),
        F::TlsInspected { issuer: None, proxy } => (
            format!("Прокси {proxy}, похоже, просматривает защищённые подключения: сертификат подписан центром, которому этот компьютер не доверяет."),
            "Попросите у ИТ-отдела этот сертификат и добавьте его в поле «Центр сертификации».".into(),
        ),
        F::NameMismatch { host } => (
            format!("Сертификат сервера выдан не для {host}."),
            "Проверьте адрес сервера; если он верен, сообщите тем, кто обслуживает сервис чатов.".into(),
        ),
        F::Expired => (
            "Срок действия сертификата сервера истёк.".into(),
            "Сообщите тем, кто обслуживает сервис чатов, и проверьте дату на компьютере.".into(),
        ),
        F::NotYetValid => (
            "Сертификат сервера ещё не действует.".into(),
            "Проверьте дату и время на компьютере.".into(),
        ),
        F::ClientCertRequired => (
            "Сервер требует клиентский сертификат.".into(),
            "Попросите его у ИТ-отдела и укажите в поле «Клиентский сертификат».".into(),
        ),
        F::ClientCertRefused => (
            "Сервер отклонил клиентский сертификат этого компьютера.".into(),
            "Уточните у ИТ-отдела, действует ли сертификат для этого сервера.".into(),
        ),
        F::Tls { detail } => (
            format!("Не удалось установить защищённое подключение ({detail})."),
            "Сообщите ИТ-отделу или тем, кто обслуживает сервис чатов.".into(),
        ),
        F::ProxyUnreachable { proxy } => (
            format!("Прокси {proxy} недоступен."),
            "Проверьте настройку прокси или спросите ИТ-отдел, работает ли прокси.".into(),
        ),
        F::ProxyRefused { proxy, status } => (
            format!("Прокси {proxy} отказался подключаться к сервису чатов (ответ {status})."),
            "Попросите ИТ-отдел разрешить адрес сервиса чатов на прокси.".into(),
        ),
        F::ProxyAuthRequired { proxy } => (
            format!("Прокси {proxy} требует пароль."),
            "Укажите имя пользователя в адресе прокси (http://имя@хост:порт) и сохраните пароль прокси в Настройках → Подключение.".into(),
        ),
        F::ProxyAuthFailed { proxy } => (
            format!("Прокси {proxy} не принял пароль."),
            "Сохраните верный пароль прокси в Настройках → Подключение.".into(),
        ),
        F::ProxyNoServer { proxy, status } => (
            format!("Прокси {proxy} не смог связаться с сервисом чатов (ответ {status})."),
            format!("Сервис чатов может не работать, или его адрес неверен. {keeps_trying}"),
        ),
        F::ProxyFailed { proxy, detail } => (
            format!("Ошибка прокси {proxy} ({detail})."),
            "Проверьте настройку прокси или обратитесь в ИТ-отдел.".into(),
        ),
        F::HttpStatus { status } => (
            format!("Сервер ответил HTTP {status} вместо подключения."),
            format!("Проверьте адрес сервера, в том числе путь. {keeps_trying}"),
        ),
        F::TokenRefused { status } => (
            format!("Сервер отклонил токен (HTTP {status})."),
            "Вставьте новый токен в Настройках → Подключение.".into(),
        ),
        F::BadUrl { detail } => (
            format!("Адрес сервера не подходит ({detail})."),
            in_settings.into(),
        ),
        F::TokenHeader => (
            "В токене есть символы, которые нельзя отправить.".into(),
            "Вставьте токен заново в Настройках → Подключение, без пробелов и переносов строк.".into(),
        ),
        F::File { role, path, problem } => {
            let role = match role {
                FileRole::CaFile => "файл центра сертификации",
                FileRole::ClientCert => "файл клиентского сертификата",
                FileRole::ClientKey => "файл клиентского ключа",
            };
            let path = path.display();
            let check_path = "Проверьте путь в Настройках → Подключение.";
            match problem {
                FileProblem::Missing => (format!("Не найден {role}: {path}."), check_path.into()),
                FileProblem::Unreadable => (format!("Не читается {role}: {path}."), check_path.into()),
                FileProblem::TooLarge => (format!("Слишком велик {role}: {path}."), check_path.into()),
                FileProblem::NoCertificates => (format!("Нет сертификата PEM, {role}: {path}."), check_path.into()),
                FileProblem::NoKey => (format!("Нет закрытого ключа PEM, {role}: {path}."), check_path.into()),
                FileProblem::ReadableByOthers => (
                    format!("Другие пользователи компьютера могут прочитать {role}: {path}."),
                    format!("Оставьте доступ только себе (chmod 600 {path})."),
                ),
                FileProblem::PassphraseNeeded => (
                    format!("Зашифрован, а пароль не сохранён: {role} {path}."),
                    "Сохраните пароль ключа в Настройках → Подключение.".into(),
                ),
                FileProblem::WrongPassphrase => (
                    format!("Сохранённый пароль не подходит: {role} {path}."),
                    "Сохраните пароль ключа заново в Настройках → Подключение.".into(),
                ),
            }
        }
        F::Lost { detail } => (
            format!("Подключение потеряно ({detail})."),
            "Chatbell переподключится сам.".into(),
        ),
        F::Other { detail } => (
            format!("Не удалось подключиться ({detail})."),
            keeps_trying.into(),
        ),
    };
    (what, todo)
}

/// The way a connection went.
pub(super) fn route(proxy: Option<&str>, source: RouteSource) -> String {
    let from = match source {
        RouteSource::Setting => "по настройкам Chatbell",
        RouteSource::Portal => "по настройкам рабочего стола",
        RouteSource::Environment => "по переменным окружения",
        RouteSource::Windows => "по настройкам Windows",
        RouteSource::Macos => "по настройкам macOS",
        RouteSource::None => "(прокси на компьютере не задан)",
    };
    match proxy {
        Some(proxy) => format!("через прокси {proxy} {from}"),
        None => format!("напрямую {from}"),
    }
}

pub(super) fn trust(store: Store, extra: Option<&str>) -> String {
    let base = match store {
        Store::System => "доверенные сертификаты этого компьютера",
        Store::Compiled => "встроенные сертификаты Chatbell (на компьютере их нет)",
    };
    match extra {
        Some(file) => format!("{base} и {file}"),
        None => base.into(),
    }
}
