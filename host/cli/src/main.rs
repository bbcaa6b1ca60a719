//! The `tovor` command line.

mod serve;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tovor_runtime::{Runtime, RuntimeOptions};

#[derive(Parser)]
#[command(
    name = "tovor",
    version,
    about = "Connects invoicing and stock to online shops and parcel carriers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the host: HTTP API, webhooks and background work.
    Serve(serve::ServeArgs),
    /// Inspect connector plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// Load every plugin in a folder and list them, with the ones that failed and why.
    List {
        /// Folder holding one sub-folder per plugin (plugin.toml + plugin.wasm).
        #[arg(long, default_value = "target/plugins")]
        plugins: PathBuf,
    },
    /// Validate one plugin folder the way the host would load it, and call `describe`.
    Check {
        /// A plugin folder (plugin.toml + plugin.wasm).
        dir: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Plugins(PluginsCommand::List { plugins }) => list_plugins(plugins).await,
            Command::Plugins(PluginsCommand::Check { dir }) => check_plugin(dir).await,
        }
    })
}

async fn list_plugins(plugins: PathBuf) -> anyhow::Result<()> {
    let runtime = Runtime::new(RuntimeOptions::default())?;
    let report = runtime
        .load_dir(&plugins)
        .await
        .with_context(|| format!("cannot read {}", plugins.display()))?;
    for plugin in runtime.plugins() {
        let info = &plugin.manifest.plugin;
        println!(
            "{:<20} {:<8} {:<10} {}",
            info.id, info.kind, info.version, info.name
        );
    }
    for (dir, error) in &report.failed {
        println!("FAILED {}: {error}", dir.display());
    }
    if report.failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} plugin(s) failed to load", report.failed.len())
    }
}

async fn check_plugin(dir: PathBuf) -> anyhow::Result<()> {
    let runtime = Runtime::new(RuntimeOptions::default())?;
    let plugin = runtime.load_plugin_dir(&dir).await?;
    let info = &plugin.manifest.plugin;
    println!(
        "{} {} ({} connector, contract {})",
        info.id, info.version, info.kind, info.contract
    );
    println!("sha256 {}", plugin.wasm_sha256);
    let context = tovor_runtime::CallContext::default();
    match plugin.kind() {
        tovor_runtime::Kind::Shop => {
            let described = runtime.shop(&info.id, context)?.describe().await?;
            println!(
                "platform {}: {:?}",
                described.platform, described.capabilities
            );
        }
        tovor_runtime::Kind::Carrier => {
            let described = runtime.carrier(&info.id, context)?.describe().await?;
            println!(
                "carrier {}: label formats {:?}, {:?}",
                described.carrier, described.label_formats, described.capabilities
            );
        }
    }
    Ok(())
}
