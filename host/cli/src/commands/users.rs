//! `tovor users ...`: the people who sign in to the web admin (admin token).

use std::io::BufRead;

use anyhow::Context;
use serde_json::{Value, json};

use super::show;
use crate::client::ApiOptions;
use crate::output::{Table, cell, items, outln};

#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Add a person who signs in to the web admin, optionally straight into a company
    /// (as its owner unless `--role` says otherwise). The password is read from
    /// standard input (`--password-stdin`) or from `TOVOR_PASSWORD`, never from the
    /// command line, where other users of the machine could see it.
    Add {
        /// The e-mail address they sign in with.
        email: String,
        /// Their name, as the admin shows it.
        #[arg(long)]
        name: String,
        /// A company they join at once.
        #[arg(long)]
        company: Option<i64>,
        /// owner, staff or read_only (with --company; default owner).
        #[arg(long)]
        role: Option<String>,
        /// They also manage companies and plugins.
        #[arg(long)]
        operator: bool,
        /// sl (default) or en: the language of their pages.
        #[arg(long)]
        language: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List everyone, with their companies and roles.
    List,
    /// Set someone's password (they are signed out everywhere).
    Password {
        /// The user's id (`tovor users list`).
        id: i64,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Put someone into a company, or change their role there.
    Role {
        id: i64,
        company: i64,
        /// owner, staff or read_only.
        role: String,
    },
    /// Take someone out of a company.
    Remove { id: i64, company: i64 },
}

fn password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    match std::env::var("TOVOR_PASSWORD") {
        Ok(password) if !password.is_empty() => Ok(password),
        _ => anyhow::bail!(
            "give the password on standard input with --password-stdin, or in TOVOR_PASSWORD"
        ),
    }
}

fn print_user(user: &Value) {
    let companies: Vec<String> = items(&user["companies"])
        .iter()
        .map(|membership| {
            format!(
                "{} ({}, {})",
                cell(membership, "company_name"),
                cell(membership, "company_id"),
                cell(membership, "role")
            )
        })
        .collect();
    outln!(
        "user {} {} <{}>{}: {}",
        cell(user, "id"),
        cell(user, "name"),
        cell(user, "email"),
        if user["operator"] == json!(true) {
            ", operator"
        } else {
            ""
        },
        if companies.is_empty() {
            "no companies".to_owned()
        } else {
            companies.join(", ")
        }
    );
}

pub async fn run(api: &ApiOptions, command: UsersCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        UsersCommand::Add {
            email,
            name,
            company,
            role,
            operator,
            language,
            password_stdin,
        } => {
            let body = json!({
                "email": email,
                "name": name,
                "password": password(password_stdin)?,
                "company": company.map(|id| json!({ "id": id, "role": role })),
                "operator": operator,
                "language": language,
            });
            let created = client.post(&["users"], Some(&body)).await?;
            show(api, &created, print_user)
        }
        UsersCommand::List => {
            let list = client.get(&["users"], &[]).await?;
            show(api, &list, |list| {
                let mut table = Table::new(&["ID", "EMAIL", "NAME", "OPERATOR", "COMPANIES"]);
                for user in items(list) {
                    let companies: Vec<String> = items(&user["companies"])
                        .iter()
                        .map(|m| format!("{}:{}", cell(m, "company_id"), cell(m, "role")))
                        .collect();
                    table.row(vec![
                        cell(user, "id"),
                        cell(user, "email"),
                        cell(user, "name"),
                        cell(user, "operator"),
                        companies.join(" "),
                    ]);
                }
                table.print_or("no users");
            })
        }
        UsersCommand::Password { id, password_stdin } => {
            let id = id.to_string();
            client
                .post(
                    &["users", &id, "password"],
                    Some(&json!({ "password": password(password_stdin)? })),
                )
                .await?;
            outln!("password set; user {id} is signed out everywhere");
            Ok(())
        }
        UsersCommand::Role { id, company, role } => {
            let user = client
                .put(
                    &["users", &id.to_string(), "companies", &company.to_string()],
                    &json!({ "role": role }),
                )
                .await?;
            show(api, &user, print_user)
        }
        UsersCommand::Remove { id, company } => {
            client
                .delete(&["users", &id.to_string(), "companies", &company.to_string()])
                .await?;
            outln!("user {id} is no longer in company {company}");
            Ok(())
        }
    }
}
