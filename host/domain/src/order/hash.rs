//! The content hash: what makes two deliveries of an order "identical".
//!
//! The hash covers every field of the order, **including `modified_at`**. Two payloads
//! are identical only when they are the same version of the order: a webhook re-delivery
//! or a poll that saw no change. A payload with the same content under a newer
//! `modified_at` is *not* identical, on purpose: if it were a no-op, the stored
//! `modified_at` would stay behind, and a stale version whose time lies between the two
//! could then overwrite the newest content (v1, v3 = v1's content at a later time, then
//! v2: v2 must lose, which it only does when v3's time was recorded). Such a payload
//! costs one overwrite with the same content, or a status-only update with no
//! differences.
//!
//! The encoding is the crate's own, not serde's, so renaming a JSON field or changing
//! the API shape never changes stored hashes. Decimals are compared by value (`"1.50"`
//! equals `"1.5"`), times by instant (whatever offset they came with). Every string is
//! length-prefixed and every optional field tagged, so no two different orders encode to
//! the same bytes. Change [`HASH_VERSION`] when the encoding changes: every stored order
//! then looks changed once and is re-evaluated by the import rules.

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{Address, ChargeLine, Customer, NormalizedOrder};

const HASH_VERSION: &str = "tovor-order-content/2";

/// Hex SHA-256 of the order's canonical encoding (64 lower-case hex digits).
pub fn content_hash(order: &NormalizedOrder) -> String {
    let mut canon = Canon::default();
    canon.str(HASH_VERSION);
    canon.str(&order.id);
    canon.str(&order.number);
    canon.str(order.status.as_str());
    canon.str(&order.status_raw);
    canon.str(order.payment_status.as_str());
    canon.flag(order.payment_method.is_some());
    if let Some(method) = &order.payment_method {
        canon.str(&method.code);
        canon.str(&method.title);
    }
    canon.str(&order.currency);
    canon.flag(order.prices_include_tax);
    canon.time(order.created_at);
    canon.time(order.modified_at);
    canon.opt_time(order.paid_at);
    canon.flag(order.customer.is_some());
    if let Some(customer) = &order.customer {
        canon.customer(customer);
    }
    canon.opt_address(order.billing.as_ref());
    canon.opt_address(order.shipping.as_ref());
    canon.len(order.lines.len());
    for line in &order.lines {
        canon.opt_str(line.platform_line_id.as_deref());
        canon.opt_str(line.sku.as_deref());
        canon.str(&line.name);
        canon.opt_str(line.product_id.as_deref());
        canon.opt_str(line.variation_id.as_deref());
        canon.dec(line.quantity);
        canon.opt_dec(line.ordered_quantity);
        canon.dec(line.unit_price);
        canon.dec(line.discount);
        canon.opt_dec(line.tax_rate);
        canon.dec(line.tax_amount);
        canon.dec(line.total);
    }
    canon.charges(&order.shipping_lines);
    canon.charges(&order.fees);
    canon.len(order.coupons.len());
    for coupon in &order.coupons {
        canon.str(coupon);
    }
    canon.dec(order.discount_total);
    canon.dec(order.shipping_total);
    canon.dec(order.tax_total);
    canon.dec(order.total);
    canon.len(order.refunds.len());
    for refund in &order.refunds {
        canon.opt_str(refund.platform_id.as_deref());
        canon.dec(refund.amount);
        canon.opt_str(refund.reason.as_deref());
        canon.opt_time(refund.created_at);
        canon.len(refund.lines.len());
        for line in &refund.lines {
            canon.opt_str(line.platform_line_id.as_deref());
            canon.opt_str(line.sku.as_deref());
            canon.dec(line.quantity);
            canon.dec(line.amount);
        }
        canon.dec(refund.shipping);
        canon.flag(refund.restock);
    }
    canon.opt_str(order.customer_note.as_deref());
    canon.flag(order.pickup_point.is_some());
    if let Some(point) = &order.pickup_point {
        canon.opt_str(point.carrier.as_deref());
        canon.str(&point.id);
        canon.opt_str(point.name.as_deref());
    }
    hex::encode(canon.digest.finalize())
}

#[derive(Default)]
struct Canon {
    digest: Sha256,
}

impl Canon {
    fn len(&mut self, len: usize) {
        self.digest.update((len as u64).to_be_bytes());
    }

    fn str(&mut self, text: &str) {
        self.len(text.len());
        self.digest.update(text.as_bytes());
    }

    /// A flag: a boolean field, or whether an optional field follows.
    fn flag(&mut self, value: bool) {
        self.digest.update([u8::from(value)]);
    }

    fn opt_str(&mut self, text: Option<&str>) {
        self.flag(text.is_some());
        if let Some(text) = text {
            self.str(text);
        }
    }

    fn dec(&mut self, value: Decimal) {
        self.str(&crate::money::canonical(value));
    }

    fn opt_dec(&mut self, value: Option<Decimal>) {
        self.flag(value.is_some());
        if let Some(value) = value {
            self.dec(value);
        }
    }

    fn time(&mut self, value: OffsetDateTime) {
        self.digest
            .update(value.unix_timestamp_nanos().to_be_bytes());
    }

    fn opt_time(&mut self, value: Option<OffsetDateTime>) {
        self.flag(value.is_some());
        if let Some(value) = value {
            self.time(value);
        }
    }

    fn customer(&mut self, customer: &Customer) {
        for field in [
            &customer.platform_id,
            &customer.email,
            &customer.first_name,
            &customer.last_name,
            &customer.company,
            &customer.vat_id,
            &customer.phone,
        ] {
            self.opt_str(field.as_deref());
        }
    }

    fn opt_address(&mut self, address: Option<&Address>) {
        self.flag(address.is_some());
        let Some(address) = address else { return };
        for field in [
            &address.name,
            &address.company,
            &address.street,
            &address.house_number,
            &address.line1,
            &address.line2,
            &address.city,
            &address.postal_code,
            &address.region,
            &address.country,
            &address.phone,
            &address.email,
        ] {
            self.opt_str(field.as_deref());
        }
    }

    fn charges(&mut self, charges: &[ChargeLine]) {
        self.len(charges.len());
        for charge in charges {
            self.opt_str(charge.platform_line_id.as_deref());
            self.opt_str(charge.code.as_deref());
            self.str(&charge.title);
            self.dec(charge.amount);
            self.opt_dec(charge.tax_rate);
            self.dec(charge.tax_amount);
        }
    }
}
