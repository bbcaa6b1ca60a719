//! What can go wrong in the service, and whether trying again may help.

use tovor_runtime::CallError;
use tovor_runtime::ErrorKind;
use tovor_runtime::model::ConvertError;
use tovor_store::StoreError;

use crate::secrets::SecretError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Convert(#[from] ConvertError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Config(tovor_manifest::ConfigErrors),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unavailable(String),
}

impl ServiceError {
    /// Whether the same work may succeed later (the platform or database was busy,
    /// down or slow), as opposed to a problem with the data itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            // Credentials can be fixed and a missing plugin installed: worth waiting
            // for. A missing order or refused input will not change by itself.
            Self::Call(error) => {
                error.is_retryable()
                    || matches!(error, CallError::PluginNotFound(_))
                    || error
                        .connector_error()
                        .is_some_and(|error| error.kind == ErrorKind::Auth)
            }
            Self::Store(StoreError::Database(_)) => true,
            Self::Unavailable(_) => true,
            _ => false,
        }
    }

    /// How long the platform asked to wait, if it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Call(error) => error.retry_after(),
            _ => None,
        }
    }
}
