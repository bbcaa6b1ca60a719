//! `tovor company ...`: the company's profile (what its documents say about it, their
//! time zone and language) and its logo.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::{Map, Value};

use super::show;
use crate::client::ApiOptions;
use crate::output::{cell, outln, print_fields};

#[derive(Debug, clap::Subcommand)]
pub enum CompanyCommand {
    /// Show the profile.
    Show,
    /// Change profile fields; those not given stay as they are. An empty value
    /// clears a field.
    Set(ProfileArgs),
    /// Show the mail server documents are sent through, or set it with --host.
    Smtp(SmtpArgs),
    /// Set the letterhead's logo from a PNG or JPEG file, or remove it.
    Logo {
        /// The image file.
        #[arg(required_unless_present = "remove")]
        file: Option<PathBuf>,
        /// Remove the logo.
        #[arg(long, conflicts_with = "file")]
        remove: bool,
    },
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct SmtpArgs {
    /// The server's name; without it the current settings are shown.
    #[arg(long, requires = "from")]
    pub host: Option<String>,
    /// Default 587 (starttls), 465 (tls), 25 (none).
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(long, value_parser = ["starttls", "tls", "none"])]
    pub security: Option<String>,
    #[arg(long)]
    pub username: Option<String>,
    /// The password (kept sealed, never shown); read from TOVOR_SMTP_PASSWORD when set.
    #[arg(long, env = "TOVOR_SMTP_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// The sender's address.
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,
    /// The sender's name.
    #[arg(long)]
    pub from_name: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub reply_to: Option<String>,
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProfileArgs {
    /// The name documents carry.
    #[arg(long)]
    pub legal_name: Option<String>,
    #[arg(long)]
    pub street: Option<String>,
    #[arg(long)]
    pub postal_code: Option<String>,
    #[arg(long)]
    pub city: Option<String>,
    /// Two-letter code, such as SI.
    #[arg(long)]
    pub country: Option<String>,
    /// With the country prefix: SI12345679.
    #[arg(long)]
    pub vat_id: Option<String>,
    /// The registration number (matična številka).
    #[arg(long)]
    pub registration_number: Option<String>,
    #[arg(long)]
    pub iban: Option<String>,
    #[arg(long)]
    pub bic: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    /// Printed at the foot of every page.
    #[arg(long)]
    pub footer: Option<String>,
    /// IANA time zone documents are dated in (default Europe/Ljubljana).
    #[arg(long)]
    pub time_zone: Option<String>,
    /// Document language: sl or en.
    #[arg(long, value_parser = ["sl", "en"])]
    pub language: Option<String>,
    /// Days from issue to the due date of an unpaid invoice.
    #[arg(long, value_name = "DAYS")]
    pub payment_days: Option<u16>,
}

impl ProfileArgs {
    /// The current profile with the given fields changed, as the `PUT` body.
    pub fn merge_into(&self, current: &Value) -> Value {
        let mut body = Map::new();
        for key in FIELDS {
            if let Some(value) = current.get(*key).filter(|value| !value.is_null()) {
                body.insert((*key).to_owned(), value.clone());
            }
        }
        let texts = [
            ("legal_name", &self.legal_name),
            ("street", &self.street),
            ("postal_code", &self.postal_code),
            ("city", &self.city),
            ("country", &self.country),
            ("vat_id", &self.vat_id),
            ("registration_number", &self.registration_number),
            ("iban", &self.iban),
            ("bic", &self.bic),
            ("email", &self.email),
            ("phone", &self.phone),
            ("footer", &self.footer),
            ("time_zone", &self.time_zone),
            ("language", &self.language),
        ];
        for (key, value) in texts {
            match value.as_deref() {
                Some("") => {
                    body.remove(key);
                }
                Some(value) => {
                    body.insert(key.to_owned(), Value::from(value));
                }
                None => {}
            }
        }
        if let Some(days) = self.payment_days {
            body.insert("payment_days".into(), Value::from(days));
        }
        Value::Object(body)
    }
}

/// The profile's settable fields, as `PUT /company/profile` names them.
const FIELDS: &[&str] = &[
    "legal_name",
    "street",
    "postal_code",
    "city",
    "country",
    "vat_id",
    "registration_number",
    "iban",
    "bic",
    "email",
    "phone",
    "footer",
    "time_zone",
    "language",
    "payment_days",
];

pub async fn run(api: &ApiOptions, command: CompanyCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        CompanyCommand::Show => {
            let profile = client.get(&["company", "profile"], &[]).await?;
            show(api, &profile, print_profile)
        }
        CompanyCommand::Set(args) => {
            let current = client.get(&["company", "profile"], &[]).await?;
            let profile = client
                .put(&["company", "profile"], &args.merge_into(&current))
                .await?;
            show(api, &profile, print_profile)
        }
        CompanyCommand::Smtp(args) => {
            let settings = match &args.host {
                None => client.get(&["company", "smtp"], &[]).await?,
                Some(host) => {
                    let mut body = serde_json::json!({"host": host, "from_address": args.from});
                    for (key, value) in [
                        ("security", &args.security),
                        ("username", &args.username),
                        ("password", &args.password),
                        ("from_name", &args.from_name),
                        ("reply_to", &args.reply_to),
                    ] {
                        if let Some(value) = value {
                            body[key] = Value::from(value.as_str());
                        }
                    }
                    if let Some(port) = args.port {
                        body["port"] = Value::from(port);
                    }
                    client.put(&["company", "smtp"], &body).await?
                }
            };
            show(api, &settings, |settings| {
                print_fields(&[
                    ("host", cell(settings, "host")),
                    ("port", cell(settings, "port")),
                    ("security", cell(settings, "security")),
                    ("username", cell(settings, "username")),
                    ("password set", cell(settings, "password_set")),
                    ("from", cell(settings, "from_address")),
                    ("from name", cell(settings, "from_name")),
                    ("reply to", cell(settings, "reply_to")),
                ]);
            })
        }
        CompanyCommand::Logo { file, remove } => {
            if remove {
                client.delete(&["company", "logo"]).await?;
                outln!("logo removed");
                return Ok(());
            }
            let Some(file) = file else {
                anyhow::bail!("give the logo's file, or --remove");
            };
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let content_type = if bytes.starts_with(b"\x89PNG") {
                "image/png"
            } else if bytes.starts_with(b"\xff\xd8\xff") {
                "image/jpeg"
            } else {
                anyhow::bail!("{} is neither a PNG nor a JPEG image", file.display());
            };
            client
                .put_bytes(&["company", "logo"], content_type, bytes)
                .await?;
            outln!("logo set from {}", file.display());
            Ok(())
        }
    }
}

fn print_profile(profile: &Value) {
    let mut fields: Vec<(&str, String)> = FIELDS
        .iter()
        .map(|key| (*key, cell(profile, key)))
        .collect();
    fields.push(("logo", cell(profile, "has_logo")));
    fields.push(("updated", cell(profile, "updated_at")));
    print_fields(&fields);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn set_changes_only_what_is_given_and_clears_empty_values() {
        let current = json!({
            "legal_name": "Trgovina d.o.o.", "iban": "SI56191000000123438",
            "footer": "Old", "time_zone": "Europe/Ljubljana", "language": "sl",
            "payment_days": 8, "has_logo": false, "updated_at": null, "bic": null,
        });
        let args = ProfileArgs {
            city: Some("Ljubljana".into()),
            footer: Some(String::new()),
            payment_days: Some(15),
            ..ProfileArgs::default()
        };
        assert_eq!(
            args.merge_into(&current),
            json!({
                "legal_name": "Trgovina d.o.o.", "iban": "SI56191000000123438",
                "time_zone": "Europe/Ljubljana", "language": "sl", "payment_days": 15,
                "city": "Ljubljana",
            })
        );
    }
}
