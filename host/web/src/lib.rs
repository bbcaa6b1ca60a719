//! The web admin: what merchants and operators use in a browser, served by
//! `tovor serve` itself.
//!
//! Pages are rendered on the server from askama templates (`templates/`), checked at
//! compile time; the little JavaScript there is (htmx, vendored in `static/`) only
//! improves pages that work without it. Every page reads and writes through the same
//! store and rules as the API (`tovor_server`), and every action goes through the same
//! functions the API's handlers call: the admin has no rule of its own.
//!
//! - [`session`]: the session cookie, who is signed in, the company a page is about
//!   and the person's role there, the CSRF check on forms.
//! - [`i18n`]: every text in English and Slovenian.
//! - [`page`]: the frame around every page, and how values are written.
//! - [`pages`]: one module per screen.

pub mod error;
pub mod i18n;
pub mod page;
pub mod pages;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tovor_server::{AppState, Server};

const STYLE: &str = include_str!("../static/style.css");
const HTMX: &str = include_str!("../static/htmx-2.0.11.min.js");
const ADMIN_JS: &str = include_str!("../static/admin.js");

async fn style() -> impl IntoResponse {
    static_file("text/css; charset=utf-8", STYLE)
}

/// Any other address: the admin's "not found" page.
async fn not_found() -> error::WebError {
    error::WebError::not_found()
}

async fn admin_js() -> impl IntoResponse {
    static_file("text/javascript; charset=utf-8", ADMIN_JS)
}

async fn htmx() -> impl IntoResponse {
    static_file("text/javascript; charset=utf-8", HTMX)
}

fn static_file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
}

/// Headers on every page: no framing by other sites (a PDF is framed by our own pages), no guessing of content types,
/// no referrer leaving the service, and scripts only from the service itself.
async fn page_headers(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let had_flash = session::cookie(request.headers(), session::FLASH_COOKIE).is_some();
    let mut response = next.run(request).await;
    // A message is shown once: by the first page that is not itself a redirect.
    if had_flash && !response.status().is_redirection() {
        response.headers_mut().append(
            header::SET_COOKIE,
            session::set_cookie(&state, session::FLASH_COOKIE, "", time::Duration::ZERO),
        );
    }
    let headers = response.headers_mut();
    let set = [
        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'self'",
        ),
    ];
    for (name, value) in set {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}

/// The admin's routes.
pub fn router(state: Arc<AppState>) -> Router {
    use pages::{account, dashboard, documents, orders, people, shipping, shop_form, shops, stock};
    Router::new()
        .route("/", get(account::home))
        .route(
            "/sign-in",
            get(account::sign_in_page).post(account::sign_in),
        )
        .route("/sign-out", post(account::sign_out))
        .route("/setup", get(account::setup_page).post(account::setup))
        .route("/me/language", post(account::switch_language))
        .route("/c/{company}", get(dashboard::dashboard))
        .route("/c/{company}/orders", get(orders::list))
        .route("/c/{company}/orders/{order}", get(orders::show))
        .route("/c/{company}/orders/{order}/documents", post(orders::issue))
        .route("/c/{company}/documents", get(documents::list))
        .route("/c/{company}/documents/{document}", get(documents::show))
        .route("/c/{company}/documents/{document}/pdf", get(documents::pdf))
        .route(
            "/c/{company}/documents/{document}/einvoice",
            get(documents::einvoice),
        )
        .route(
            "/c/{company}/documents/{document}/cancel",
            post(documents::cancel),
        )
        .route(
            "/c/{company}/documents/{document}/credit-notes",
            post(documents::credit_note),
        )
        .route(
            "/c/{company}/documents/{document}/send",
            post(documents::send),
        )
        .route("/c/{company}/shipping", get(shipping::show))
        .route("/c/{company}/shipping/shipments", post(shipping::ship))
        .route("/c/{company}/shipping/labels", post(shipping::labels))
        .route("/c/{company}/shipping/{shipment}", get(shipping::shipment))
        .route(
            "/c/{company}/shipping/{shipment}/label",
            get(shipping::label),
        )
        .route(
            "/c/{company}/shipping/{shipment}/track",
            post(shipping::track),
        )
        .route(
            "/c/{company}/shipping/{shipment}/cancel",
            post(shipping::cancel),
        )
        .route(
            "/c/{company}/shipping/{shipment}/resolve",
            post(shipping::resolve),
        )
        .route(
            "/c/{company}/carriers/new",
            get(shipping::new_carrier).post(shipping::create),
        )
        .route(
            "/c/{company}/carriers/{carrier}",
            get(shipping::carrier).post(shipping::update),
        )
        .route("/c/{company}/stock", get(stock::show))
        .route("/c/{company}/stock/receipts", post(stock::receive))
        .route("/c/{company}/stock/shops/{shop}/link", post(stock::link))
        .route("/c/{company}/shops", get(shops::list))
        .route(
            "/c/{company}/shops/new",
            get(shop_form::new).post(shop_form::create),
        )
        .route(
            "/c/{company}/shops/{shop}",
            get(shop_form::show).post(shop_form::update),
        )
        .route(
            "/c/{company}/shops/{shop}/enabled",
            post(shop_form::set_enabled),
        )
        .route(
            "/c/{company}/shops/{shop}/history",
            post(shop_form::history),
        )
        .route("/c/{company}/shops/{shop}/sync", post(shops::sync_now))
        .route(
            "/c/{company}/shops/{shop}/payment-methods",
            get(shops::payment_methods),
        )
        .route(
            "/c/{company}/shops/{shop}/payment-methods/{code}",
            post(shops::map_payment_method),
        )
        .route(
            "/c/{company}/shops/{shop}/deliveries",
            get(shops::deliveries),
        )
        .route(
            "/c/{company}/shops/{shop}/deliveries/{delivery}/retry",
            post(shops::retry_delivery),
        )
        .route("/c/{company}/people", get(people::show).post(people::add))
        .route("/c/{company}/people/{user}/role", post(people::change_role))
        .route("/c/{company}/people/{user}/remove", post(people::remove))
        .route("/c/{company}/people/tokens", post(people::new_token))
        .route(
            "/c/{company}/people/tokens/{token}/revoke",
            post(people::revoke),
        )
        .route(
            "/operator/companies",
            get(people::companies).post(people::create_company),
        )
        .route(
            "/operator/companies/people",
            post(people::add_company_person),
        )
        .route(
            "/operator/plugins",
            get(people::plugins)
                .post(people::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    tovor_server::api::admin::MAX_PLUGIN_UPLOAD_BYTES,
                )),
        )
        .route("/operator/plugins/{plugin}/reload", post(people::reload))
        .route("/operator/users/password", post(people::reset_password))
        .route("/static/admin.js", get(admin_js))
        .route("/static/style.css", get(style))
        .route("/static/htmx-2.0.11.min.js", get(htmx))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            page_headers,
        ))
        .layer(axum::middleware::from_fn(error::with_language))
        .with_state(state)
}

/// The whole service: the API, the webhook intake and the admin.
pub fn app(server: &Server) -> Router {
    server.router().merge(router(server.state().clone()))
}
