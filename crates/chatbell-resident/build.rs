// `cfg(freedesktop)`: Linux and the BSDs, the desktops of freedesktop.org (docs/architecture.md).
fn main() {
    // Without it, cargo reruns a build script after any change in the package.
    println!("cargo:rerun-if-changed=build.rs");
    cfg_aliases::cfg_aliases! {
        freedesktop: { all(unix, not(target_os = "macos")) },
    }
}
