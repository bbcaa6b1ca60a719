//! OAuth 1.0a one-legged signing, exactly as WooCommerce verifies it over plain HTTP
//! (`WC_REST_Authentication::check_oauth_signature` in WooCommerce core).
//!
//! WooCommerce takes the request's query parameters (decoded, as PHP's `$_GET` holds
//! them) without `oauth_signature`, sorts them by name (`strcmp`), RFC 3986-encodes each
//! name and value (`rawurlencode`), joins each pair with `=`, encodes that pair once more
//! and joins the pairs with `%26`. The string to sign is
//! `METHOD&rawurlencode(url without query)&pairs`, the key `consumer_secret&`, and the
//! signature the base64 of the raw HMAC digest. That double encoding is the same string
//! RFC 5849 builds, so a standard signer agrees for the plain names and values we send.
//!
//! The JSON bodies we send are not part of the signature (WooCommerce reads only `$_GET`
//! and form-encoded `$_POST`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};

use tovor_sdk::http::percent_encode;
use tovor_sdk::signature;

/// The method we sign with; WooCommerce also accepts `HMAC-SHA1`.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA256";

/// The `oauth_*` parameters for one request, signature included, to append to
/// `params` (the request's own query parameters, decoded).
pub fn sign_request(
    method: &str,
    url: &str,
    params: &[(String, String)],
    consumer_key: &str,
    consumer_secret: &str,
    timestamp: i64,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut oauth = vec![
        ("oauth_consumer_key".to_owned(), consumer_key.to_owned()),
        ("oauth_timestamp".to_owned(), timestamp.to_string()),
        ("oauth_nonce".to_owned(), nonce.to_owned()),
        (
            "oauth_signature_method".to_owned(),
            SIGNATURE_METHOD.to_owned(),
        ),
    ];
    let mut all: Vec<(String, String)> = params.iter().cloned().chain(oauth.clone()).collect();
    let signature = signature(method, url, &mut all, consumer_secret);
    oauth.push(("oauth_signature".to_owned(), signature));
    oauth
}

/// The HMAC-SHA256 signature of a request with these (decoded) parameters.
pub fn signature(
    method: &str,
    url: &str,
    params: &mut [(String, String)],
    consumer_secret: &str,
) -> String {
    params.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let pairs: Vec<String> = params
        .iter()
        .filter(|(name, _)| name != "oauth_signature")
        .map(|(name, value)| {
            percent_encode(&format!(
                "{}={}",
                percent_encode(name),
                percent_encode(value)
            ))
        })
        .collect();
    let base = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(url),
        pairs.join("%26")
    );
    signature::hmac_sha256_base64(format!("{consumer_secret}&"), base)
}

/// A fresh nonce: 32 hex characters. WooCommerce refuses a nonce it has seen in the
/// last 15 minutes, so it must not repeat; the guest has no RNG crate, but std's
/// `RandomState` is seeded from the host's random source (WASI `random`), and the clock
/// and a counter make collisions within one instance impossible.
pub fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let random = hasher.finish();
    let now = tovor_sdk::time::now().unix_timestamp_nanos();
    let digest = signature::hmac_sha256(random.to_le_bytes(), now.to_le_bytes());
    digest.iter().take(16).fold(String::new(), |mut out, byte| {
        out.push_str(&format!("{byte:02x}"));
        out
    })
}
