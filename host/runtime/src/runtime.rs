//! The runtime: one engine, the registry of loaded plugins, and loading with atomic swap.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::cache::CompileCache;
use crate::engine::{EngineOptions, EpochTicker, build_engine};
use crate::error::LoadError;
use crate::plugin::{self, COMPONENT_FILE, LoadedPlugin, MANIFEST_FILE};
use crate::state::CallState;
use tovor_runtime_http::HttpClients;
use tovor_runtime_state::{MemoryStateStore, StateStore};

/// Numbers staging folders, so concurrent installs never share one.
static INSTALL_ATTEMPTS: AtomicU64 = AtomicU64::new(0);

/// How the runtime is set up.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    pub engine: EngineOptions,
    /// Where compiled components are cached; `None` compiles on every load.
    pub cache_dir: Option<PathBuf>,
    /// Let allow-list entries that come from a shop's configuration reach loopback and
    /// private addresses (tests, demos, shops on a local network). Off by default: a
    /// company's users write shop configs, and they must not be able to aim a plugin at
    /// the operator's internal network. Cloud metadata addresses stay refused regardless.
    pub allow_private_egress: bool,
}

/// The runtime failed to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot configure the WebAssembly engine: {0}")]
    Engine(String),
    #[error("cannot start the epoch ticker: {0}")]
    Ticker(#[source] std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// A plugin folder that failed to load, kept for operators to see.
#[derive(Debug, Clone)]
pub struct LoadFailure {
    pub dir: PathBuf,
    pub message: String,
    pub at: SystemTime,
}

/// What loading a folder of plugins did.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub loaded: Vec<String>,
    pub failed: Vec<(PathBuf, LoadError)>,
}

/// The sandboxed connector runtime. Cheap to clone; all clones share one engine and
/// registry.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<CallState>,
    pub(crate) cache: CompileCache,
    pub(crate) clients: HttpClients,
    pub(crate) options: RuntimeOptions,
    /// Where connectors' `state` is kept.
    pub(crate) state_store: RwLock<Arc<dyn StateStore>>,
    /// Bound live instances: with the pooling allocator an exhausted pool fails
    /// instantiation, so callers wait for a slot instead. The slots are split by lane:
    /// webhook verification has slots of its own, so background calls that hold a slot
    /// for minutes (a carrier call, a sync page) can never make a shop wait for the
    /// answer to its webhook.
    pub(crate) instance_slots: Semaphore,
    pub(crate) intake_slots: Semaphore,
    plugins: RwLock<BTreeMap<String, Arc<LoadedPlugin>>>,
    failures: RwLock<BTreeMap<PathBuf, LoadFailure>>,
    /// Loads are serialised: two reloads of one plugin must not race to the swap.
    load_lock: tokio::sync::Mutex<()>,
    /// Installs are serialised too: they move folders around.
    install_lock: tokio::sync::Mutex<()>,
    _ticker: EpochTicker,
}

impl Runtime {
    /// A runtime whose connectors keep their state in memory (lost at exit).
    pub fn new(options: RuntimeOptions) -> Result<Self, StartError> {
        Self::with_state_store(options, Arc::new(MemoryStateStore::default()))
    }

