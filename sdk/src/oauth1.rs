//! OAuth 1.0a request signing (RFC 5849), for platforms that take a signed request
//! instead of a bearer token: WooCommerce over plain HTTP (one-legged: a consumer key
//! and secret, no token) and Magento integrations (consumer and access token, each with
//! its secret).
//!
//! The signature covers the method, the URL without its query, and every query
//! parameter with the `oauth_*` ones: each name and value RFC 3986-encoded, the pairs
//! sorted and joined, the whole encoded once more (§3.4.1). The key is
//! `enc(consumer_secret)&enc(token_secret)`; the signature the base64 of the raw
//! HMAC-SHA256 (or HMAC-SHA1) digest. A JSON body is not signed (only form bodies are).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;

use crate::http::percent_encode;
use crate::signature;

/// The signature method we sign with; both platforms also accept `HMAC-SHA1`.
pub const HMAC_SHA256: &str = "HMAC-SHA256";
pub const HMAC_SHA1: &str = "HMAC-SHA1";

/// Who signs: the consumer, and for three-legged OAuth the access token.
#[derive(Clone)]
pub struct Credentials {
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The access token and its secret; `None` for one-legged signing.
    pub token: Option<(String, String)>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secrets never reach a log.
        f.debug_struct("Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("token", &self.token.as_ref().map(|(token, _)| token))
            .finish_non_exhaustive()
    }
}

/// The `oauth_*` parameters of one request, `oauth_signature` last. `params` are the
/// request's own query parameters, decoded; `url` is the URL without the query.
pub fn signed_params(
    credentials: &Credentials,
    method: &str,
    url: &str,
    params: &[(String, String)],
    timestamp: i64,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut oauth = vec![
        (
            "oauth_consumer_key".to_owned(),
            credentials.consumer_key.clone(),
        ),
        ("oauth_nonce".to_owned(), nonce.to_owned()),
        ("oauth_signature_method".to_owned(), HMAC_SHA256.to_owned()),
        ("oauth_timestamp".to_owned(), timestamp.to_string()),
    ];
    if let Some((token, _)) = &credentials.token {
        oauth.push(("oauth_token".to_owned(), token.clone()));
    }
    oauth.push(("oauth_version".to_owned(), "1.0".to_owned()));
    let all: Vec<(String, String)> = params.iter().cloned().chain(oauth.clone()).collect();
    let token_secret = credentials
        .token
        .as_ref()
        .map(|(_, secret)| secret.as_str())
        .unwrap_or_default();
    let signature = sign(
        HMAC_SHA256,
        method,
        url,
        &all,
        &credentials.consumer_secret,
        token_secret,
    );
    oauth.push(("oauth_signature".to_owned(), signature));
    oauth
}

/// The `Authorization: OAuth ...` header value carrying `oauth` (from [`signed_params`]).
pub fn authorization_header(oauth: &[(String, String)]) -> String {
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
/// `signature_method` is [`HMAC_SHA256`] or [`HMAC_SHA1`].
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
    if signature_method.eq_ignore_ascii_case(HMAC_SHA1) {
        base64::engine::general_purpose::STANDARD.encode(signature::hmac_sha1(key, base))
    } else {
        signature::hmac_sha256_base64(key, base)
    }
}

