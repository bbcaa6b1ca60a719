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
//! let page = shop.list_orders("2026-11-01T00:00:00Z", None).await?;
//! println!("{} orders", page.orders.len());
//! # Ok(()) }
//! ```

pub mod bindings;
mod cache;
mod call;
mod egress;
mod engine;
mod error;
mod limits;
mod plugin;
mod redact;
mod runtime;
mod state;
mod watch;

pub use bindings::latest::{carrier_api, shop_api, types};
pub use call::{CallContext, CarrierClient, Lane, ShopClient};
pub use engine::{EPOCH_TICK, EngineOptions};
pub use error::{CallError, HttpFailure, LoadError};
pub use plugin::{COMPONENT_FILE, LoadedPlugin, MANIFEST_FILE};
pub use redact::Redactor;
pub use runtime::{
    InstallError, LoadFailure, LoadReport, ReloadError, Runtime, RuntimeOptions, StartError,
};
pub use tovor_manifest::{Kind, Manifest};
pub use watch::WatchHandle;
