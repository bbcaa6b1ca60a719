//! The sandbox probe: a shop connector whose `get-order` does what the order id says,
//! so tests can watch the host contain a misbehaving plugin.
//!
//! - `ok`: returns a small order.
//! - `spin`: loops forever.
//! - `hog`: allocates until something stops it.
//! - `panic`: panics (a trap).
//! - `fetch`: GETs the configured `target` URL and returns the status as the order number
//!   and the body as the customer note.
//! - `fetch:URL`: GETs that URL instead.
//! - `fetch-many`: GETs `target` until the host refuses.

use tovor_sdk::http::Request;
use tovor_sdk::shop::{ShopCapabilities, ShopInfo};
use tovor_sdk::types::{ConnectorError, Order, OrderStatus, PaymentStatus};
use tovor_sdk::{Config, Shop};

struct Probe;

impl Shop for Probe {
    fn describe() -> ShopInfo {
        ShopInfo {
            platform: "Probe".into(),
            capabilities: ShopCapabilities::empty(),
        }
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        match id.as_str() {
            "ok" => Ok(order("1", None)),
            "spin" => spin(),
            "hog" => hog(),
            "panic" => panic!("the probe panics on purpose"),
            "fetch" => fetch(config.require("target")?),
            "fetch-many" => {
                let target = config.require("target")?;
                loop {
                    fetch(target)?;
                }
            }
            other => match other.strip_prefix("fetch:") {
                Some(url) => fetch(url),
                None => Err(ConnectorError::NotFound(format!(
                    "no probe action {other:?}"
                ))),
            },
        }
    }
}

fn fetch(url: &str) -> Result<Order, ConnectorError> {
    let response = Request::get(url).send()?;
    let body = String::from_utf8_lossy(&response.body).into_owned();
    Ok(order(&response.status.to_string(), Some(body)))
}

fn spin() -> ! {
    let mut counter: u64 = 0;
    loop {
        // black_box keeps the optimiser from proving the loop pointless.
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

fn hog() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
    }
}

fn order(number: &str, note: Option<String>) -> Order {
    Order {
        id: number.into(),
        number: number.into(),
        status: OrderStatus::Pending,
        status_raw: "pending".into(),
        payment_status: PaymentStatus::Unpaid,
        payment_method: None,
        currency: "EUR".into(),
        prices_include_tax: false,
        created_at: "2026-11-28T00:00:00Z".into(),
        modified_at: "2026-11-28T00:00:00Z".into(),
        paid_at: None,
        customer: None,
        billing: None,
        shipping: None,
        lines: Vec::new(),
        shipping_lines: Vec::new(),
        fees: Vec::new(),
        coupons: Vec::new(),
        discount_total: "0".into(),
        shipping_total: "0".into(),
        tax_total: "0".into(),
        total: "0".into(),
        refunds: Vec::new(),
        customer_note: note,
        pickup_point: None,
    }
}

tovor_sdk::export_shop!(Probe);
