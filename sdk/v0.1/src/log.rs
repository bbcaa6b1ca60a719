//! Logging into the host's logs, where every line is tagged with the plugin and the shop.
//!
//! Use the functions with a ready message, or the macros with format arguments:
//!
//! ```
//! use tovor_sdk::log;
//!
//! # fn main() {
//! let page = 3;
//! log::debug("fetching orders");
//! log::info!("fetched page {page}");
//! tovor_sdk::warn!("page {} was empty", page + 1);
//! # }
//! ```
//!
//! Never log secrets: the host redacts the values of secret config fields it knows, but
//! a token you derived from them (a signed header, a session id) is yours to keep out.
//!
//! Outside the host (native unit tests) the lines go to stderr instead.

pub use crate::bindings::shop::tovor::connector::log::Level;
/// The macros, also reachable as `tovor_sdk::info!` and so on.
pub use crate::{debug, error, info, trace, warn};

/// Logs `message` at `level`.
pub fn log(level: Level, message: impl AsRef<str>) {
    emit(level, message.as_ref());
}

/// Logs at `trace` level.
pub fn trace(message: impl AsRef<str>) {
    emit(Level::Trace, message.as_ref());
}

/// Logs at `debug` level.
pub fn debug(message: impl AsRef<str>) {
    emit(Level::Debug, message.as_ref());
}

/// Logs at `info` level.
pub fn info(message: impl AsRef<str>) {
    emit(Level::Info, message.as_ref());
}

/// Logs at `warn` level.
pub fn warn(message: impl AsRef<str>) {
    emit(Level::Warn, message.as_ref());
}

/// Logs at `error` level.
pub fn error(message: impl AsRef<str>) {
    emit(Level::Error, message.as_ref());
}

#[cfg(target_arch = "wasm32")]
fn emit(level: Level, message: &str) {
    crate::bindings::shop::tovor::connector::log::log(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
fn emit(level: Level, message: &str) {
    eprintln!("[{level:?}] {message}");
}

/// Logs at `trace` level with `format!` arguments.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log::trace(::std::format!($($arg)+)) };
}

/// Logs at `debug` level with `format!` arguments.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log::debug(::std::format!($($arg)+)) };
}

/// Logs at `info` level with `format!` arguments.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log::info(::std::format!($($arg)+)) };
}

/// Logs at `warn` level with `format!` arguments.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log::warn(::std::format!($($arg)+)) };
}

/// Logs at `error` level with `format!` arguments.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log::error(::std::format!($($arg)+)) };
}
