//! How a benchmark hands a figure to `cargo xtask bench`.
//!
//! Each benchmark keeps printing its own report; beside it, [`record`] appends one
//! JSON line per figure to the file named by `TOVOR_BENCH_FIGURES`, which `cargo xtask
//! bench` sets, reads back and compares with the goals. Without the variable (a plain
//! `cargo bench`) nothing is written. No dependencies, so every benchmark can use it.

use std::io::Write;

/// The variable naming the file figures are appended to.
pub const FIGURES_FILE: &str = "TOVOR_BENCH_FIGURES";

/// Records `value` (in `unit`) as the figure `id`, such as `store.postgres.import`.
/// A figure that cannot be written is reported on stderr and does not stop the
/// benchmark.
pub fn record(id: &str, value: f64, unit: &str) {
    let Some(path) = std::env::var_os(FIGURES_FILE) else {
        return;
    };
    let line = figure_line(id, value, unit);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        eprintln!(
            "cannot record the figure {id} in {}: {error}",
            path.display()
        );
    }
}

fn figure_line(id: &str, value: f64, unit: &str) -> String {
    // JSON has no NaN or infinity; a figure that is not a number is written as null.
    let value = if value.is_finite() {
        format!("{value}")
    } else {
        "null".to_owned()
    };
    format!(
        "{{\"id\":{},\"value\":{value},\"unit\":{}}}\n",
        json_string(id),
        json_string(unit)
    )
}

fn json_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if u32::from(c) < 0x20 => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_is_one_json_line() {
        assert_eq!(
            figure_line("store.sqlite.import", 2150.5, "orders/s"),
            "{\"id\":\"store.sqlite.import\",\"value\":2150.5,\"unit\":\"orders/s\"}\n"
        );
        assert_eq!(
            figure_line("a\"b", f64::NAN, "µs"),
            "{\"id\":\"a\\\"b\",\"value\":null,\"unit\":\"µs\"}\n"
        );
    }
}
