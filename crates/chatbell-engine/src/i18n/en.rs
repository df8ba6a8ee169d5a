//! English.

use super::{Labels, Table};
use crate::forward::command::CommandError;
use crate::forward::failure::{Failure, Service};
use crate::forward::http::PostError;
use crate::forward::request::BuildError;
use crate::net::{FileProblem, FileRole, NetFailure, RouteSource, Store};

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
    offline_failure: |what, todo| format!("New chats are not reaching you. {what} {todo}"),
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
    away_line: |to| format!("Away — forwarding to {to}"),
    away_summary: |n, wait| match n {
        1 => format!("While you were away: 1 chat, {wait}"),
        n => format!("While you were away: {n} chats, longest {wait}"),
    },
    away_body: |to| format!("Forwarded to {to}. Open Chatbell to see who still waits."),
    lead_one: |name, wait| format!("{name} has waited {wait} for someone to open the chat"),
    lead_many: |n, wait| format!("{n} chats wait for someone to open them, longest {wait}"),
    forward_trouble: |to| format!("Forwarding to {to} does not work"),
    forward_dropped: "too many forwards were waiting for this target; this one was dropped",
    forward_withdrawn: "not sent: the chat was opened meanwhile",
    keychain_silent: "the system keychain did not answer (locked, or asking for a password?)",
};

/// Why a forward did not arrive, naming the service.
pub(super) fn forward_failure(service: Service, f: &Failure) -> String {
    let name = match service {
        Service::Ntfy => "ntfy",
        Service::Gotify => "Gotify",
        Service::Webhook => "the webhook",
        Service::Command => "the command",
    };
    match f {
        Failure::Post(PostError::Status(401 | 403)) => match service {
            Service::Ntfy => "ntfy refused the access token".into(),
            Service::Gotify => "Gotify refused the application token".into(),
            _ => format!("{name} refused the request as not authorized"),
        },
        Failure::Post(PostError::Status(404)) => {
            format!("{name} has no such address (HTTP 404): check the server's URL")
        }
        Failure::Post(PostError::Status(s)) if *s >= 500 || *s == 429 => {
            format!("{name} is in trouble (HTTP {s})")
        }
        Failure::Post(PostError::Status(s)) => format!("{name} refused the forward (HTTP {s})"),
        Failure::Post(PostError::Timeout(t)) => {
            format!("{name} did not answer within {} s", t.as_secs())
        }
        Failure::Post(PostError::Net(n)) => format!("{name} cannot be reached: {}", net(n).0),
        Failure::Post(PostError::Io(e)) => format!("the connection to {name} broke: {e}"),
        Failure::Post(PostError::NotHttp) => format!("{name} did not answer in HTTP"),
        Failure::Post(PostError::BadHeader(header)) => {
            format!("the secret for {name} has a line break (the {header} header): store it again")
        }
        Failure::Keychain => TABLE.keychain_silent.into(),
        Failure::Build(BuildError::NoGotifyToken) => {
            "no Gotify application token is stored: add it in Settings → Notifications".into()
        }
        Failure::Build(BuildError::NoWebhookUrl) => {
            "the webhook has no URL: set one, or store a secret URL".into()
        }
        Failure::Command(CommandError::Start { program, error }) => {
            format!("{} cannot be started: {error}", program.display())
        }
        Failure::Command(CommandError::Timeout { program, limit }) => format!(
            "{} did not finish within {} s and was ended",
            program.display(),
            limit.as_secs()
        ),
        Failure::Command(CommandError::Failed {
            program,
            status,
            said,
        }) => match said {
            Some(said) => format!("{} failed ({status}): {said}", program.display()),
            None => format!("{} failed ({status})", program.display()),
        },
    }
}

