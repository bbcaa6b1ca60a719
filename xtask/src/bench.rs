//! `cargo xtask bench`: every benchmark, then one table of figures against their goals.
//!
//! The benchmarks print their own reports and hand their figures over through
//! `tovor-bench-figures` (a JSON line each in `target/bench/figures.jsonl`). This task
//! runs the benchmarks in one cargo invocation (one build), then prints the table and
//! writes it as
//! `target/bench/report.json` and `target/bench/report.md`.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::{DEMO_FEATURE, cargo, status};

/// Every benchmark `cargo xtask bench` runs, in order.
const BENCHES: [&str; 10] = [
    "store",
    "driver",
    "intake",
    "service",
    "plugin_calls",
    "woocommerce",
    "shipping",
    "merge",
    "web",
    "memory",
];

/// Whether a figure should be at least or at most its goal.
#[derive(Clone, Copy)]
enum Bound {
    AtLeast(f64),
    AtMost(f64),
}

/// A figure the table shows: its id (as the benchmark records it), what it measures,
/// and its goal if it has one.
struct Row {
    id: &'static str,
    what: &'static str,
    goal: Option<Bound>,
}

const fn row(id: &'static str, what: &'static str, goal: Option<Bound>) -> Row {
    Row { id, what, goal }
}

use Bound::{AtLeast, AtMost};

