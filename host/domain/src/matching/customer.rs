//! Customers: by shop link, then e-mail, then VAT id, else a new customer.

use serde::{Deserialize, Serialize};

use super::item::non_blank;
use crate::ids::CustomerId;
use crate::order::{Address, NormalizedOrder};

/// How the storage finds customers, within one company and (for links) one shop.
pub trait CustomerLookup {
    /// The customer linked to this shop's customer id.
    fn by_shop_link(&self, platform_id: &str) -> Option<CustomerId>;
    /// The customer whose e-mail, put through [`normalize_email`], is `normalized_email`.
    fn by_email(&self, normalized_email: &str) -> Option<CustomerId>;
    /// The customer whose VAT id, put through [`normalize_vat_id`], is
    /// `normalized_vat_id`.
    fn by_vat_id(&self, normalized_vat_id: &str) -> Option<CustomerId>;
}

/// Which customer an order is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerMatch {
    /// Already linked to this shop's customer id.
    Linked(CustomerId),
    /// Found by e-mail; the storage links the shop's customer id to it, if there is one.
    ByEmail(CustomerId),
    /// Found by VAT id; the storage links the shop's customer id to it, if there is one.
    ByVatId(CustomerId),
    /// Unknown: the storage creates this customer (and its link). Boxed: it carries two
    /// addresses, the other variants an id.
    Create(Box<NewCustomer>),
}

/// A customer to add to the catalog, built from an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomer {
    /// The person's name; see [`match_customer`] for where it comes from.
    pub name: String,
    /// Company name.
    pub company: Option<String>,
    /// E-mail as given (trimmed); the storage indexes its [`normalize_email`] form.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// VAT id in [`normalize_vat_id`] form.
    pub vat_id: Option<String>,
    /// Billing address.
    pub billing: Option<Address>,
    /// Delivery address.
    pub delivery: Option<Address>,
    /// The shop's customer id to link; `None` for guests.
    pub platform_id: Option<String>,
}

/// An e-mail address in the form customers are matched by: trimmed and lower-cased.
/// `None` when blank or without `@`, so junk never matches junk.
///
/// Lower-casing the local part is not strictly correct by RFC 5321, but no mail
/// provider shops use distinguishes case, and customers type it both ways.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    (email.contains('@') && email.len() > 2).then_some(email)
}

/// A VAT id in the form customers are matched by: upper case, without spaces, dots and
/// dashes, country prefix kept (`"si 123.456-78"` → `"SI12345678"`). `None` when
/// nothing is left.
pub fn normalize_vat_id(raw: &str) -> Option<String> {
    let vat_id: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    (!vat_id.is_empty()).then_some(vat_id)
}

