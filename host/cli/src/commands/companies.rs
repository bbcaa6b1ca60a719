//! `tovor companies ...`: companies and their API tokens (admin token).

use serde_json::json;

use super::show;
use crate::client::ApiOptions;
use crate::output::{cell, outln};

#[derive(Debug, clap::Subcommand)]
pub enum CompaniesCommand {
    /// Create a company and print its first API token (shown only once).
    Add {
        /// The company's name.
        name: String,
    },
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
    }
}
