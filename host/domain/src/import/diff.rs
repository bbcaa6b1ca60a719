//! How two versions of an order differ, for the user to see.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money;
use crate::order::{Address, ChargeLine, Customer, LineItem, NormalizedOrder, Refund};

/// One field that differs between the stored order and an incoming version.
///
/// Values are rendered as text: decimals without trailing zeros, absent values (and
/// absent lines) as the empty string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Path of the field (`total`, `billing.city`, `lines[sku=MUG-1].quantity`); a whole
    /// line added or removed is named without a field (`lines[sku=MUG-1]`).
    pub field: String,
    /// The stored value.
    pub stored: String,
    /// The incoming value.
    pub incoming: String,
}

/// Lists how `incoming` differs from `stored` in content: lines, charges, totals,
/// refunds, addresses, customer, payment method, coupons, pickup point and the
/// customer's note.
///
/// Status and timestamps are left out: status applies anyway, timestamps always differ.
///
/// Lines are paired by platform line id, then by SKU (lines with neither by position),
/// so a reordered or inserted line shows as one change, not as every line after it
/// changing. Shipping lines and fees are paired by platform line id, then by code.
pub fn diff(stored: &NormalizedOrder, incoming: &NormalizedOrder) -> Vec<Difference> {
    let mut out = Differences::default();
    out.text("currency", &stored.currency, &incoming.currency);
    out.flag(
        "prices_include_tax",
        stored.prices_include_tax,
        incoming.prices_include_tax,
    );
    out.opt_text(
        "payment_method.code",
        stored
            .payment_method
            .as_ref()
            .map(|method| method.code.as_str()),
        incoming
            .payment_method
            .as_ref()
            .map(|method| method.code.as_str()),
    );
    out.opt_text(
        "payment_method.title",
        stored
            .payment_method
            .as_ref()
            .map(|method| method.title.as_str()),
        incoming
            .payment_method
            .as_ref()
            .map(|method| method.title.as_str()),
    );

    let line_keys: [NamedKey<LineItem>; 2] = [
        ("id", |line| line.platform_line_id.as_deref()),
        ("sku", |line| line.sku.as_deref()),
    ];
    out.list(
        "lines",
        &stored.lines,
        &incoming.lines,
        &line_keys,
        line_fields,
        describe_line,
    );
    let charge_keys: [NamedKey<ChargeLine>; 2] = [
        ("id", |charge| charge.platform_line_id.as_deref()),
        ("code", |charge| charge.code.as_deref()),
    ];
    out.list(
        "shipping_lines",
        &stored.shipping_lines,
        &incoming.shipping_lines,
        &charge_keys,
        charge_fields,
        describe_charge,
    );
    out.list(
        "fees",
        &stored.fees,
        &incoming.fees,
        &charge_keys,
        charge_fields,
        describe_charge,
    );

    out.amount(
        "discount_total",
        stored.discount_total,
        incoming.discount_total,
    );
    out.amount(
        "shipping_total",
        stored.shipping_total,
        incoming.shipping_total,
    );
    out.amount("tax_total", stored.tax_total, incoming.tax_total);
    out.amount("total", stored.total, incoming.total);
    // Refunds the shop recorded: a new one shows as added, with what it was for.
    let refund_keys: [NamedKey<Refund>; 1] = [("id", |refund| refund.platform_id.as_deref())];
    out.list(
        "refunds",
        &stored.refunds,
        &incoming.refunds,
        &refund_keys,
        refund_fields,
        describe_refund,
    );

    out.address(
        "billing",
        stored.billing.as_ref(),
        incoming.billing.as_ref(),
    );
    out.address(
        "shipping",
        stored.shipping.as_ref(),
        incoming.shipping.as_ref(),
    );
    out.customer(stored.customer.as_ref(), incoming.customer.as_ref());

    out.text(
        "coupons",
        &stored.coupons.join(", "),
        &incoming.coupons.join(", "),
    );
    out.text(
        "pickup_point",
        &stored
            .pickup_point
            .as_ref()
            .map(|point| point.id.clone())
            .unwrap_or_default(),
        &incoming
            .pickup_point
            .as_ref()
            .map(|point| point.id.clone())
            .unwrap_or_default(),
    );
    out.opt_text(
        "customer_note",
        stored.customer_note.as_deref(),
        incoming.customer_note.as_deref(),
    );
    out.found
}

