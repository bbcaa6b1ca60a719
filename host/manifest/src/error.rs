use std::path::PathBuf;

/// Why a `plugin.toml` was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The text is not TOML, or does not fit the manifest's shape (unknown key, wrong
    /// type, missing key, unknown kind, bad semver). toml's message carries the line.
    #[error("{0}")]
    Syntax(#[from] toml::de::Error),
    /// The TOML fits the shape but breaks a rule.
    #[error("`{key}`: {message}")]
    Invalid {
        /// Where, as a dotted path: `plugin.id`, `config.country.options`, `egress.allow`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ManifestError {
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}
