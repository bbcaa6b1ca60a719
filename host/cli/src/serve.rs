//! `tovor serve`: the long-running host.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use std::io::IsTerminal;

use anyhow::Context;
use tovor_runtime::{EngineOptions, Runtime, RuntimeOptions};
use tovor_server::{Sealer, Server, ServerConfig, WorkerOptions};
use tovor_store::Store;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// A TOML file of settings, named like the flags (`data_dir = "/var/lib/tovor"`);
    /// flags and `TOVOR_*` variables win over it. See `deploy/tovor.toml`.
    #[arg(long, env = "TOVOR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "TOVOR_LISTEN")]
    listen: SocketAddr,
    /// Where tovor keeps its data (SQLite database, secret key, compile cache, uploaded
    /// plugins).
    #[arg(long, default_value = "tovor-data", env = "TOVOR_DATA_DIR")]
    data_dir: PathBuf,
    /// `postgres://...` to keep the data in PostgreSQL (several processes may share
    /// it); the default is SQLite at `<data-dir>/tovor.db`.
    #[arg(long, env = "TOVOR_DATABASE_URL")]
    database_url: Option<String>,
    /// Folder of connector plugins, watched for changes. Defaults to the connectors the
    /// set-up command built (`target/plugins`) when present, else `<data-dir>/plugins`.
    #[arg(long, env = "TOVOR_PLUGINS")]
    plugins: Option<PathBuf>,
    /// The address shops reach this service at, for the webhook URLs it hands out
    /// (default `http://<listen>`).
    #[arg(long, env = "TOVOR_PUBLIC_URL")]
    public_url: Option<String>,
    /// Let connectors reach loopback and private addresses named in a shop's settings
    /// (tests, demos, shops on a local network). Cloud metadata stays refused.
    #[arg(long, env = "TOVOR_ALLOW_PRIVATE_EGRESS")]
    allow_private_egress: bool,
    /// Serve the API and take webhooks, but leave background work to other processes.
    #[arg(long)]
    no_workers: bool,
    /// This process's name among those sharing the database; unique among them and the
    /// same across restarts. Default: a name made on first start from the host name and a
    /// random suffix, kept in `<data-dir>/node-id`.
    #[arg(long, env = "TOVOR_NODE")]
    node: Option<String>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20, env = "TOVOR_MAX_BODY_BYTES")]
    max_body_bytes: usize,
    /// Seconds an idle worker waits before looking for due work again.
    #[arg(long, default_value_t = 2, env = "TOVOR_IDLE_POLL_SECS")]
    idle_poll_secs: u64,
    /// Logs as JSON lines instead of text.
    #[arg(long, env = "TOVOR_LOG_JSON")]
    log_json: bool,
    /// Disable wasmtime's pooling allocator (slower calls, less reserved address space).
    #[arg(long)]
    no_pooling: bool,
    /// Start a demo WooCommerce shop beside tovor, with a demo company selling through
    /// it: orders arrive, delivery notes move stock, the shop's stock follows. Keeps its
    /// data in `<data-dir>/demo`, started afresh each time.
    #[arg(long, conflicts_with = "database_url")]
    demo: bool,
    /// With `--demo`: seconds between the demo shop's orders.
    #[arg(long, default_value_t = 30, requires = "demo")]
    demo_order_every: u64,
}

