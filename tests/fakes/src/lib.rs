//! Fake shop platforms that speak the real platforms' APIs on 127.0.0.1.
//!
//! Each fake keeps its shop in memory (products, variations, orders, stock), answers the
//! platform's REST paths with the platform's authentication, pagination headers and
//! error bodies, and sends webhook deliveries signed and headed exactly like the real
//! platform's. Failure modes (down, 429) are switched on from the test.
//!
//! Used by the end-to-end tests and benchmarks in `tests/`, and by `tovor demo`, which
//! runs the WooCommerce fake as a demo shop.

pub mod shopify;
pub mod woocommerce;
