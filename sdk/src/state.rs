//! A small key-value store per connector account, kept by the host in its database: it
//! survives restarts and reloads. For OAuth access and rotating refresh tokens, cursors
//! and cached ids.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tovor_sdk::state;
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Tokens {
//!     access: String,
//!     refresh: String,
//! }
//!
//! # fn main() -> Result<(), tovor_sdk::types::ConnectorError> {
//! // Sealed: encrypted at rest like the account's secrets.
//! state::set_json_sealed("oauth", &Tokens { access: "a".into(), refresh: "r".into() })?;
//! let tokens: Option<Tokens> = state::get_json("oauth")?;
//! assert_eq!(tokens.map(|t| t.refresh).as_deref(), Some("r"));
//! state::set_text("cursor", "page-7")?;
//! assert_eq!(state::get_text("cursor")?.as_deref(), Some("page-7"));
//! state::delete("cursor")?;
//! assert_eq!(state::get("cursor")?, None);
//! # Ok(())
//! # }
//! ```
//!
//! Keys are 1 to 200 bytes of printable ASCII; the host caps the size of a value and of
//! an account's values together. Outside the host (native unit tests) the values live in
//! memory, per thread, under the same key rules, so code that uses state can be tested.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::host::tovor::connector::state as raw;
use crate::types::ConnectorError;

/// The longest key the host accepts, in bytes.
pub const MAX_KEY_LEN: usize = 200;

/// The value stored under `key`, or `None`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, ConnectorError> {
    check_key(key)?;
    backend::get(key).map_err(|error| map_error(error, key))
}

/// Stores `value` under `key`, in the clear.
pub fn set(key: &str, value: impl AsRef<[u8]>) -> Result<(), ConnectorError> {
    check_key(key)?;
    backend::set(key, value.as_ref(), false).map_err(|error| map_error(error, key))
}

/// Stores `value` under `key`, encrypted at rest like the account's secrets: use it for
/// tokens.
pub fn set_sealed(key: &str, value: impl AsRef<[u8]>) -> Result<(), ConnectorError> {
    check_key(key)?;
    backend::set(key, value.as_ref(), true).map_err(|error| map_error(error, key))
}

/// Stores `value` under `key` (in the clear) only if the value there now is `expected`
/// (`None`: only if there is none), in one atomic step of the host: of concurrent calls
/// racing for the same key, exactly one wins. Returns whether it stored. Most connectors
/// want [`update`], which retries for them.
pub fn compare_and_swap(
    key: &str,
    expected: Option<&[u8]>,
    value: &[u8],
) -> Result<bool, ConnectorError> {
    check_key(key)?;
    backend::compare_and_swap(key, expected, value).map_err(|error| map_error(error, key))
}

/// How often [`update`] reads again after losing a race before it gives up.
const UPDATE_ATTEMPTS: usize = 64;

/// Changes the value under `key` atomically: reads it, lets `change` compute the next
/// value (or refuse with an error, which is returned and stores nothing), and swaps it in
/// only if no other call changed the key meanwhile; otherwise reads again and asks
/// `change` again. For counters and ranges handed out one by one:
///
/// ```
/// use tovor_sdk::state;
///
/// # fn main() -> Result<(), tovor_sdk::types::ConnectorError> {
/// // Take the next number; two concurrent calls never get the same one.
/// let take = || state::update("next-number", |current| {
///     let next = current
///         .and_then(|bytes| std::str::from_utf8(bytes).ok()?.parse::<u64>().ok())
///         .unwrap_or(1);
///     Ok(((next + 1).to_string().into_bytes(), next))
/// });
/// assert_eq!(take()?, 1);
/// assert_eq!(take()?, 2);
/// # Ok(())
/// # }
/// ```
pub fn update<T>(
    key: &str,
    mut change: impl FnMut(Option<&[u8]>) -> Result<(Vec<u8>, T), ConnectorError>,
) -> Result<T, ConnectorError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let current = get(key)?;
        let (next, outcome) = change(current.as_deref())?;
        if compare_and_swap(key, current.as_deref(), &next)? {
            return Ok(outcome);
        }
    }
    Err(ConnectorError::transient(format!(
        "the state value {key:?} kept changing under {UPDATE_ATTEMPTS} attempts to update it"
    )))
}

