//! Host-side bindings of every contract version the host speaks.
//!
//! One module per released `tovor:connector` version, generated from its WIT snapshot in
//! `wit/`. A later contract version gets a module beside this one; plugins built against
//! an older version keep loading through the older module.

/// `tovor:connector@0.1.0`.
pub mod v0_1_0 {
    /// The contract version this module speaks.
    pub const VERSION: semver::Version = semver::Version::new(0, 1, 0);

    /// The `shop` world: a shop platform connector.
    pub mod shop {
        wasmtime::component::bindgen!({
            path: "../../wit/connector-0.1.0",
            world: "shop",
            imports: { default: async },
            exports: { default: async },
        });
    }

    /// The `carrier` world: a parcel carrier connector. Shares the host imports and the
    /// normalized types with the shop world.
    pub mod carrier {
        wasmtime::component::bindgen!({
            path: "../../wit/connector-0.1.0",
            world: "carrier",
            imports: { default: async },
            exports: { default: async },
            with: {
                "tovor:connector/types": super::shop::tovor::connector::types,
                "tovor:connector/http": super::shop::tovor::connector::http,
                "tovor:connector/log": super::shop::tovor::connector::log,
            },
        });
    }

    pub use carrier::exports::tovor::connector::carrier_connector as carrier_api;
    pub use shop::exports::tovor::connector::shop_connector as shop_api;
    pub use shop::tovor::connector::{http, log, types};
}

/// The newest contract version; what new plugins are built against.
pub use v0_1_0 as latest;

/// Contract versions this host loads plugins for.
pub fn supported_contracts() -> [semver::Version; 1] {
    [v0_1_0::VERSION]
}