/// A connection failure: what is wrong, and what to do.
pub(super) fn net(f: &NetFailure) -> (String, String) {
    use NetFailure as F;
    let keeps_trying = "Chatbell keeps trying.";
    let in_settings = "Correct it in Settings → Connection.";
    let (what, todo) = match f {
        F::Dns { host } => (
            format!("The name {host} cannot be found."),
            "Check the server address, or ask your IT whether this network reaches it.".into(),
        ),
        F::NoNetwork => (
            "This computer has no network.".into(),
            "Connect to a network; Chatbell reconnects on its own.".into(),
        ),
        F::Refused { host } => (
            format!("{host} refused the connection."),
            format!("The chat service may be down, or the port is wrong. {keeps_trying}"),
        ),
        F::Timeout { seconds } => (
            format!("The server did not answer within {seconds} s."),
            format!("The network or a firewall may be dropping the connection. {keeps_trying}"),
        ),
        F::UnknownIssuer { issuer: Some(issuer) } => (
            format!("The server's certificate is signed by “{issuer}”, which this computer does not trust."),
            "Ask your IT for the CA certificate, or add it under Certificate authority.".into(),
        ),
        F::UnknownIssuer { issuer: None } => (
            "The server's certificate is signed by an authority this computer does not trust.".into(),
            "Ask your IT for the CA certificate, or add it under Certificate authority.".into(),
        ),
        F::TlsInspected { issuer: Some(issuer), proxy } => (
            format!("The proxy {proxy} seems to inspect secure connections: the certificate is signed by “{issuer}”, which this computer does not trust."),
            "Ask your IT for that CA certificate and add it under Certificate authority.".into(),
        ),
        F::TlsInspected { issuer: None, proxy } => (
            format!("The proxy {proxy} seems to inspect secure connections: the certificate is signed by an authority this computer does not trust."),
            "Ask your IT for that CA certificate and add it under Certificate authority.".into(),
        ),
        F::NameMismatch { host } => (
            format!("The server's certificate is not made out to {host}."),
            "Check the server address; if it is right, tell whoever runs the chat service.".into(),
        ),
        F::Expired => (
            "The server's certificate has expired.".into(),
            "Tell whoever runs the chat service, and check this computer's date.".into(),
        ),
        F::NotYetValid => (
            "The server's certificate is not valid yet.".into(),
            "Check this computer's date and time.".into(),
        ),
        F::ClientCertRequired => (
            "The server requires a client certificate.".into(),
            "Ask your IT for one and set it under Client certificate.".into(),
        ),
        F::ClientCertRefused => (
            "The server refused this computer's client certificate.".into(),
            "Ask your IT whether the certificate is valid for this server.".into(),
        ),
        F::Tls { detail } => (
            format!("The secure connection failed ({detail})."),
            "Tell your IT or whoever runs the chat service.".into(),
        ),
        F::ProxyUnreachable { proxy } => (
            format!("The proxy {proxy} cannot be reached."),
            "Check the proxy setting, or ask your IT whether the proxy runs.".into(),
        ),
        F::ProxyRefused { proxy, status } => (
            format!("The proxy {proxy} refused to connect to the chat service (answer {status})."),
            "Ask your IT to let the chat service's address through the proxy.".into(),
        ),
        F::ProxyAuthRequired { proxy } => (
            format!("The proxy {proxy} asks for a password."),
            "Put your user name in the proxy address (http://name@host:port) and save the proxy password in Settings → Connection.".into(),
        ),
        F::ProxyAuthFailed { proxy } => (
            format!("The proxy {proxy} refused the password."),
            "Save the right proxy password in Settings → Connection.".into(),
        ),
        F::ProxyNoServer { proxy, status } => (
            format!("The proxy {proxy} could not reach the chat service (answer {status})."),
            format!("The chat service may be down, or its address wrong. {keeps_trying}"),
        ),
        F::ProxyFailed { proxy, detail } => (
            format!("The proxy {proxy} failed ({detail})."),
            "Check the proxy setting, or ask your IT.".into(),
        ),
        F::HttpStatus { status } => (
            format!("The server answered HTTP {status} instead of opening the connection."),
            format!("Check the server address, its path too. {keeps_trying}"),
        ),
        F::TokenRefused { status } => (
            format!("The server refused the token (HTTP {status})."),
            "Paste a new token in Settings → Connection.".into(),
        ),
        F::BadUrl { detail } => (
            format!("The server address cannot be used ({detail})."),
            in_settings.into(),
        ),
        F::TokenHeader => (
            "The token holds characters that cannot be sent.".into(),
            "Paste the token again in Settings → Connection, without spaces or line breaks.".into(),
        ),
        F::File { role, path, problem } => {
            let role = match role {
                FileRole::CaFile => "certificate authority file",
                FileRole::ClientCert => "client certificate file",
                FileRole::ClientKey => "client key file",
            };
            let path = path.display();
            let check_path = "Check the path in Settings → Connection.";
            match problem {
                FileProblem::Missing => (format!("The {role} {path} does not exist."), check_path.into()),
                FileProblem::Unreadable => (format!("The {role} {path} cannot be read."), check_path.into()),
                FileProblem::TooLarge => (format!("The {role} {path} is too large for a certificate file."), check_path.into()),
                FileProblem::NoCertificates => (format!("The {role} {path} holds no PEM certificate."), check_path.into()),
                FileProblem::NoKey => (format!("The {role} {path} holds no PEM private key."), check_path.into()),
                FileProblem::ReadableByOthers => (
                    format!("The {role} {path} can be read by other users of this computer."),
                    format!("Make it readable by you only (chmod 600 {path})."),
                ),
                FileProblem::PassphraseNeeded => (
                    format!("The {role} {path} is encrypted and no passphrase is saved."),
                    "Save the key's passphrase in Settings → Connection.".into(),
                ),
                FileProblem::WrongPassphrase => (
                    format!("The {role} {path} cannot be opened with the saved passphrase."),
                    "Save the key's passphrase again in Settings → Connection.".into(),
                ),
            }
        }
        F::Lost { detail } => (
            format!("The connection was lost ({detail})."),
            "Chatbell reconnects on its own.".into(),
        ),
        F::Other { detail } => (
            format!("The connection failed ({detail})."),
            keeps_trying.into(),
        ),
    };
    (what, todo)
}

/// The way a connection went.
pub(super) fn route(proxy: Option<&str>, source: RouteSource) -> String {
    let from = match source {
        RouteSource::Setting => "from Chatbell's settings",
        RouteSource::Portal => "from the desktop's settings",
        RouteSource::Environment => "from the environment",
        RouteSource::Windows => "from Windows' settings",
        RouteSource::Macos => "from macOS's settings",
        RouteSource::None => "(no proxy is set on this computer)",
    };
    match proxy {
        Some(proxy) => format!("via proxy {proxy} {from}"),
        None => format!("direct {from}"),
    }
}

pub(super) fn trust(store: Store, extra: Option<&str>) -> String {
    let base = match store {
        Store::System => "this computer's trusted certificates",
        Store::Compiled => "Chatbell's built-in certificates (this computer has none)",
    };
    match extra {
        Some(file) => format!("{base} and {file}"),
        None => base.into(),
    }
}
