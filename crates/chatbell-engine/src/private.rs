//! Files and folders only their owner can read: customer messages, settings and logs are
//! nobody else's business on a shared machine. Folders are 0700 and files 0600 whatever the
//! umask, and existing ones are tightened at start (installs made before this rule).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) as 0700; an existing `dir` is tightened to 0700.
/// Parents that already exist are left as they are (they may be `~/.local/share`).
pub fn dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
        restrict(dir, DIR_MODE)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Tightens an existing file to 0600; a missing one is not an error.
pub fn file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        match restrict(path, FILE_MODE) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Options that create a file as 0600 (an existing file keeps its mode: see [`file`]).
pub fn open_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options
}

/// Creates or truncates `path` as a 0600 file and writes `bytes` to it.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f: File = open_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() || meta.permissions().mode() & 0o777 == mode {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &std::path::Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_the_owners_only_whatever_they_were() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        super::dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        super::dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700, "an existing folder is tightened");

        let f = dir.join("x");
        super::write(&f, b"hi").unwrap();
        assert_eq!(mode(&f), 0o600);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::write(&f, b"again").unwrap();
        assert_eq!(mode(&f), 0o600, "an existing file is tightened");
        assert_eq!(std::fs::read(&f).unwrap(), b"again");
        super::file(&dir.join("missing")).unwrap();
    }
}
