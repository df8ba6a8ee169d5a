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

/// `~/.local/share/chatbell` on Linux, `%LOCALAPPDATA%\chatbell` on Windows (the machine's
/// own: a database has no place in a roaming profile, copied at every sign-in),
/// `~/Library/Application Support/chatbell` on macOS.
pub fn data_dir() -> PathBuf {
    from_env("CHATBELL_DATA_DIR").unwrap_or_else(|| {
        dirs::data_local_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join(APP)
    })
}

/// `~/.config/chatbell` on Linux, `%APPDATA%\chatbell` on Windows (the settings roam with the
/// agent), `~/Library/Application Support/chatbell` on macOS.
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

/// Under Wine here: the Wine prefix's user folders.
#[cfg(all(test, windows))]
mod tests {
    #[test]
    fn data_stays_on_the_machine_and_settings_roam() {
        if std::env::var_os("CHATBELL_DATA_DIR").is_some()
            || std::env::var_os("CHATBELL_CONFIG_DIR").is_some()
        {
            panic!("run without CHATBELL_DATA_DIR and CHATBELL_CONFIG_DIR");
        }
        let data = super::data_dir();
        let config = super::config_dir();
        assert!(
            data.ends_with(r"AppData\Local\chatbell"),
            "{}",
            data.display()
        );
        assert!(
            config.ends_with(r"AppData\Roaming\chatbell"),
            "{}",
            config.display()
        );
        assert!(super::log_dir().starts_with(&data));
        assert!(super::runtime_dir().starts_with(&data));
    }
}
