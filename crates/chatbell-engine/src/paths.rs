//! Where Chatbell keeps its files, by the platform's conventions (XDG on Linux). The desktop
//! app and `chatbell-cli` use the same ones. `CHATBELL_DATA_DIR` and `CHATBELL_CONFIG_DIR`
//! override them (portable installs, tests).

use std::path::PathBuf;

const APP: &str = "chatbell";

fn from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `~/.local/share/chatbell` on Linux.
pub fn data_dir() -> PathBuf {
    from_env("CHATBELL_DATA_DIR").unwrap_or_else(|| {
        dirs::data_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join(APP)
    })
}

/// `~/.config/chatbell` on Linux.
pub fn config_dir() -> PathBuf {
    from_env("CHATBELL_CONFIG_DIR").unwrap_or_else(|| {
        dirs::config_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join(APP)
    })
}

/// `~/.local/state/chatbell/logs` on Linux; beside the data elsewhere.
pub fn log_dir() -> PathBuf {
    match from_env("CHATBELL_DATA_DIR") {
        Some(data) => data.join("logs"),
        None => dirs::state_dir()
            .map(|d| d.join(APP))
            .unwrap_or_else(data_dir)
            .join("logs"),
    }
}

pub fn default_db_path() -> PathBuf {
    data_dir().join("chatbell.db")
}

pub fn settings_path() -> PathBuf {
    config_dir().join("settings.json")
}

/// Where the running app's local socket lives: `$XDG_RUNTIME_DIR/chatbell` on Linux (a tmpfs
/// only the user can enter, emptied at logout); beside the data where there is none.
/// `CHATBELL_RUNTIME_DIR` overrides it.
pub fn runtime_dir() -> PathBuf {
    from_env("CHATBELL_RUNTIME_DIR").unwrap_or_else(|| {
        dirs::runtime_dir()
            .map(|d| d.join(APP))
            .unwrap_or_else(|| data_dir().join("run"))
    })
}
