//! `chatbell-cli token|proxy-password|key-passphrase set|clear|status`: the secrets in the
//! OS keychain, never in the settings file.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use chatbell_engine::Secret;
use chatbell_engine::keychain::Keychain;
use clap::Subcommand;

use crate::output::outln;

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Store the token: typed at a hidden prompt, or read from standard input.
    Set,
    /// Remove the token.
    Clear,
    /// Say whether a token is stored (never what it is).
    Status,
}

/// Which secret.
#[derive(Debug, Clone)]
pub enum Which {
    Token,
    ProxyPassword,
    KeyPassphrase,
    /// A forwarding target's, by its id.
    Forward(String),
}

impl Which {
    fn keychain(&self) -> Keychain {
        match self {
            Which::Token => Keychain::token(),
            Which::ProxyPassword => Keychain::proxy_password(),
            Which::KeyPassphrase => Keychain::key_passphrase(),
            Which::Forward(id) => chatbell_engine::forward::secret_entry(id),
        }
    }

    /// Its name in sentences: "the token", "the proxy password".
    fn name(&self) -> &'static str {
        match self {
            Which::Token => "token",
            Which::ProxyPassword => "proxy password",
            Which::KeyPassphrase => "key passphrase",
            Which::Forward(_) => "target's secret",
        }
    }
}

pub fn run(which: Which, action: TokenAction) -> anyhow::Result<ExitCode> {
    let keychain = which.keychain();
    let name = which.name();
    let capital = |s: &str| s[..1].to_uppercase() + &s[1..];
    match action {
        TokenAction::Set => {
            let token = if std::io::stdin().is_terminal() {
                let prompt = match which {
                    Which::Token => "API token (input hidden): ".to_string(),
                    _ => format!("{} (input hidden): ", capital(name)),
                };
                rpassword::prompt_password(prompt).with_context(|| format!("reading the {name}"))?
            } else {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .with_context(|| format!("reading the {name} from standard input"))?;
                line
            };
            let token = token.trim();
            // A passphrase may end in spaces; a line's end is never part of it.
            let token = match which {
                Which::Token => token.trim(),
                _ => token.trim_end_matches(['\r', '\n']),
            };
            anyhow::ensure!(!token.is_empty(), "the {name} is empty; nothing was stored");
            anyhow::ensure!(
                !token.chars().any(char::is_control),
                "the {name} contains control characters; nothing was stored"
            );
            keychain.set(&Secret::new(token))?;
            outln!("{} stored in the OS keychain.", capital(name));
        }
        TokenAction::Clear => {
            if keychain.clear()? {
                outln!("{} removed from the OS keychain.", capital(name));
            } else {
                outln!("No {name} was stored.");
            }
        }
        TokenAction::Status => match keychain.get()? {
            Some(_) => outln!("A {name} is stored in the OS keychain."),
            None => outln!("No {name} is stored."),
        },
    }
    Ok(ExitCode::SUCCESS)
}
