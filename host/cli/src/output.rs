//! What the commands print: plain tables and `key: value` lists for people, the API's
//! JSON for scripts (`--json`).

use std::io::Write;

use serde_json::Value;

/// `print!` that ends the program quietly when stdout is closed (`tovor ... | head`)
/// instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` that ends the program quietly when stdout is closed.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};

/// Writes to stdout; a closed pipe ends the program (successfully: whoever closed it has
/// read what it wanted), other write errors are ignored like `print!` cannot report them.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_fmt(args).and_then(|()| stdout.flush())
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// A table of text cells under a header, columns padded to their widest cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|title| (*title).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are left empty, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, columns separated by two spaces; the last
    /// column is not padded, so lines carry no trailing blanks.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|title| width(title)).collect();
        for row in &self.rows {
            for (column, cell) in row.iter().enumerate() {
                widths[column] = widths[column].max(width(cell));
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (column, cell) in row.iter().enumerate() {
                if column > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if column + 1 < row.len() {
                    line.extend(std::iter::repeat_n(' ', widths[column] - width(cell)));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table, or `empty` when it has no rows.
    pub fn print_or(&self, empty: &str) {
        if self.is_empty() {
            outln!("{empty}");
        } else {
            out!("{}", self.render());
        }
    }
}

fn width(text: &str) -> usize {
    text.chars().count()
}

/// Cells hold one line: line breaks and tabs become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A JSON value as a table cell: strings without quotes, `null` as empty, lists joined
/// with commas.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => one_line(text),
        Value::Bool(flag) => if *flag { "yes" } else { "no" }.to_owned(),
        Value::Number(number) => number.to_string(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(_) => one_line(&value.to_string()),
    }
}

/// The field `key` of an object as a cell.
pub fn cell(value: &Value, key: &str) -> String {
    text(&value[key])
}

/// `value` as a list, or nothing when it is not one.
pub fn items(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// Pretty-printed JSON.
pub fn print_json(value: &Value) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `key: value` lines with the values aligned; empty values are left out.
pub fn print_fields(fields: &[(&str, String)]) {
    out!("{}", render_fields(fields));
}

pub fn render_fields(fields: &[(&str, String)]) -> String {
    let width = fields
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, _)| key.chars().count() + 1)
        .max()
        .unwrap_or(0);
    fields
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{:<width$}  {value}\n", format!("{key}:")))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tables_pad_columns_but_not_the_last() {
        let mut table = Table::new(&["ID", "NAME", "CODE"]);
        table.row(vec!["1".into(), "Main warehouse".into(), "MAIN".into()]);
        table.row(vec!["12".into(), "Shop".into(), String::new()]);
        assert_eq!(
            table.render(),
            "ID  NAME            CODE\n\
             1   Main warehouse  MAIN\n\
             12  Shop\n"
        );
    }

    #[test]
    fn short_rows_are_filled_and_wide_characters_counted_once() {
        let mut table = Table::new(&["SKU", "NAME", "QTY"]);
        table.row(vec!["ČAJ-1".into(), "Čaj".into()]);
        table.row(vec!["A".into(), "Apple".into(), "3".into()]);
        assert_eq!(
            table.render(),
            "SKU    NAME   QTY\n\
             ČAJ-1  Čaj\n\
             A      Apple  3\n"
        );
    }

    #[test]
    fn json_values_as_cells() {
        let value = json!({
            "name": "Line\nbreak",
            "price": "19.99",
            "id": 7,
            "cod": true,
            "none": null,
            "tags": ["a", "b"],
        });
        assert_eq!(cell(&value, "name"), "Line break");
        assert_eq!(cell(&value, "price"), "19.99");
        assert_eq!(cell(&value, "id"), "7");
        assert_eq!(cell(&value, "cod"), "yes");
        assert_eq!(cell(&value, "none"), "");
        assert_eq!(cell(&value, "missing"), "");
        assert_eq!(cell(&value, "tags"), "a, b");
    }

    #[test]
    fn fields_align_and_skip_empty_values() {
        assert_eq!(
            render_fields(&[
                ("id", "3".into()),
                ("webhook url", "http://x/hooks/k".into()),
                ("plugin", String::new()),
            ]),
            "id:           3\nwebhook url:  http://x/hooks/k\n"
        );
    }
}
