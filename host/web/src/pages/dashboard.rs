//! The dashboard: what needs a person's attention today, and the latest orders.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use time::{OffsetDateTime, Time};
use tovor_server::AppState;

use crate::error::WebResult;
use crate::page::{Chrome, render};
use crate::pages::formats;
use crate::pages::orders::{OrderRow, order_rows};
use crate::session::Workplace;

/// One count on the dashboard, with where to look at it.
pub struct Tile {
    pub label: &'static str,
    pub count: i64,
    pub href: String,
    /// Counts of trouble are highlighted when not zero.
    pub trouble: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    page: Chrome,
    tiles: Vec<Tile>,
    all_well: bool,
    rows: Vec<OrderRow>,
    orders_href: String,
    self_href: String,
}

pub async fn dashboard(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let now = OffsetDateTime::now_utc();
    let local_midnight = formats.zone().local(now).replace_time(Time::MIDNIGHT);
    let scope = state.store.company(workplace.company);
    let overview = scope.overview(local_midnight).await?;
    let tile = |label, count, path: &str, trouble| Tile {
        label,
        count,
        href: workplace.link(path),
        trouble: trouble && count > 0,
    };
    let tiles = vec![
        tile(t.orders_today, overview.orders_today, "/orders", false),
        tile(
            t.deliveries_waiting,
            overview.deliveries_waiting,
            "/shops",
            false,
        ),
        tile(
            t.deliveries_failed,
            overview.deliveries_failed,
            "/shops",
            true,
        ),
        tile(
            t.shops_with_errors,
            overview.shops_with_errors,
            "/shops",
            true,
        ),
        tile(t.pushes_failing, overview.pushes_failing, "/stock", true),
        tile(
            t.shipments_attention,
            overview.shipments_attention,
            "/shipping",
            true,
        ),
    ];
    let all_well = tiles.iter().all(|tile| !tile.trouble);
    let latest = scope.orders(None, None, 10).await?;
    let shops = scope.shops().await?;
    let page = DashboardPage {
        page: Chrome::company(&workplace, "dashboard", t.dashboard),
        tiles,
        all_well,
        rows: order_rows(&workplace, &formats, &shops, latest),
        orders_href: workplace.link("/orders"),
        self_href: workplace.link(""),
    };
    Ok(render(&page))
}
