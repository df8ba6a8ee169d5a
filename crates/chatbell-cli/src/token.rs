//! `chatbell-cli token set|clear|status`.

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

pub fn run(action: TokenAction) -> anyhow::Result<ExitCode> {
    let keychain = Keychain::default();
    match action {
        TokenAction::Set => {
            let token = if std::io::stdin().is_terminal() {
                rpassword::prompt_password("API token (input hidden): ")
                    .context("reading the token")?
            } else {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the token from standard input")?;
                line
            };
            let token = token.trim();
            anyhow::ensure!(!token.is_empty(), "the token is empty; nothing was stored");
            anyhow::ensure!(
                !token.chars().any(char::is_control),
                "the token contains control characters; nothing was stored"
            );
            keychain.set(&Secret::new(token))?;
            outln!("Token stored in the OS keychain.");
        }
        TokenAction::Clear => {
            if keychain.clear()? {
                outln!("Token removed from the OS keychain.");
            } else {
                outln!("No token was stored.");
            }
        }
        TokenAction::Status => match keychain.get()? {
            Some(_) => outln!("A token is stored in the OS keychain."),
            None => outln!("No token is stored."),
        },
    }
    Ok(ExitCode::SUCCESS)
}
