//! This process's name in the leases of a shared database.
//!
//! Two processes must never share a name: at start a node frees every lease held under
//! its name, so a twin's claimed work (a shipment being created, among others) would be
//! handed out again while the twin is still on it. `<host>:<port>` is not enough: the
//! host name is the same on cloned machines, and under systemd `HOSTNAME` is not set at
//! all. So each data folder keeps a name made once from the host name and a random
//! suffix; a restart on the same folder reuses it and takes its own work back at once.
//! While a process runs it holds a lock on that file; a second process started on the
//! same folder gets a fresh name of its own for its lifetime (its leases then run out by
//! time after it stops, as a dead twin's do).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::Context;

/// The file in the data folder that keeps the node's name.
pub const NODE_ID_FILE: &str = "node-id";

/// A node's name and, when it is the data folder's own, the lock that keeps it ours.
pub struct NodeId {
    pub name: String,
    /// Held while the process runs; released when dropped (or when the process dies).
    _lock: Option<File>,
}

/// `--node` when given; otherwise the data folder's own name (made on first start), or a
/// fresh one when another running process holds the folder's.
pub fn node_id(given: Option<&str>, data_dir: &Path) -> anyhow::Result<NodeId> {
    if let Some(name) = given.map(str::trim).filter(|name| !name.is_empty()) {
        return Ok(NodeId {
            name: name.to_owned(),
            _lock: None,
        });
    }
    let path = data_dir.join(NODE_ID_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let name = fresh_name();
            tracing::warn!(
                node = %name,
                file = %path.display(),
                "another tovor runs on this data folder; this process uses a name of its own \
                 (give each process its own --data-dir or --node)"
            );
            return Ok(NodeId { name, _lock: None });
        }
        Err(std::fs::TryLockError::Error(error)) => {
            return Err(error).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    let mut kept = String::new();
    file.read_to_string(&mut kept)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let name = match kept.trim() {
        "" => {
            let name = fresh_name();
            file.set_len(0)
                .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
                .and_then(|()| file.write_all(format!("{name}\n").as_bytes()))
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            name
        }
        kept => kept.to_owned(),
    };
    Ok(NodeId {
        name,
        _lock: Some(file),
    })
}

/// `<host>-<8 random hex digits>`.
fn fresh_name() -> String {
    format!("{}-{}", host_name(), hex::encode(rand::random::<[u8; 4]>()))
}

/// The machine's host name from the OS (not `HOSTNAME`, which services do not get).
fn host_name() -> String {
    let from_os = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|name| name.trim().to_owned());
    from_os
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| {
            name.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "tovor".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_data_folder_keeps_its_name_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = node_id(None, dir.path()).unwrap().name;
        let again = node_id(None, dir.path()).unwrap().name;
        assert_eq!(first, again);
        assert!(first.starts_with(&host_name()), "{first}");
    }

    #[test]
    fn two_data_folders_get_different_names() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        assert_ne!(
            node_id(None, a.path()).unwrap().name,
            node_id(None, b.path()).unwrap().name
        );
    }

    #[test]
    fn a_second_process_on_a_folder_in_use_gets_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let running = node_id(None, dir.path()).unwrap();
        let second = node_id(None, dir.path()).unwrap();
        assert_ne!(running.name, second.name);
        drop(running);
        drop(second);
        let restarted = node_id(None, dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(NODE_ID_FILE))
                .unwrap()
                .trim(),
            restarted.name
        );
    }

    #[test]
    fn a_given_name_wins() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(node_id(Some("edge-1"), dir.path()).unwrap().name, "edge-1");
        assert!(!dir.path().join(NODE_ID_FILE).exists());
    }
}
