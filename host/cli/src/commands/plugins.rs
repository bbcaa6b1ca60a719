//! `tovor plugins ...`: connector plugins, in a local folder or on a running tovor.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;
use tovor_runtime::{Runtime, RuntimeOptions};

use super::scaffold::NewArgs;
use super::show;
use crate::client::ApiOptions;
use crate::output::{Table, cell, items, outln};

#[derive(Debug, clap::Subcommand)]
pub enum PluginsCommand {
    /// List plugins: those in a local folder (loaded here, with the ones that failed and
    /// why), or with --remote those a running tovor has loaded.
    List {
        /// Folder holding one sub-folder per plugin (plugin.toml + plugin.wasm).
        #[arg(long, default_value = "target/plugins", conflicts_with = "remote")]
        plugins: PathBuf,
        /// Ask the running tovor (--url) instead of loading a local folder.
        #[arg(long)]
        remote: bool,
    },
    /// One plugin a running tovor has loaded, with the config fields a shop or carrier
    /// connection fills in (every plugin also takes `api_base`, the platform's API address
    /// for sandboxes, self-hosted platforms and tests).
    Show {
        /// The plugin's id.
        id: String,
    },
    /// Validate one plugin folder the way the host would load it, and call `describe`.
    Check {
        /// A plugin folder (plugin.toml + plugin.wasm).
        dir: PathBuf,
    },
    /// Install a plugin on the running tovor, or replace it (admin token): the folder's
    /// plugin.toml and plugin.wasm are uploaded as they are.
    #[command(alias = "add")]
    Install {
        /// A plugin folder: plugin.toml and the built component plugin.wasm.
        dir: PathBuf,
    },
    /// Reload a plugin from its folder on the running tovor (admin token).
    Reload {
        /// The plugin's id.
        id: String,
    },
    /// Create a new connector crate from the template: plugin.toml, a skeleton
    /// implementation, a harness test that passes as generated, and a README.
    New(NewArgs),
}

pub async fn run(api: &ApiOptions, command: PluginsCommand) -> anyhow::Result<()> {
    match command {
        PluginsCommand::List {
            plugins,
            remote: false,
        } => list_local(plugins).await,
        PluginsCommand::List { remote: true, .. } => {
            let list = api.client()?.get(&["plugins"], &[]).await?;
            show(api, &list, print_remote_list)
        }
        PluginsCommand::Show { id } => {
            let list = api.client()?.get(&["plugins"], &[]).await?;
            let plugin = items(&list["plugins"])
                .iter()
                .find(|plugin| plugin["id"].as_str() == Some(id.as_str()))
                .cloned()
                .with_context(|| format!("the running tovor has no plugin {id:?}"))?;
            show(api, &plugin, print_plugin)
        }
        PluginsCommand::Check { dir } => check(dir).await,
        PluginsCommand::Install { dir } => {
            let form = upload_form(&dir)?;
            let plugin = api.client()?.post_form(&["plugins"], form).await?;
            show(api, &plugin, |plugin| {
                outln!(
                    "plugin {} {} installed ({} connector, sha256 {})",
                    cell(plugin, "id"),
                    cell(plugin, "version"),
                    cell(plugin, "kind"),
                    cell(plugin, "sha256")
                );
            })
        }
        PluginsCommand::Reload { id } => {
            let plugin = api
                .client()?
                .post(&["plugins", &id, "reload"], None)
                .await?;
            show(api, &plugin, |plugin| {
                outln!(
                    "plugin {} {} reloaded (sha256 {})",
                    cell(plugin, "id"),
                    cell(plugin, "version"),
                    cell(plugin, "sha256")
                );
            })
        }
        PluginsCommand::New(args) => super::scaffold::run(args),
    }
}

/// The multipart upload of a plugin folder: its `manifest` and `wasm` parts.
fn upload_form(dir: &Path) -> anyhow::Result<reqwest::multipart::Form> {
    let manifest_path = dir.join(tovor_runtime::MANIFEST_FILE);
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let wasm_path = dir.join(tovor_runtime::COMPONENT_FILE);
    let wasm = std::fs::read(&wasm_path).with_context(|| {
        format!(
            "cannot read {} (build the connector with `cargo build --release --target \
             wasm32-wasip2` and copy the .wasm there)",
            wasm_path.display()
        )
    })?;
    let manifest = reqwest::multipart::Part::text(manifest)
        .file_name(tovor_runtime::MANIFEST_FILE)
        .mime_str("application/toml")?;
    let wasm = reqwest::multipart::Part::bytes(wasm)
        .file_name(tovor_runtime::COMPONENT_FILE)
        .mime_str("application/wasm")?;
    Ok(reqwest::multipart::Form::new()
        .part("manifest", manifest)
        .part("wasm", wasm))
}

