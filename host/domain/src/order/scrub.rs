//! Control characters in an order a platform sent.
//!
//! Platforms hand over what their users typed, and a U+0000 or an escape code in a name
//! is not rare. PostgreSQL cannot store U+0000 in text at all, and neither database is a
//! place for terminal escapes; an order must still import, the same on both databases.
//! So the host takes such an order with those characters removed; tab and line breaks,
//! which notes and addresses legitimately hold, stay.

use super::{Address, ChargeLine, Customer, LineItem, NormalizedOrder};

/// Whether `c` cannot be kept in a stored text.
pub fn is_unstorable(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// `text` without its unstorable characters (untouched, and not copied, when it has none).
pub fn strip_unstorable(text: &mut String) {
    if text.contains(is_unstorable) {
        text.retain(|c| !is_unstorable(c));
    }
}

fn strip_optional(text: &mut Option<String>) {
    if let Some(text) = text {
        strip_unstorable(text);
    }
}

impl NormalizedOrder {
    /// Removes unstorable characters from every text of the order.
    pub fn strip_unstorable_text(&mut self) {
        for text in [
            &mut self.id,
            &mut self.number,
            &mut self.status_raw,
            &mut self.currency,
        ] {
            strip_unstorable(text);
        }
        if let Some(method) = &mut self.payment_method {
            strip_unstorable(&mut method.code);
            strip_unstorable(&mut method.title);
        }
        if let Some(customer) = &mut self.customer {
            customer.strip_unstorable_text();
        }
        for address in [&mut self.billing, &mut self.shipping]
            .into_iter()
            .flatten()
        {
            address.strip_unstorable_text();
        }
        self.lines
            .iter_mut()
            .for_each(LineItem::strip_unstorable_text);
        self.shipping_lines
            .iter_mut()
            .chain(self.fees.iter_mut())
            .for_each(ChargeLine::strip_unstorable_text);
        self.coupons.iter_mut().for_each(strip_unstorable);
        for refund in &mut self.refunds {
            strip_optional(&mut refund.platform_id);
            strip_optional(&mut refund.reason);
        }
        strip_optional(&mut self.customer_note);
        if let Some(point) = &mut self.pickup_point {
            strip_optional(&mut point.carrier);
            strip_unstorable(&mut point.id);
            strip_optional(&mut point.name);
        }
    }
}

impl Customer {
    fn strip_unstorable_text(&mut self) {
        for text in [
            &mut self.platform_id,
            &mut self.email,
            &mut self.first_name,
            &mut self.last_name,
            &mut self.company,
            &mut self.vat_id,
            &mut self.phone,
        ] {
            strip_optional(text);
        }
    }
}

impl Address {
    fn strip_unstorable_text(&mut self) {
        for text in [
            &mut self.name,
            &mut self.company,
            &mut self.street,
            &mut self.house_number,
            &mut self.line1,
            &mut self.line2,
            &mut self.city,
            &mut self.postal_code,
            &mut self.region,
            &mut self.country,
            &mut self.phone,
            &mut self.email,
        ] {
            strip_optional(text);
        }
    }
}

impl LineItem {
    fn strip_unstorable_text(&mut self) {
        strip_unstorable(&mut self.name);
        for text in [
            &mut self.platform_line_id,
            &mut self.sku,
            &mut self.product_id,
            &mut self.variation_id,
        ] {
            strip_optional(text);
        }
    }
}

impl ChargeLine {
    fn strip_unstorable_text(&mut self) {
        strip_unstorable(&mut self.title);
        strip_optional(&mut self.platform_line_id);
        strip_optional(&mut self.code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::order;

    #[test]
    fn control_characters_go_and_line_breaks_stay() {
        let mut text = "Ana\u{0}\u{1b}[31m Novak\tline\r\nnext".to_owned();
        strip_unstorable(&mut text);
        assert_eq!(text, "Ana[31m Novak\tline\r\nnext");
    }

    #[test]
    fn every_text_of_an_order_is_scrubbed() {
        let mut dirty = order();
        dirty.number.push('\u{0}');
        dirty.lines[0].name.push('\u{0}');
        dirty.lines[0].sku = Some("MUG\u{0}-1".into());
        dirty.customer_note = Some("ring\u{7} twice\n".into());
        if let Some(shipping) = &mut dirty.shipping {
            shipping.city = Some("Ljub\u{0}ljana".into());
        }
        dirty.strip_unstorable_text();
        let json = serde_json::to_string(&dirty).unwrap();
        assert!(
            !json.contains("\\u0000") && !json.contains("\\u0007"),
            "{json}"
        );
        assert_eq!(dirty.lines[0].sku.as_deref(), Some("MUG-1"));
        assert_eq!(dirty.customer_note.as_deref(), Some("ring twice\n"));
    }
}
