//! Secret config fields (API keys, webhook secrets) are sealed before they reach the
//! database and opened only to hand them to a connector call.
//!
//! ChaCha20-Poly1305 with a random nonce per sealing; the sealed text is
//! `v1:<base64(nonce || ciphertext)>`. The key comes from `TOVOR_SECRET_KEY` (64 hex
//! digits), or is generated on first start into `<data-dir>/secret.key`. Processes
//! sharing one PostgreSQL must share the key.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("TOVOR_SECRET_KEY must be 64 hex digits (32 bytes)")]
    BadKey,
    #[error("cannot read or write the secret key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("sealed secrets cannot be opened: {0} (was the secret key changed?)")]
    Open(&'static str),
}

/// Seals and opens shops' secret settings.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn from_key(key: [u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// The key from `TOVOR_SECRET_KEY` when set, else `<data_dir>/secret.key`, created
    /// (readable by the owner only) on first start.
    pub fn load(env_key: Option<&str>, data_dir: &Path) -> Result<Self, SecretError> {
        if let Some(hex_key) = env_key.filter(|key| !key.is_empty()) {
            return Ok(Self::from_key(parse_key(hex_key)?));
        }
        let path = data_dir.join("secret.key");
        let file_error = |source| SecretError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Self::from_key(parse_key(text.trim())?)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                write_private(&path, &hex::encode(key)).map_err(file_error)?;
                Ok(Self::from_key(key))
            }
            Err(error) => Err(file_error(error)),
        }
    }

    /// Seals the secret fields of a config; `None` when there are none.
    pub fn seal(&self, secrets: &BTreeMap<String, String>) -> Option<String> {
        if secrets.is_empty() {
            return None;
        }
        self.seal_bytes(&serde_json::to_vec(secrets).ok()?)
    }

    /// Seals any bytes (a connector's sealed state value).
    pub fn seal_bytes(&self, plain: &[u8]) -> Option<String> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self.cipher.encrypt(&nonce, plain).ok()?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Some(format!("{PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Opens what [`Sealer::seal_bytes`] sealed.
    pub fn open_bytes(&self, sealed: &str) -> Result<Vec<u8>, SecretError> {
        let encoded = sealed
            .strip_prefix(PREFIX)
            .ok_or(SecretError::Open("unknown format"))?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::Open("not base64"))?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Open("too short"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| SecretError::Open("authentication failed"))
    }

    pub fn open(&self, sealed: Option<&str>) -> Result<BTreeMap<String, String>, SecretError> {
        let Some(sealed) = sealed else {
            return Ok(BTreeMap::new());
        };
        let plain = self.open_bytes(sealed)?;
        serde_json::from_slice(&plain).map_err(|_| SecretError::Open("not a field map"))
    }
}

fn parse_key(hex_key: &str) -> Result<[u8; 32], SecretError> {
    let bytes = hex::decode(hex_key).map_err(|_| SecretError::BadKey)?;
    bytes.try_into().map_err(|_| SecretError::BadKey)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> BTreeMap<String, String> {
        [("api_token".to_owned(), "s3cret".to_owned())].into()
    }

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let sealer = Sealer::from_key([7; 32]);
        let sealed = sealer.seal(&secrets()).unwrap();
        assert!(!sealed.contains("s3cret"));
        assert_eq!(sealer.open(Some(&sealed)).unwrap(), secrets());
        let other = Sealer::from_key([8; 32]);
        assert!(matches!(
            other.open(Some(&sealed)),
            Err(SecretError::Open(_))
        ));
    }

    #[test]
    fn each_sealing_uses_a_fresh_nonce() {
        let sealer = Sealer::from_key([7; 32]);
        assert_ne!(sealer.seal(&secrets()), sealer.seal(&secrets()));
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("tovor-secret-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = Sealer::load(None, &dir).unwrap();
        let sealed = first.seal(&secrets()).unwrap();
        let again = Sealer::load(None, &dir).unwrap();
        assert_eq!(again.open(Some(&sealed)).unwrap(), secrets());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
