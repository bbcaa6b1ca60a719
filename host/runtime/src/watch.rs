//! Hot reload: watch the plugins folder and reload what changed.
//!
//! One task owns every load and unload (never parallel tasks), after a short debounce so
//! a plugin being copied in is loaded once it is complete, not half-written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::plugin::MANIFEST_FILE;
use crate::runtime::Runtime;

/// Quiet time after the last change before a plugin folder is reloaded.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Keeps the watch running; dropping it stops watching.
pub struct WatchHandle {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Runtime {
    /// Watches `plugins_dir` and (re)loads or unloads plugin folders as they change.
    /// Must be called inside a tokio runtime.
    pub fn watch(&self, plugins_dir: &Path) -> notify::Result<WatchHandle> {
        // Events carry absolute paths; the runtime keys plugins by canonical folder.
        let plugins_dir = std::fs::canonicalize(plugins_dir)?;
        let (changes, mut changed) = mpsc::unbounded_channel::<PathBuf>();
        let root = plugins_dir.clone();
        let mut watcher = notify::recommended_watcher(
            move |event: notify::Result<notify::Event>| match event {
                // Reads (ours included, while loading) are not changes.
                Ok(event) if !is_change(&event.kind) => {}
                Ok(event) => {
                    tracing::debug!(kind = ?event.kind, paths = ?event.paths, "plugin folder changed");
                    for path in event.paths {
                        if let Some(dir) = plugin_folder_of(&root, &path) {
                            let _ = changes.send(dir);
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "plugin folder watch error"),
            },
        )?;
        watcher.watch(&plugins_dir, RecursiveMode::Recursive)?;
        let runtime = self.clone();
        let task = tokio::spawn(async move {
            while let Some(first) = changed.recv().await {
                let mut dirs = BTreeSet::from([first]);
                // Collect everything that changes until things go quiet.
                while let Ok(Some(dir)) = tokio::time::timeout(DEBOUNCE, changed.recv()).await {
                    dirs.insert(dir);
                }
                for dir in dirs {
                    if dir.join(MANIFEST_FILE).is_file() {
                        if runtime.is_current(&dir) {
                            continue;
                        }
                        // Errors are logged and remembered by the runtime; the previous
                        // version keeps serving.
                        let _ = runtime.load_plugin_dir(&dir).await;
                    } else if !dir.exists() {
                        runtime.unload_dir(&dir);
                    }
                }
            }
        });
        Ok(WatchHandle {
            _watcher: watcher,
            task,
        })
    }
}

fn is_change(kind: &notify::EventKind) -> bool {
    use notify::EventKind;
    use notify::event::ModifyKind;
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// The plugin folder (direct child of `root`) a changed path belongs to; hidden folders
/// (staging areas of `Runtime::install`) are ignored.
fn plugin_folder_of(root: &Path, path: &Path) -> Option<PathBuf> {
    let relative = path.strip_prefix(root).ok()?;
    let first = relative.components().next()?;
    let name = first.as_os_str().to_str()?;
    if name.starts_with('.') {
        return None;
    }
    Some(root.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_changes_to_their_plugin_folder() {
        let root = Path::new("/p");
        assert_eq!(
            plugin_folder_of(root, Path::new("/p/woo/plugin.wasm")),
            Some(PathBuf::from("/p/woo"))
        );
        assert_eq!(
            plugin_folder_of(root, Path::new("/p/woo")),
            Some(PathBuf::from("/p/woo"))
        );
        assert_eq!(
            plugin_folder_of(root, Path::new("/p/.staging-woo-1/plugin.wasm")),
            None
        );
        assert_eq!(plugin_folder_of(root, Path::new("/elsewhere/x")), None);
        assert_eq!(plugin_folder_of(root, Path::new("/p")), None);
    }
}