/// Removes `key`; a key that is not there is not an error.
pub fn delete(key: &str) -> Result<(), ConnectorError> {
    check_key(key)?;
    backend::delete(key).map_err(|error| map_error(error, key))
}

/// The value under `key` as UTF-8 text; `other` when it is not UTF-8.
pub fn get_text(key: &str) -> Result<Option<String>, ConnectorError> {
    get(key)?
        .map(|bytes| {
            String::from_utf8(bytes).map_err(|_| {
                ConnectorError::other(format!("the state value {key:?} is not UTF-8 text"))
            })
        })
        .transpose()
}

/// Stores text under `key`, in the clear.
pub fn set_text(key: &str, value: &str) -> Result<(), ConnectorError> {
    set(key, value)
}

/// The value under `key` parsed as JSON; `other` when it does not parse as a `T` (a
/// value written by an older version of the connector, say).
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, ConnectorError> {
    get(key)?
        .map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|error| {
                ConnectorError::other(format!(
                    "the state value {key:?} is not the expected JSON: {error}"
                ))
            })
        })
        .transpose()
}

/// Stores `value` as JSON under `key`, in the clear.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), ConnectorError> {
    set(key, to_json(key, value)?)
}

/// Stores `value` as JSON under `key`, sealed (see [`set_sealed`]).
pub fn set_json_sealed<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), ConnectorError> {
    set_sealed(key, to_json(key, value)?)
}

fn to_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, ConnectorError> {
    serde_json::to_vec(value).map_err(|error| {
        ConnectorError::other(format!("cannot serialize the state value {key:?}: {error}"))
    })
}

/// The host's key rules, checked before asking it: 1 to 200 bytes of printable ASCII.
fn check_key(key: &str) -> Result<(), ConnectorError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| (0x20..0x7f).contains(&b))
    {
        return Err(ConnectorError::other(format!(
            "invalid state key {key:?}: use 1 to {MAX_KEY_LEN} bytes of printable ASCII"
        )));
    }
    Ok(())
}