/// A fresh nonce: 32 hex characters. Platforms refuse a nonce they have seen (WooCommerce
/// within 15 minutes, Magento ever, per consumer); the guest has no RNG crate, but std's
/// `RandomState` is seeded from the host's random source (WASI `random`), and the clock
/// and a counter keep the nonces of one instance apart.
pub fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let random = hasher.finish();
    let now = crate::time::now().unix_timestamp_nanos();
    let digest = signature::hmac_sha256(random.to_le_bytes(), now.to_le_bytes());
    digest.iter().take(16).fold(String::new(), |mut out, byte| {
        out.push_str(&format!("{byte:02x}"));
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn oauth_signature_matches_the_oauth_core_1_0_example() {
        // OAuth Core 1.0 Appendix A.5 (the "photos" example), HMAC-SHA1.
        let params: Vec<(String, String)> = [
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let signature = super::sign(
            "HMAC-SHA1",
            "GET",
            "http://photos.example.net/photos",
            &params,
            "kd94hf93k423kf44",
            "pfkkdhi9sl3r4s00",
        );
        assert_eq!(signature, "tR3+Ty81lMeYAr/Fid0kMTYa/WM=");
    }

    #[test]
    fn oauth_base_string_matches_rfc_5849() {
        // RFC 5849 §3.4.1.1: repeated names, encoded values, an empty value.
        let params: Vec<(String, String)> = [
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("oauth_signature", "left out"),
            ("c2", ""),
            ("a3", "2 q"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(
            super::base_string("POST", "http://EXAMPLE.COM:80/request", &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    #[test]
    fn oauth_hmac_sha256_over_bracketed_search_criteria() {
        // Computed independently (Python's hmac over the RFC 5849 base string).
        let params: Vec<(String, String)> = [
            (
                "searchCriteria[filter_groups][0][filters][0][field]",
                "updated_at",
            ),
            (
                "searchCriteria[filter_groups][0][filters][0][value]",
                "2026-11-28 09:00:00",
            ),
            (
                "searchCriteria[filter_groups][0][filters][0][condition_type]",
                "gteq",
            ),
            ("searchCriteria[pageSize]", "50"),
            ("searchCriteria[currentPage]", "1"),
            ("oauth_consumer_key", "ck"),
            ("oauth_nonce", "abc123"),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", "1764320000"),
            ("oauth_token", "tok"),
            ("oauth_version", "1.0"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let base = super::base_string("GET", "https://shop.example/rest/V1/orders", &params);
        assert!(base.contains(
            "searchCriteria%255BcurrentPage%255D%3D1%26searchCriteria%255Bfilter_groups"
        ));
        assert!(base.contains("2026-11-28%252009%253A00%253A00"));
        let signature = super::sign(
            "HMAC-SHA256",
            "GET",
            "https://shop.example/rest/V1/orders",
            &params,
            "cs+1",
            "ts",
        );
        assert_eq!(signature, "+VdsJpXRed84ZeMT11lR0oqyd+l2g/9JRKMA2nJF4kI=");
    }

    #[test]
    fn the_authorization_header_carries_every_oauth_parameter() {
        let credentials = super::Credentials {
            consumer_key: "ck".into(),
            consumer_secret: "cs".into(),
            token: Some(("tok".into(), "ts".into())),
        };
        let header = super::authorization_header(&super::signed_params(
            &credentials,
            "GET",
            "https://shop.example/rest/V1/orders",
            &[],
            1_764_320_000,
            "n0nce",
        ));
        assert!(header.starts_with("OAuth "), "{header}");
        for part in [
            "oauth_consumer_key=\"ck\"",
            "oauth_token=\"tok\"",
            "oauth_signature_method=\"HMAC-SHA256\"",
            "oauth_timestamp=\"1764320000\"",
            "oauth_nonce=\"n0nce\"",
            "oauth_version=\"1.0\"",
            "oauth_signature=\"",
        ] {
            assert!(header.contains(part), "{part} in {header}");
        }
        assert_ne!(super::nonce(), super::nonce());
    }

    /// WooCommerce's one-legged signature (the vector the fake WooCommerce checks),
    /// computed independently with Python's `hmac` and `urllib.parse.quote(safe='~')`.
    #[test]
    fn one_legged_signature_matches_an_independent_computation() {
        let params: Vec<(String, String)> = [
            ("modified_after", "2025-03-02T09:15:00"),
            ("per_page", "100"),
            ("status", "any"),
            ("oauth_consumer_key", "ck_test"),
            ("oauth_timestamp", "1700000000"),
            ("oauth_nonce", "abc123"),
            ("oauth_signature_method", "HMAC-SHA256"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let signature = super::sign(
            super::HMAC_SHA256,
            "GET",
            "http://127.0.0.1:8080/wp-json/wc/v3/orders",
            &params,
            "cs_test",
            "",
        );
        assert_eq!(signature, "XTqmZe/3MerNz9SPu5AcO7FkU2ruG07n4OD3jncfUQs=");
        // Signed with no token, every parameter is in the query and the signature last.
        let consumer = super::Credentials {
            consumer_key: "ck_test".into(),
            consumer_secret: "cs_test".into(),
            token: None,
        };
        let query = vec![("status".to_owned(), "any".to_owned())];
        let signed = super::signed_params(
            &consumer,
            "GET",
            "http://127.0.0.1:8080/wp-json/wc/v3/orders",
            &query,
            1_700_000_000,
            "abc123",
        );
        assert!(signed.iter().all(|(name, _)| name != "oauth_token"));
        let (last, value) = signed.last().unwrap();
        assert_eq!(last, "oauth_signature");
        let all: Vec<(String, String)> = query.iter().cloned().chain(signed.clone()).collect();
        assert_eq!(
            value,
            &super::sign(
                super::HMAC_SHA256,
                "GET",
                "http://127.0.0.1:8080/wp-json/wc/v3/orders",
                &all,
                "cs_test",
                ""
            )
        );
    }

    #[test]
    fn nonces_do_not_repeat() {
        let a = super::nonce();
        let b = super::nonce();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
