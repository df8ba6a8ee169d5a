// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser;

/// Chatbell: native notifications and a tray unread badge for your support chats.
#[derive(Parser, Debug)]
#[command(name = "chatbell", version)]
struct Args {
    /// Run against a built-in demo server with live, generated chats (its own database).
    #[arg(long)]
    demo: bool,
    /// Start in the tray without opening the window (used by start at login).
    #[arg(long)]
    hidden: bool,
    /// Passed by WebKitWebDriver when a WebDriver test launches the app; nothing to do here
    /// (Tauri enables automation from its environment).
    #[arg(long, hide = true)]
    automation: bool,
}

fn main() {
    let args = Args::parse();
    chatbell_app::run(chatbell_app::Options {
        demo: args.demo,
        hidden: args.hidden,
    });
}
