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

/// The 0.2 line, bound to `tovor:connector@0.2.1`: one exported interface per capability.
/// A component exports any of them, so the world-level `*Pre` types (which want every
/// export) are not used: each capability is looked up on its own (see `crate::plugin`).
///
/// 0.2.1 only adds to 0.2.0 (`state.compare-and-swap`, the `handover` interface), so one
/// binding serves both: wasmtime matches names semver-compatibly, both the imports a
/// 0.2.0 component asks the linker for (`state@0.2.0` is served by `state@0.2.1`, whose
/// extra function it does not import) and the exports looked up in it (`orders@0.2.1`
/// finds `orders@0.2.0`).
pub mod v0_2 {
    /// The newest contract version of the line, the one this module is generated from.
    pub const VERSION: semver::Version = semver::Version::new(0, 2, 1);
    /// The first release of the line, loaded through the same bindings.
    pub const FIRST: semver::Version = semver::Version::new(0, 2, 0);

    /// The `shop` world: every shop capability, and the host imports.
    pub mod shop {
        wasmtime::component::bindgen!({
            path: "../../wit/connector-0.2.1",
            world: "shop",
            imports: { default: async },
            exports: { default: async },
        });
    }

    /// The `carrier` world, sharing the host imports and types with [`shop`].
    pub mod carrier {
        wasmtime::component::bindgen!({
            path: "../../wit/connector-0.2.1",
            world: "carrier",
            imports: { default: async },
            exports: { default: async },
            with: {
                "tovor:connector/types": super::shop::tovor::connector::types,
                "tovor:connector/http": super::shop::tovor::connector::http,
                "tovor:connector/log": super::shop::tovor::connector::log,
                "tovor:connector/state": super::shop::tovor::connector::state,
                "tovor:connector/connection": super::shop::exports::tovor::connector::connection,
            },
        });
    }

    pub use carrier::exports::tovor::connector::{
        cancellation, handover, labels, lookup, pickup_points, services, shipments, tracking,
    };
    pub use carrier::tovor::connector::carrier_types;
    pub use shop::exports::tovor::connector::{
        catalog, connection, fulfillment, inventory, orders, payment_methods, refunds,
        status_changes, webhooks,
    };
    pub use shop::tovor::connector::{http, log, state, types};
}

/// Contract versions this host loads plugins for.
pub fn supported_contracts() -> [semver::Version; 3] {
    [v0_1_0::VERSION, v0_2::FIRST, v0_2::VERSION]
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// Every released contract folder, with the hash of its files. Plugins in the wild
    /// are built against these: a released folder never changes. A new contract version
    /// is a new folder (and a new line here).
    const RELEASED: &[(&str, &str)] = &[
        (
            "connector-0.1.0",
            "3a78d22e4cc6663a29bef1609b374c06f8ba2d3f65114683c31e7237e3124541",
        ),
        (
            "connector-0.2.0",
            "7138f0765721c6c08af7a2013cc58a1310e7e6316a54d383ec48a9e8c8faeee4",
        ),
        (
            "connector-0.2.1",
            "4e18bafb79bced89213bb7513efb119748ec5c6c294f669b9305fb7821d22a34",
        ),
    ];

    /// SHA-256 over the folder's files in name order: name, NUL, length, content.
    fn folder_hash(dir: &std::path::Path) -> String {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut hasher = Sha256::new();
        for name in names {
            let data = std::fs::read(dir.join(&name)).unwrap();
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update((data.len() as u64).to_le_bytes());
            hasher.update(&data);
        }
        hex::encode(hasher.finalize())
    }

    #[test]
    fn released_contracts_never_change() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        for (folder, expected) in RELEASED {
            assert_eq!(
                folder_hash(&wit.join(folder)),
                *expected,
                "wit/{folder} was edited: a released contract never changes; put the change \
                 in a new contract version's folder"
            );
        }
        // Every folder is released (listed above) and spoken by this host.
        let mut folders: Vec<String> = std::fs::read_dir(&wit)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.starts_with("connector-"))
            .collect();
        folders.sort();
        let listed: Vec<&str> = RELEASED.iter().map(|(folder, _)| *folder).collect();
        assert_eq!(folders, listed);
        let spoken: Vec<String> = super::supported_contracts()
            .iter()
            .map(|version| format!("connector-{version}"))
            .collect();
        assert_eq!(spoken, listed);
    }
}
