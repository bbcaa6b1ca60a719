//! The `tovor` command line: `tovor serve` runs the host; the other commands manage a
//! running one over its HTTP API, or work locally (`plugins list|check|new`).

mod client;
mod commands;
mod config;
#[cfg(feature = "demo")]
mod demo;
mod files;
mod node;
mod output;
mod parse;
mod serve;

use std::ffi::OsString;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use client::ApiOptions;
use commands::catalog::{CustomersCommand, ItemsCommand, PaymentMethodsCommand, WarehousesCommand};
use commands::companies::CompaniesCommand;
use commands::company::CompanyCommand;
use commands::orders::{DocumentsCommand, IssueCommand, OrdersCommand};
use commands::plugins::PluginsCommand;
use commands::shipping::{CarriersCommand, ShipmentsCommand};
use commands::shops::ShopsCommand;
use commands::stock::StockCommand;
use commands::tokens::TokensCommand;
use commands::users::UsersCommand;

#[derive(Parser)]
#[command(
    name = "tovor",
    version,
    about = "Connects invoicing and stock to online shops and parcel carriers",
    after_help = "Commands other than `serve` and `plugins list|check|new` talk to a running \
                  tovor: --url (TOVOR_URL) says where, --token (TOVOR_TOKEN) who you are; \
                  without a token, the admin token in <data-dir>/admin-token is used."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A group of commands with the options to reach a running tovor, which may be given
/// before or after the group's subcommand.
#[derive(clap::Args)]
struct Group<C: Subcommand> {
    #[command(flatten)]
    api: ApiOptions,
    #[command(subcommand)]
    command: C,
}

#[derive(Subcommand)]
enum Command {
    /// Run the host: HTTP API, webhooks and background work.
    Serve(serve::ServeArgs),
    /// Connector plugins: list, check, add, reload, and create new ones.
    #[command(visible_alias = "plugin")]
    Plugins(Group<PluginsCommand>),
    /// Companies (admin token).
    Companies(Group<CompaniesCommand>),
    /// The company's profile on its documents: legal data, bank account, logo, time
    /// zone and language.
    Company(Group<CompanyCommand>),
    /// A company's API tokens: list, create, revoke.
    Tokens(Group<TokensCommand>),
    /// People who sign in to the web admin (admin token): add, list, roles, passwords.
    Users(Group<UsersCommand>),
    /// Warehouses.
    Warehouses(Group<WarehousesCommand>),
    /// Shops ("e-stores"): add, inspect, sync, import history, mappings.
    Shops(Group<ShopsCommand>),
    /// Customer orders.
    Orders(Group<OrdersCommand>),
    /// Invoices for orders.
    Invoices(Group<IssueCommand>),
    /// Delivery notes for orders.
    DeliveryNotes(Group<IssueCommand>),
    /// Issued documents: show, cancel, PDF, e-invoice, credit notes.
    Documents(Group<DocumentsCommand>),
    /// Carrier connections (GLS, Packeta, ...): add, list, show.
    Carriers(Group<CarriersCommand>),
    /// Shipments for orders: create, labels, tracking, cancel, settle unknown outcomes.
    Shipments(Group<ShipmentsCommand>),
    /// Stock levels, goods received and counts.
    Stock(Group<StockCommand>),
    /// The host's payment methods.
    PaymentMethods(Group<PaymentMethodsCommand>),
    /// The item catalog.
    Items(Group<ItemsCommand>),
    /// The customer catalog.
    Customers(Group<CustomersCommand>),
    /// Copy the SQLite database of a running (or stopped) tovor to a new file.
    Backup(commands::backup::BackupArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page (or write one per command into a folder).
    Man(commands::completions::ManArgs),
}

fn main() -> std::process::ExitCode {
    let cli = match parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(error) => {
            eprintln!("error: {error:#}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The command line, with `serve --config FILE` (or `TOVOR_CONFIG`) supplying the
/// defaults of the settings that neither a flag nor a `TOVOR_*` variable gives.
fn parse(args: Vec<OsString>) -> anyhow::Result<Cli> {
    let matches = Cli::command().get_matches_from(&args);
    let config = match matches.subcommand() {
        Some(("serve", serve)) => serve.get_one::<std::path::PathBuf>("config").cloned(),
        _ => None,
    };
    let matches = match config {
        Some(path) => {
            config::with_file_defaults(Cli::command(), "serve", &path)?.get_matches_from(&args)
        }
        None => matches,
    };
    Ok(Cli::from_arg_matches(&matches)?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Local commands that need no async runtime.
    match &cli.command {
        Command::Completions(args) => {
            commands::completions::completions(Cli::command(), args);
            return Ok(());
        }
        Command::Man(args) => return commands::completions::man(Cli::command(), args),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        use commands::{
            catalog, companies, company, orders, plugins, shipping, shops, stock, tokens, users,
        };
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Plugins(Group { api, command }) => plugins::run(&api, command).await,
            Command::Companies(Group { api, command }) => companies::run(&api, command).await,
            Command::Company(Group { api, command }) => company::run(&api, command).await,
            Command::Warehouses(Group { api, command }) => catalog::warehouses(&api, command).await,
            Command::Shops(Group { api, command }) => shops::run(&api, command).await,
            Command::Orders(Group { api, command }) => orders::orders(&api, command).await,
            Command::Invoices(Group { api, command }) => orders::invoices(&api, command).await,
            Command::DeliveryNotes(Group { api, command }) => {
                orders::delivery_notes(&api, command).await
            }
            Command::Documents(Group { api, command }) => orders::documents(&api, command).await,
            Command::Carriers(Group { api, command }) => shipping::carriers(&api, command).await,
            Command::Shipments(Group { api, command }) => shipping::shipments(&api, command).await,
            Command::Stock(Group { api, command }) => stock::run(&api, command).await,
            Command::PaymentMethods(Group { api, command }) => {
                catalog::payment_methods(&api, command).await
            }
            Command::Items(Group { api, command }) => catalog::items_command(&api, command).await,
            Command::Customers(Group { api, command }) => catalog::customers(&api, command).await,
            Command::Tokens(Group { api, command }) => tokens::run(&api, command).await,
            Command::Users(Group { api, command }) => users::run(&api, command).await,
            Command::Backup(args) => commands::backup::run(args).await,
            Command::Completions(_) | Command::Man(_) => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn api_options_go_before_or_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "tovor",
            "shops",
            "list",
            "--url",
            "http://h:1",
            "--json",
            "--token",
            "t",
        ])
        .unwrap();
        let Command::Shops(group) = cli.command else {
            panic!("not shops");
        };
        assert_eq!(group.api.url, "http://h:1");
        assert_eq!(group.api.token.as_deref(), Some("t"));
        assert!(group.api.json);
        let cli = Cli::try_parse_from(["tovor", "orders", "--json", "list"]).unwrap();
        let Command::Orders(group) = cli.command else {
            panic!("not orders");
        };
        assert!(group.api.json);
    }

    #[test]
    fn serve_has_only_its_own_options() {
        assert!(Cli::try_parse_from(["tovor", "serve", "--data-dir", "/tmp/x"]).is_ok());
        assert!(Cli::try_parse_from(["tovor", "serve", "--url", "http://h:1"]).is_err());
    }

    #[test]
    fn plugin_is_plugins() {
        let cli = Cli::try_parse_from(["tovor", "plugin", "new", "my-shop"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Plugins(Group {
                command: PluginsCommand::New(_),
                ..
            })
        ));
    }
}
