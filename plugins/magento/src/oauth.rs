//! OAuth 1.0a request signing (RFC 5849) as Magento verifies it for integrations.
//!
//! Since Magento 2.4.4 an integration's access token is no longer accepted as a Bearer
//! token unless the admin turns on *Stores › Configuration › Services › OAuth ›
//! Consumer Settings › Allow OAuth Access Tokens to be used as standalone Bearer
//! tokens*; the default for integrations is a signed request. Magento
//! (`Magento\Framework\Oauth\Helper\Request::prepareRequest`) collects the `oauth_*`
//! parameters of the `Authorization: OAuth ...` header and every query parameter, each
//! name and value `urldecode`d from the raw query string (so the bracketed
//! `searchCriteria[filter_groups][0][filters][0][field]` is one flat name), and checks
//! the signature with `Laminas\OAuth\Signature\Hmac`:
//!
//! - each name and value is encoded with `rawurlencode` (RFC 3986: all but
//!   `A-Z a-z 0-9 - . _ ~`), the pairs sorted by encoded name and joined `name=value`
//!   with `&` (Laminas sorts names with `strnatcmp`; for our names, whose only digit
//!   runs are the single-digit indexes of `searchCriteria`, that is the byte order
//!   RFC 5849 asks for);
//! - the base string is `METHOD&enc(scheme://host[:port]/path)&enc(pairs)`, the URL
//!   without query, default ports dropped, host lower-cased;
//! - the key is `enc(consumer_secret)&enc(token_secret)`, the signature the base64 of
//!   the raw HMAC-SHA256 (or HMAC-SHA1) digest.
//!
//! A JSON body is not part of the signature (only form-encoded bodies are).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};

use tovor_sdk::http::percent_encode;
use tovor_sdk::signature;

/// The method we sign with; Magento also accepts `HMAC-SHA1`.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA256";

/// The four secrets of an integration (Magento's *System › Integrations › Integration
/// Info*: consumer key and secret, access token and access token secret).
#[derive(Clone)]
pub struct Credentials {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub token: String,
    pub token_secret: String,
}

/// The `Authorization` header for one request. `params` are the request's query
/// parameters, decoded; `url` is the URL without the query.
pub fn authorization(
    credentials: &Credentials,
    method: &str,
    url: &str,
    params: &[(String, String)],
    timestamp: i64,
    nonce: &str,
) -> String {
    let mut oauth = vec![
        (
            "oauth_consumer_key".to_owned(),
            credentials.consumer_key.clone(),
        ),
        ("oauth_nonce".to_owned(), nonce.to_owned()),
        (
            "oauth_signature_method".to_owned(),
            SIGNATURE_METHOD.to_owned(),
        ),
        ("oauth_timestamp".to_owned(), timestamp.to_string()),
        ("oauth_token".to_owned(), credentials.token.clone()),
        ("oauth_version".to_owned(), "1.0".to_owned()),
    ];
    let all: Vec<(String, String)> = params.iter().cloned().chain(oauth.clone()).collect();
    let signature = sign(
        SIGNATURE_METHOD,
        method,
        url,
        &all,
        &credentials.consumer_secret,
        &credentials.token_secret,
    );
    oauth.push(("oauth_signature".to_owned(), signature));
    let fields: Vec<String> = oauth
        .iter()
        .map(|(name, value)| format!("{}=\"{}\"", percent_encode(name), percent_encode(value)))
        .collect();
    format!("OAuth {}", fields.join(","))
}

/// The signature base string of RFC 5849 §3.4.1.
pub fn base_string(method: &str, url: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|(name, _)| name != "oauth_signature")
        .map(|(name, value)| (percent_encode(name), percent_encode(value)))
        .collect();
    encoded.sort();
    let pairs: Vec<String> = encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(&normalize_url(url)),
        percent_encode(&pairs.join("&"))
    )
}

/// The base string URI (RFC 5849 §3.4.1.2): scheme and host lower case, default port
/// dropped, no query or fragment; the path as sent.
pub fn normalize_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    let Some((scheme, rest)) = without_query.split_once("://") else {
        return without_query.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(index) => rest.split_at(index),
        None => (rest, "/"),
    };
    let mut authority = authority.to_ascii_lowercase();
    for (default_scheme, port) in [("http", ":80"), ("https", ":443")] {
        if scheme == default_scheme && authority.ends_with(port) {
            authority.truncate(authority.len() - port.len());
        }
    }
    format!("{scheme}://{authority}{path}")
}

/// The base64 HMAC signature of a request with these (decoded) parameters, which may
/// include the `oauth_*` ones (an `oauth_signature` among them is left out).
/// `signature_method` is `HMAC-SHA256` or `HMAC-SHA1`.
pub fn sign(
    signature_method: &str,
    method: &str,
    url: &str,
    params: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let key = format!(
        "{}&{}",
        percent_encode(consumer_secret),
        percent_encode(token_secret)
    );
    let base = base_string(method, url, params);
    if signature_method.eq_ignore_ascii_case("HMAC-SHA1") {
        base64_of(&signature::hmac_sha1(key, base))
    } else {
        signature::hmac_sha256_base64(key, base)
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A fresh nonce: 32 hex characters. Magento refuses a nonce it has seen before for
/// the same consumer; std's `RandomState` is seeded from the host's random source,
/// and the clock and a counter keep nonces of one instance apart.
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
