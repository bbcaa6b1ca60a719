//! `tovor serve --config tovor.toml`: settings from a file, named like the flags.
//!
//! The file's values become the defaults of `serve`'s arguments, so clap's own order
//! decides: a flag wins over a `TOVOR_*` variable, which wins over the file, which wins
//! over the built-in default. A key that names no flag is an error naming the key, and so
//! is a value the flag would refuse.

use std::path::Path;

use anyhow::{Context, bail};

/// Settings of `serve` that a file may not set: the file's own name, and the help.
const NOT_IN_FILE: [&str; 2] = ["config", "help"];

/// `command` (the whole `tovor` command line) with the settings of the file at `path`
/// as the defaults of the subcommand `subcommand`.
pub fn with_file_defaults(
    command: clap::Command,
    subcommand: &str,
    path: &Path,
) -> anyhow::Result<clap::Command> {
    let table = read_table(path)?;
    let Some(target) = command.find_subcommand(subcommand) else {
        bail!("no `{subcommand}` command");
    };
    let mut defaults = Vec::new();
    for (key, value) in &table {
        let id = key.replace('-', "_");
        let Some(arg) = target
            .get_arguments()
            .find(|arg| arg.get_id() == id.as_str() && !NOT_IN_FILE.contains(&id.as_str()))
        else {
            bail!(
                "{}: unknown setting `{key}` (known: {})",
                path.display(),
                known_keys(target).join(", ")
            );
        };
        let value =
            setting_text(value).with_context(|| format!("{}: setting `{key}`", path.display()))?;
        check_value(arg, &value).with_context(|| format!("{}: setting `{key}`", path.display()))?;
        defaults.push((id, value));
    }
    Ok(command.mut_subcommand(subcommand, |mut sub| {
        for (id, value) in defaults {
            sub = sub.mut_arg(id, |arg| arg.default_value(value));
        }
        sub
    }))
}

/// The settings in the file at `path`.
pub fn read_table(path: &Path) -> anyhow::Result<toml::Table> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))
}

fn known_keys(command: &clap::Command) -> Vec<String> {
    command
        .get_arguments()
        .map(|arg| arg.get_id().as_str())
        .filter(|id| !NOT_IN_FILE.contains(id))
        .map(str::to_owned)
        .collect()
}

/// `value` is one the flag would take; checked here, so the error names the file.
fn check_value(arg: &clap::Arg, value: &str) -> anyhow::Result<()> {
    if !arg.get_action().takes_values() {
        return match value {
            "true" | "false" => Ok(()),
            _ => bail!("expected true or false"),
        };
    }
    // The flag alone, without the rules that tie it to the others.
    let alone = clap::Arg::new("value")
        .long("value")
        .value_parser(arg.get_value_parser().clone());
    clap::Command::new("check")
        .no_binary_name(true)
        .arg(alone)
        .try_get_matches_from(["--value", value])
        .map(drop)
        .map_err(|error| {
            let said = error.to_string();
            let reason = said
                .lines()
                .next()
                .and_then(|line| line.rsplit_once("': "))
                .map_or("invalid value", |(_, reason)| reason)
                .to_owned();
            anyhow::anyhow!("`{value}` is not accepted: {reason}")
        })
}

/// A file value as the text a flag would take.
fn setting_text(value: &toml::Value) -> anyhow::Result<String> {
    match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Integer(number) => Ok(number.to_string()),
        toml::Value::Boolean(flag) => Ok(flag.to_string()),
        other => bail!(
            "expected a string, a number or true/false, not {}",
            other.type_str()
        ),
    }
}
