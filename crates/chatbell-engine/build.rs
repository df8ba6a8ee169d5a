// `cfg(freedesktop)`: Linux and the BSDs, the desktops of freedesktop.org (docs/architecture.md).
fn main() {
    cfg_aliases::cfg_aliases! {
        freedesktop: { all(unix, not(target_os = "macos")) },
    }
}
