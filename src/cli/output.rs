//! Where a command's data goes: stdout, or `-o FILE` without ever changing what kind of thing
//! the path names.
//!
//! Data is streamed: a command gets a buffered `&mut dyn Write` and the exporters write straight
//! into it, so an export is never held in memory whole.
//!
//! - Stdout is flushed at the end, so that a closed pipe is noticed here; `cli::run` treats
//!   `BrokenPipe` as success.
//! - A regular file is written to a temporary file beside it and renamed onto it, so a failed or
//!   interrupted run never leaves a half-written file at the path: the rename happens only after
//!   everything was written, flushed and synced, and on an error the temporary file is removed.
//! - A symlink is followed to the end of its chain (`canonicalize`), and the target is replaced
//!   that way; the links stay links.
//! - A character or block device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is opened
//!   and written directly: renaming onto it would turn it into a regular file.
//! - A directory is an error.
//!
//! Every write error is reported, naming the path as given (`/dev/full` gives ENOSPC).
//!
//! Permissions: a [`Privacy::Private`] file (a snapshot: it holds every policy of the
//! organization) is left with mode 0600, whether it is new or replaces a file, as the AWS CLI
//! does for its credentials file. A [`Privacy::Normal`] file (an export) is created with the
//! umask's mode, or keeps the permission bits of the file it replaces. A device or FIFO is never
//! chmod'ed.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Who may read a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    /// Only its owner (mode 0600): snapshots.
    Private,
    /// As the umask says, or as the file it replaces was: exports.
    Normal,
}

/// The most symlinks followed for a dangling link, as Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

/// What writing to a path does, decided from what the path names now.
#[derive(Debug)]
enum Target {
    /// A device or FIFO: open it and write.
    Direct,
    /// A regular file (the end of the symlink chain, if any), replaced by a rename; `mode` is
    /// its permission bits.
    Replace { file: PathBuf, mode: Option<u32> },
    /// Nothing yet (or a dangling symlink's target): create `file` by a rename.
    Create { file: PathBuf },
}

/// Checks that `path` can be written before any work is done: it is not a directory, and a new
/// file's directory exists.
///
/// # Errors
/// The same errors [`file`] would report for what `path` names now.
pub fn check(path: &Path) -> anyhow::Result<()> {
    resolve(path).map(drop)
}

/// Writes what `data` writes to `path` (`-o FILE`) or, without one, to stdout, and returns what
/// `data` returns (an exporter's warnings, say).
///
/// # Errors
/// As [`file`] and [`stdout`].
pub fn write<T>(
    path: Option<&Path>,
    privacy: Privacy,
    data: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> anyhow::Result<T> {
    match path {
        Some(path) => file(path, privacy, data),
        None => Ok(stdout(data)?),
    }
}

/// Writes what `data` writes to stdout, buffered, and flushes it, so that a closed pipe is
/// noticed here.
///
/// # Errors
/// The first write error, as it is: `BrokenPipe` when the reader went away.
pub fn stdout<T>(data: impl FnOnce(&mut dyn Write) -> io::Result<T>) -> io::Result<T> {
    let mut out = BufWriter::new(io::stdout().lock());
    let value = data(&mut out)?;
    out.flush()?;
    Ok(value)
}

/// Writes what `data` writes to `path` as the module doc describes.
///
/// # Errors
/// `path` is a directory, its directory does not exist, or a write fails; the message names
/// `path`.
pub fn file<T>(
    path: &Path,
    privacy: Privacy,
    data: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> anyhow::Result<T> {
    let written = match resolve(path)? {
        Target::Direct => write_direct(path, data),
        Target::Replace { file, mode } => {
            let mode = match privacy {
                Privacy::Private => Some(PRIVATE_MODE),
                Privacy::Normal => mode,
            };
            replace(&file, data, mode)
        }
        Target::Create { file } => {
            let mode = (privacy == Privacy::Private).then_some(PRIVATE_MODE);
            replace(&file, data, mode)
        }
    };
    written.with_context(|| format!("writing `{}`", path.display()))
}

/// The mode of a private file.
const PRIVATE_MODE: u32 = 0o600;

/// Decides what writing to `path` means, without changing anything.
fn resolve(path: &Path) -> anyhow::Result<Target> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            bail!("writing `{shown}`: it is a directory; expected a file")
        }
        Ok(meta) if meta.is_file() => {
            let file = if is_symlink(path) {
                std::fs::canonicalize(path)
                    .with_context(|| format!("writing `{shown}`: following its symlinks"))?
            } else {
                path.to_path_buf()
            };
            Ok(Target::Replace {
                file,
                mode: permission_bits(&meta),
            })
        }
        // A character or block device, a FIFO or a socket: writing it directly is what a shell
        // redirection would do, and the OS reports what cannot be written.
        Ok(_) => Ok(Target::Direct),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let file = if is_symlink(path) {
                dangling_target(path)
                    .with_context(|| format!("writing `{shown}`: following its symlinks"))?
            } else {
                path.to_path_buf()
            };
            let dir = directory_of(&file);
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => Ok(Target::Create { file }),
                Ok(_) => bail!("writing `{shown}`: `{}` is not a directory", dir.display()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => bail!(
                    "writing `{shown}`: the directory `{}` does not exist",
                    dir.display()
                ),
                Err(e) => Err(e).with_context(|| format!("writing `{shown}`")),
            }
        }
        Err(e) => Err(e).with_context(|| format!("writing `{shown}`")),
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The path a dangling symlink chain ends at (which does not exist), following at most
/// [`MAX_LINKS`] links; relative links are relative to the directory of the link.
fn dangling_target(link: &Path) -> io::Result<PathBuf> {
    let mut current = link.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let next = std::fs::read_link(&current)?;
                current = directory_of(&current).join(next);
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} symlinks in a chain"
    )))
}

