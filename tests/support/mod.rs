//! Shared test helpers.
#![allow(dead_code)]

pub mod http;
pub mod peer;
#[cfg(feature = "emulator")]
pub mod rel;

/// A FIFO in the temp directory, new for this process (`mkfifo`); the test
/// removes it.
pub fn fifo(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("tcb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
    path
}

/// The sockets this process holds open (by inode) whose other end is at
/// `port`: the client's side of its connections to a server there.
pub fn sockets_to(port: u16) -> Vec<String> {
    let mut connected = std::collections::HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields
                .get(2)
                .and_then(|remote| remote.rsplit(':').next())
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            if remote_port == Some(port) {
                connected.extend(fields.get(9).map(|inode| inode.to_string()));
            }
        }
    }
    open_sockets()
        .into_iter()
        .filter(|inode| connected.contains(inode))
        .collect()
}

/// The inodes of every socket this process holds a file descriptor of
/// (closed TCP connections too, which have left `/proc/net/tcp`).
pub fn open_sockets() -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .map(|fds| {
            fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .filter_map(|target| {
                    let target = target.to_string_lossy().into_owned();
                    Some(
                        target
                            .strip_prefix("socket:[")?
                            .strip_suffix(']')?
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
