//! `tovor shops ...`: "Add e-store", settings, sync, history import, payment mappings,
//! stock push state and webhook deliveries.

use std::time::Duration;

use anyhow::Context;
use serde_json::{Map, Value, json};

use super::show;
use crate::client::{ApiOptions, Client};
use crate::output::{Table, cell, items, outln, print_fields, print_json, text};
use crate::parse::{DateArg, KeyValue, config_object};

#[derive(Debug, clap::Subcommand)]
pub enum ShopsCommand {
    /// "Add e-store": connect a shop and print the webhook URL to register in it.
    Add(AddArgs),
    /// List the company's shops and their sync health.
    List,
    /// A shop's settings (secrets are never shown) and sync health.
    Show {
        /// The shop's id.
        id: i64,
    },
    /// Change a shop's settings; what is left out stays.
    Update(UpdateArgs),
    /// Register the platform's webhooks for the shop again (after fixing what made it
    /// fail, or when they were removed on the platform).
    RegisterWebhooks {
        /// The shop's id.
        id: i64,
    },
    /// Sync now (in the background; see `shops show`).
    Sync {
        /// The shop's id.
        id: i64,
        /// Ask for orders changed since this time instead of since the last sync
        /// (2026-01-31 or RFC 3339).
        #[arg(long, value_name = "TIME")]
        since: Option<DateArg>,
    },
    /// Import the shop's order history, showing progress until it is done.
    ImportHistory {
        /// The shop's id.
        id: i64,
        /// Import orders changed since this date (2026-01-31 or RFC 3339).
        #[arg(long, value_name = "DATE")]
        from: DateArg,
        /// Start the import and return at once.
        #[arg(long)]
        no_wait: bool,
    },
    /// The payment methods seen on the shop's orders, mapped or not.
    PaymentMethods {
        /// The shop's id.
        id: i64,
    },
    /// Map one of the shop's payment methods (by its code) to a host payment method.
    MapPayment {
        /// The shop's id.
        id: i64,
        /// The shop's payment method code (see `shops payment-methods`).
        code: String,
        /// The host payment method's id (see `payment-methods list`).
        #[arg(long, value_name = "PAYMENT_METHOD_ID")]
        to: i64,
        /// Map only this title of the code (default: any title).
        #[arg(long)]
        title: Option<String>,
    },
    /// Push the stock of every item the shop can be told about again.
    ResyncStock {
        /// The shop's id.
        id: i64,
    },
    /// Link the shop's products to items whose code is their SKU, so stock reaches
    /// products no order has mentioned yet; safe to repeat.
    LinkProducts {
        /// The shop's id.
        id: i64,
    },
    /// Items whose stock is not pushed to the shop because they have no link to one of
    /// its products (see `items link`).
    Unlinked {
        /// The shop's id.
        id: i64,
    },
    /// Orders the shop's syncs could not import because the import rules refused them;
    /// every sync tries the open ones again until they import.
    Problems {
        /// The shop's id.
        id: i64,
        /// Also list the dismissed ones.
        #[arg(long)]
        all: bool,
    },
    /// Stop trying a problem order, until it changes in the shop.
    DismissProblem {
        /// The shop's id.
        id: i64,
        /// The shop's order id (see `shops problems`).
        order: String,
    },
    /// Try a problem order again now (a dismissed one too).
    RetryProblem {
        /// The shop's id.
        id: i64,
        /// The shop's order id (see `shops problems`).
        order: String,
    },
    /// The shop's webhook deliveries, newest first.
    Deliveries {
        /// The shop's id.
        id: i64,
        /// Only deliveries in this state.
        #[arg(long, value_parser = ["pending", "done", "failed", "malformed"])]
        state: Option<String>,
        /// At most this many (default 50).
        #[arg(long)]
        limit: Option<u32>,
    },
}

