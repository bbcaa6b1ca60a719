//! A validated, compiled plugin ready to be instantiated, and how one is loaded.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use tovor_manifest::{Kind, Manifest};
use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::bindings::{self, v0_1_0};
use crate::cache::CompileCache;
use crate::error::LoadError;
use crate::state::CallState;

/// File names inside a plugin's folder.
pub const MANIFEST_FILE: &str = "plugin.toml";
pub const COMPONENT_FILE: &str = "plugin.wasm";

/// A plugin as the host serves it. Immutable: a reload builds a new one and swaps it in,
/// while calls that already hold this one finish on it.
pub struct LoadedPlugin {
    pub manifest: Manifest,
    /// The folder it was loaded from.
    pub dir: PathBuf,
    /// Hex SHA-256 of `plugin.wasm`.
    pub wasm_sha256: String,
    /// Hex SHA-256 over the manifest and the component: tells whether the files on disk
    /// still are what is loaded.
    pub fingerprint: String,
    pub loaded_at: SystemTime,
    pub(crate) exports: Exports,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.manifest.plugin.id)
            .field("version", &self.manifest.plugin.version.to_string())
            .field("dir", &self.dir)
            .field("wasm_sha256", &self.wasm_sha256)
            .finish()
    }
}

impl LoadedPlugin {
    pub fn id(&self) -> &str {
        &self.manifest.plugin.id
    }

    pub fn kind(&self) -> Kind {
        self.manifest.plugin.kind
    }
}

/// The pre-instantiated exports, per contract version and world.
pub(crate) enum Exports {
    ShopV0_1(v0_1_0::shop::ShopPre<CallState>),
    CarrierV0_1(v0_1_0::carrier::CarrierPre<CallState>),
}

/// Reads, validates and compiles the plugin in `dir`. CPU-heavy on a cache miss: call it
/// from a blocking thread.
pub(crate) fn load(
    dir: &Path,
    engine: &Engine,
    linker: &Linker<CallState>,
    cache: &CompileCache,
) -> Result<LoadedPlugin, LoadError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let manifest_text =
        std::fs::read_to_string(&manifest_path).map_err(|source| LoadError::Io {
            path: manifest_path.clone(),
            source,
        })?;
    let manifest = Manifest::parse(&manifest_text).map_err(|source| LoadError::Manifest {
        path: manifest_path.clone(),
        source,
    })?;
    let plugin = manifest.plugin.id.clone();
    let contract = &manifest.plugin.contract;
    // Contract versions are compatible within a minor line (0.1.x), as WIT semver is.
    let speaks_0_1 = contract.major == 0 && contract.minor == 1;
    if !speaks_0_1 {
        return Err(LoadError::UnsupportedContract {
            plugin,
            contract: contract.clone(),
            supported: bindings::supported_contracts()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }

    let wasm_path = dir.join(COMPONENT_FILE);
    let wasm = std::fs::read(&wasm_path).map_err(|source| LoadError::Io {
        path: wasm_path.clone(),
        source,
    })?;
    let wasm_sha256 = hex::encode(Sha256::digest(&wasm));
    let fingerprint = fingerprint_of(manifest_text.as_bytes(), &wasm);
    let component = cache
        .load_or_compile(engine, &wasm, &wasm_sha256)
        .map_err(|error| LoadError::InvalidWasm {
            plugin: plugin.clone(),
            path: wasm_path.clone(),
            message: format!("{error:#}"),
        })?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(|error| LoadError::UnsatisfiedImport {
            plugin: plugin.clone(),
            message: format!("{error:#}"),
        })?;
    let kind = manifest.plugin.kind;
    let world_mismatch = |error: wasmtime::Error| LoadError::WorldMismatch {
        plugin: plugin.clone(),
        kind,
        message: format!("{error:#}"),
    };
    let exports = match kind {
        Kind::Shop => Exports::ShopV0_1(v0_1_0::shop::ShopPre::new(pre).map_err(world_mismatch)?),
        Kind::Carrier => {
            Exports::CarrierV0_1(v0_1_0::carrier::CarrierPre::new(pre).map_err(world_mismatch)?)
        }
    };
    Ok(LoadedPlugin {
        manifest,
        dir: dir.to_path_buf(),
        wasm_sha256,
        fingerprint,
        loaded_at: SystemTime::now(),
        exports,
    })
}

fn fingerprint_of(manifest: &[u8], wasm: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update((manifest.len() as u64).to_le_bytes());
    hasher.update(manifest);
    hasher.update(wasm);
    hex::encode(hasher.finalize())
}

/// The fingerprint of the plugin files in `dir` as they are on disk now.
pub(crate) fn fingerprint(dir: &Path) -> std::io::Result<String> {
    let manifest = std::fs::read(dir.join(MANIFEST_FILE))?;
    let wasm = std::fs::read(dir.join(COMPONENT_FILE))?;
    Ok(fingerprint_of(&manifest, &wasm))
}

/// The linker every plugin is instantiated with: WASI p2 with nothing granted (no
/// preopens, environment or sockets are configured per store) plus the host imports.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    // The carrier world imports the same interfaces, so one registration serves both.
    v0_1_0::shop::Shop::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}
