//! Connecting to SQLite or PostgreSQL, migrations, and write transactions.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use tovor_domain::document::DocumentNumber;

use crate::checkpoint::Checkpointer;
use crate::error::{StoreError, StoreResult};
use crate::numbering::{ORDER_SEQUENCE, OrderNumbers, ReservedOrderNumber, next_many_in_year};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, WAL, one writer at a time (the embedded default).
    Sqlite,
    /// Several processes may share it; rows are locked where SQLite serialises writers.
    Postgres,
}

impl Backend {
    /// Reads `url`'s scheme.
    pub fn of_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// `FOR UPDATE` where the database has row locks. SQLite needs none: its write
    /// transactions start `IMMEDIATE` and exclude each other.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// Appended to the sub-select of a claim: on PostgreSQL rows another process is
    /// claiming are skipped instead of claimed twice; SQLite's single writer already
    /// serialises claims.
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections for reads (and, on PostgreSQL, writes).
    pub max_connections: u32,
    /// How long a request waits for a connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The database of one tovor installation: every company's data, reached through
/// [`Store::company`] scopes.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// On SQLite a pool of exactly one connection: writers queue in the pool instead of
    /// spinning on SQLITE_BUSY. On PostgreSQL the same pool as `read`.
    write: AnyPool,
    read: AnyPool,
    /// PostgreSQL only: the order numbers this process has taken in blocks (see
    /// [`crate::numbering`]).
    order_numbers: Option<Arc<OrderNumbers>>,
    /// SQLite only: the task that checkpoints the WAL off the write path (see
    /// [`crate::checkpoint`]), stopped with the last clone of the store.
    _checkpointer: Option<Arc<Checkpointer>>,
}

impl Store {
    /// Opens (creating if needed) the database at `url` with default options and brings
    /// its schema up to date. `sqlite://PATH` (relative or absolute) or `postgres://...`.
    pub async fn open(url: &str) -> StoreResult<Self> {
        Self::open_with(url, StoreOptions::default()).await
    }

    pub async fn open_with(url: &str, options: StoreOptions) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let store = match backend {
            Backend::Sqlite => {
                let url = sqlite_url_creating(url);
                let connect = AnyConnectOptions::from_str(&url)?;
                let write = sqlite_pool(1, &options)
                    .connect_with(connect.clone())
                    .await?;
                let read = sqlite_pool(options.max_connections, &options)
                    .connect_with(connect)
                    .await?;
                let checkpointer = Checkpointer::start(read.clone());
                Self {
                    backend,
                    write,
                    read,
                    order_numbers: None,
                    _checkpointer: Some(Arc::new(checkpointer)),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect(url)
                    .await?;
                Self {
                    backend,
                    write: pool.clone(),
                    read: pool,
                    order_numbers: Some(Arc::default()),
                    _checkpointer: None,
                }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.write).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// On PostgreSQL, reserves `count` order numbers of `company` in `year` (its local
    /// year) before an import's transaction; none on SQLite, which numbers orders
    /// inside the transaction (see [`crate::numbering`]).
    pub(crate) async fn reserve_order_numbers(
        &self,
        company: i64,
        year: u16,
        count: usize,
    ) -> StoreResult<Vec<ReservedOrderNumber>> {
        match &self.order_numbers {
            Some(numbers) => numbers.reserve(&self.write, company, year, count).await,
            None => Ok(Vec::new()),
        }
    }

    /// The numbers of `count` orders `company` creates in `year`, in the import's
    /// transaction `conn`: on SQLite the next of the series, on PostgreSQL those
    /// reserved before it (the rest of which go back when `reserved` drops).
    pub(crate) async fn order_numbers(
        &self,
        conn: &mut AnyConnection,
        company: i64,
        year: u16,
        reserved: &mut [ReservedOrderNumber],
        count: usize,
    ) -> StoreResult<Vec<DocumentNumber>> {
        if self.order_numbers.is_none() {
            return next_many_in_year(conn, company, ORDER_SEQUENCE, year, count).await;
        }
        let numbers: Vec<DocumentNumber> = reserved
            .iter_mut()
            .filter_map(ReservedOrderNumber::take)
            .take(count)
            .collect();
        if numbers.len() < count {
            return Err(StoreError::Invalid(format!(
                "{count} order numbers needed, {} reserved",
                numbers.len()
            )));
        }
        Ok(numbers)
    }

    pub(crate) fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Starts a read-only transaction that sees one snapshot, for answers read with
    /// several statements (an order and its lines): without it each statement sees
    /// the latest commit, and an import committing between them would pair the old
    /// order with its new lines.
    pub(crate) async fn read_snapshot(&self) -> StoreResult<Transaction<'static, Any>> {
        Ok(match self.backend {
            // A deferred transaction in WAL mode keeps the snapshot of its first read.
            Backend::Sqlite => self.read.begin().await?,
            Backend::Postgres => {
                self.read
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?
            }
        })
    }

    /// For single-statement writes outside a transaction.
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so it holds the
    /// write lock from its first statement and never fails half-way on a lock upgrade.
    pub(crate) async fn begin(&self) -> StoreResult<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }
}

fn sqlite_pool(max_connections: u32, options: &StoreOptions) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(options.acquire_timeout)
        // A connection to a local file does not go stale the way a socket does, and the
        // ping sqlx would send on every acquire is a round trip to the connection's
        // thread: one more hop per transaction and per read.
        .test_before_acquire(false)
        .after_connect(|connection, _| {
            Box::pin(async move {
                // WAL lets readers run beside the writer; NORMAL synchronous is durable
                // across process crashes (not power loss of the last commits), the
                // usual trade for WAL; foreign keys enforce company ownership;
                // `optimize` on open keeps the planner's statistics current, as SQLite
                // recommends for long-lived connections; no commit checkpoints the WAL,
                // the store's own task does (see `crate::checkpoint`).
                connection
                    .execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                         PRAGMA optimize = 0x10002; PRAGMA wal_autocheckpoint = 0;",
                    )
                    .await?;
                Ok(())
            })
        })
}

/// SQLite URLs open read-write-create unless they say otherwise.
fn sqlite_url_creating(url: &str) -> String {
    if url.contains("mode=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode=rwc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(
            Backend::of_url("sqlite://data/tovor.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(Backend::of_url("sqlite::memory:").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::of_url("postgres://root@127.0.0.1/test").unwrap(),
            Backend::Postgres
        );
        assert!(matches!(
            Backend::of_url("mysql://x"),
            Err(StoreError::UnsupportedUrl(_))
        ));
    }

    #[test]
    fn sqlite_urls_create_the_file_unless_told_otherwise() {
        assert_eq!(
            sqlite_url_creating("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
    }
}
