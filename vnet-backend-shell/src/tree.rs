//! [`Tree`]: rendered persistence files as data, and [`write_tree`], which puts them under
//! a root directory without ever leaving it.
//!
//! The writer refuses absolute paths and `..`, creates missing directories itself, never
//! goes through a symlink (every directory on the way is checked with `lstat`, files are
//! created with `O_CREAT|O_EXCL|O_NOFOLLOW`), and replaces a file atomically: it writes a
//! fresh temporary file next to it and renames it over the old one.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::error::ShellError;

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileEntry {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// The whole contents.
    pub contents: String,
    /// Unix permissions, e.g. `0o644`.
    pub mode: u32,
}

impl FileEntry {
    /// A file with mode 0644.
    pub fn new(path: impl Into<String>, contents: impl Into<String>) -> Self {
        FileEntry {
            path: path.into(),
            contents: contents.into(),
            mode: 0o644,
        }
    }

    /// The same file with another mode.
    pub fn with_mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }
}

/// Files to write and paths to remove, relative to a root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Files to write, sorted by path.
    pub files: Vec<FileEntry>,
    /// Files or directories to remove (e.g. a container's venet0 config), sorted.
    pub remove: Vec<String>,
    /// What the topology wants that these files cannot express (e.g. a stretched
    /// bridge's VXLAN device in a dialect without VXLAN), for the person installing
    /// them; sorted, each once. Rendering never drops a part of the network silently.
    pub warnings: Vec<String>,
}

impl Tree {
    /// Adds the files and removals of `other`.
    pub fn extend(&mut self, other: Tree) {
        self.files.extend(other.files);
        self.remove.extend(other.remove);
        self.files.sort();
        self.files.dedup();
        self.remove.sort();
        self.remove.dedup();
        self.warnings.extend(other.warnings);
        self.warnings.sort();
        self.warnings.dedup();
    }

    /// The tree as one text: a `--- path (mode)` header per file followed by its
    /// contents, then a `--- remove path` line per removal. Golden tests compare this
    /// (and the warnings after it); the CLI prints it, and the warnings to stderr.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        let mut files = self.files.clone();
        files.sort();
        for f in &files {
            out.push_str(&format!("--- {} ({:04o})\n{}", f.path, f.mode, f.contents));
            if !f.contents.ends_with('\n') {
                out.push_str("\n\\ no newline at end of file\n");
            }
        }
        for r in &self.remove {
            out.push_str(&format!("--- remove {r}\n"));
        }
        out
    }
}

/// The relative path `path` as a [`PathBuf`], if it is relative, non-empty and has no
/// `..`, `.` or NUL.
pub fn checked_path(path: &str) -> Result<PathBuf, ShellError> {
    let unsafe_path = || ShellError::UnsafePath {
        path: path.to_string(),
    };
    if path.is_empty() || path.contains('\0') {
        return Err(unsafe_path());
    }
    let p = Path::new(path);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            _ => return Err(unsafe_path()),
        }
    }
    // `a/./b` loses its `.` in `components()`; refuse it too, so what is checked is what
    // was written.
    if path.split('/').any(|s| s == "." || s == "..") || out.as_os_str().is_empty() {
        return Err(unsafe_path());
    }
    Ok(out)
}

/// Writes `tree` under `root` (which must exist): removals first, then files.
pub fn write_tree(root: &Path, tree: &Tree) -> Result<(), ShellError> {
    for r in &tree.remove {
        remove(root, r)?;
    }
    for f in &tree.files {
        write_file(root, f)?;
    }
    Ok(())
}

fn write_file(root: &Path, f: &FileEntry) -> Result<(), ShellError> {
    let rel = checked_path(&f.path)?;
    let target = root.join(&rel);
    let parent = target.parent().unwrap_or(root).to_path_buf();
    make_dirs(root, rel.parent().unwrap_or(Path::new("")))?;
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{name}.vnet-tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(f.mode)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(&tmp)
        .map_err(|e| ShellError::io("create", &tmp, e))?;
    let written = file
        .write_all(f.contents.as_bytes())
        .and_then(|()| file.sync_all())
        // The umask may have narrowed the mode given at creation.
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(f.mode)));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(ShellError::io("write", &tmp, e));
    }
    // rename() replaces a symlink at the target itself, never what it points to.
    fs::rename(&tmp, &target).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        ShellError::io("rename", &target, e)
    })
}