fn print_plugin(plugin: &Value) {
    outln!(
        "{} {} ({} connector, contract {}): {}",
        cell(plugin, "id"),
        cell(plugin, "version"),
        cell(plugin, "kind"),
        cell(plugin, "contract"),
        cell(plugin, "name")
    );
    outln!("capabilities: {}", cell(plugin, "capabilities"));
    let mut table = Table::new(&["CONFIG FIELD", "TYPE", "REQUIRED", "SECRET", "LABEL / HELP"]);
    for field in items(&plugin["config"]) {
        let yes_no = |key: &str| {
            if field[key] == Value::Bool(true) {
                "yes"
            } else {
                ""
            }
        };
        let mut label = cell(field, "label");
        if let Some(help) = field["help"].as_str() {
            label = format!("{label}: {help}");
        }
        table.row(vec![
            cell(field, "name"),
            cell(field, "type"),
            yes_no("required").to_owned(),
            yes_no("secret").to_owned(),
            label,
        ]);
    }
    table.print_or("no config fields");
}

fn print_remote_list(list: &Value) {
    let mut table = Table::new(&["ID", "KIND", "VERSION", "NAME", "CAPABILITIES"]);
    for plugin in items(&list["plugins"]) {
        table.row(vec![
            cell(plugin, "id"),
            cell(plugin, "kind"),
            cell(plugin, "version"),
            cell(plugin, "name"),
            cell(plugin, "capabilities"),
        ]);
    }
    table.print_or("no plugins loaded");
    for failure in items(&list["failures"]) {
        outln!(
            "FAILED {}: {}",
            cell(failure, "dir"),
            cell(failure, "message")
        );
    }
}

async fn list_local(plugins: PathBuf) -> anyhow::Result<()> {
    let runtime = Runtime::new(RuntimeOptions::default())?;
    let report = runtime
        .load_dir(&plugins)
        .await
        .with_context(|| format!("cannot read {}", plugins.display()))?;
    for plugin in runtime.plugins() {
        let info = &plugin.manifest.plugin;
        outln!(
            "{:<20} {:<8} {:<10} {}",
            info.id,
            info.kind,
            info.version,
            info.name
        );
    }
    for (dir, error) in &report.failed {
        outln!("FAILED {}: {error}", dir.display());
    }
    if report.failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} plugin(s) failed to load", report.failed.len())
    }
}

async fn check(dir: PathBuf) -> anyhow::Result<()> {
    let runtime = Runtime::new(RuntimeOptions::default())?;
    let plugin = runtime.load_plugin_dir(&dir).await?;
    let info = &plugin.manifest.plugin;
    outln!(
        "{} {} ({} connector, contract {})",
        info.id,
        info.version,
        info.kind,
        plugin.contract
    );
    outln!("sha256 {}", plugin.wasm_sha256);
    let capabilities: Vec<&str> = plugin
        .capabilities
        .iter()
        .map(|capability| capability.interface())
        .collect();
    outln!("capabilities: {}", capabilities.join(", "));
    // Loading ran the component once; a carrier also says what it offers.
    if plugin.kind() == tovor_runtime::Kind::Carrier {
        let context = tovor_runtime::CallContext::default();
        let carrier = runtime.carrier(&info.id, context)?.info().await?;
        outln!(
            "carrier {}: label formats {}, batches of {}",
            carrier.carrier,
            carrier.label_formats.join(", "),
            carrier.max_batch
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_folder_without_component_says_how_to_build_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plugin.toml"), "[plugin]\n").unwrap();
        let error = format!("{:#}", upload_form(dir.path()).unwrap_err());
        assert!(error.contains("plugin.wasm"), "{error}");
        assert!(error.contains("wasm32-wasip2"), "{error}");
    }
}