type KeyOf<T> = fn(&T) -> Option<&str>;
/// A key that identifies an element of a list, with the name it has in paths.
type NamedKey<T> = (&'static str, KeyOf<T>);
/// An optional text field of a record, with its name in paths.
type TextField<T> = (&'static str, fn(&T) -> &Option<String>);

#[derive(Default)]
struct Differences {
    found: Vec<Difference>,
}

impl Differences {
    fn text(&mut self, field: &str, stored: &str, incoming: &str) {
        if stored != incoming {
            self.found.push(Difference {
                field: field.to_owned(),
                stored: stored.to_owned(),
                incoming: incoming.to_owned(),
            });
        }
    }

    fn opt_text(&mut self, field: &str, stored: Option<&str>, incoming: Option<&str>) {
        self.text(
            field,
            stored.unwrap_or_default(),
            incoming.unwrap_or_default(),
        );
    }

    fn flag(&mut self, field: &str, stored: bool, incoming: bool) {
        self.text(field, &stored.to_string(), &incoming.to_string());
    }

    fn amount(&mut self, field: &str, stored: Decimal, incoming: Decimal) {
        // Compared by value: "1.50" and "1.5" are the same amount.
        if stored != incoming {
            self.text(
                field,
                &money::canonical(stored),
                &money::canonical(incoming),
            );
        }
    }

    fn opt_amount(&mut self, field: &str, stored: Option<Decimal>, incoming: Option<Decimal>) {
        if stored != incoming {
            self.text(
                field,
                &stored.map(money::canonical).unwrap_or_default(),
                &incoming.map(money::canonical).unwrap_or_default(),
            );
        }
    }

    fn list<T>(
        &mut self,
        name: &str,
        stored: &[T],
        incoming: &[T],
        keys: &[NamedKey<T>],
        fields: fn(&mut Self, &str, &T, &T),
        describe: fn(&T) -> String,
    ) {
        let pairing = pair(stored, incoming, keys);
        for (stored_index, incoming_index) in pairing.pairs {
            let path = label(name, &stored[stored_index], stored_index, keys);
            fields(
                self,
                &path,
                &stored[stored_index],
                &incoming[incoming_index],
            );
        }
        for index in pairing.removed {
            let path = label(name, &stored[index], index, keys);
            self.text(&path, &describe(&stored[index]), "");
        }
        for index in pairing.added {
            let path = label(name, &incoming[index], index, keys);
            self.text(&path, "", &describe(&incoming[index]));
        }
    }

    fn address(&mut self, prefix: &str, stored: Option<&Address>, incoming: Option<&Address>) {
        let empty = Address::default();
        let stored = stored.unwrap_or(&empty);
        let incoming = incoming.unwrap_or(&empty);
        let fields: [TextField<Address>; 12] = [
            ("name", |a| &a.name),
            ("company", |a| &a.company),
            ("street", |a| &a.street),
            ("house_number", |a| &a.house_number),
            ("line1", |a| &a.line1),
            ("line2", |a| &a.line2),
            ("city", |a| &a.city),
            ("postal_code", |a| &a.postal_code),
            ("region", |a| &a.region),
            ("country", |a| &a.country),
            ("phone", |a| &a.phone),
            ("email", |a| &a.email),
        ];
        for (field, get) in fields {
            self.opt_text(
                &format!("{prefix}.{field}"),
                get(stored).as_deref(),
                get(incoming).as_deref(),
            );
        }
    }

    fn customer(&mut self, stored: Option<&Customer>, incoming: Option<&Customer>) {
        let empty = Customer::default();
        let stored = stored.unwrap_or(&empty);
        let incoming = incoming.unwrap_or(&empty);
        let fields: [TextField<Customer>; 7] = [
            ("platform_id", |c| &c.platform_id),
            ("email", |c| &c.email),
            ("first_name", |c| &c.first_name),
            ("last_name", |c| &c.last_name),
            ("company", |c| &c.company),
            ("vat_id", |c| &c.vat_id),
            ("phone", |c| &c.phone),
        ];
        for (field, get) in fields {
            self.opt_text(
                &format!("customer.{field}"),
                get(stored).as_deref(),
                get(incoming).as_deref(),
            );
        }
    }
}

fn line_fields(out: &mut Differences, path: &str, stored: &LineItem, incoming: &LineItem) {
    out.text(&format!("{path}.name"), &stored.name, &incoming.name);
    out.opt_text(
        &format!("{path}.sku"),
        stored.sku.as_deref(),
        incoming.sku.as_deref(),
    );
    out.opt_text(
        &format!("{path}.product_id"),
        stored.product_id.as_deref(),
        incoming.product_id.as_deref(),
    );
    out.opt_text(
        &format!("{path}.variation_id"),
        stored.variation_id.as_deref(),
        incoming.variation_id.as_deref(),
    );
    out.amount(
        &format!("{path}.quantity"),
        stored.quantity,
        incoming.quantity,
    );
    out.opt_amount(
        &format!("{path}.ordered_quantity"),
        stored.ordered_quantity,
        incoming.ordered_quantity,
    );
    out.amount(
        &format!("{path}.unit_price"),
        stored.unit_price,
        incoming.unit_price,
    );
    out.amount(
        &format!("{path}.discount"),
        stored.discount,
        incoming.discount,
    );
    out.opt_amount(
        &format!("{path}.tax_rate"),
        stored.tax_rate,
        incoming.tax_rate,
    );
    out.amount(
        &format!("{path}.tax_amount"),
        stored.tax_amount,
        incoming.tax_amount,
    );
    out.amount(&format!("{path}.total"), stored.total, incoming.total);
}

fn charge_fields(out: &mut Differences, path: &str, stored: &ChargeLine, incoming: &ChargeLine) {
    out.opt_text(
        &format!("{path}.code"),
        stored.code.as_deref(),
        incoming.code.as_deref(),
    );
    out.text(&format!("{path}.title"), &stored.title, &incoming.title);
    out.amount(&format!("{path}.amount"), stored.amount, incoming.amount);
    out.opt_amount(
        &format!("{path}.tax_rate"),
        stored.tax_rate,
        incoming.tax_rate,
    );
    out.amount(
        &format!("{path}.tax_amount"),
        stored.tax_amount,
        incoming.tax_amount,
    );
}

fn describe_line(line: &LineItem) -> String {
    let mut text = format!("{} × {}", money::canonical(line.quantity), line.name);
    if let Some(sku) = line.sku.as_deref().filter(|sku| !sku.is_empty()) {
        text.push_str(&format!(" ({sku})"));
    }
    text.push_str(&format!(", total {}", money::canonical(line.total)));
    text
}

fn refund_fields(out: &mut Differences, path: &str, stored: &Refund, incoming: &Refund) {
    out.amount(&format!("{path}.amount"), stored.amount, incoming.amount);
    out.amount(
        &format!("{path}.shipping"),
        stored.shipping,
        incoming.shipping,
    );
    out.flag(&format!("{path}.restock"), stored.restock, incoming.restock);
    out.opt_text(
        &format!("{path}.reason"),
        stored.reason.as_deref(),
        incoming.reason.as_deref(),
    );
    out.text(
        &format!("{path}.lines"),
        &describe_refund_lines(stored),
        &describe_refund_lines(incoming),
    );
}

/// `12.5 refunded, shipping 3, restocked: 2 × MUG-1 (10); "damaged"`.
fn describe_refund(refund: &Refund) -> String {
    let mut text = format!("{} refunded", money::canonical(refund.amount));
    if !refund.shipping.is_zero() {
        text.push_str(&format!(", shipping {}", money::canonical(refund.shipping)));
    }
    if refund.restock {
        text.push_str(", restocked");
    }
    let lines = describe_refund_lines(refund);
    if !lines.is_empty() {
        text.push_str(": ");
        text.push_str(&lines);
    }
    if let Some(reason) = refund.reason.as_deref().filter(|reason| !reason.is_empty()) {
        text.push_str(&format!("; {reason:?}"));
    }
    text
}

fn describe_refund_lines(refund: &Refund) -> String {
    refund
        .lines
        .iter()
        .map(|line| {
            let what = line
                .sku
                .as_deref()
                .or(line.platform_line_id.as_deref())
                .unwrap_or("?");
            format!(
                "{} × {what} ({})",
                money::canonical(line.quantity),
                money::canonical(line.amount)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_charge(charge: &ChargeLine) -> String {
    format!("{} {}", charge.title, money::canonical(charge.amount))
}

fn present(key: Option<&str>) -> Option<&str> {
    key.filter(|key| !key.trim().is_empty())
}

/// The path of an element: by its first present key, else its position.
fn label<T>(name: &str, item: &T, index: usize, keys: &[NamedKey<T>]) -> String {
    keys.iter()
        .find_map(|(key_name, key)| {
            present(key(item)).map(|value| format!("{name}[{key_name}={value}]"))
        })
        .unwrap_or_else(|| format!("{name}[{index}]"))
}

struct Pairing {
    pairs: Vec<(usize, usize)>,
    removed: Vec<usize>,
    added: Vec<usize>,
}

/// Pairs stored and incoming elements by each key in turn (both must have it); elements
/// with no key at all pair by equal position. A keyed element without a partner was
/// removed or added: pairing it by position would report a different line as an edit.
fn pair<T>(stored: &[T], incoming: &[T], keys: &[NamedKey<T>]) -> Pairing {
    let has_key = |item: &T| keys.iter().any(|(_, key)| present(key(item)).is_some());
    let mut stored_partner: Vec<Option<usize>> = vec![None; stored.len()];
    let mut incoming_taken = vec![false; incoming.len()];
    for (_, key) in keys {
        for (stored_index, item) in stored.iter().enumerate() {
            if stored_partner[stored_index].is_some() {
                continue;
            }
            let Some(wanted) = present(key(item)) else {
                continue;
            };
            let partner = incoming.iter().enumerate().find(|(index, other)| {
                !incoming_taken[*index] && present(key(other)) == Some(wanted)
            });
            if let Some((incoming_index, _)) = partner {
                stored_partner[stored_index] = Some(incoming_index);
                incoming_taken[incoming_index] = true;
            }
        }
    }
    for (stored_index, partner) in stored_partner.iter_mut().enumerate() {
        let same_position_free = stored_index < incoming.len() && !incoming_taken[stored_index];
        if partner.is_none()
            && same_position_free
            && !has_key(&stored[stored_index])
            && !has_key(&incoming[stored_index])
        {
            *partner = Some(stored_index);
            incoming_taken[stored_index] = true;
        }
    }
    let mut pairs = Vec::new();
    let mut removed = Vec::new();
    for (stored_index, partner) in stored_partner.into_iter().enumerate() {
        match partner {
            Some(incoming_index) => pairs.push((stored_index, incoming_index)),
            None => removed.push(stored_index),
        }
    }
    let added = (0..incoming.len())
        .filter(|index| !incoming_taken[*index])
        .collect();
    Pairing {
        pairs,
        removed,
        added,
    }
}
