//! Fake shop platforms and parcel carriers that speak the real platforms' APIs on 127.0.0.1.
//!
//! Each shop fake keeps its shop in memory (products, variations, orders, stock), answers
//! the platform's REST paths with the platform's authentication, pagination headers and
//! error bodies, and sends webhook deliveries signed and headed exactly like the real
//! platform's. Each carrier fake keeps its parcels, answers with the carrier's own
//! shapes (faults and error lists with HTTP 200 included) and serves real PDF labels.
//! Failure modes (down, 429, slow answers) are switched on from the test.
//!
//! Used by the end-to-end tests and benchmarks in `tests/`, and by `tovor serve --demo`,
//! which runs the WooCommerce fake as a demo shop.

pub mod bigcommerce;
pub mod dpd;
pub mod gls;
pub mod magento;
pub mod metakocka;
pub mod packeta;
pub mod posta;
pub mod prestashop;
pub mod shopify;
pub mod shoptet;
pub mod stripe;
pub mod webhook;
pub mod wix;
pub mod woocommerce;

/// Serves a fake's `app` on `listener` until the test's runtime ends; a server that stops
/// early says so in the log, named after the platform it fakes.
pub(crate) fn serve_in_background(
    platform: &'static str,
    listener: tokio::net::TcpListener,
    app: axum::Router,
) {
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, platform, "a fake platform stopped");
        }
    });
}
