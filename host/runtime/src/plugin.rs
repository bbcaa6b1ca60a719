//! A validated, compiled plugin ready to be instantiated, and how one is loaded.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use tovor_manifest::{Kind, Manifest};
use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::adapt;
use crate::bindings::{self, v0_1_0, v0_2};
use crate::cache::CompileCache;
use crate::error::LoadError;
use crate::model::{Capabilities, Capability};
use crate::state::CallState;

/// The package every contract version's interfaces are named in.
const CONTRACT_PACKAGE: &str = "tovor:connector/";

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
    /// The contract version the component was built against, read from the component.
    pub contract: semver::Version,
    /// What the connector can do.
    pub capabilities: Capabilities,
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

    pub fn can(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }
}

/// The pre-instantiated exports, per contract version and world.
pub(crate) enum Exports {
    ShopV0_1(v0_1_0::shop::ShopPre<CallState>),
    CarrierV0_1(v0_1_0::carrier::CarrierPre<CallState>),
    V0_2(std::sync::Arc<ExportsV0_2>),
}

/// A 0.2 component: its exports looked up per capability, `None` where it has none.
pub(crate) struct ExportsV0_2 {
    pub(crate) pre: wasmtime::component::InstancePre<CallState>,
    pub(crate) orders: Option<v0_2::orders::GuestIndices>,
    pub(crate) webhooks: Option<v0_2::webhooks::GuestIndices>,
    pub(crate) inventory: Option<v0_2::inventory::GuestIndices>,
    pub(crate) catalog: Option<v0_2::catalog::GuestIndices>,
    pub(crate) fulfillment: Option<v0_2::fulfillment::GuestIndices>,
    pub(crate) status_changes: Option<v0_2::status_changes::GuestIndices>,
    pub(crate) refunds: Option<v0_2::refunds::GuestIndices>,
    pub(crate) payment_methods: Option<v0_2::payment_methods::GuestIndices>,
    pub(crate) connection: Option<v0_2::connection::GuestIndices>,
    pub(crate) shipments: Option<v0_2::shipments::GuestIndices>,
    pub(crate) labels: Option<v0_2::labels::GuestIndices>,
    pub(crate) tracking: Option<v0_2::tracking::GuestIndices>,
    pub(crate) cancellation: Option<v0_2::cancellation::GuestIndices>,
    pub(crate) lookup: Option<v0_2::lookup::GuestIndices>,
    pub(crate) pickup_points: Option<v0_2::pickup_points::GuestIndices>,
    pub(crate) services: Option<v0_2::services::GuestIndices>,
    pub(crate) handover: Option<v0_2::handover::GuestIndices>,
    /// What the connector said about itself once (its stock batch, its carrier facts):
    /// it cannot change while this component is loaded.
    pub(crate) stock_batch: std::sync::OnceLock<usize>,
    pub(crate) carrier_info: std::sync::OnceLock<crate::model::CarrierInfo>,
}

