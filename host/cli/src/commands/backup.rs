//! `tovor backup PATH`: a consistent copy of the SQLite database, taken while the
//! service runs.
//!
//! `VACUUM INTO` reads the database inside one read transaction, so the copy is the
//! database as it was at one instant, even while `tovor serve` keeps writing (WAL mode
//! lets it). The copy is written beside the target under a temporary name and renamed
//! into place only once complete and checked, so a half-written file is never mistaken
//! for a backup. PostgreSQL is backed up with its own tools (README, "Backup and
//! restore").

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::output::outln;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy (a new file; an existing one is never overwritten).
    path: PathBuf,
    /// The data folder of the `tovor serve` to back up (its SQLite database is
    /// `<data-dir>/tovor.db`).
    #[arg(long, env = "TOVOR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The database, when not `<data-dir>/tovor.db` (`sqlite://...`).
    #[arg(long, env = "TOVOR_DATABASE_URL")]
    database_url: Option<String>,
    /// The service's config file: its `data_dir` and `database_url` are used when not
    /// given here.
    #[arg(long, env = "TOVOR_CONFIG")]
    config: Option<PathBuf>,
}

pub async fn run(args: BackupArgs) -> anyhow::Result<()> {
    let url = database_url(&args)?;
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        bail!(
            "tovor backup copies SQLite databases; back up PostgreSQL with pg_dump \
             (see the README, \"Backup and restore\")"
        );
    }
    if args.path.exists() {
        bail!(
            "{} exists; a backup is written to a new file only",
            args.path.display()
        );
    }
    let options = SqliteConnectOptions::from_str(&url)
        .with_context(|| format!("not a SQLite database URL: {url}"))?
        // A mistyped path must not leave an empty database behind.
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30));
    let mut source = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open the database {url}"))?;

    let partial = partial_path(&args.path)?;
    let _ = std::fs::remove_file(&partial);
    let target = partial
        .to_str()
        .with_context(|| format!("{} is not valid UTF-8", partial.display()))?
        .to_owned();
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(&target)
        .execute(&mut source)
        .await;
    source.close().await.ok();
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(error).with_context(|| format!("cannot write the copy to {target}"));
    }
    if let Err(error) = check(&partial).await {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, &args.path)
        .with_context(|| format!("cannot move the copy to {}", args.path.display()))?;
    let bytes = std::fs::metadata(&args.path).map_or(0, |meta| meta.len());
    outln!(
        "backup of {url} written to {} ({bytes} bytes)",
        args.path.display()
    );
    Ok(())
}

/// `--database-url`, else `<data-dir>/tovor.db`, each from the flag, the environment or
/// the config file in that order.
fn database_url(args: &BackupArgs) -> anyhow::Result<String> {
    let file = match &args.config {
        Some(path) => crate::config::read_table(path)?,
        None => toml::Table::new(),
    };
    let from_file = |key: &str| {
        file.get(key)
            .and_then(toml::Value::as_str)
            .map(str::to_owned)
    };
    if let Some(url) = args.database_url.clone().or_else(|| {
        // A data folder given here points at its own database, not the file's URL.
        args.data_dir
            .is_none()
            .then(|| from_file("database_url"))
            .flatten()
    }) {
        return Ok(url);
    }
    let data_dir = args
        .data_dir
        .clone()
        .or_else(|| from_file("data_dir").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("tovor-data"));
    let database = data_dir.join("tovor.db");
    if !database.is_file() {
        bail!(
            "no database at {} (give --data-dir or --database-url)",
            database.display()
        );
    }
    Ok(format!("sqlite://{}", database.display()))
}

fn partial_path(target: &Path) -> anyhow::Result<PathBuf> {
    let name = target
        .file_name()
        .with_context(|| format!("{} names no file", target.display()))?;
    let mut partial = name.to_owned();
    partial.push(".partial");
    Ok(target.with_file_name(partial))
}

/// The copy opens and SQLite finds nothing wrong in it.
async fn check(copy: &Path) -> anyhow::Result<()> {
    let options = SqliteConnectOptions::new()
        .filename(copy)
        .read_only(true)
        .create_if_missing(false);
    let mut connection = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open the copy {}", copy.display()))?;
    let verdict: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut connection)
        .await
        .context("cannot check the copy")?;
    connection.close().await.ok();
    if verdict != "ok" {
        bail!("the copy is damaged: {verdict}");
    }
    Ok(())
}
