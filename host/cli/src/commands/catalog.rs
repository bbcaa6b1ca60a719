//! Catalogs: `tovor warehouses ...`, `tovor payment-methods ...`, `tovor items ...`,
//! `tovor customers ...`.

use serde_json::{Map, Value, json};

use super::show;
use crate::client::ApiOptions;
use crate::output::{Table, cell, items, outln};
use crate::parse::is_decimal;

#[derive(Debug, clap::Subcommand)]
pub enum WarehousesCommand {
    /// Create a warehouse.
    Add {
        /// The warehouse's name.
        name: String,
        /// Short code (derived from the name when left out).
        #[arg(long)]
        code: Option<String>,
    },
    /// List the company's warehouses.
    List,
}

pub async fn warehouses(api: &ApiOptions, command: WarehousesCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        WarehousesCommand::Add { name, code } => {
            let mut body = json!({ "name": name });
            if let Some(code) = code {
                body["code"] = code.into();
            }
            let warehouse = client.post(&["warehouses"], Some(&body)).await?;
            show(api, &warehouse, |warehouse| {
                outln!(
                    "warehouse {} created: {} ({})",
                    cell(warehouse, "id"),
                    cell(warehouse, "name"),
                    cell(warehouse, "code")
                );
            })
        }
        WarehousesCommand::List => {
            let list = client.get(&["warehouses"], &[]).await?;
            show(api, &list, |list| {
                let mut table = Table::new(&["ID", "CODE", "NAME"]);
                for warehouse in items(list) {
                    table.row(vec![
                        cell(warehouse, "id"),
                        cell(warehouse, "code"),
                        cell(warehouse, "name"),
                    ]);
                }
                table.print_or("no warehouses");
            })
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum PaymentMethodsCommand {
    /// Create a host payment method (shops' payment methods are mapped to these).
    Add {
        /// Short code, e.g. `cod`.
        code: String,
        /// Name shown on documents, e.g. `Cash on delivery`.
        name: String,
        /// Shipments of orders paid this way collect the amount.
        #[arg(long)]
        cod: bool,
    },
    /// List the host's payment methods.
    List,
}

pub async fn payment_methods(
    api: &ApiOptions,
    command: PaymentMethodsCommand,
) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        PaymentMethodsCommand::Add { code, name, cod } => {
            let body = json!({ "code": code, "name": name, "cash_on_delivery": cod });
            let method = client.post(&["payment-methods"], Some(&body)).await?;
            show(api, &method, |method| {
                outln!(
                    "payment method {} created: {} {}{}",
                    cell(method, "id"),
                    cell(method, "code"),
                    cell(method, "name"),
                    if method["cash_on_delivery"] == true {
                        " (cash on delivery)"
                    } else {
                        ""
                    }
                );
            })
        }
        PaymentMethodsCommand::List => {
            let list = client.get(&["payment-methods"], &[]).await?;
            show(api, &list, |list| {
                let mut table = Table::new(&["ID", "CODE", "NAME", "COD"]);
                for method in items(list) {
                    table.row(vec![
                        cell(method, "id"),
                        cell(method, "code"),
                        cell(method, "name"),
                        cell(method, "cash_on_delivery"),
                    ]);
                }
                table.print_or("no payment methods");
            })
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum ItemsCommand {
    /// Create an item.
    Add {
        /// The item's code: the SKU shops know it by.
        code: String,
        /// The item's name.
        name: String,
        /// Net unit price.
        #[arg(long, value_parser = decimal)]
        price: String,
        /// VAT rate in percent, e.g. 22.
        #[arg(long, value_parser = decimal)]
        vat_rate: String,
        /// Unit of measure.
        #[arg(long, default_value = "pcs")]
        unit: String,
        #[arg(long)]
        barcode: Option<String>,
    },
    /// List the item catalog, by code.
    List {
        /// Continue after this item code.
        #[arg(long)]
        after: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Link an item to a shop's product, so its stock is pushed there.
    Link {
        /// The item's id.
        item: i64,
        /// The shop's id.
        #[arg(long)]
        shop: i64,
        /// The platform's product id.
        #[arg(long)]
        product: String,
        /// The platform's variation id.
        #[arg(long)]
        variation: Option<String>,
        /// The platform's inventory record (Shopify inventory item id).
        #[arg(long)]
        inventory: Option<String>,
    },
}

fn decimal(text: &str) -> Result<String, String> {
    if is_decimal(text.trim()) {
        Ok(text.trim().to_owned())
    } else {
        Err(format!("{text:?} is not a number (use a dot: 19.99)"))
    }
}

pub async fn items_command(api: &ApiOptions, command: ItemsCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        ItemsCommand::Add {
            code,
            name,
            price,
            vat_rate,
            unit,
            barcode,
        } => {
            let body = json!({
                "code": code, "name": name, "price": price, "vat_rate": vat_rate,
                "unit": unit, "barcode": barcode,
            });
            let item = client.post(&["items"], Some(&body)).await?;
            show(api, &item, |item| {
                outln!(
                    "item {} created: {} {}",
                    cell(item, "id"),
                    cell(item, "code"),
                    cell(item, "name")
                );
            })
        }
        ItemsCommand::List { after, limit } => {
            let mut query = Vec::new();
            if let Some(after) = after {
                query.push(("after", after));
            }
            if let Some(limit) = limit {
                query.push(("limit", limit.to_string()));
            }
            let list = client.get(&["items"], &query).await?;
            show(api, &list, |list| {
                let mut table = Table::new(&["ID", "CODE", "NAME", "UNIT", "VAT", "PRICE"]);
                for item in items(list) {
                    table.row(vec![
                        cell(item, "id"),
                        cell(item, "code"),
                        cell(item, "name"),
                        cell(item, "unit"),
                        cell(item, "vat_rate"),
                        cell(item, "price"),
                    ]);
                }
                table.print_or("no items");
            })
        }
        ItemsCommand::Link {
            item,
            shop,
            product,
            variation,
            inventory,
        } => {
            let mut body = Map::new();
            body.insert("shop_id".into(), shop.into());
            body.insert("product_id".into(), product.into());
            if let Some(variation) = variation {
                body.insert("variation_id".into(), variation.into());
            }
            if let Some(inventory) = inventory {
                body.insert("inventory_id".into(), inventory.into());
            }
            let answer = client
                .post(
                    &["items", &item.to_string(), "links"],
                    Some(&Value::Object(body)),
                )
                .await?;
            show(api, &answer, |_| {
                outln!("item {item} linked to shop {shop}: its stock is pushed there");
            })
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum CustomersCommand {
    /// List the customer catalog.
    List {
        /// Continue after this customer id.
        #[arg(long)]
        after: Option<i64>,
        #[arg(long)]
        limit: Option<u32>,
    },
}

pub async fn customers(api: &ApiOptions, command: CustomersCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        CustomersCommand::List { after, limit } => {
            let mut query = Vec::new();
            if let Some(after) = after {
                query.push(("after", after.to_string()));
            }
            if let Some(limit) = limit {
                query.push(("limit", limit.to_string()));
            }
            let list = client.get(&["customers"], &query).await?;
            show(api, &list, |list| {
                let mut table = Table::new(&["ID", "NAME", "COMPANY", "EMAIL", "VAT ID"]);
                for customer in items(list) {
                    table.row(vec![
                        cell(customer, "id"),
                        cell(customer, "name"),
                        cell(customer, "company_name"),
                        cell(customer, "email"),
                        cell(customer, "vat_id"),
                    ]);
                }
                table.print_or("no customers");
            })
        }
    }
}
