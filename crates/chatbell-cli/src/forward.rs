//! `chatbell-cli forward test|secret`: forwarding to the agent's phone, a webhook or a program
//! while they are away (issue 28). `test` sends *Test my alerts*' words to every target of the
//! settings and says, per target, delivered or why not; `secret ID` keeps a target's secret
//! in the OS keychain.

use std::process::ExitCode;

use chatbell_engine::forwarder::{Secrets, check, test_forward};
use chatbell_engine::i18n::Lang;
use chatbell_engine::settings::ProxySetting;
use chatbell_engine::settings::forward::TargetKind;
use clap::Subcommand;

use crate::output::{outln, terminal_safe};
use crate::token::{self, TokenAction};

#[derive(Subcommand, Debug)]
pub enum ForwardAction {
    /// Send a test to every target in the settings (`notifications.forward`) and say, per
    /// target, delivered or why not.
    Test,
    /// A target's secret, by its id: ntfy's access token, Gotify's application token, or a
    /// webhook's address when it carries one.
    Secret {
        id: String,
        #[command(subcommand)]
        action: TokenAction,
    },
}

pub async fn run(action: ForwardAction) -> anyhow::Result<ExitCode> {
    match action {
        ForwardAction::Secret { id, action } => {
            tokio::task::spawn_blocking(move || token::run(token::Which::Forward(id), action))
                .await?
        }
        ForwardAction::Test => test().await,
    }
}

fn kind(target: &TargetKind) -> &'static str {
    match target {
        TargetKind::Ntfy { .. } => "ntfy",
        TargetKind::Gotify { .. } => "gotify",
        TargetKind::Webhook { .. } => "webhook",
        TargetKind::Command { .. } => "command",
    }
}

async fn test() -> anyhow::Result<ExitCode> {
    let settings = crate::settings::effective();
    let targets = settings.notifications.forward.clone();
    if targets.is_empty() {
        outln!("No forwarding targets: add them to notifications.forward in the settings.");
        return Ok(ExitCode::SUCCESS);
    }
    ProxySetting::parse(&settings.server.proxy)
        .map_err(|e| anyhow::anyhow!("server.proxy: {e}"))?;
    // The app's way: the settings' proxy and CA file, the keychain's secrets.
    let forward = test_forward(Lang::of(settings.ui.language), chrono::Utc::now());
    let mut failed = 0;
    for target in &targets {
        let name = format!("{} ({})", terminal_safe(&target.id), kind(&target.kind));
        let checked = check(target, &settings, &Secrets::Keychain, &forward).await;
        match checked.error {
            None => outln!("{name}: delivered"),
            Some(error) => {
                failed += 1;
                outln!("{name}: not delivered: {}", terminal_safe(&error));
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
