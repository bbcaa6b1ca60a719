//! Identifiers of host records the rules refer to.
//!
//! They are the storage's primary keys (`i64` fits both SQLite and PostgreSQL). The
//! rules never invent them: a rule either returns one it was handed or asks for a new
//! record to be created.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An item of the host's catalog.
    ItemId
);
id_type!(
    /// A customer of the host's customer catalog.
    CustomerId
);
id_type!(
    /// A warehouse whose stock the ledger tracks.
    WarehouseId
);
id_type!(
    /// An issued document (invoice or delivery note).
    DocumentId
);
id_type!(
    /// One of the host's own payment methods.
    HostPaymentMethodId
);
id_type!(
    /// A company: the owner of every other record.
    CompanyId
);
id_type!(
    /// A shop (e-store) of a company.
    ShopId
);
id_type!(
    /// A customer order imported from a shop.
    OrderId
);
id_type!(
    /// A carrier connection of a company (a carrier plugin with its account).
    CarrierId
);
id_type!(
    /// A shipment made for an order.
    ShipmentId
);
id_type!(
    /// A person who signs in to the web admin.
    UserId
);
