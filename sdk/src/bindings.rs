//! The code `wit-bindgen` generates from the `tovor:connector@0.2.1` contract.
//!
//! Connector authors never need this module: the SDK re-exports the types from
//! [`crate::types`], [`crate::shop`] and [`crate::carrier`], implements the raw `Guest`
//! traits for every implementor of its capability traits, and wraps the imports in
//! [`crate::http`], [`crate::log`] and [`crate::state`]. It is public only because the
//! export macros expand in the connector's crate.
//!
//! One `generate!` for the host's imports (and the shared type interfaces), and one per
//! capability, each for an inline world that includes `host` and exports that one
//! interface. With `pub_export_macro`, wit-bindgen puts the description of a world's
//! exports into the component only where its export macro is expanded: a connector's
//! component exports exactly the capabilities it names in
//! [`export_shop!`](crate::export_shop) or [`export_carrier!`](crate::export_carrier),
//! which is how the host learns what it can do.

/// The host's imports (`http`, `log`, `state`) and the shared `types` and
/// `carrier-types` interfaces every capability module reuses.
pub mod host {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-host;
            world host {
                include tovor:connector/host@0.2.1;
                import tovor:connector/types@0.2.1;
                import tovor:connector/carrier-types@0.2.1;
            }",
        world: "tovor:sdk-host/host",
        pub_export_macro: true,
        default_bindings_module: "tovor_sdk::bindings::host",
        additional_derives: [PartialEq, Eq],
        generate_all,
    });
}