/// Creates each directory of `rel` under `root` that is missing, refusing any that is a
/// symlink or not a directory.
fn make_dirs(root: &Path, rel: &Path) -> Result<(), ShellError> {
    let mut dir = root.to_path_buf();
    for c in rel.components() {
        dir.push(c);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => return Err(ShellError::NotADirectory { path: dir }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir(&dir).map_err(|e| ShellError::io("mkdir", &dir, e))?;
            }
            Err(e) => return Err(ShellError::io("stat", &dir, e)),
        }
    }
    Ok(())
}

fn remove(root: &Path, path: &str) -> Result<(), ShellError> {
    let rel = checked_path(path)?;
    let mut dir = root.to_path_buf();
    if let Some(parent) = rel.parent() {
        for c in parent.components() {
            dir.push(c);
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_dir() => {}
                Ok(_) => return Err(ShellError::NotADirectory { path: dir }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(ShellError::io("stat", &dir, e)),
            }
        }
    }
    let target = root.join(&rel);
    match fs::symlink_metadata(&target) {
        // remove_dir_all does not follow symlinks inside the directory.
        Ok(m) if m.file_type().is_dir() => {
            fs::remove_dir_all(&target).map_err(|e| ShellError::io("remove", &target, e))
        }
        Ok(_) => fs::remove_file(&target).map_err(|e| ShellError::io("remove", &target, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ShellError::io("stat", &target, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let p = std::env::temp_dir().join(format!("vnet-tree-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn paths_must_stay_inside_the_root() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "./a",
            "a\0b",
            "..",
        ] {
            assert!(checked_path(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            checked_path("etc/net/ifaces/br0/options").unwrap(),
            PathBuf::from("etc/net/ifaces/br0/options")
        );
    }

    #[test]
    fn writes_files_with_modes_and_replaces_them() {
        let d = TempDir::new("write");
        let mut tree = Tree::default();
        tree.files
            .push(FileEntry::new("etc/net/ifaces/br0/options", "TYPE=bri\n"));
        tree.files
            .push(FileEntry::new("usr/sbin/hook", "#!/bin/sh\n").with_mode(0o755));
        write_tree(&d.0, &tree).unwrap();
        tree.files[0].contents = "TYPE=bri\nONBOOT=yes\n".into();
        write_tree(&d.0, &tree).unwrap();
        assert_eq!(
            fs::read_to_string(d.0.join("etc/net/ifaces/br0/options")).unwrap(),
            "TYPE=bri\nONBOOT=yes\n"
        );
        let mode = fs::metadata(d.0.join("usr/sbin/hook"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o755);
    }

    #[test]
    fn never_writes_through_a_symlink() {
        let d = TempDir::new("symlink");
        let outside = TempDir::new("outside");
        std::os::unix::fs::symlink(&outside.0, d.0.join("etc")).unwrap();
        let mut tree = Tree::default();
        tree.files.push(FileEntry::new("etc/x", "x"));
        assert!(matches!(
            write_tree(&d.0, &tree),
            Err(ShellError::NotADirectory { .. })
        ));
        assert!(!outside.0.join("x").exists());
        // A symlink as the file itself is replaced, not followed.
        std::os::unix::fs::symlink(outside.0.join("y"), d.0.join("y")).unwrap();
        tree.files = vec![FileEntry::new("y", "y")];
        write_tree(&d.0, &tree).unwrap();
        assert!(!outside.0.join("y").exists());
        assert_eq!(fs::read_to_string(d.0.join("y")).unwrap(), "y");
    }

    #[test]
    fn removes_directories_but_not_through_symlinks() {
        let d = TempDir::new("remove");
        let outside = TempDir::new("remove-outside");
        fs::create_dir_all(d.0.join("ct/etc/net/ifaces/venet0")).unwrap();
        fs::write(d.0.join("ct/etc/net/ifaces/venet0/options"), "TYPE=venet").unwrap();
        fs::write(outside.0.join("keep"), "k").unwrap();
        std::os::unix::fs::symlink(&outside.0, d.0.join("link")).unwrap();
        let tree = Tree {
            remove: vec!["ct/etc/net/ifaces/venet0".into(), "link/keep".into()],
            ..Tree::default()
        };
        assert!(matches!(
            write_tree(&d.0, &tree),
            Err(ShellError::NotADirectory { .. })
        ));
        assert!(!d.0.join("ct/etc/net/ifaces/venet0").exists());
        assert!(outside.0.join("keep").exists());
    }
}