/// The contract version a component speaks, from the versions in the names of the
/// `tovor:connector` interfaces it imports and exports; and the names of its exports.
fn component_contract(
    component: &wasmtime::component::Component,
    engine: &Engine,
) -> Result<(semver::Version, Vec<String>), String> {
    let component_type = component.component_type();
    let exports: Vec<String> = component_type
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let names = component_type
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .chain(exports.iter().cloned());
    let mut versions: Vec<semver::Version> = Vec::new();
    for name in names {
        let Some(interface) = name.strip_prefix(CONTRACT_PACKAGE) else {
            continue;
        };
        let Some((_, version)) = interface.split_once('@') else {
            return Err(format!("{name} carries no contract version"));
        };
        let version = semver::Version::parse(version)
            .map_err(|error| format!("{name}: bad contract version: {error}"))?;
        if !versions.contains(&version) {
            versions.push(version);
        }
    }
    match versions.as_slice() {
        [version] => Ok((version.clone(), exports)),
        [] => Err("it neither imports nor exports any tovor:connector interface".into()),
        several => Err(format!(
            "it mixes contract versions {}",
            several
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The capabilities a 0.2 component exports, refusing exports that are not capabilities
/// of its kind.
fn exported_capabilities(
    plugin: &str,
    kind: Kind,
    exports: &[String],
) -> Result<Capabilities, LoadError> {
    let mut capabilities = Capabilities::new();
    for name in exports {
        let Some(interface) = name
            .strip_prefix(CONTRACT_PACKAGE)
            .and_then(|rest| rest.split('@').next())
        else {
            continue;
        };
        match Capability::from_interface(interface) {
            Some(capability) if capability.belongs_to(kind) => {
                capabilities.insert(capability);
            }
            _ => {
                return Err(LoadError::WorldMismatch {
                    plugin: plugin.to_owned(),
                    kind,
                    message: format!("it exports {name}, which is not a {kind} capability"),
                });
            }
        }
    }
    if capabilities.is_empty() {
        return Err(LoadError::WorldMismatch {
            plugin: plugin.to_owned(),
            kind,
            message: format!("it exports no {kind} capability"),
        });
    }
    Ok(capabilities)
}

/// Looks one capability's exports up, when the component has it.
fn indices<I>(
    capabilities: &Capabilities,
    capability: Capability,
    new: impl FnOnce() -> wasmtime::Result<I>,
) -> Result<Option<I>, String> {
    if !capabilities.contains(&capability) {
        return Ok(None);
    }
    new()
        .map(Some)
        .map_err(|error| format!("its {capability} export: {error:#}"))
}

impl ExportsV0_2 {
    fn new(
        pre: wasmtime::component::InstancePre<CallState>,
        capabilities: &Capabilities,
    ) -> Result<Self, String> {
        use Capability as C;
        let p = &pre;
        Ok(Self {
            orders: indices(capabilities, C::Orders, || {
                v0_2::orders::GuestIndices::new(p)
            })?,
            webhooks: indices(capabilities, C::Webhooks, || {
                v0_2::webhooks::GuestIndices::new(p)
            })?,
            inventory: indices(capabilities, C::Inventory, || {
                v0_2::inventory::GuestIndices::new(p)
            })?,
            catalog: indices(capabilities, C::Catalog, || {
                v0_2::catalog::GuestIndices::new(p)
            })?,
            fulfillment: indices(capabilities, C::Fulfillment, || {
                v0_2::fulfillment::GuestIndices::new(p)
            })?,
            status_changes: indices(capabilities, C::StatusChanges, || {
                v0_2::status_changes::GuestIndices::new(p)
            })?,
            refunds: indices(capabilities, C::Refunds, || {
                v0_2::refunds::GuestIndices::new(p)
            })?,
            payment_methods: indices(capabilities, C::PaymentMethods, || {
                v0_2::payment_methods::GuestIndices::new(p)
            })?,
            connection: indices(capabilities, C::Connection, || {
                v0_2::connection::GuestIndices::new(p)
            })?,
            shipments: indices(capabilities, C::Shipments, || {
                v0_2::shipments::GuestIndices::new(p)
            })?,
            labels: indices(capabilities, C::Labels, || {
                v0_2::labels::GuestIndices::new(p)
            })?,
            tracking: indices(capabilities, C::Tracking, || {
                v0_2::tracking::GuestIndices::new(p)
            })?,
            cancellation: indices(capabilities, C::Cancellation, || {
                v0_2::cancellation::GuestIndices::new(p)
            })?,
            lookup: indices(capabilities, C::Lookup, || {
                v0_2::lookup::GuestIndices::new(p)
            })?,
            pickup_points: indices(capabilities, C::PickupPoints, || {
                v0_2::pickup_points::GuestIndices::new(p)
            })?,
            services: indices(capabilities, C::Services, || {
                v0_2::services::GuestIndices::new(p)
            })?,
            handover: indices(capabilities, C::Handover, || {
                v0_2::handover::GuestIndices::new(p)
            })?,
            pre,
            stock_batch: std::sync::OnceLock::new(),
            carrier_info: std::sync::OnceLock::new(),
        })
    }

    /// Loads every capability's exports from an instance: each function is checked
    /// against the contract's signature.
    pub(crate) fn load_all(
        &self,
        store: &mut wasmtime::Store<CallState>,
        instance: &wasmtime::component::Instance,
    ) -> wasmtime::Result<()> {
        macro_rules! load {
            ($($field:ident),*) => {
                $(if let Some(indices) = &self.$field {
                    indices.load(&mut *store, instance)?;
                })*
            };
        }
        load!(
            orders,
            webhooks,
            inventory,
            catalog,
            fulfillment,
            status_changes,
            refunds,
            payment_methods,
            connection,
            shipments,
            labels,
            tracking,
            cancellation,
            lookup,
            pickup_points,
            services,
            handover
        );
        Ok(())
    }
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
    let (contract, exports) =
        component_contract(&component, engine).map_err(|message| LoadError::WorldMismatch {
            plugin: plugin.clone(),
            kind: manifest.plugin.kind,
            message,
        })?;
    if let Some(stated) = &manifest.plugin.contract
        && stated != &contract
    {
        return Err(LoadError::ContractMismatch {
            plugin,
            manifest: stated.clone(),
            component: contract,
        });
    }
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
    let (exports, capabilities) = match (contract.major, contract.minor, kind) {
        // Contract versions are compatible within a minor line (0.1.x), as WIT semver is.
        (0, 1, Kind::Shop) => (
            Exports::ShopV0_1(v0_1_0::shop::ShopPre::new(pre).map_err(world_mismatch)?),
            adapt::v0_1::capabilities(&manifest),
        ),
        (0, 1, Kind::Carrier) => (
            Exports::CarrierV0_1(v0_1_0::carrier::CarrierPre::new(pre).map_err(world_mismatch)?),
            adapt::v0_1::capabilities(&manifest),
        ),
        (0, 2, _) => {
            if !manifest.capabilities().is_empty() {
                return Err(LoadError::Manifest {
                    path: manifest_path,
                    source: tovor_manifest::ManifestError::Invalid {
                        key: "plugin.capabilities".into(),
                        message: "a contract 0.2 connector's capabilities are its component's \
                                  exports: remove the list"
                            .into(),
                    },
                });
            }
            let capabilities = exported_capabilities(&plugin, kind, &exports)?;
            let exports = ExportsV0_2::new(pre, &capabilities).map_err(|message| {
                LoadError::WorldMismatch {
                    plugin: plugin.clone(),
                    kind,
                    message,
                }
            })?;
            (Exports::V0_2(std::sync::Arc::new(exports)), capabilities)
        }
        _ => {
            return Err(LoadError::UnsupportedContract {
                plugin,
                contract,
                supported: bindings::supported_contracts()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    };
    Ok(LoadedPlugin {
        manifest,
        dir: dir.to_path_buf(),
        wasm_sha256,
        fingerprint,
        loaded_at: SystemTime::now(),
        contract,
        capabilities,
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
    // Per version, the carrier world imports the shop world's interfaces, so one
    // registration serves both; 0.2 carriers also import the shipment types.
    v0_1_0::shop::Shop::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)?;
    v0_2::shop::Shop::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)?;
    v0_2::carrier_types::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}