/// A full store or an oversized value is the connector's to fix (`other`); a database
/// that is away for a moment is `transient`.
fn map_error(error: raw::StateError, key: &str) -> ConnectorError {
    use raw::StateError as E;
    match error {
        E::ValueTooLarge(limit) => ConnectorError::other(format!(
            "the state value {key:?} exceeds the host's limit of {limit} bytes"
        )),
        E::QuotaExceeded(quota) => ConnectorError::other(format!(
            "storing {key:?} would exceed the account's state quota of {quota} bytes"
        )),
        E::InvalidKey(message) => {
            ConnectorError::other(format!("invalid state key {key:?}: {message}"))
        }
        E::Unavailable(message) => {
            ConnectorError::transient(format!("the host's state store is unavailable: {message}"))
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod backend {
    use super::raw;

    pub fn get(key: &str) -> Result<Option<Vec<u8>>, raw::StateError> {
        raw::get(key)
    }

    pub fn set(key: &str, value: &[u8], sealed: bool) -> Result<(), raw::StateError> {
        raw::set(key, value, sealed)
    }

    pub fn delete(key: &str) -> Result<(), raw::StateError> {
        raw::delete(key)
    }

    pub fn compare_and_swap(
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> Result<bool, raw::StateError> {
        raw::compare_and_swap(key, expected, value, false)
    }
}

/// Native builds (unit tests): an in-memory store per thread.
#[cfg(not(target_arch = "wasm32"))]
mod backend {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::raw;

    thread_local! {
        static VALUES: RefCell<HashMap<String, Vec<u8>>> = RefCell::new(HashMap::new());
    }

    pub fn get(key: &str) -> Result<Option<Vec<u8>>, raw::StateError> {
        Ok(VALUES.with(|values| values.borrow().get(key).cloned()))
    }

    pub fn set(key: &str, value: &[u8], _sealed: bool) -> Result<(), raw::StateError> {
        VALUES.with(|values| values.borrow_mut().insert(key.to_owned(), value.to_vec()));
        Ok(())
    }

    pub fn delete(key: &str) -> Result<(), raw::StateError> {
        VALUES.with(|values| values.borrow_mut().remove(key));
        Ok(())
    }

    pub fn compare_and_swap(
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> Result<bool, raw::StateError> {
        Ok(VALUES.with(|values| {
            let mut values = values.borrow_mut();
            if values.get(key).map(Vec::as_slice) != expected {
                return false;
            }
            values.insert(key.to_owned(), value.to_vec());
            true
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    #[test]
    fn values_round_trip() {
        assert_eq!(get("k").unwrap(), None);
        set("k", b"v1").unwrap();
        assert_eq!(get("k").unwrap().as_deref(), Some(&b"v1"[..]));
        set_sealed("k", "v2").unwrap();
        assert_eq!(get_text("k").unwrap().as_deref(), Some("v2"));
        delete("k").unwrap();
        delete("k").unwrap();
        assert_eq!(get("k").unwrap(), None);
        set_json("j", &serde_json::json!({"n": 1})).unwrap();
        let value: Option<serde_json::Value> = get_json("j").unwrap();
        assert_eq!(value.unwrap()["n"], 1);
        let wrong = get_json::<Vec<u32>>("j").unwrap_err();
        assert_eq!(wrong.kind, ErrorKind::Other);
        set("bin", [0xff, 0xfe]).unwrap();
        assert!(get_text("bin").is_err());
    }

    #[test]
    fn compare_and_swap_stores_only_over_the_expected_value() {
        assert!(!compare_and_swap("cas", Some(b"x"), b"1").unwrap());
        assert!(compare_and_swap("cas", None, b"1").unwrap());
        assert!(!compare_and_swap("cas", None, b"2").unwrap());
        assert!(!compare_and_swap("cas", Some(b"0"), b"2").unwrap());
        assert!(compare_and_swap("cas", Some(b"1"), b"2").unwrap());
        assert_eq!(get("cas").unwrap().as_deref(), Some(&b"2"[..]));
    }

    #[test]
    fn update_refuses_without_storing_and_retries_a_lost_race() {
        let refused: Result<(), _> =
            update("counter", |_| Err(ConnectorError::other("range used up")));
        assert_eq!(refused.unwrap_err().message, "range used up");
        assert_eq!(get("counter").unwrap(), None);
        // Another call changes the value between this call's read and its swap once.
        let mut raced = false;
        let taken = update("counter", |current| {
            if !raced {
                raced = true;
                set("counter", b"7").unwrap();
            }
            let now: u32 = current.map_or(0, |bytes| bytes[0].into());
            Ok((vec![b'8'], now))
        })
        .unwrap();
        assert_eq!(taken, u32::from(b'7'));
        assert_eq!(get("counter").unwrap().as_deref(), Some(&b"8"[..]));
    }

    #[test]
    fn keys_follow_the_host_rules() {
        for bad in ["", "tab\tkey", "ključ", &"k".repeat(201)] {
            assert!(set(bad, "v").is_err(), "{bad:?}");
            assert!(get(bad).is_err(), "{bad:?}");
        }
        set(&"k".repeat(200), "v").unwrap();
        set("oauth:refresh token/1", "v").unwrap();
    }

    #[test]
    fn host_errors_map_to_kinds() {
        let kind = |error| map_error(error, "k").kind;
        assert_eq!(
            kind(raw::StateError::ValueTooLarge(65536)),
            ErrorKind::Other
        );
        assert_eq!(
            kind(raw::StateError::QuotaExceeded(1 << 20)),
            ErrorKind::Other
        );
        assert_eq!(
            kind(raw::StateError::InvalidKey("x".into())),
            ErrorKind::Other
        );
        assert_eq!(
            kind(raw::StateError::Unavailable("db".into())),
            ErrorKind::Transient
        );
        assert!(
            map_error(raw::StateError::ValueTooLarge(65536), "k")
                .message
                .contains("65536")
        );
    }
}
