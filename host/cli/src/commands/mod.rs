//! The operator commands, one module per area. Each talks to a running tovor through
//! [`crate::client::Client`] and prints a table (or the API's JSON with `--json`).

pub mod backup;
pub mod catalog;
pub mod companies;
pub mod company;
pub mod completions;
pub mod orders;
pub mod plugins;
pub mod scaffold;
pub mod shipping;
pub mod shops;
pub mod stock;
pub mod tokens;
pub mod users;

use serde_json::Value;

use crate::client::ApiOptions;
use crate::output::print_json;

/// Prints `value` as JSON with `--json`, else the way `human` shows it.
pub fn show(api: &ApiOptions, value: &Value, human: impl FnOnce(&Value)) -> anyhow::Result<()> {
    if api.json {
        print_json(value)
    } else {
        human(value);
        Ok(())
    }
}