/// The table, in the order it is printed. Figures a benchmark recorded that are not
/// listed here follow at the end without a goal.
const ROWS: &[Row] = &[
    row(
        "store.sqlite.import_pages_4_tasks",
        "order import, SQLite, pages of 100, 4 at once (syncs and history imports of 4 shops)",
        Some(AtLeast(2000.0)),
    ),
    row(
        "store.sqlite.import_pages",
        "order import, SQLite, pages of 100, one at a time",
        None,
    ),
    row(
        "store.sqlite.import_4_tasks",
        "order import, SQLite, one order at a time, 4 at once (as the inbox worker)",
        None,
    ),
    row(
        "store.sqlite.import",
        "order import, SQLite, one order at a time",
        None,
    ),
    row(
        "store.postgresql.import_pages_4_tasks",
        "order import, PostgreSQL, pages of 100, 4 at once (syncs and history imports of 4 shops)",
        Some(AtLeast(1000.0)),
    ),
    row(
        "store.postgresql.import_pages",
        "order import, PostgreSQL, pages of 100, one at a time",
        None,
    ),
    row(
        "store.postgresql.import_4_tasks",
        "order import, PostgreSQL, one order at a time, 4 at once (as the inbox worker)",
        None,
    ),
    row(
        "store.postgresql.import",
        "order import, PostgreSQL, one order at a time",
        None,
    ),
    row(
        "store.sqlite.delivery_notes",
        "delivery notes, SQLite, one at a time",
        None,
    ),
    row(
        "store.postgresql.delivery_notes",
        "delivery notes, PostgreSQL, one at a time",
        Some(AtLeast(500.0)),
    ),
    row("store.sqlite.stock_level", "stock level read, SQLite", None),
    row(
        "store.postgresql.stock_level",
        "stock level read, PostgreSQL",
        None,
    ),
    row(
        "store.driver.sqlite.read_any",
        "point read, SQLite, sqlx any driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.sqlite.read_typed",
        "point read, SQLite, typed driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.sqlite.insert_any",
        "one-row insert, SQLite, sqlx any driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.sqlite.insert_typed",
        "one-row insert, SQLite, typed driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.sqlite.insert_five_any",
        "five-row insert, SQLite, sqlx any driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.sqlite.insert_five_typed",
        "five-row insert, SQLite, typed driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.postgres.read_any",
        "point read, PostgreSQL, sqlx any driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.postgres.read_typed",
        "point read, PostgreSQL, typed driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.postgres.insert_any",
        "one-row insert, PostgreSQL, sqlx any driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.postgres.insert_typed",
        "one-row insert, PostgreSQL, typed driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.postgres.insert_five_any",
        "five-row insert, PostgreSQL, sqlx any driver (µs per statement)",
        None,
    ),
    row(
        "store.driver.postgres.insert_five_typed",
        "five-row insert, PostgreSQL, typed driver (µs per statement)",
        None,
    ),
    row(
        "intake.sqlite.c16.per_second",
        "webhook intake, SQLite, concurrency 16",
        Some(AtLeast(10_000.0)),
    ),
    row(
        "intake.sqlite.c16.p99",
        "webhook intake p99, SQLite, concurrency 16",
        Some(AtMost(5.0)),
    ),
    row(
        "intake.sqlite.c16.floor_ratio",
        "intake floor / tovor, SQLite, concurrency 16",
        Some(AtMost(1.5)),
    ),
    row(
        "intake.postgres.c16.per_second",
        "webhook intake, PostgreSQL, concurrency 16",
        Some(AtLeast(10_000.0)),
    ),
    row(
        "intake.postgres.c16.p99",
        "webhook intake p99, PostgreSQL, concurrency 16",
        Some(AtMost(5.0)),
    ),
    row(
        "intake.postgres.c16.floor_ratio",
        "intake floor / tovor, PostgreSQL, concurrency 16",
        Some(AtMost(1.5)),
    ),
    row(
        "intake.sqlite.c64.per_second",
        "webhook intake, SQLite, concurrency 64",
        None,
    ),
    row(
        "intake.postgres.c64.per_second",
        "webhook intake, PostgreSQL, concurrency 64",
        None,
    ),
    row(
        "plugin.instantiate_call_pooled",
        "plugin instantiate + trivial call, pooled",
        Some(AtMost(10.0)),
    ),
    row(
        "plugin.instantiate_call_on_demand",
        "plugin instantiate + trivial call, on demand",
        None,
    ),
    row(
        "plugin.verify_webhook_100_lines",
        "verify-webhook, 100-line order",
        None,
    ),
    row(
        "stock_to_shop.sqlite.p99",
        "stock change to shop p99, SQLite",
        Some(AtMost(10.0)),
    ),
    row(
        "stock_to_shop.postgres.p99",
        "stock change to shop p99, PostgreSQL",
        Some(AtMost(10.0)),
    ),
    row(
        "connector.woocommerce.wasm_native_ratio",
        "WooCommerce read, Wasm / native time",
        Some(AtMost(1.2)),
    ),
    row(
        "connector.woocommerce.wasm_read",
        "WooCommerce read through the Wasm connector",
        None,
    ),
    row(
        "connector.woocommerce.history_import",
        "WooCommerce history import into SQLite",
        None,
    ),
    row(
        "shipping.create",
        "shipments created through the GLS connector",
        None,
    ),
    row(
        "shipping.print_all_labels",
        "print the labels of all those shipments, median",
        None,
    ),
    row(
        "labels.merge_realistic",
        "merge 500 A6 labels into one PDF, median",
        None,
    ),
    row(
        "web.sqlite.order_list__first_page.p99",
        "web order list p99, SQLite, 10,000 orders",
        None,
    ),
    row(
        "web.postgres.order_list__first_page.p99",
        "web order list p99, PostgreSQL, 10,000 orders",
        None,
    ),
    row(
        "web.sqlite.dashboard.p99",
        "web dashboard p99, SQLite",
        None,
    ),
    row(
        "web.postgres.dashboard.p99",
        "web dashboard p99, PostgreSQL",
        None,
    ),
    row(
        "memory.serve_idle",
        "tovor serve idle, bundled connectors, RSS",
        None,
    ),
    row(
        "memory.sqlite.peak_under_intake",
        "service under intake load, SQLite, peak RSS",
        Some(AtMost(150.0)),
    ),
    row(
        "memory.postgres.peak_under_intake",
        "service under intake load, PostgreSQL, peak RSS",
        Some(AtMost(150.0)),
    ),
];