/// Finds the customer an order is from:
///
/// 1. by the shop's customer id → [`CustomerMatch::Linked`];
/// 2. by e-mail (the customer's, else the billing address's), trimmed and
///    case-insensitive → [`CustomerMatch::ByEmail`];
/// 3. by VAT id, normalized → [`CustomerMatch::ByVatId`];
/// 4. otherwise → [`CustomerMatch::Create`].
///
/// A guest checkout with neither e-mail nor VAT id always creates a new customer. It
/// is not matched by name and address: people share names and addresses (families,
/// offices), and a wrong match would put one person's order on another's account and
/// invoices, while a duplicate only costs a merge. Such orders are rare anyway: every
/// platform asks for an e-mail.
///
/// The new customer's name is the customer's first and last name, else the billing or
/// shipping name, else the company, else the e-mail, else `Guest (order <number>)`.
pub fn match_customer(order: &NormalizedOrder, lookups: &impl CustomerLookup) -> CustomerMatch {
    let customer = order.customer.as_ref();
    let billing = order.billing.as_ref();
    let platform_id = customer.and_then(|c| non_blank(c.platform_id.as_deref()));
    if let Some(found) = platform_id.and_then(|id| lookups.by_shop_link(id)) {
        return CustomerMatch::Linked(found);
    }
    let email = non_blank(customer.and_then(|c| c.email.as_deref()))
        .or_else(|| non_blank(billing.and_then(|b| b.email.as_deref())));
    if let Some(found) = email
        .and_then(normalize_email)
        .and_then(|email| lookups.by_email(&email))
    {
        return CustomerMatch::ByEmail(found);
    }
    let vat_id = customer
        .and_then(|c| c.vat_id.as_deref())
        .and_then(normalize_vat_id);
    if let Some(found) = vat_id
        .as_deref()
        .and_then(|vat_id| lookups.by_vat_id(vat_id))
    {
        return CustomerMatch::ByVatId(found);
    }

    let company = non_blank(customer.and_then(|c| c.company.as_deref()))
        .or_else(|| non_blank(billing.and_then(|b| b.company.as_deref())));
    let full_name = customer.and_then(|c| {
        let parts: Vec<&str> = [c.first_name.as_deref(), c.last_name.as_deref()]
            .into_iter()
            .filter_map(non_blank)
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let name = full_name
        .or_else(|| non_blank(billing.and_then(|b| b.name.as_deref())).map(str::to_owned))
        .or_else(|| {
            non_blank(order.shipping.as_ref().and_then(|s| s.name.as_deref())).map(str::to_owned)
        })
        .or_else(|| company.map(str::to_owned))
        .or_else(|| email.map(str::to_owned))
        .unwrap_or_else(|| format!("Guest (order {})", order.number));
    let phone = non_blank(customer.and_then(|c| c.phone.as_deref()))
        .or_else(|| non_blank(billing.and_then(|b| b.phone.as_deref())));
    CustomerMatch::Create(Box::new(NewCustomer {
        name,
        company: company.map(str::to_owned),
        email: email.map(str::to_owned),
        phone: phone.map(str::to_owned),
        vat_id,
        billing: order.billing.clone(),
        delivery: order.shipping.clone(),
        platform_id: platform_id.map(str::to_owned),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::InMemoryCustomers;
    use crate::order::Customer;
    use crate::test_support::order;

    fn known() -> InMemoryCustomers {
        let mut customers = InMemoryCustomers::default();
        customers.insert_link("77", CustomerId(1));
        customers.insert_email("ana@example.com", CustomerId(2));
        customers.insert_vat_id("SI12345678", CustomerId(3));
        customers
    }

    #[test]
    fn normalization() {
        assert_eq!(
            normalize_email("  Ana@Example.COM "),
            Some("ana@example.com".into())
        );
        assert_eq!(normalize_email(" "), None);
        assert_eq!(normalize_email("not an email"), None);
        assert_eq!(normalize_vat_id("si 123.456-78"), Some("SI12345678".into()));
        assert_eq!(
            normalize_vat_id("DE 123 456 789"),
            Some("DE123456789".into())
        );
        assert_eq!(normalize_vat_id(" .- "), None);
    }

    #[test]
    fn link_then_email_then_vat_id() {
        let customers = known();
        let mut o = order();
        o.customer.as_mut().unwrap().vat_id = Some("si 12345678".into());
        assert_eq!(
            match_customer(&o, &customers),
            CustomerMatch::Linked(CustomerId(1))
        );
        o.customer.as_mut().unwrap().platform_id = Some("78".into());
        assert_eq!(
            match_customer(&o, &customers),
            CustomerMatch::ByEmail(CustomerId(2))
        );
        o.customer.as_mut().unwrap().email = Some("other@example.com".into());
        assert_eq!(
            match_customer(&o, &customers),
            CustomerMatch::ByVatId(CustomerId(3))
        );
    }

    #[test]
    fn billing_email_serves_when_the_customer_has_none() {
        let mut o = order();
        o.customer = None;
        o.billing.as_mut().unwrap().email = Some(" ANA@example.com".into());
        assert_eq!(
            match_customer(&o, &known()),
            CustomerMatch::ByEmail(CustomerId(2))
        );
    }

    #[test]
    fn unknown_customer_is_created_from_the_order() {
        let mut o = order();
        o.customer = Some(Customer {
            platform_id: Some(" 99 ".into()),
            email: Some(" new@example.com ".into()),
            first_name: Some("Nina".into()),
            last_name: Some(" ".into()),
            company: Some("Nina d.o.o.".into()),
            vat_id: Some("si 87654321".into()),
            phone: None,
        });
        o.billing.as_mut().unwrap().phone = Some("+386 1 234 5678".into());
        let CustomerMatch::Create(new) = match_customer(&o, &known()) else {
            panic!("expected a new customer");
        };
        assert_eq!(new.name, "Nina");
        assert_eq!(new.company.as_deref(), Some("Nina d.o.o."));
        assert_eq!(new.email.as_deref(), Some("new@example.com"));
        assert_eq!(new.phone.as_deref(), Some("+386 1 234 5678"));
        assert_eq!(new.vat_id.as_deref(), Some("SI87654321"));
        assert_eq!(new.platform_id.as_deref(), Some("99"));
        assert_eq!(new.billing, o.billing);
        assert_eq!(new.delivery, o.shipping);
    }

    #[test]
    fn guests_without_email_or_vat_id_are_always_created() {
        let mut o = order();
        o.customer = None;
        o.billing.as_mut().unwrap().email = None;
        let CustomerMatch::Create(new) = match_customer(&o, &known()) else {
            panic!("expected a new customer");
        };
        assert_eq!(new.name, "Ana Novak");
        assert_eq!(new.platform_id, None);

        o.billing = None;
        o.shipping = None;
        let CustomerMatch::Create(new) = match_customer(&o, &known()) else {
            panic!("expected a new customer");
        };
        assert_eq!(new.name, "Guest (order 1001)");
    }
}
