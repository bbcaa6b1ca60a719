//! Webhook signatures: HMAC-SHA256 and HMAC-SHA1, checked in constant time.
//!
//! Most platforms sign the raw webhook body with a shared secret and send the MAC in a
//! header, base64- or hex-encoded. Always verify against the raw bytes
//! ([`WebhookRequest::body`](crate::shop::WebhookRequest::body)), never against JSON you
//! re-serialized.
//!
//! ```
//! use tovor_sdk::signature::verify_hmac_sha256_base64;
//!
//! // Shopify: `X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(client secret, body))`.
//! let body = br#"{"id":820982911946154508,"email":"jon@example.com","total_price":"254.98"}"#;
//! let header = "aj4JEgNQJT/489+3GaKmToFJ2u7V59G9QjI733z2kM8=";
//! assert!(verify_hmac_sha256_base64("shpss_0123456789abcdef", body, header));
//! assert!(!verify_hmac_sha256_base64("another secret", body, header));
//! ```
//!
//! The `verify_*` functions decode the signature leniently (surrounding blanks ignored;
//! hex in either case; base64 with or without padding, standard or URL-safe alphabet),
//! then compare with `hmac`'s constant-time `verify_slice`. Strip any scheme prefix
//! (`sha256=`) yourself before calling them.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<Sha1>;

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> [u8; 32] {
    let mut mac = new_mac::<HmacSha256>(key.as_ref());
    mac.update(data.as_ref());
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of `data` under `key`.
pub fn hmac_sha1(key: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> [u8; 20] {
    let mut mac = new_mac::<HmacSha1>(key.as_ref());
    mac.update(data.as_ref());
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 of `data` under `key`, as lowercase hex (to sign outgoing requests, or
/// webhook bodies in tests).
pub fn hmac_sha256_hex(key: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> String {
    hex::encode(hmac_sha256(key, data))
}

/// HMAC-SHA256 of `data` under `key`, as standard base64 with padding.
pub fn hmac_sha256_base64(key: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key, data))
}

/// Whether `signature` is the base64 HMAC-SHA256 of `body` under `secret`
/// (Shopify, WooCommerce, Wix and many more).
pub fn verify_hmac_sha256_base64(
    secret: impl AsRef<[u8]>,
    body: impl AsRef<[u8]>,
    signature: &str,
) -> bool {
    decode_base64(signature)
        .is_some_and(|expected| verify::<HmacSha256>(secret.as_ref(), body.as_ref(), &expected))
}

/// Whether `signature` is the hex HMAC-SHA256 of `body` under `secret` (either case).
pub fn verify_hmac_sha256_hex(
    secret: impl AsRef<[u8]>,
    body: impl AsRef<[u8]>,
    signature: &str,
) -> bool {
    hex::decode(signature.trim())
        .is_ok_and(|expected| verify::<HmacSha256>(secret.as_ref(), body.as_ref(), &expected))
}

/// Whether `signature` is the base64 HMAC-SHA1 of `body` under `secret`.
pub fn verify_hmac_sha1_base64(
    secret: impl AsRef<[u8]>,
    body: impl AsRef<[u8]>,
    signature: &str,
) -> bool {
    decode_base64(signature)
        .is_some_and(|expected| verify::<HmacSha1>(secret.as_ref(), body.as_ref(), &expected))
}

/// Whether `signature` is the hex HMAC-SHA1 of `body` under `secret` (either case).
pub fn verify_hmac_sha1_hex(
    secret: impl AsRef<[u8]>,
    body: impl AsRef<[u8]>,
    signature: &str,
) -> bool {
    hex::decode(signature.trim())
        .is_ok_and(|expected| verify::<HmacSha1>(secret.as_ref(), body.as_ref(), &expected))
}

/// Compares two byte strings in time that depends only on their lengths, for tokens a
/// platform sends in the clear (a shared secret in a header or query parameter).
pub fn constant_time_eq(a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> bool {
    let (a, b) = (a.as_ref(), b.as_ref());
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

fn new_mac<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> M {
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn verify<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8], expected: &[u8]) -> bool {
    let mut mac = new_mac::<M>(key);
    mac.update(data);
    mac.verify_slice(expected).is_ok()
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LARGE_KEY_DATA: &str = "Test Using Larger Than Block-Size Key - Hash Key First";

    #[test]
    fn rfc4231_hmac_sha256() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                LARGE_KEY_DATA.as_bytes(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hex::encode(hmac_sha256(key, data)), expected);
            assert!(verify_hmac_sha256_hex(key, data, expected));
            assert!(verify_hmac_sha256_hex(key, data, &expected.to_uppercase()));
            let b64 =
                base64::engine::general_purpose::STANDARD.encode(hex::decode(expected).unwrap());
            assert!(verify_hmac_sha256_base64(key, data, &b64));
            assert!(!verify_hmac_sha256_hex(key, b"other data", expected));
        }
    }

    #[test]
    fn rfc2202_hmac_sha1() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b617318655057264e28bc0b6fb378c8ef146be00",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            ),
            (
                &[0xaa; 80],
                LARGE_KEY_DATA.as_bytes(),
                "aa4ae5e15272d00e95705637ce8a3b55ed402112",
            ),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hex::encode(hmac_sha1(key, data)), expected);
            assert!(verify_hmac_sha1_hex(key, data, expected));
            let b64 =
                base64::engine::general_purpose::STANDARD.encode(hex::decode(expected).unwrap());
            assert!(verify_hmac_sha1_base64(key, data, &b64));
            assert!(!verify_hmac_sha1_base64(b"wrong", data, &b64));
        }
        assert!(verify_hmac_sha1_base64(
            "key",
            "body",
            "cLv2gZ0QN6qUyn5/U3y+ol/kkoM="
        ));
        assert!(verify_hmac_sha1_hex(
            "key",
            "body",
            "70bbf6819d1037aa94ca7e7f537cbea25fe49283"
        ));
    }

    #[test]
    fn shopify_style_header() {
        let body = br#"{"id":820982911946154508,"email":"jon@example.com","total_price":"254.98"}"#;
        let header = "aj4JEgNQJT/489+3GaKmToFJ2u7V59G9QjI733z2kM8=";
        assert!(verify_hmac_sha256_base64(
            "shpss_0123456789abcdef",
            body,
            header
        ));
        assert!(verify_hmac_sha256_base64(
            "shpss_0123456789abcdef",
            body,
            &format!(" {header}\n")
        ));
        assert!(verify_hmac_sha256_base64(
            "shpss_0123456789abcdef",
            body,
            header.trim_end_matches('=')
        ));
        assert!(!verify_hmac_sha256_base64(
            "shpss_0123456789abcdeF",
            body,
            header
        ));
        let mut tampered = body.to_vec();
        tampered[10] ^= 1;
        assert!(!verify_hmac_sha256_base64(
            "shpss_0123456789abcdef",
            &tampered,
            header
        ));
    }

    #[test]
    fn encoded_helpers() {
        assert_eq!(
            hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hmac_sha256_base64(
                "wc-webhook-secret",
                br#"{"id":727,"status":"processing","total":"29.35"}"#
            ),
            "VRUbEkDwVCkG/ELVIqn5FxsisR8RuGZdf2k+z65gKeM="
        );
    }

    #[test]
    fn woocommerce_style_header() {
        // WooCommerce: `X-WC-Webhook-Signature: base64(HMAC-SHA256(webhook secret, body))`.
        let body = br#"{"id":727,"status":"processing","total":"29.35"}"#;
        let header = "VRUbEkDwVCkG/ELVIqn5FxsisR8RuGZdf2k+z65gKeM=";
        assert!(verify_hmac_sha256_base64("wc-webhook-secret", body, header));
        assert!(!verify_hmac_sha256_base64(
            "wc-webhook-secret",
            br#"{"id":727}"#,
            header
        ));
    }

    #[test]
    fn malformed_signatures_are_rejected() {
        let body = b"{}";
        for bad in ["", "   ", "not base64!!", "zz", "sha256=abc"] {
            assert!(!verify_hmac_sha256_base64("s", body, bad), "{bad:?}");
            assert!(!verify_hmac_sha256_hex("s", body, bad), "{bad:?}");
            assert!(!verify_hmac_sha1_base64("s", body, bad), "{bad:?}");
            assert!(!verify_hmac_sha1_hex("s", body, bad), "{bad:?}");
        }
        // A truncated MAC must not verify.
        let full = hex::encode(hmac_sha256("s", body));
        assert!(verify_hmac_sha256_hex("s", body, &full));
        assert!(!verify_hmac_sha256_hex("s", body, &full[..32]));
        // A SHA-1 MAC is not a SHA-256 MAC.
        assert!(!verify_hmac_sha256_hex(
            "s",
            body,
            &hex::encode(hmac_sha1("s", body))
        ));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("token", "token"));
        assert!(!constant_time_eq("token", "tokem"));
        assert!(!constant_time_eq("token", "token2"));
        assert!(constant_time_eq("", ""));
    }
}
