// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser;

/// Chatbell's window. On Linux the tray-resident `chatbell` starts it when the window is wanted
/// (it starts `chatbell` first if that is not running); elsewhere it is the whole app.
#[derive(Parser, Debug)]
#[command(name = "chatbell-window", version)]
struct Args {
    /// Run against a built-in demo server with live, generated chats (its own database).
    #[arg(long)]
    demo: bool,
    /// The whole app in one process: start in the tray without opening the window.
    #[arg(long)]
    hidden: bool,
    /// The whole app in this one process, the tray drawn by the window's toolkit (how it runs
    /// on macOS and Windows).
    #[arg(long)]
    single_process: bool,
    /// Passed by WebKitWebDriver when a WebDriver test launches the app; nothing to do here
    /// (Tauri enables automation from its environment).
    #[arg(long, hide = true)]
    automation: bool,
}

fn main() {
    let args = Args::parse();
    chatbell_window::run(chatbell_window::Options {
        demo: args.demo,
        hidden: args.hidden,
        single_process: args.single_process,
    });
}
