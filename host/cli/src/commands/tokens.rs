//! `tovor tokens ...`: a company's API tokens: list, create, revoke. With the admin
//! token for any company, or with a company's own token for that company.

use serde_json::json;

use super::show;
use crate::client::ApiOptions;
use crate::output::{Table, cell, items, outln};

#[derive(Debug, clap::Subcommand)]
pub enum TokensCommand {
    /// List a company's tokens (their first characters only), revoked ones included.
    List {
        /// The company.
        #[arg(long)]
        company: i64,
    },
    /// Make another token for a company and print it (shown only once).
    Create {
        /// The company.
        #[arg(long)]
        company: i64,
        /// What the token is for, to recognise it in the list.
        #[arg(long)]
        name: String,
    },
    /// Revoke a token: every request with it gets 401 from now on.
    Revoke {
        /// The company.
        #[arg(long)]
        company: i64,
        /// The token's id (from `tovor tokens list`).
        token_id: i64,
    },
}

pub async fn run(api: &ApiOptions, command: TokensCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        TokensCommand::List { company } => {
            let company = company.to_string();
            let list = client.get(&["companies", &company, "tokens"], &[]).await?;
            show(api, &list, |list| {
                let mut table = Table::new(&["ID", "NAME", "STARTS WITH", "CREATED", "REVOKED"]);
                for token in items(list) {
                    table.row(vec![
                        cell(token, "id"),
                        cell(token, "name"),
                        format!("{}…", cell(token, "prefix")),
                        cell(token, "created_at"),
                        cell(token, "revoked_at"),
                    ]);
                }
                table.print_or("no tokens");
            })
        }
        TokensCommand::Create { company, name } => {
            let company = company.to_string();
            let created = client
                .post(
                    &["companies", &company, "tokens"],
                    Some(&json!({ "name": name })),
                )
                .await?;
            show(api, &created, |created| {
                outln!("token {} created", cell(created, "id"));
                outln!(
                    "API token (shown only now, keep it): {}",
                    cell(created, "token")
                );
            })
        }
        TokensCommand::Revoke { company, token_id } => {
            let (company, token_id) = (company.to_string(), token_id.to_string());
            let revoked = client
                .post(
                    &["companies", &company, "tokens", &token_id, "revoke"],
                    None,
                )
                .await?;
            show(api, &revoked, |revoked| {
                outln!(
                    "token {} ({}) revoked at {}",
                    cell(revoked, "id"),
                    cell(revoked, "name"),
                    cell(revoked, "revoked_at")
                );
            })
        }
    }
}
