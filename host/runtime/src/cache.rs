//! On-disk cache of compiled components, keyed by the component's content hash and the
//! engine's compatibility hash, so a restart or a reload of an unchanged plugin skips
//! Cranelift entirely.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled artefacts live; `None` compiles every time.
#[derive(Debug, Clone)]
pub(crate) struct CompileCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

impl CompileCache {
    pub(crate) fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    fn entry(&self, wasm_sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|dir| dir.join(format!("{wasm_sha256}-{}.cwasm", self.engine_key)))
    }

    /// The compiled component for these bytes, from the cache when it holds it.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        wasm_sha256: &str,
    ) -> wasmtime::Result<Component> {
        let entry = self.entry(wasm_sha256);
        if let Some(path) = &entry
            && path.is_file()
        {
            match deserialize(engine, path) {
                Ok(component) => return Ok(component),
                Err(error) => {
                    // A truncated or stale artefact: compile afresh and overwrite it.
                    tracing::warn!(path = %path.display(), %error, "ignoring unusable compile cache entry");
                }
            }
        }
        let component = Component::from_binary(engine, wasm)?;
        if let Some(path) = &entry
            && let Err(error) = store(&component, path)
        {
            tracing::warn!(path = %path.display(), %error, "could not write compile cache entry");
        }
        Ok(component)
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime requires the file to be an artefact it produced itself, because
    // deserializing skips validation. Entries are written only by `store` below, under a
    // name that includes the engine's compatibility hash, inside the host's own data
    // directory, which is as trusted as the host binary.
    unsafe { Component::deserialize_file(engine, path) }
}

fn store(component: &Component, path: &Path) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Write then rename, so a crash never leaves a half-written entry under the real name.
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}