    /// A runtime whose connectors keep their state in `state_store`.
    pub fn with_state_store(
        options: RuntimeOptions,
        state_store: Arc<dyn StateStore>,
    ) -> Result<Self, StartError> {
        let engine =
            build_engine(&options.engine).map_err(|e| StartError::Engine(format!("{e:#}")))?;
        let linker = plugin::linker(&engine).map_err(|e| StartError::Engine(format!("{e:#}")))?;
        let cache = CompileCache::new(&engine, options.cache_dir.clone());
        let clients = HttpClients::new().map_err(StartError::HttpClient)?;
        let ticker = EpochTicker::start(engine.clone()).map_err(StartError::Ticker)?;
        let (slots, intake_slots) = split_slots(options.engine.max_concurrent_instances);
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                cache,
                clients,
                options,
                state_store: RwLock::new(state_store),
                instance_slots: Semaphore::new(slots),
                intake_slots: Semaphore::new(intake_slots),
                plugins: RwLock::new(BTreeMap::new()),
                failures: RwLock::new(BTreeMap::new()),
                load_lock: tokio::sync::Mutex::new(()),
                install_lock: tokio::sync::Mutex::new(()),
                _ticker: ticker,
            }),
        })
    }

    /// Keeps connectors' state in `store` from now on (the service gives its database).
    pub fn set_state_store(&self, store: Arc<dyn StateStore>) {
        match self.inner.state_store.write() {
            Ok(mut current) => *current = store,
            Err(poisoned) => *poisoned.into_inner() = store,
        }
    }

    pub(crate) fn state_store(&self) -> Arc<dyn StateStore> {
        match self.inner.state_store.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn options(&self) -> &RuntimeOptions {
        &self.inner.options
    }

    /// The plugin currently serving `id`.
    pub fn plugin(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        read(&self.inner.plugins).get(id).cloned()
    }

    /// All loaded plugins, by id.
    pub fn plugins(&self) -> Vec<Arc<LoadedPlugin>> {
        read(&self.inner.plugins).values().cloned().collect()
    }

    /// Folders whose last load failed, with why.
    pub fn load_failures(&self) -> Vec<LoadFailure> {
        read(&self.inner.failures).values().cloned().collect()
    }

    /// Loads every plugin folder (a folder holding `plugin.toml`) under `plugins_dir`.
    /// A broken plugin is reported and skipped; the others load.
    pub async fn load_dir(&self, plugins_dir: &Path) -> std::io::Result<LoadReport> {
        let mut report = LoadReport::default();
        for dir in plugin_dirs(plugins_dir)? {
            match self.load_plugin_dir(&dir).await {
                Ok(plugin) => report.loaded.push(plugin.id().to_owned()),
                Err(error) => report.failed.push((dir, error)),
            }
        }
        Ok(report)
    }

    /// Validates and compiles the plugin in `dir`, then swaps it in atomically. Calls in
    /// flight finish on the version they started with; if anything is wrong with the new
    /// version the old one keeps serving and the error is returned (and remembered).
    pub async fn load_plugin_dir(&self, dir: &Path) -> Result<Arc<LoadedPlugin>, LoadError> {
        let _serialised = self.inner.load_lock.lock().await;
        // One spelling per folder, so the watcher's absolute paths and a relative
        // `--plugins` name the same plugin.
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let result = self
            .prepare(&dir)
            .await
            .and_then(|plugin| self.swap_in(plugin));
        match &result {
            Ok(plugin) => {
                write(&self.inner.failures).remove(&dir);
                tracing::info!(
                    plugin = plugin.id(),
                    version = %plugin.manifest.plugin.version,
                    kind = %plugin.kind(),
                    sha256 = %plugin.wasm_sha256,
                    "plugin loaded"
                );
            }
            Err(error) => {
                tracing::error!(dir = %dir.display(), %error, "plugin not loaded");
                write(&self.inner.failures).insert(
                    dir.clone(),
                    LoadFailure {
                        dir: dir.clone(),
                        message: error.to_string(),
                        at: SystemTime::now(),
                    },
                );
            }
        }
        result
    }

    /// Reads, validates and compiles the plugin in `dir` (on a blocking thread: compiling
    /// is CPU-heavy on a cache miss) and smoke-tests it, without serving it yet.
    async fn prepare(&self, dir: &Path) -> Result<Arc<LoadedPlugin>, LoadError> {
        let inner = self.inner.clone();
        let loading_dir = dir.to_path_buf();
        let plugin = tokio::task::spawn_blocking(move || {
            plugin::load(&loading_dir, &inner.engine, &inner.linker, &inner.cache)
        })
        .await
        .unwrap_or_else(|join_error| {
            Err(LoadError::InvalidWasm {
                plugin: dir.display().to_string(),
                path: dir.join(COMPONENT_FILE),
                message: format!("loading panicked: {join_error}"),
            })
        })?;
        let plugin = Arc::new(plugin);
        self.smoke_test(&plugin)
            .await
            .map_err(|error| LoadError::Broken {
                plugin: plugin.id().to_owned(),
                message: error.to_string(),
            })?;
        Ok(plugin)
    }

    fn swap_in(&self, plugin: Arc<LoadedPlugin>) -> Result<Arc<LoadedPlugin>, LoadError> {
        let mut plugins = write(&self.inner.plugins);
        if let Some(existing) = plugins.get(plugin.id())
            && existing.dir != plugin.dir
        {
            return Err(LoadError::DuplicateId {
                plugin: plugin.id().to_owned(),
                first: existing.dir.clone(),
                second: plugin.dir.clone(),
            });
        }
        // The folder may have been serving under another id before its manifest changed.
        plugins.retain(|id, existing| existing.dir != plugin.dir || id == plugin.id());
        plugins.insert(plugin.id().to_owned(), plugin.clone());
        Ok(plugin)
    }

    /// Whether the plugin loaded from `dir` still matches the files there.
    pub(crate) fn is_current(&self, dir: &Path) -> bool {
        let loaded = read(&self.inner.plugins)
            .values()
            .find(|p| p.dir == dir)
            .map(|p| p.fingerprint.clone());
        match (loaded, plugin::fingerprint(dir)) {
            (Some(loaded), Ok(on_disk)) => loaded == on_disk,
            _ => false,
        }
    }

    /// Loads `id` again from the folder it came from.
    pub async fn reload(&self, id: &str) -> Result<Arc<LoadedPlugin>, ReloadError> {
        let dir = self
            .plugin(id)
            .map(|p| p.dir.clone())
            .ok_or_else(|| ReloadError::NotLoaded(id.to_owned()))?;
        Ok(self.load_plugin_dir(&dir).await?)
    }

    /// Stops serving the plugin loaded from `dir` (its folder was removed). Calls in
    /// flight finish.
    pub fn unload_dir(&self, dir: &Path) -> Option<Arc<LoadedPlugin>> {
        write(&self.inner.failures).remove(dir);
        let mut plugins = write(&self.inner.plugins);
        let id = plugins
            .values()
            .find(|p| p.dir == dir)
            .map(|p| p.id().to_owned())?;
        let removed = plugins.remove(&id);
        tracing::info!(plugin = %id, "plugin unloaded");
        removed
    }

    /// Adds or replaces a plugin from its manifest and component: validated and compiled
    /// in a staging folder first, then moved to `<plugins_dir>/<id>/` and swapped in. A
    /// plugin that does not load leaves the installed one untouched.
    pub async fn install(
        &self,
        plugins_dir: &Path,
        manifest_toml: &str,
        wasm: &[u8],
    ) -> Result<Arc<LoadedPlugin>, InstallError> {
        let manifest = tovor_manifest::Manifest::parse(manifest_toml).map_err(|e| {
            InstallError::Load(LoadError::Manifest {
                path: PathBuf::from(MANIFEST_FILE),
                source: e,
            })
        })?;
        let id = manifest.plugin.id.clone();
        let _serialised = self.inner.install_lock.lock().await;
        std::fs::create_dir_all(plugins_dir).map_err(InstallError::Io)?;
        // Staging and backup folders start with a dot: the directory watcher skips them.
        let attempt = INSTALL_ATTEMPTS.fetch_add(1, Ordering::Relaxed);
        let suffix = format!("{id}-{}-{attempt}", std::process::id());
        let staging = plugins_dir.join(format!(".staging-{suffix}"));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(InstallError::Io)?;
        std::fs::write(staging.join(MANIFEST_FILE), manifest_toml).map_err(InstallError::Io)?;
        std::fs::write(staging.join(COMPONENT_FILE), wasm).map_err(InstallError::Io)?;
        let validated = self.prepare(&staging).await;
        if let Err(error) = validated {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(InstallError::Load(error));
        }
        let target = plugins_dir.join(&id);
        let backup = plugins_dir.join(format!(".previous-{suffix}"));
        if target.exists() {
            std::fs::rename(&target, &backup).map_err(InstallError::Io)?;
        }
        std::fs::rename(&staging, &target).map_err(InstallError::Io)?;
        let _ = std::fs::remove_dir_all(&backup);
        // The compile cache makes this second load cheap.
        Ok(self.load_plugin_dir(&target).await?)
    }
}