/// Settings shared by `shops add` and `shops update`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SettingsArgs {
    /// A field the plugin's manifest declares (see `plugins list --remote`); repeat for
    /// each. When changing a shop, an empty value clears the field.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<KeyValue>,
    /// Minutes between syncs for shops that send no webhooks (default 20).
    #[arg(long, value_name = "M")]
    pub poll_minutes: Option<u32>,
    /// Orders placed before this are not imported (2026-01-31 or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub import_from: Option<DateArg>,
    /// Automatic invoicing: `off`, `paid` (when paid) or `status:<status>` (e.g.
    /// `status:completed`).
    #[arg(long, value_name = "POLICY", value_parser = auto_invoice)]
    pub auto_invoice: Option<String>,
    /// Refunds the shop reports: `offer` (default) shows them on the order for a person
    /// to credit, `auto` makes each a credit note of the order's invoice at once.
    #[arg(long, value_name = "POLICY", value_parser = ["offer", "auto"])]
    pub credit_notes: Option<String>,
    /// Which quantity the shop is told: `available` (default) or `on_hand`.
    #[arg(long, value_name = "MODE", value_parser = ["available", "on_hand"])]
    pub stock_mode: Option<String>,
    /// Which document moves stock: `delivery_note` (default) or `invoice`.
    #[arg(long, value_name = "KIND", value_parser = ["delivery_note", "invoice"])]
    pub stock_document: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct AddArgs {
    /// The shop's name.
    #[arg(long)]
    pub name: String,
    /// The warehouse the shop sells from.
    #[arg(long, value_name = "ID")]
    pub warehouse: i64,
    /// The connector plugin's id; leave out for a custom platform that pushes its orders.
    #[arg(long)]
    pub plugin: Option<String>,
    /// A changed order in the shop may update an imported one.
    #[arg(long)]
    pub update_existing: bool,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct UpdateArgs {
    /// The shop's id.
    pub id: i64,
    #[arg(long)]
    pub name: Option<String>,
    /// The warehouse the shop sells from.
    #[arg(long, value_name = "ID")]
    pub warehouse: Option<i64>,
    /// Whether a changed order in the shop may update an imported one.
    #[arg(long, value_name = "BOOL")]
    pub update_existing: Option<bool>,
    /// `false` stops syncing, stock pushes and webhook intake and removes the webhooks
    /// tovor registered on the platform; `true` registers them again.
    #[arg(long, value_name = "BOOL")]
    pub enabled: Option<bool>,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

fn auto_invoice(text: &str) -> Result<String, String> {
    let text = text.trim();
    match text.strip_prefix("status:") {
        _ if text == "off" || text == "paid" => Ok(text.to_owned()),
        Some(status) if !status.trim().is_empty() => Ok(text.to_owned()),
        _ => Err(format!(
            "{text:?}: use off, paid or status:<status> (e.g. status:completed)"
        )),
    }
}

impl SettingsArgs {
    fn fill(&self, body: &mut Map<String, Value>) {
        if !self.config.is_empty() {
            body.insert("config".into(), Value::Object(config_object(&self.config)));
        }
        if let Some(minutes) = self.poll_minutes {
            body.insert("poll_minutes".into(), minutes.into());
        }
        if let Some(from) = self.import_from {
            body.insert("import_from".into(), from.to_rfc3339().into());
        }
        for (key, value) in [
            ("auto_invoice", &self.auto_invoice),
            ("credit_notes", &self.credit_notes),
            ("stock_mode", &self.stock_mode),
            ("stock_document", &self.stock_document),
        ] {
            if let Some(value) = value {
                body.insert(key.into(), value.clone().into());
            }
        }
    }
}

/// The body of `POST /shops`.
pub fn add_body(args: &AddArgs) -> Value {
    let mut body = Map::new();
    body.insert("name".into(), args.name.clone().into());
    body.insert("warehouse_id".into(), args.warehouse.into());
    body.insert("update_existing".into(), args.update_existing.into());
    if let Some(plugin) = &args.plugin {
        body.insert("plugin".into(), plugin.clone().into());
    }
    args.settings.fill(&mut body);
    Value::Object(body)
}

/// The body of `PATCH /shops/{id}`.
pub fn update_body(args: &UpdateArgs) -> Value {
    let mut body = Map::new();
    if let Some(name) = &args.name {
        body.insert("name".into(), name.clone().into());
    }
    if let Some(warehouse) = args.warehouse {
        body.insert("warehouse_id".into(), warehouse.into());
    }
    if let Some(update_existing) = args.update_existing {
        body.insert("update_existing".into(), update_existing.into());
    }
    if let Some(enabled) = args.enabled {
        body.insert("enabled".into(), enabled.into());
    }
    args.settings.fill(&mut body);
    Value::Object(body)
}

pub async fn run(api: &ApiOptions, command: ShopsCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        ShopsCommand::Add(args) => {
            let shop = client.post(&["shops"], Some(&add_body(&args))).await?;
            show(api, &shop, print_created)
        }
        ShopsCommand::List => {
            let list = client.get(&["shops"], &[]).await?;
            show(api, &list, print_list)
        }
        ShopsCommand::Show { id } => {
            let shop = client.get(&["shops", &id.to_string()], &[]).await?;
            show(api, &shop, print_shop)?;
            if !api.json && shop["sync"].is_object() {
                let problems = client
                    .get(&["shops", &id.to_string(), "problems"], &[])
                    .await?;
                if !items(&problems).is_empty() {
                    outln!("orders not imported (the rules refused them; tried again every sync):");
                    print_problems(&problems);
                    outln!(
                        "fix them in the shop, or `tovor shops dismiss-problem {id} ORDER` to stop trying"
                    );
                }
            }
            Ok(())
        }
        ShopsCommand::Update(args) => {
            let body = update_body(&args);
            anyhow::ensure!(
                body.as_object().is_some_and(|body| !body.is_empty()),
                "nothing to change: give at least one setting (see `tovor shops update --help`)"
            );
            let shop = client
                .patch(&["shops", &args.id.to_string()], &body)
                .await?;
            show(api, &shop, |shop| {
                outln!("shop {} updated", cell(shop, "id"));
                print_shop(shop);
            })
        }
        ShopsCommand::RegisterWebhooks { id } => {
            let shop = client
                .post(&["shops", &id.to_string(), "webhooks"], None)
                .await?;
            show(api, &shop, |shop| {
                outln!("shop {id}: {}", webhook_setup_line(&shop["webhook_setup"]))
            })
        }
        ShopsCommand::Sync { id, since } => {
            let body = since.map(|since| json!({ "since": since.to_rfc3339() }));
            let shop = client
                .post(&["shops", &id.to_string(), "sync"], body.as_ref())
                .await?;
            show(api, &shop, |_| match since {
                Some(since) => outln!(
                    "sync of shop {id} requested (orders changed since {}); \
                     see `tovor shops show {id}`",
                    since.to_rfc3339()
                ),
                None => outln!("sync of shop {id} requested; see `tovor shops show {id}`"),
            })
        }
        ShopsCommand::ImportHistory { id, from, no_wait } => {
            import_history(api, &client, id, from, no_wait).await
        }
        ShopsCommand::PaymentMethods { id } => {
            let methods = client
                .get(&["shops", &id.to_string(), "payment-methods"], &[])
                .await?;
            if api.json {
                return print_json(&methods);
            }
            // The host's methods by id, to name what the shop's are mapped to.
            let host_methods = client
                .get(&["payment-methods"], &[])
                .await
                .unwrap_or(Value::Null);
            print_payment_methods(&methods, &host_methods);
            Ok(())
        }
        ShopsCommand::MapPayment {
            id,
            code,
            to,
            title,
        } => {
            let body = json!({ "payment_method_id": to, "title": title.unwrap_or_default() });
            let answer = client
                .put(&["shops", &id.to_string(), "payment-methods", &code], &body)
                .await?;
            show(api, &answer, |_| {
                outln!("payment method {code:?} of shop {id} now means host payment method {to}");
            })
        }
        ShopsCommand::ResyncStock { id } => {
            let answer = client
                .post(&["shops", &id.to_string(), "stock", "resync"], None)
                .await?;
            show(api, &answer, |answer| {
                outln!(
                    "{} item(s) queued for pushing to shop {id}",
                    cell(answer, "queued")
                );
            })
        }
        ShopsCommand::LinkProducts { id } => {
            let answer = client
                .post(&["shops", &id.to_string(), "products", "link"], None)
                .await?;
            show(api, &answer, |answer| {
                outln!(
                    "{} product(s) read: {} linked now, {} already linked, {} without an item, {} without SKU",
                    cell(answer, "products"),
                    cell(answer, "linked"),
                    cell(answer, "already_linked"),
                    cell(answer, "unmatched"),
                    cell(answer, "without_sku"),
                );
                if let Some(skus) = answer["unmatched_skus"].as_array()
                    && !skus.is_empty()
                {
                    let skus: Vec<&str> =
                        skus.iter().filter_map(serde_json::Value::as_str).collect();
                    outln!("SKUs without an item: {}", skus.join(", "));
                }
            })
        }
        ShopsCommand::Unlinked { id } => {
            let list = client
                .get(
                    &["shops", &id.to_string(), "stock"],
                    &[("outcome", "unlinked".to_owned())],
                )
                .await?;
            show(api, &list, |list| {
                let mut table = Table::new(&["ITEM", "SKU", "SINCE"]);
                for state in items(list) {
                    table.row(vec![
                        cell(state, "item"),
                        cell(state, "item_code"),
                        cell(state, "at"),
                    ]);
                }
                table.print_or(&format!("every item's stock reaches shop {id}"));
                if !table.is_empty() {
                    outln!(
                        "link them with `tovor items link ITEM --shop {id} --product PRODUCT_ID`"
                    );
                }
            })
        }
        ShopsCommand::Problems { id, all } => {
            let query = if all {
                vec![("dismissed", "true".to_owned())]
            } else {
                Vec::new()
            };
            let list = client
                .get(&["shops", &id.to_string(), "problems"], &query)
                .await?;
            show(api, &list, |list| {
                if items(list).is_empty() {
                    outln!("every order shop {id}'s syncs met was imported");
                } else {
                    print_problems(list);
                }
            })
        }
        ShopsCommand::DismissProblem { id, order } => {
            let answer = client
                .post(
                    &["shops", &id.to_string(), "problems", &order, "dismiss"],
                    None,
                )
                .await?;
            show(api, &answer, |_| {
                outln!(
                    "order {order} of shop {id} dismissed: not tried again unless it changes in the shop"
                );
            })
        }
        ShopsCommand::RetryProblem { id, order } => {
            let answer = client
                .post(
                    &["shops", &id.to_string(), "problems", &order, "retry"],
                    None,
                )
                .await?;
            show(api, &answer, |_| {
                outln!(
                    "order {order} of shop {id} will be tried again by a sync now; see `tovor shops problems {id}`"
                );
            })
        }
        ShopsCommand::Deliveries { id, state, limit } => {
            let mut query = Vec::new();
            if let Some(state) = state {
                query.push(("state", state));
            }
            if let Some(limit) = limit {
                query.push(("limit", limit.to_string()));
            }
            let list = client
                .get(&["shops", &id.to_string(), "deliveries"], &query)
                .await?;
            show(api, &list, print_deliveries)
        }
    }
}

fn print_created(shop: &Value) {
    let id = cell(shop, "id");
    let plugin = cell(shop, "plugin");
    if plugin.is_empty() {
        outln!(
            "shop {id} ({}) created: a custom platform, warehouse {}",
            cell(shop, "name"),
            cell(shop, "warehouse_id")
        );
        outln!("push its orders to: {}", cell(shop, "orders_url"));
        return;
    }
    outln!(
        "shop {id} ({}) created: plugin {plugin}, warehouse {}",
        cell(shop, "name"),
        cell(shop, "warehouse_id")
    );
    if let Some(account) = shop["connection"]["account"].as_str() {
        outln!("connected to {account}");
    }
    for warning in items(&shop["connection"]["warnings"]) {
        outln!("warning: {}", warning.as_str().unwrap_or_default());
    }
    let setup = &shop["webhook_setup"];
    match setup["state"].as_str() {
        Some("registered") => outln!(
            "webhooks registered on the platform ({} subscriptions) for {}",
            items(&setup["webhooks"]).len(),
            cell(shop, "webhook_url")
        ),
        Some("manual") => outln!(
            "register this webhook URL in the shop's webhook settings:\n  {}\n{}",
            cell(shop, "webhook_url"),
            cell(setup, "message")
        ),
        Some("failed") => outln!(
            "registering the webhooks failed ({}); the shop is polled meanwhile. Fix it and \
             run `tovor shops register-webhooks {id}`, or register this URL by hand:\n  {}",
            cell(setup, "message"),
            cell(shop, "webhook_url")
        ),
        _ => {}
    }
    if shop["webhooks"] == false {
        outln!(
            "(the platform sends no webhooks: tovor polls it every {} minutes)",
            cell(shop, "poll_minutes")
        );
    }
}

/// How the platform was set up to deliver webhooks, in one line.
fn webhook_setup_line(setup: &Value) -> String {
    match setup["state"].as_str() {
        Some("registered") => {
            let ids: Vec<String> = items(&setup["webhooks"])
                .iter()
                .map(|hook| format!("{} ({})", cell(hook, "topic"), cell(hook, "id")))
                .collect();
            format!("registered: {}", ids.join(", "))
        }
        Some(state) => format!("{state}: {}", cell(setup, "message")),
        None => String::new(),
    }
}

/// One line of sync health: what failed last, or when it last finished.
fn sync_health(shop: &Value) -> String {
    let sync = &shop["sync"];
    if sync.is_null() {
        return "custom platform".to_owned();
    }
    let error = cell(sync, "last_error");
    if !error.is_empty() {
        // The whole message is in `shops show`.
        return format!(
            "FAILING ({}x): {}",
            cell(sync, "failures"),
            shorten(&error, 60)
        );
    }
    let finished = cell(sync, "last_finished_at");
    let mut health = if finished.is_empty() {
        "not synced yet".to_owned()
    } else {
        format!("ok, last {finished}")
    };
    match sync["history"]["state"].as_str() {
        Some("requested" | "running") => health.push_str(&format!(
            "; importing history ({} orders so far)",
            cell(&sync["history"], "orders")
        )),
        Some("failed") => health.push_str("; history import failed"),
        _ => {}
    }
    health
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max_chars).collect();
        short.push('…');
        short
    }
}