/// The directory holding `file` (`.` for a bare name).
fn directory_of(file: &Path) -> &Path {
    match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Opens a device or FIFO for writing (no create, no rename) and writes what `data` writes.
fn write_direct<T>(
    path: &Path,
    data: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    let mut out = BufWriter::new(OpenOptions::new().write(true).open(path)?);
    let value = data(&mut out)?;
    out.flush()?;
    Ok(value)
}

/// Writes what `data` writes to a new temporary file in `file`'s directory, gives it `mode` (or
/// leaves the umask's), and renames it onto `file`; on any error, removes the temporary file.
fn replace<T>(
    file: &Path,
    data: impl FnOnce(&mut dyn Write) -> io::Result<T>,
    mode: Option<u32>,
) -> io::Result<T> {
    let dir = directory_of(file);
    let name = file.file_name().unwrap_or(OsStr::new("output"));
    let (tmp, f) = create_temporary(dir, name, mode.is_some())?;
    let result = (|| -> io::Result<T> {
        let mut out = BufWriter::new(f);
        let value = data(&mut out)?;
        let f = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        set_mode(&f, mode)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, file)?;
        Ok(value)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // Make the rename durable; a directory that cannot be synced (some file systems) is not an
    // error, the file itself already is on disk.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    result
}

/// Creates a temporary file that did not exist (`create_new` never follows a planted symlink).
/// When its mode will be set (`restricted`), it starts as 0600, so that neither a private file
/// nor one replacing a file others cannot read is readable by others while it is written.
fn create_temporary(dir: &Path, name: &OsStr, restricted: bool) -> io::Result<(PathBuf, File)> {
    let name = name.to_string_lossy();
    let pid = std::process::id();
    let mut last = None;
    for n in 0..100 {
        let tmp = dir.join(format!(".{name}.{pid}.{n}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if restricted {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(PRIVATE_MODE);
        }
        #[cfg(not(unix))]
        let _ = restricted;
        match options.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// The permission bits (rwx for owner, group and others) of a file.
#[cfg(unix)]
fn permission_bits(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    Some(meta.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn permission_bits(_meta: &std::fs::Metadata) -> Option<u32> {
    None
}

/// Gives an open file exactly `mode` (the umask does not apply to `fchmod`).
#[cfg(unix)]
fn set_mode(f: &File, mode: Option<u32>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    match mode {
        Some(mode) => f.set_permissions(std::fs::Permissions::from_mode(mode)),
        None => Ok(()),
    }
}

#[cfg(not(unix))]
fn set_mode(_f: &File, _mode: Option<u32>) -> io::Result<()> {
    Ok(())
}

/// What a directory path names now, for writing a directory of files there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DirectoryTarget {
    /// Nothing: the directory is created.
    New,
    /// An empty directory, replaced.
    Empty,
    /// A directory holding an earlier output (its marker file), replaced.
    Earlier,
}

/// Decides what writing a directory at `dir` means, without changing anything: a new path in an
/// existing directory, an empty directory, or one that holds `marker` at its root; anything
/// else is an error that names `dir`.
fn resolve_directory(dir: &Path, marker: &str) -> anyhow::Result<DirectoryTarget> {
    let shown = dir.display();
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => {
            bail!("writing `{shown}`: it is a symbolic link; expected a directory")
        }
        Ok(meta) if meta.is_dir() => {
            if dir.join(marker).is_file() {
                return Ok(DirectoryTarget::Earlier);
            }
            let mut entries =
                std::fs::read_dir(dir).with_context(|| format!("writing `{shown}`"))?;
            if entries.next().is_none() {
                Ok(DirectoryTarget::Empty)
            } else {
                bail!(
                    "writing `{shown}`: the directory is not empty and holds no earlier report \
                     (no `{marker}`); give a new or empty directory"
                )
            }
        }
        Ok(_) => bail!("writing `{shown}`: it is not a directory"),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = directory_of(dir);
            match std::fs::metadata(parent) {
                Ok(meta) if meta.is_dir() => Ok(DirectoryTarget::New),
                Ok(_) => bail!(
                    "writing `{shown}`: `{}` is not a directory",
                    parent.display()
                ),
                Err(e) if e.kind() == io::ErrorKind::NotFound => bail!(
                    "writing `{shown}`: the directory `{}` does not exist",
                    parent.display()
                ),
                Err(e) => Err(e).with_context(|| format!("writing `{shown}`")),
            }
        }
        Err(e) => Err(e).with_context(|| format!("writing `{shown}`")),
    }
}

/// Checks that a directory of files can be written at `dir` before any work is done (see
/// [`directory`]).
///
/// # Errors
/// The errors [`directory`] would report for what `dir` names now.
pub fn check_directory(dir: &Path, marker: &str) -> anyhow::Result<()> {
    resolve_directory(dir, marker).map(drop)
}

/// Writes `files` (paths relative to `dir`, `/`-separated, one of them `marker`) as the
/// directory `dir`, atomically: they are written and synced into a new temporary directory
/// beside `dir`, which is renamed onto `dir` only once complete. `dir` may be new, an empty
/// directory, or a directory holding `marker` (an earlier output, moved aside and removed once
/// the new one is in place); any other directory is refused. On an error the temporary
/// directory is removed and `dir` is left as it was.
///
/// # Errors
/// `dir` is refused, a file cannot be written, or a rename fails; the message names `dir`.
pub fn directory(dir: &Path, marker: &str, files: &[(&str, &[u8])]) -> anyhow::Result<()> {
    let target = resolve_directory(dir, marker)?;
    let shown = dir.display();
    let parent = directory_of(dir);
    let name = dir
        .file_name()
        .unwrap_or(OsStr::new("output"))
        .to_string_lossy()
        .into_owned();
    let tmp = create_temporary_directory(parent, &name)
        .with_context(|| format!("writing `{shown}`: creating a temporary directory"))?;
    let written = (|| -> io::Result<()> {
        for (path, bytes) in files {
            let file = tmp.join(path);
            if let Some(up) = file.parent() {
                std::fs::create_dir_all(up)?;
            }
            let mut f = File::create(&file)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        match target {
            DirectoryTarget::New | DirectoryTarget::Empty => std::fs::rename(&tmp, dir),
            DirectoryTarget::Earlier => {
                let old = parent.join(format!(".{name}.{}.old", std::process::id()));
                std::fs::rename(dir, &old)?;
                if let Err(e) = std::fs::rename(&tmp, dir) {
                    let _ = std::fs::rename(&old, dir);
                    return Err(e);
                }
                // The earlier output is gone from `dir` already; failing to delete its copy is
                // not a failure of this write.
                let _ = std::fs::remove_dir_all(&old);
                Ok(())
            }
        }
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("writing `{shown}`"));
    }
    if let Ok(d) = File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates a new, empty temporary directory in `parent` for an output named `name`.
fn create_temporary_directory(parent: &Path, name: &str) -> io::Result<PathBuf> {
    let pid = std::process::id();
    let mut last = None;
    for n in 0..100 {
        let tmp = parent.join(format!(".{name}.{pid}.{n}.tmp"));
        match std::fs::create_dir(&tmp) {
            Ok(()) => return Ok(tmp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary directory name")))
}
