//! The code `wit-bindgen` generates from the `tovor:connector@0.1.0` contract.
//!
//! Connector authors never need this module: the SDK re-exports the types from
//! [`crate::types`], [`crate::shop`] and [`crate::carrier`], implements the raw `Guest`
//! traits for every [`Shop`](crate::Shop) and [`Carrier`](crate::Carrier), and wraps the
//! imports in [`crate::http`] and [`crate::log`]. It is public only because the export
//! macros expand in the connector's crate.

/// The `shop` world; it also owns the shared `types`, `http` and `log` interfaces.
pub mod shop {
    wit_bindgen::generate!({
        path: "../../wit/connector-0.1.0",
        world: "shop",
        pub_export_macro: true,
        export_macro_name: "export_shop_world",
        default_bindings_module: "tovor_sdk::bindings::shop",
        additional_derives: [PartialEq, Eq],
    });
}

/// The `carrier` world, sharing the `types`, `http` and `log` interfaces of [`shop`].
pub mod carrier {
    wit_bindgen::generate!({
        path: "../../wit/connector-0.1.0",
        world: "carrier",
        pub_export_macro: true,
        export_macro_name: "export_carrier_world",
        default_bindings_module: "tovor_sdk::bindings::carrier",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.1.0": crate::bindings::shop::tovor::connector::types,
            "tovor:connector/http@0.1.0": crate::bindings::shop::tovor::connector::http,
            "tovor:connector/log@0.1.0": crate::bindings::shop::tovor::connector::log,
        },
    });
}