pub(crate) fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let figures_file = out.join("figures.jsonl");
    let _ = std::fs::remove_file(&figures_file);

    let mut run = cargo();
    run.current_dir(root)
        .env("TOVOR_BENCH_FIGURES", &figures_file)
        .args(["bench", "--workspace"])
        .args(DEMO_FEATURE);
    for name in BENCHES {
        run.args(["--bench", name]);
    }
    run.args(args);
    // A benchmark that fails still leaves the figures of the others.
    let ran = status(&mut run);

    let text = std::fs::read_to_string(&figures_file).unwrap_or_default();
    let figures: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let report = report(&figures);
    println!("\n{}", report.text);
    let json_path = out.join("report.json");
    let markdown_path = out.join("report.md");
    let json_text = serde_json::to_string_pretty(&report.json).map_err(|e| e.to_string())?;
    std::fs::write(&json_path, json_text).map_err(|e| format!("{}: {e}", json_path.display()))?;
    std::fs::write(&markdown_path, &report.markdown)
        .map_err(|e| format!("{}: {e}", markdown_path.display()))?;
    println!(
        "written: {} and {}",
        json_path.display(),
        markdown_path.display()
    );
    ran
}

struct Report {
    text: String,
    markdown: String,
    json: Value,
}

/// The last value recorded for `id`.
fn figure<'a>(figures: &'a [Value], id: &str) -> Option<&'a Value> {
    figures.iter().rev().find(|f| f["id"] == id)
}

fn verdict(value: f64, goal: Option<Bound>) -> &'static str {
    match goal {
        None => "",
        Some(AtLeast(goal)) if value >= goal => "met",
        Some(AtMost(goal)) if value <= goal => "met",
        Some(_) => "not met",
    }
}

fn goal_text(goal: Option<Bound>, unit: &str) -> String {
    match goal {
        None => "—".into(),
        Some(AtLeast(goal)) => format!("≥ {} {unit}", number(goal)),
        Some(AtMost(goal)) => format!("≤ {} {unit}", number(goal)),
    }
}

fn number(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or_else(String::new, |kib| {
            format!(", {:.0} GiB", kib / 1024.0 / 1024.0)
        });
    format!("{cores} cores ({cpu}){memory}")
}

fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The last recorded value of `id` and its unit.
fn measured(figures: &[Value], id: &str) -> (Option<f64>, String) {
    let found = figure(figures, id);
    (
        found.and_then(|f| f["value"].as_f64()),
        found
            .and_then(|f| f["unit"].as_str())
            .unwrap_or("")
            .to_owned(),
    )
}

fn report(figures: &[Value]) -> Report {
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for row in ROWS {
        seen.insert(row.id.to_owned());
        let (value, unit) = measured(figures, row.id);
        rows.push((
            row.id.to_owned(),
            row.what.to_owned(),
            value,
            unit,
            row.goal,
        ));
    }
    // Figures no row lists follow, once each, without a goal.
    for id in figures.iter().filter_map(|f| f["id"].as_str()) {
        if seen.insert(id.to_owned()) {
            let (value, unit) = measured(figures, id);
            rows.push((id.to_owned(), id.to_owned(), value, unit, None));
        }
    }

    let heading = format!("tovor benchmarks, {}, {}", today(), machine());
    let mut text = format!("{heading}\n\n");
    let mut markdown = format!("{heading}\n\n| measure | figure | goal | |\n|---|---|---|---|\n");
    let mut entries = Vec::new();
    let width = rows
        .iter()
        .map(|(_, what, ..)| what.chars().count())
        .max()
        .unwrap_or(0);
    for (id, what, value, unit, goal) in &rows {
        let shown = value.map_or_else(
            || "not measured".to_owned(),
            |v| format!("{} {unit}", number(v)),
        );
        let result = value.map_or(if goal.is_some() { "not measured" } else { "" }, |v| {
            verdict(v, *goal)
        });
        let goal_shown = goal_text(*goal, unit);
        let _ = writeln!(
            text,
            "{what:<width$}  {shown:>18}  {goal_shown:>18}  {result}"
        );
        let _ = writeln!(markdown, "| {what} | {shown} | {goal_shown} | {result} |");
        entries.push(json!({
            "id": id,
            "measure": what,
            "value": value,
            "unit": unit,
            "goal": match goal {
                None => Value::Null,
                Some(AtLeast(g)) => json!({"at_least": g}),
                Some(AtMost(g)) => json!({"at_most": g}),
            },
            "met": value.zip(*goal).map(|(v, _)| verdict(v, *goal) == "met"),
        }));
    }
    Report {
        text,
        markdown,
        json: json!({"date": today(), "machine": machine(), "figures": entries}),
    }
}
