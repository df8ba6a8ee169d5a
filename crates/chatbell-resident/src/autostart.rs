//! Start at login: Chatbell starts hidden in the tray when the agent logs in.
//!
//! Linux: the XDG autostart entry `$XDG_CONFIG_HOME/autostart/Chatbell.desktop` (the same file
//! tauri-plugin-autostart wrote, so earlier installs' entries are the same one); elsewhere the
//! `auto-launch` crate (a login item on macOS, the Run key on Windows).

use std::io;
use std::path::PathBuf;

/// The program started at login, with `--hidden`: this program.
fn program() -> io::Result<PathBuf> {
    std::env::current_exe()
}

#[cfg(freedesktop)]
pub fn set(on: bool) -> io::Result<()> {
    let path = entry_path()?;
    if !on {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        };
    }
    let program = program()?;
    let program = program
        .to_str()
        .ok_or_else(|| io::Error::other("the program's path is not UTF-8"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, entry(program))
}

/// Whether Chatbell starts at login now (the installer may have said so, or the agent in the
/// desktop's own list of startup apps).
#[cfg(freedesktop)]
pub fn is_on() -> io::Result<bool> {
    Ok(entry_path()?.is_file())
}

/// `$XDG_CONFIG_HOME/autostart/Chatbell.desktop`, `~/.config/…` when it is unset or relative.
#[cfg(freedesktop)]
fn entry_path() -> io::Result<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or_else(|| io::Error::other("neither XDG_CONFIG_HOME nor HOME is set"))?;
    Ok(config.join("autostart/Chatbell.desktop"))
}

/// The entry's text. The path is quoted as the Desktop Entry specification's `Exec` asks.
#[cfg(freedesktop)]
fn entry(program: &str) -> String {
    let mut quoted = String::with_capacity(program.len() + 2);
    for c in program.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    // `%` is a field code in Exec: doubled, then backslashes doubled again for the string.
    let exec = format!("\"{}\" --hidden", quoted.replace('%', "%%")).replace('\\', "\\\\");
    format!(
        "[Desktop Entry]\nType=Application\nVersion=1.0\nName=Chatbell\n\
         Comment=Chatbell starts hidden in the tray\nExec={exec}\nIcon=chatbell\n\
         Terminal=false\nX-GNOME-Autostart-enabled=true\n"
    )
}

#[cfg(not(freedesktop))]
pub fn set(on: bool) -> io::Result<()> {
    let launcher = launcher()?;
    if on {
        launcher.enable()
    } else {
        launcher.disable()
    }
    .map_err(io::Error::other)
}

/// Whether Chatbell starts at login now (the installer may have said so, or the agent in the
/// system's own list of startup apps).
#[cfg(not(freedesktop))]
pub fn is_on() -> io::Result<bool> {
    launcher()?.is_enabled().map_err(io::Error::other)
}

#[cfg(not(freedesktop))]
fn launcher() -> io::Result<auto_launch::AutoLaunch> {
    let program = program()?;
    // The Run key's value is a command line, which auto-launch does not quote: a path with a
    // space (`C:\Users\Ann Lee\…`) would start `C:\Users\Ann`. The installer's value is the same.
    let program = if cfg!(windows) {
        format!("\"{}\"", program.display())
    } else {
        program.to_string_lossy().into_owned()
    };
    auto_launch::AutoLaunchBuilder::new()
        .set_app_name("Chatbell")
        .set_app_path(&program)
        .set_args(&["--hidden"])
        // The agent's own Run key: on its default, auto-launch tries the machine's first,
        // which an administrator's session may write, for every user of the machine.
        .set_windows_enable_mode(auto_launch::WindowsEnableMode::CurrentUser)
        .build()
        .map_err(io::Error::other)
}

#[cfg(all(test, unix, not(target_os = "macos")))]
mod tests {
    use super::*;

    #[test]
    fn the_entry_starts_the_program_hidden_whatever_its_path() {
        let plain = entry("/usr/bin/chatbell");
        assert!(
            plain.contains("\nExec=\"/usr/bin/chatbell\" --hidden\n"),
            "{plain}"
        );
        let odd = entry("/opt/my apps/100%/\"chat\"bell$");
        assert!(
            odd.contains(r#"Exec="/opt/my apps/100%%/\\"chat\\"bell\\$" --hidden"#),
            "{odd}"
        );
        assert!(!odd.contains("\n\n"));
    }
}

/// Under Wine here: the Run key of the test's own Wine prefix.
#[cfg(all(test, windows))]
mod tests {
    use winreg::RegKey;
    use winreg::enums::HKEY_CURRENT_USER;

    use super::*;

    const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";

    fn value() -> io::Result<String> {
        RegKey::predef(HKEY_CURRENT_USER)
            .open_subkey(RUN)?
            .get_value("Chatbell")
    }

    #[test]
    fn start_at_login_is_the_users_run_key_with_the_program_quoted() {
        set(true).unwrap();
        let expected = format!("\"{}\" --hidden", program().unwrap().display());
        assert_eq!(value().unwrap(), expected);
        assert!(is_on().unwrap());
        set(false).unwrap();
        assert_eq!(value().unwrap_err().kind(), io::ErrorKind::NotFound);
        assert!(!is_on().unwrap());
        // Turning off what is off is no error.
        set(false).unwrap();
    }
}