pub async fn run(mut args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_json);
    let demo = if args.demo {
        Some(start_demo(&mut args).await?)
    } else {
        None
    };
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let plugins_dir = args.plugins.clone().unwrap_or_else(|| {
        let built = PathBuf::from("target/plugins");
        if built.is_dir() {
            built
        } else {
            args.data_dir.join("plugins")
        }
    });
    std::fs::create_dir_all(&plugins_dir)
        .with_context(|| format!("cannot create {}", plugins_dir.display()))?;

    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", args.data_dir.join("tovor.db").display()));
    let store = Store::open(&database_url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&database_url)))?;
    let sealer = Sealer::load(
        std::env::var("TOVOR_SECRET_KEY").ok().as_deref(),
        &args.data_dir,
    )?;

    let runtime = Runtime::new(RuntimeOptions {
        engine: EngineOptions {
            pooling: !args.no_pooling,
            ..EngineOptions::default()
        },
        cache_dir: Some(args.data_dir.join("cache")),
        allow_private_egress: args.allow_private_egress,
    })?;
    let report = runtime.load_dir(&plugins_dir).await?;
    tracing::info!(
        dir = %plugins_dir.display(),
        loaded = report.loaded.len(),
        failed = report.failed.len(),
        "plugins loaded"
    );
    let _watch = runtime
        .watch(&plugins_dir)
        .with_context(|| format!("cannot watch {}", plugins_dir.display()))?;

    let admin_token = admin_token(&args.data_dir)?;
    let node = crate::node::node_id(args.node.as_deref(), &args.data_dir)?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let server = Server::start(ServerConfig {
        store: store.clone(),
        runtime,
        sealer,
        admin_token: admin_token.clone(),
        public_url: public_url.clone(),
        plugins_dir,
        max_body_bytes: args.max_body_bytes,
        workers: WorkerOptions {
            enabled: !args.no_workers,
            node: node.name.clone(),
            idle_poll: Duration::from_secs(args.idle_poll_secs.max(1)),
            // The demo's parcels move every few seconds; real ones are asked about every
            // half hour.
            track_every: if args.demo {
                Duration::from_secs(10)
            } else {
                WorkerOptions::default().track_every
            },
            ..WorkerOptions::default()
        },
    });

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(
        listen = %args.listen,
        database = %redact_url(&database_url),
        data_dir = %args.data_dir.display(),
        public_url = %public_url,
        node = %node.name,
        "tovor is serving"
    );
    if let Some(demo) = demo {
        spawn_demo(demo, &args, admin_token);
    }
    say(&format!(
        "web admin: {public_url}/ (first time: {public_url}/setup with the admin token, or `tovor users add`)"
    ));
    let app = tovor_web::app(&server).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    // Requests are answered; now the workers finish what they hold and the intake
    // flushes, then the database closes.
    server.shutdown().await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(feature = "demo")]
type DemoShop = crate::demo::Demo;
/// Without the demo feature there is never a demo shop to run.
#[cfg(not(feature = "demo"))]
type DemoShop = std::convert::Infallible;

/// Starts the demo shop and points the data folder at the demo's own, emptied.
#[cfg(feature = "demo")]
async fn start_demo(args: &mut ServeArgs) -> anyhow::Result<DemoShop> {
    // The demo shop forgets its orders when it stops; so does the demo's tovor.
    args.data_dir = args.data_dir.join("demo");
    if args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)
            .with_context(|| format!("cannot reset {}", args.data_dir.display()))?;
    }
    // The demo shop listens on loopback.
    args.allow_private_egress = true;
    crate::demo::Demo::start_shop().await
}

#[cfg(not(feature = "demo"))]
async fn start_demo(_args: &mut ServeArgs) -> anyhow::Result<DemoShop> {
    anyhow::bail!(
        "this tovor was built without the demo (it carries no fake shops): \
         `cargo xtask run --demo` builds and starts it with the demo, \
         `cargo install --path host/cli --features demo` installs such a tovor"
    )
}

#[cfg(feature = "demo")]
fn spawn_demo(demo: DemoShop, args: &ServeArgs, admin_token: String) {
    tokio::spawn(demo.run(
        format!("http://{}", args.listen),
        admin_token,
        Duration::from_secs(args.demo_order_every.max(1)),
    ));
}

#[cfg(not(feature = "demo"))]
fn spawn_demo(demo: DemoShop, _args: &ServeArgs, _admin_token: String) {
    match demo {}
}

/// The URL without its password, for logs.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a person at a terminal: escape codes garble log files and journals.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// `TOVOR_ADMIN_TOKEN` when set; otherwise a token generated on first start, printed
/// once and kept in the data folder, readable by its owner only (like `secret.key`).
fn admin_token(data_dir: &std::path::Path) -> anyhow::Result<String> {
    if let Ok(token) = std::env::var("TOVOR_ADMIN_TOKEN")
        && !token.is_empty()
    {
        return Ok(token);
    }
    let path = data_dir.join("admin-token");
    if let Ok(token) = std::fs::read_to_string(&path) {
        // A file made by an older tovor (or copied carelessly) is closed up too.
        crate::files::make_private(&path)
            .with_context(|| format!("cannot restrict {}", path.display()))?;
        return Ok(token.trim().to_owned());
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    crate::files::write_private(&path, &token)
        .with_context(|| format!("cannot write {}", path.display()))?;
    say(&format!(
        "admin token (shown once, kept in {}): {token}",
        path.display()
    ));
    Ok(token)
}

/// A line for the person who started the service. A closed stdout (a pipe whose reader
/// went away) must not stop a running service, as `println!` would by panicking.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
