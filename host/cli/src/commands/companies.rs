//! `tovor companies ...`: companies (admin token); their tokens are `tovor tokens`.

use serde_json::json;

use super::show;
use crate::client::ApiOptions;
use crate::output::{Table, cell, items, outln};

#[derive(Debug, clap::Subcommand)]
pub enum CompaniesCommand {
    /// Create a company and print its first API token (shown only once).
    Add {
        /// The company's name.
        name: String,
    },
    /// List every company.
    List,
}

pub async fn run(api: &ApiOptions, command: CompaniesCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        CompaniesCommand::Add { name } => {
            let created = client
                .post(&["companies"], Some(&json!({ "name": name })))
                .await?;
            show(api, &created, |created| {
                outln!("company {} created", cell(created, "id"));
                outln!(
                    "API token (shown only now, keep it): {}",
                    cell(created, "token")
                );
            })
        }
        CompaniesCommand::List => {
            let list = client.get(&["companies"], &[]).await?;
            show(api, &list, |list| {
                let mut table = Table::new(&["ID", "NAME", "CREATED"]);
                for company in items(list) {
                    table.row(vec![
                        cell(company, "id"),
                        cell(company, "name"),
                        cell(company, "created_at"),
                    ]);
                }
                table.print_or("no companies");
            })
        }
    }
}