fn print_list(list: &Value) {
    let mut table = Table::new(&["ID", "NAME", "PLUGIN", "WAREHOUSE", "SYNC"]);
    for shop in items(list) {
        table.row(vec![
            cell(shop, "id"),
            cell(shop, "name"),
            cell(shop, "plugin"),
            cell(shop, "warehouse_id"),
            sync_health(shop),
        ]);
    }
    table.print_or("no shops");
}

fn print_shop(shop: &Value) {
    let config = shop["config"]
        .as_object()
        .map(|config| {
            config
                .iter()
                .map(|(key, value)| format!("{key}={}", text(value)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let plugin = cell(shop, "plugin");
    print_fields(&[
        ("id", cell(shop, "id")),
        ("name", cell(shop, "name")),
        (
            "plugin",
            if plugin.is_empty() {
                "(custom platform)".to_owned()
            } else {
                plugin
            },
        ),
        ("warehouse", cell(shop, "warehouse_id")),
        ("config", config),
        ("secrets set", cell(shop, "secrets_set")),
        ("update existing", cell(shop, "update_existing")),
        ("poll minutes", cell(shop, "poll_minutes")),
        ("import from", cell(shop, "import_from")),
        ("auto invoice", cell(shop, "auto_invoice")),
        ("credit notes", cell(shop, "credit_notes")),
        ("stock mode", cell(shop, "stock_mode")),
        ("stock document", cell(shop, "stock_document")),
        ("enabled", cell(shop, "enabled")),
        ("webhooks", cell(shop, "webhooks")),
        ("webhook url", cell(shop, "webhook_url")),
        ("webhook setup", webhook_setup_line(&shop["webhook_setup"])),
        ("orders url", cell(shop, "orders_url")),
    ]);
    let sync = &shop["sync"];
    if sync.is_object() {
        outln!("sync:");
        let history = &sync["history"];
        let history_line = match history["state"].as_str() {
            None | Some("none") => String::new(),
            Some(state) => {
                let mut line = format!(
                    "{state} (from {}): {} pages, {} orders",
                    cell(history, "from"),
                    cell(history, "pages"),
                    cell(history, "orders")
                );
                let error = cell(history, "error");
                if !error.is_empty() {
                    line.push_str(&format!("; {error}"));
                }
                line
            }
        };
        let failures = cell(sync, "failures");
        print_fields(&[
            ("  last started", cell(sync, "last_started_at")),
            ("  last finished", cell(sync, "last_finished_at")),
            ("  last error", cell(sync, "last_error")),
            (
                "  failures in a row",
                if failures == "0" {
                    String::new()
                } else {
                    failures
                },
            ),
            ("  orders seen", cell(sync, "orders_seen")),
            ("  changed since", cell(sync, "cursor")),
            ("  next run", cell(sync, "next_run_at")),
            ("  history import", history_line),
        ]);
    }
}

fn print_payment_methods(methods: &Value, host_methods: &Value) {
    let mut table = Table::new(&["CODE", "TITLE", "MAPPED TO", "ORDERS"]);
    for method in items(&methods["mapped"]) {
        let id = &method["payment_method_id"];
        let name = items(host_methods)
            .iter()
            .find(|host| &host["id"] == id)
            .map(|host| format!(" ({})", cell(host, "name")))
            .unwrap_or_default();
        let title = cell(method, "title");
        table.row(vec![
            cell(method, "code"),
            if title.is_empty() {
                "(any title)".to_owned()
            } else {
                title
            },
            format!("{}{name}", text(id)),
            String::new(),
        ]);
    }
    for method in items(&methods["unmapped"]) {
        table.row(vec![
            cell(method, "code"),
            cell(method, "title"),
            "(unmapped)".to_owned(),
            cell(method, "orders_seen"),
        ]);
    }
    table.print_or("no payment methods seen on this shop's orders yet");
}

fn print_deliveries(list: &Value) {
    let mut table = Table::new(&[
        "ID", "RECEIVED", "TOPIC", "STATE", "ATTEMPTS", "ORDER", "ERROR",
    ]);
    for delivery in items(list) {
        let skipped = cell(delivery, "skipped");
        table.row(vec![
            cell(delivery, "id"),
            cell(delivery, "received_at"),
            cell(delivery, "topic"),
            if skipped.is_empty() {
                cell(delivery, "state")
            } else {
                format!("{} (skipped: {skipped})", cell(delivery, "state"))
            },
            cell(delivery, "attempts"),
            cell(delivery, "order_id"),
            cell(delivery, "last_error"),
        ]);
    }
    table.print_or("no deliveries");
}

fn print_problems(list: &Value) {
    let mut table = Table::new(&[
        "ORDER",
        "ATTEMPTS",
        "FIRST SEEN",
        "LAST SEEN",
        "DISMISSED",
        "REASON",
    ]);
    for problem in items(list) {
        table.row(vec![
            cell(problem, "order_id"),
            cell(problem, "attempts"),
            cell(problem, "first_seen_at"),
            cell(problem, "last_seen_at"),
            cell(problem, "dismissed_at"),
            cell(problem, "reason"),
        ]);
    }
    table.print_or("no problems");
}

/// Where a history import stands, read from a shop's `sync.history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryPoll {
    /// Requested or running.
    Busy {
        state: String,
        pages: i64,
        orders: i64,
    },
    Done {
        pages: i64,
        orders: i64,
    },
    Failed {
        pages: i64,
        orders: i64,
        error: String,
    },
}

impl HistoryPoll {
    pub fn of(shop: &Value) -> anyhow::Result<Self> {
        let sync = &shop["sync"];
        anyhow::ensure!(
            sync.is_object(),
            "shop {} is a custom platform: it has no history to import",
            cell(shop, "id")
        );
        let history = &sync["history"];
        let pages = history["pages"].as_i64().unwrap_or(0);
        let orders = history["orders"].as_i64().unwrap_or(0);
        Ok(match history["state"].as_str().unwrap_or("none") {
            "done" => Self::Done { pages, orders },
            "failed" => Self::Failed {
                pages,
                orders,
                error: history["error"]
                    .as_str()
                    .unwrap_or("no reason given")
                    .to_owned(),
            },
            "none" => anyhow::bail!(
                "the history import of shop {} did not start",
                cell(shop, "id")
            ),
            state => Self::Busy {
                state: state.to_owned(),
                pages,
                orders,
            },
        })
    }
}

async fn import_history(
    api: &ApiOptions,
    client: &Client,
    id: i64,
    from: DateArg,
    no_wait: bool,
) -> anyhow::Result<()> {
    let shop_path = id.to_string();
    let started = client
        .post(
            &["shops", &shop_path, "import-history"],
            Some(&json!({ "from": from.to_rfc3339() })),
        )
        .await?;
    if no_wait {
        return show(api, &started, |_| {
            outln!(
                "history import of shop {id} from {} started; follow it with `tovor shops show {id}`",
                from.to_rfc3339()
            );
        });
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} importing the history of shop {prefix} [{elapsed}] {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_prefix(shop_path.clone());
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut shop = started;
    let outcome = loop {
        let poll = match HistoryPoll::of(&shop) {
            Ok(poll) => poll,
            Err(error) => {
                bar.finish_and_clear();
                return Err(error);
            }
        };
        match poll {
            HistoryPoll::Busy {
                state,
                pages,
                orders,
            } => bar.set_message(format!("{state}: {pages} pages, {orders} orders")),
            finished => break finished,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        shop = match client.get(&["shops", &shop_path], &[]).await {
            Ok(shop) => shop,
            Err(error) => {
                bar.finish_and_clear();
                return Err(error).with_context(|| {
                    format!(
                        "lost track of the import, which goes on in tovor; \
                         follow it with `tovor shops show {id}`"
                    )
                });
            }
        };
    };
    bar.finish_and_clear();
    if api.json {
        print_json(&shop)?;
    }
    match outcome {
        HistoryPoll::Done { pages, orders } => {
            if !api.json {
                outln!("history import of shop {id} done: {pages} pages, {orders} orders");
            }
            Ok(())
        }
        HistoryPoll::Failed {
            pages,
            orders,
            error,
        } => anyhow::bail!(
            "history import of shop {id} failed after {pages} pages, {orders} orders: {error}"
        ),
        HistoryPoll::Busy { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Wrap {
        #[command(subcommand)]
        command: ShopsCommand,
    }

    fn parse(args: &[&str]) -> ShopsCommand {
        Wrap::try_parse_from(std::iter::once("shops").chain(args.iter().copied()))
            .unwrap()
            .command
    }

    #[test]
    fn add_builds_the_add_e_store_body() {
        let ShopsCommand::Add(args) = parse(&[
            "add",
            "--name",
            "My shop",
            "--warehouse",
            "2",
            "--plugin",
            "example-shop",
            "--config",
            "shop_url=https://shop.example",
            "--config",
            "api_token=s3cret",
            "--poll-minutes",
            "5",
            "--import-from",
            "2026-01-31",
            "--auto-invoice",
            "status:completed",
            "--stock-mode",
            "on_hand",
            "--update-existing",
        ]) else {
            panic!("not add");
        };
        assert_eq!(
            add_body(&args),
            json!({
                "name": "My shop",
                "warehouse_id": 2,
                "plugin": "example-shop",
                "update_existing": true,
                "config": {"shop_url": "https://shop.example", "api_token": "s3cret"},
                "poll_minutes": 5,
                "import_from": "2026-01-31T00:00:00Z",
                "auto_invoice": "status:completed",
                "stock_mode": "on_hand",
            })
        );
    }

    #[test]
    fn a_custom_platform_shop_has_no_plugin() {
        let ShopsCommand::Add(args) = parse(&["add", "--name", "API shop", "--warehouse", "1"])
        else {
            panic!("not add");
        };
        assert_eq!(
            add_body(&args),
            json!({"name": "API shop", "warehouse_id": 1, "update_existing": false})
        );
    }

    #[test]
    fn update_sends_only_what_changes() {
        let ShopsCommand::Update(args) = parse(&[
            "update",
            "4",
            "--config",
            "api_base=",
            "--update-existing",
            "false",
        ]) else {
            panic!("not update");
        };
        assert_eq!(args.id, 4);
        assert_eq!(
            update_body(&args),
            json!({"config": {"api_base": ""}, "update_existing": false})
        );
    }

    #[test]
    fn bad_settings_are_refused_before_asking_the_server() {
        for args in [
            &[
                "add",
                "--name",
                "x",
                "--warehouse",
                "1",
                "--auto-invoice",
                "sometimes",
            ][..],
            &[
                "add",
                "--name",
                "x",
                "--warehouse",
                "1",
                "--auto-invoice",
                "status:",
            ],
            &[
                "add",
                "--name",
                "x",
                "--warehouse",
                "1",
                "--stock-mode",
                "all",
            ],
            &[
                "add",
                "--name",
                "x",
                "--warehouse",
                "1",
                "--config",
                "novalue",
            ],
            &[
                "add",
                "--name",
                "x",
                "--warehouse",
                "1",
                "--import-from",
                "31.1.2026",
            ],
            &["deliveries", "1", "--state", "lost"],
        ] {
            assert!(
                Wrap::try_parse_from(std::iter::once("shops").chain(args.iter().copied())).is_err(),
                "{args:?}"
            );
        }
    }

    fn shop_with_history(state: &str) -> Value {
        json!({
            "id": 3,
            "sync": {
                "last_error": null,
                "failures": 0,
                "last_finished_at": "2026-02-01T10:00:00Z",
                "history": {"state": state, "pages": 4, "orders": 180, "error": "boom"},
            },
        })
    }

    #[test]
    fn history_progress() {
        assert_eq!(
            HistoryPoll::of(&shop_with_history("running")).unwrap(),
            HistoryPoll::Busy {
                state: "running".into(),
                pages: 4,
                orders: 180
            }
        );
        assert_eq!(
            HistoryPoll::of(&shop_with_history("done")).unwrap(),
            HistoryPoll::Done {
                pages: 4,
                orders: 180
            }
        );
        assert_eq!(
            HistoryPoll::of(&shop_with_history("failed")).unwrap(),
            HistoryPoll::Failed {
                pages: 4,
                orders: 180,
                error: "boom".into()
            }
        );
        assert!(HistoryPoll::of(&shop_with_history("none")).is_err());
        assert!(HistoryPoll::of(&json!({"id": 3, "sync": null})).is_err());
    }

    #[test]
    fn sync_health_in_one_line() {
        assert_eq!(
            sync_health(&shop_with_history("none")),
            "ok, last 2026-02-01T10:00:00Z"
        );
        assert_eq!(
            sync_health(&shop_with_history("running")),
            "ok, last 2026-02-01T10:00:00Z; importing history (180 orders so far)"
        );
        let mut failing = shop_with_history("none");
        failing["sync"]["last_error"] = "the shop answered 401".into();
        failing["sync"]["failures"] = 3.into();
        assert_eq!(sync_health(&failing), "FAILING (3x): the shop answered 401");
        assert_eq!(sync_health(&json!({"sync": null})), "custom platform");
    }
}
