//! Typed failures of loading and calling plugins.

use std::path::PathBuf;
use std::time::Duration;

use crate::model::{ConnectorError, ErrorKind};

/// Why a plugin could not be loaded. The previous version, if any, keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugin files at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bad manifest {path}: {source}")]
    Manifest {
        path: PathBuf,
        #[source]
        source: tovor_manifest::ManifestError,
    },
    #[error(
        "plugin {plugin} was built for contract {contract}, which this host does not speak (supported: {supported})"
    )]
    UnsupportedContract {
        plugin: String,
        contract: semver::Version,
        supported: String,
    },
    #[error(
        "plugin {plugin}: its manifest says contract {manifest}, but its component was built against {component}"
    )]
    ContractMismatch {
        plugin: String,
        manifest: semver::Version,
        component: semver::Version,
    },
    #[error("plugin {plugin}: {path} is not a valid WebAssembly component: {message}")]
    InvalidWasm {
        plugin: String,
        path: PathBuf,
        message: String,
    },
    #[error("plugin {plugin} imports something the host does not grant: {message}")]
    UnsatisfiedImport { plugin: String, message: String },
    #[error("plugin {plugin} declares kind {kind} but does not export the {kind} world: {message}")]
    WorldMismatch {
        plugin: String,
        kind: tovor_manifest::Kind,
        message: String,
    },
    #[error("plugin {plugin} loads but fails when called: {message}")]
    Broken { plugin: String, message: String },
    #[error("plugin id {plugin} is used by both {first} and {second}")]
    DuplicateId {
        plugin: String,
        first: PathBuf,
        second: PathBuf,
    },
}

pub use tovor_runtime_http::HttpFailure;

/// Why a plugin call failed. Every variant says which plugin; the caller decides from
/// the variant whether to retry.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("no plugin with id {0} is loaded")]
    PluginNotFound(String),
    #[error("plugin {plugin} is a {actual} connector, not a {expected} connector")]
    WrongKind {
        plugin: String,
        expected: tovor_manifest::Kind,
        actual: tovor_manifest::Kind,
    },
    #[error(
        "plugin {plugin}: the shop's configuration does not give a usable allow-list: {message}"
    )]
    Config { plugin: String, message: String },
    /// The connector ran and reported a failure of its own.
    #[error("plugin {plugin}: {error}")]
    Connector {
        plugin: String,
        error: ConnectorError,
    },
    /// The connector answered with an order that breaks the contract.
    #[error("plugin {plugin}: {error}")]
    BadOrder {
        plugin: String,
        error: crate::model::ConvertError,
    },
    #[error("plugin {plugin} was refused egress to {url}: {reason}")]
    EgressDenied {
        plugin: String,
        url: String,
        reason: String,
    },
    #[error("plugin {plugin}: request to {url} failed: {failure}")]
    Http {
        plugin: String,
        url: String,
        failure: HttpFailure,
    },
    #[error("plugin {plugin} trapped: {message}")]
    Trap { plugin: String, message: String },
    #[error("plugin {plugin} ran out of time after {limit:?}")]
    Timeout { plugin: String, limit: Duration },
    #[error("plugin {plugin} exceeded its memory limit of {limit_bytes} bytes")]
    OutOfMemory { plugin: String, limit_bytes: u64 },
    #[error("plugin {plugin} could not be instantiated: {message}")]
    Instantiate { plugin: String, message: String },
}

impl CallError {
    /// Whether trying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Connector { error, .. } => {
                matches!(error.kind, ErrorKind::RateLimited | ErrorKind::Transient)
            }
            CallError::Http { failure, .. } => {
                matches!(failure, HttpFailure::Timeout | HttpFailure::Connection(_))
            }
            CallError::Timeout { .. } | CallError::Instantiate { .. } => true,
            _ => false,
        }
    }

    /// The connector's own error, when the call failed with one.
    pub fn connector_error(&self) -> Option<&ConnectorError> {
        match self {
            CallError::Connector { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether the connector refused the call as something it cannot do (a capability
    /// it does not have included).
    pub fn is_unsupported(&self) -> bool {
        self.connector_error()
            .is_some_and(|error| error.kind == ErrorKind::Unsupported)
    }

    /// How long the platform asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Connector { error, .. } => error.retry_after,
            _ => None,
        }
    }
}
