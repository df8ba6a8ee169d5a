use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A virtual X display (`Xvfb`) of the test's own, on a free display number.
pub struct VirtualDisplay {
    display: String,
    child: Child,
}

impl VirtualDisplay {
    pub fn start() -> VirtualDisplay {
        // -displayfd: Xvfb picks a free display number and writes it to that descriptor.
        let mut child = Command::new("Xvfb")
            .args([
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
                "-displayfd",
                "1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (Debian package xvfb) must be installed: run `cargo xtask setup`");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("display number");
        let number = line.trim();
        assert!(!number.is_empty(), "Xvfb printed no display number");
        VirtualDisplay {
            display: format!(":{number}"),
            child,
        }
    }

    /// The value for `DISPLAY`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// A screenshot of the whole screen (ImageMagick `import`), as PNG.
    pub fn screenshot(&self, path: &std::path::Path) -> bool {
        Command::new("import")
            .args(["-window", "root"])
            .arg(path)
            .env("DISPLAY", &self.display)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

impl VirtualDisplay {
    /// Asks the windows whose title ends with `title` to close, the way a window manager does
    /// when the user clicks a close button (a `WM_DELETE_WINDOW` client message). Every match
    /// is asked: GTK may keep more than one X window with the app's title, and only the
    /// toplevel acts on it. Returns whether any was found.
    pub fn close_window(&self, title: &str) -> Result<bool, String> {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{
            AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask,
        };

        let err = |e: &dyn std::fmt::Display| e.to_string();
        let (conn, screen) = x11rb::connect(Some(&self.display)).map_err(|e| err(&e))?;
        let root = conn.setup().roots[screen].root;
        let atom = |name: &str| -> Result<u32, String> {
            Ok(conn
                .intern_atom(false, name.as_bytes())
                .map_err(|e| err(&e))?
                .reply()
                .map_err(|e| err(&e))?
                .atom)
        };
        let (net_wm_name, utf8) = (atom("_NET_WM_NAME")?, atom("UTF8_STRING")?);
        let (protocols, delete) = (atom("WM_PROTOCOLS")?, atom("WM_DELETE_WINDOW")?);
        let mut found = false;
        let mut queue = vec![root];
        while let Some(window) = queue.pop() {
            let name = |property: u32, kind: u32| -> Vec<u8> {
                conn.get_property(false, window, property, kind, 0, 1024)
                    .ok()
                    .and_then(|c| c.reply().ok())
                    .map(|r| r.value)
                    .unwrap_or_default()
            };
            let titled = [
                name(net_wm_name, utf8),
                name(AtomEnum::WM_NAME.into(), AtomEnum::STRING.into()),
            ]
            .iter()
            .any(|n| !n.is_empty() && n.ends_with(title.as_bytes()));
            if titled {
                let event = ClientMessageEvent::new(
                    32,
                    window,
                    protocols,
                    [delete, x11rb::CURRENT_TIME, 0, 0, 0],
                );
                conn.send_event(false, window, EventMask::NO_EVENT, event)
                    .map_err(|e| err(&e))?;
                conn.flush().map_err(|e| err(&e))?;
                found = true;
            }
            if let Ok(tree) = conn
                .query_tree(window)
                .map_err(|e| err(&e))
                .and_then(|c| c.reply().map_err(|e| err(&e)))
            {
                queue.extend(tree.children);
            }
        }
        Ok(found)
    }
}

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
