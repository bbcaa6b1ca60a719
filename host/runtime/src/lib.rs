//! The sandboxed connector runtime of tovor.
//!
//! Shop and carrier connectors are WebAssembly components built against the
//! `tovor:connector` contract (`wit/`). This crate loads them (manifest, contract version
//! and world checked; compiled once and cached on disk by content hash), keeps them
//! hot-swappable, and calls them in a sandbox: a fresh store per call with a memory cap,
//! an epoch deadline and a timeout; no files, environment or sockets; outbound HTTP only
//! through the host, under a deny-by-default allow-list rendered per shop.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use tovor_runtime::{CallContext, Runtime, RuntimeOptions};
//!
//! let runtime = Runtime::new(RuntimeOptions::default())?;
//! runtime.load_dir("plugins".as_ref()).await?;
//! let shop = runtime.shop(
//!     "woocommerce",
//!     CallContext::new("shop-1", [("url".into(), "https://shop.example".into())].into()),
//! )?;
//! let since = time::macros::datetime!(2026-11-01 00:00 UTC);
//! let page = shop.list_orders(since, None).await?;
//! println!("{} orders", page.orders.len());
//! # Ok(()) }
//! ```

mod adapt;
mod bindings;
mod cache;
mod call;
mod engine;
mod error;
mod limits;
pub mod model;
mod plugin;
mod redact;
mod runtime;
mod state;
mod watch;

pub use adapt::rfc3339_text;
pub use bindings::supported_contracts;
pub use call::{CallContext, CarrierClient, Lane, ShopClient};
pub use engine::{EPOCH_TICK, EngineOptions};
pub use error::{CallError, HttpFailure, LoadError};
pub use model::{Capability, ConnectorError, ErrorKind};
pub use plugin::{COMPONENT_FILE, LoadedPlugin, MANIFEST_FILE};
pub use redact::RedactErrors;
pub use runtime::{
    InstallError, LoadFailure, LoadReport, ReloadError, Runtime, RuntimeOptions, StartError,
};
pub use tovor_manifest::{Kind, Manifest};
pub use tovor_runtime_log::Redactor;
/// The `state` import's store and limits (its own crate, re-exported under the name the
/// service uses).
pub use tovor_runtime_state as connector_state;
pub use tovor_runtime_state::{MemoryStateStore, StateScope, StateStore};
pub use watch::WatchHandle;
