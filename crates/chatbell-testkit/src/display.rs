use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A virtual X display (`Xvfb`) of the test's own, on a free display number.
pub struct VirtualDisplay {
    display: String,
    child: Child,
    /// One connection for every look at the windows: polling with a new connection each time
    /// would leave the server short of client slots for the app it is testing.
    conn: std::sync::OnceLock<(x11rb::rust_connection::RustConnection, usize)>,
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
            conn: std::sync::OnceLock::new(),
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

fn atom(conn: &impl x11rb::connection::Connection, name: &str) -> Result<u32, String> {
    use x11rb::protocol::xproto::ConnectionExt as _;
    Ok(conn
        .intern_atom(false, name.as_bytes())
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?
        .atom)
}

impl VirtualDisplay {
    /// The X windows whose title (`_NET_WM_NAME` or `WM_NAME`) satisfies `titled`, with the
    /// connection that found them.
    fn windows(
        &self,
        titled: impl Fn(&[u8]) -> bool,
    ) -> Result<(&x11rb::rust_connection::RustConnection, Vec<u32>), String> {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _};

        let err = |e: &dyn std::fmt::Display| e.to_string();
        if self.conn.get().is_none() {
            let connected = x11rb::connect(Some(&self.display)).map_err(|e| err(&e))?;
            let _ = self.conn.set(connected);
        }
        let (conn, screen) = self.conn.get().expect("connected above");
        let (conn, screen) = (conn, *screen);
        let root = conn.setup().roots[screen].root;
        let (net_wm_name, utf8) = (atom(&conn, "_NET_WM_NAME")?, atom(&conn, "UTF8_STRING")?);
        let mut found = Vec::new();
        let mut queue = vec![root];
        while let Some(window) = queue.pop() {
            let name = |property: u32, kind: u32| -> Vec<u8> {
                conn.get_property(false, window, property, kind, 0, 1024)
                    .ok()
                    .and_then(|c| c.reply().ok())
                    .map(|r| r.value)
                    .unwrap_or_default()
            };
            if [
                name(net_wm_name, utf8),
                name(AtomEnum::WM_NAME.into(), AtomEnum::STRING.into()),
            ]
            .iter()
            .any(|n| !n.is_empty() && titled(n))
            {
                found.push(window);
            }
            if let Ok(tree) = conn
                .query_tree(window)
                .map_err(|e| err(&e))
                .and_then(|c| c.reply().map_err(|e| err(&e)))
            {
                queue.extend(tree.children);
            }
        }
        Ok((conn, found))
    }

    /// Asks the windows whose title starts or ends with `title` to close, the way a window
    /// manager does when the user clicks a close button (a `WM_DELETE_WINDOW` client message).
    /// Every match is asked: GTK may keep more than one X window with the app's title, and only
    /// the toplevel acts on it. Returns whether any was found.
    pub fn close_window(&self, title: &str) -> Result<bool, String> {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt as _, EventMask};

        let err = |e: &dyn std::fmt::Display| e.to_string();
        let (conn, windows) = self.windows(|name| {
            name.ends_with(title.as_bytes()) || name.starts_with(title.as_bytes())
        })?;
        let (protocols, delete) = (
            atom(&conn, "WM_PROTOCOLS")?,
            atom(&conn, "WM_DELETE_WINDOW")?,
        );
        for &window in &windows {
            let event = ClientMessageEvent::new(
                32,
                window,
                protocols,
                [delete, x11rb::CURRENT_TIME, 0, 0, 0],
            );
            conn.send_event(false, window, EventMask::NO_EVENT, event)
                .map_err(|e| err(&e))?;
            conn.flush().map_err(|e| err(&e))?;
        }
        Ok(!windows.is_empty())
    }

    /// A PNG of the largest shown window whose title starts with `title`, as the X server has
    /// it: what the person sees, whatever the app's renderer (WebKitWebDriver's own screenshot
    /// needs WebKit's GPU compositing, which Chatbell's window turns off).
    pub fn screenshot_window(&self, title: &str) -> Result<Vec<u8>, String> {
        let (_, window, _) = self.shown_window(title)?;
        let out = Command::new("import")
            .args(["-window", &format!("0x{window:x}"), "png:-"])
            .env("DISPLAY", &self.display)
            .output()
            .map_err(|e| format!("import: {e}"))?;
        if !out.status.success() || out.stdout.is_empty() {
            return Err(format!(
                "import: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(out.stdout)
    }

    /// The largest shown window whose title starts with `title`: the connection, the window and
    /// its size.
    fn shown_window(
        &self,
        title: &str,
    ) -> Result<(&x11rb::rust_connection::RustConnection, u32, (u16, u16)), String> {
        use x11rb::protocol::xproto::{ConnectionExt as _, MapState};

        let (conn, windows) = self.windows(|name| name.starts_with(title.as_bytes()))?;
        let size = |window: u32| -> Option<(u16, u16)> {
            let shown = conn
                .get_window_attributes(window)
                .ok()?
                .reply()
                .ok()?
                .map_state
                == MapState::VIEWABLE;
            let g = conn.get_geometry(window).ok()?.reply().ok()?;
            shown.then_some((g.width, g.height))
        };
        let (_, window, size) = windows
            .iter()
            .filter_map(|&w| {
                let (width, height) = size(w)?;
                Some((u32::from(width) * u32::from(height), w, (width, height)))
            })
            .max()
            .ok_or_else(|| format!("no shown window titled {title:?}"))?;
        Ok((conn, window, size))
    }

    /// The pixels of the largest shown window whose title starts with `title`: its width,
    /// height and rows of 32-bit pixels as the X server holds them (blue, green, red, unused).
    /// Read over the X connection, with no program started: quick enough to poll for the
    /// moment something is drawn.
    pub fn window_pixels(&self, title: &str) -> Result<(usize, usize, Vec<u8>), String> {
        use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat};

        let (conn, window, (width, height)) = self.shown_window(title)?;
        let image = conn
            .get_image(ImageFormat::Z_PIXMAP, window, 0, 0, width, height, !0)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        let (width, height) = (usize::from(width), usize::from(height));
        if image.data.len() != width * height * 4 {
            return Err(format!(
                "{} bytes for a {width}×{height} window at depth {}",
                image.data.len(),
                image.depth
            ));
        }
        Ok((width, height, image.data))
    }
}

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