/// Why an explicit reload did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("no plugin with id {0} is loaded")]
    NotLoaded(String),
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Why installing a plugin failed. Nothing installed before was changed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot write the plugin's files: {0}")]
    Io(#[source] std::io::Error),
}

/// Sub-folders of `plugins_dir` that hold a plugin, skipping hidden ones.
pub(crate) fn plugin_dirs(plugins_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(plugins_dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if !hidden && path.join(MANIFEST_FILE).is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

// The registry's locks are held only for map operations that cannot panic, so a poisoned
// lock still guards consistent data.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Splits the instance pool between background calls and the intake lane: a quarter
/// (at least one) for the intake, the rest for everything else.
fn split_slots(total: u32) -> (usize, usize) {
    let total = total.max(2) as usize;
    let intake = (total / 4).max(1);
    (total - intake, intake)
}

#[cfg(test)]
mod slot_tests {
    use super::split_slots;

    #[test]
    fn the_intake_always_has_a_slot_and_the_pool_is_never_exceeded() {
        assert_eq!(split_slots(64), (48, 16));
        assert_eq!(split_slots(4), (3, 1));
        assert_eq!(split_slots(1), (1, 1));
        for total in 2..200 {
            let (background, intake) = split_slots(total);
            assert!(intake >= 1 && background >= 1);
            assert_eq!(background + intake, total as usize);
        }
    }
}