/// The `orders` capability (shop).
pub mod orders {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-orders;
            world orders {
                include tovor:connector/host@0.2.1;
                export tovor:connector/orders@0.2.1;
            }",
        world: "tovor:sdk-orders/orders",
        pub_export_macro: true,
        export_macro_name: "export_orders",
        default_bindings_module: "tovor_sdk::bindings::orders",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `webhooks` capability (shop).
pub mod webhooks {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-webhooks;
            world webhooks {
                include tovor:connector/host@0.2.1;
                export tovor:connector/webhooks@0.2.1;
            }",
        world: "tovor:sdk-webhooks/webhooks",
        pub_export_macro: true,
        export_macro_name: "export_webhooks",
        default_bindings_module: "tovor_sdk::bindings::webhooks",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `inventory` capability (shop).
pub mod inventory {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-inventory;
            world inventory {
                include tovor:connector/host@0.2.1;
                export tovor:connector/inventory@0.2.1;
            }",
        world: "tovor:sdk-inventory/inventory",
        pub_export_macro: true,
        export_macro_name: "export_inventory",
        default_bindings_module: "tovor_sdk::bindings::inventory",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `catalog` capability (shop).
pub mod catalog {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-catalog;
            world catalog {
                include tovor:connector/host@0.2.1;
                export tovor:connector/catalog@0.2.1;
            }",
        world: "tovor:sdk-catalog/catalog",
        pub_export_macro: true,
        export_macro_name: "export_catalog",
        default_bindings_module: "tovor_sdk::bindings::catalog",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `fulfillment` capability (shop).
pub mod fulfillment {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-fulfillment;
            world fulfillment {
                include tovor:connector/host@0.2.1;
                export tovor:connector/fulfillment@0.2.1;
            }",
        world: "tovor:sdk-fulfillment/fulfillment",
        pub_export_macro: true,
        export_macro_name: "export_fulfillment",
        default_bindings_module: "tovor_sdk::bindings::fulfillment",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `status-changes` capability (shop).
pub mod status_changes {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-status-changes;
            world status-changes {
                include tovor:connector/host@0.2.1;
                export tovor:connector/status-changes@0.2.1;
            }",
        world: "tovor:sdk-status-changes/status-changes",
        pub_export_macro: true,
        export_macro_name: "export_status_changes",
        default_bindings_module: "tovor_sdk::bindings::status_changes",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `refunds` capability (shop).
pub mod refunds {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-refunds;
            world refunds {
                include tovor:connector/host@0.2.1;
                export tovor:connector/refunds@0.2.1;
            }",
        world: "tovor:sdk-refunds/refunds",
        pub_export_macro: true,
        export_macro_name: "export_refunds",
        default_bindings_module: "tovor_sdk::bindings::refunds",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `payment-methods` capability (shop).
pub mod payment_methods {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-payment-methods;
            world payment-methods {
                include tovor:connector/host@0.2.1;
                export tovor:connector/payment-methods@0.2.1;
            }",
        world: "tovor:sdk-payment-methods/payment-methods",
        pub_export_macro: true,
        export_macro_name: "export_payment_methods",
        default_bindings_module: "tovor_sdk::bindings::payment_methods",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `connection` capability (shop and carrier).
pub mod connection {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-connection;
            world connection {
                include tovor:connector/host@0.2.1;
                export tovor:connector/connection@0.2.1;
            }",
        world: "tovor:sdk-connection/connection",
        pub_export_macro: true,
        export_macro_name: "export_connection",
        default_bindings_module: "tovor_sdk::bindings::connection",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `shipments` capability (carrier).
pub mod shipments {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-shipments;
            world shipments {
                include tovor:connector/host@0.2.1;
                export tovor:connector/shipments@0.2.1;
            }",
        world: "tovor:sdk-shipments/shipments",
        pub_export_macro: true,
        export_macro_name: "export_shipments",
        default_bindings_module: "tovor_sdk::bindings::shipments",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
            "tovor:connector/carrier-types@0.2.1": crate::bindings::host::tovor::connector::carrier_types,
        },
    });
}

/// The `labels` capability (carrier).
pub mod labels {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-labels;
            world labels {
                include tovor:connector/host@0.2.1;
                export tovor:connector/labels@0.2.1;
            }",
        world: "tovor:sdk-labels/labels",
        pub_export_macro: true,
        export_macro_name: "export_labels",
        default_bindings_module: "tovor_sdk::bindings::labels",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
            "tovor:connector/carrier-types@0.2.1": crate::bindings::host::tovor::connector::carrier_types,
        },
    });
}

/// The `tracking` capability (carrier).
pub mod tracking {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-tracking;
            world tracking {
                include tovor:connector/host@0.2.1;
                export tovor:connector/tracking@0.2.1;
            }",
        world: "tovor:sdk-tracking/tracking",
        pub_export_macro: true,
        export_macro_name: "export_tracking",
        default_bindings_module: "tovor_sdk::bindings::tracking",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `cancellation` capability (carrier).
pub mod cancellation {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-cancellation;
            world cancellation {
                include tovor:connector/host@0.2.1;
                export tovor:connector/cancellation@0.2.1;
            }",
        world: "tovor:sdk-cancellation/cancellation",
        pub_export_macro: true,
        export_macro_name: "export_cancellation",
        default_bindings_module: "tovor_sdk::bindings::cancellation",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `lookup` capability (carrier).
pub mod lookup {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-lookup;
            world lookup {
                include tovor:connector/host@0.2.1;
                export tovor:connector/lookup@0.2.1;
            }",
        world: "tovor:sdk-lookup/lookup",
        pub_export_macro: true,
        export_macro_name: "export_lookup",
        default_bindings_module: "tovor_sdk::bindings::lookup",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
            "tovor:connector/carrier-types@0.2.1": crate::bindings::host::tovor::connector::carrier_types,
        },
    });
}

/// The `pickup-points` capability (carrier).
pub mod pickup_points {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-pickup-points;
            world pickup-points {
                include tovor:connector/host@0.2.1;
                export tovor:connector/pickup-points@0.2.1;
            }",
        world: "tovor:sdk-pickup-points/pickup-points",
        pub_export_macro: true,
        export_macro_name: "export_pickup_points",
        default_bindings_module: "tovor_sdk::bindings::pickup_points",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `services` capability (carrier).
pub mod services {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-services;
            world services {
                include tovor:connector/host@0.2.1;
                export tovor:connector/services@0.2.1;
            }",
        world: "tovor:sdk-services/services",
        pub_export_macro: true,
        export_macro_name: "export_services",
        default_bindings_module: "tovor_sdk::bindings::services",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
        },
    });
}

/// The `handover` capability (carrier), since contract 0.2.1.
pub mod handover {
    wit_bindgen::generate!({
        path: "wit/connector-0.2.1",
        inline: "package tovor:sdk-handover;
            world handover {
                include tovor:connector/host@0.2.1;
                export tovor:connector/handover@0.2.1;
            }",
        world: "tovor:sdk-handover/handover",
        pub_export_macro: true,
        export_macro_name: "export_handover",
        default_bindings_module: "tovor_sdk::bindings::handover",
        additional_derives: [PartialEq, Eq],
        with: {
            "tovor:connector/types@0.2.1": crate::bindings::host::tovor::connector::types,
            "tovor:connector/http@0.2.1": crate::bindings::host::tovor::connector::http,
            "tovor:connector/log@0.2.1": crate::bindings::host::tovor::connector::log,
            "tovor:connector/state@0.2.1": crate::bindings::host::tovor::connector::state,
            "tovor:connector/carrier-types@0.2.1": crate::bindings::host::tovor::connector::carrier_types,
        },
    });
}
