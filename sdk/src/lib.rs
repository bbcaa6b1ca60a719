pub mod bindings {
    pub mod shop {
        wit_bindgen::generate!({
            path: "../wit/connector-0.1.0",
            world: "shop",
            pub_export_macro: true,
            export_macro_name: "export_shop_world",
            default_bindings_module: "tovor_sdk::bindings::shop",
        });
    }
    pub mod carrier {
        wit_bindgen::generate!({
            path: "../wit/connector-0.1.0",
            world: "carrier",
            pub_export_macro: true,
            export_macro_name: "export_carrier_world",
            default_bindings_module: "tovor_sdk::bindings::carrier",
            with: {
                "tovor:connector/types@0.1.0": crate::bindings::shop::tovor::connector::types,
                "tovor:connector/http@0.1.0": crate::bindings::shop::tovor::connector::http,
                "tovor:connector/log@0.1.0": crate::bindings::shop::tovor::connector::log,
            },
        });
    }
}
