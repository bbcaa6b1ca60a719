//! `tovor serve`: the long-running host.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use subtle::ConstantTimeEq;
use tovor_runtime::{EngineOptions, Runtime, RuntimeOptions};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "TOVOR_LISTEN")]
    listen: SocketAddr,
    /// Where tovor keeps its data (SQLite database, compile cache, uploaded plugins).
    #[arg(long, default_value = "tovor-data", env = "TOVOR_DATA_DIR")]
    data_dir: PathBuf,
    /// Folder of connector plugins, watched for changes. Defaults to the connectors the
    /// set-up command built (`target/plugins`) when present, else `<data-dir>/plugins`.
    #[arg(long, env = "TOVOR_PLUGINS")]
    plugins: Option<PathBuf>,
    /// Let connectors reach loopback and private addresses named in a shop's settings
    /// (tests, demos, shops on a local network). Cloud metadata stays refused.
    #[arg(long, env = "TOVOR_ALLOW_PRIVATE_EGRESS")]
    allow_private_egress: bool,
    /// Disable wasmtime's pooling allocator (slower calls, less reserved address space).
    #[arg(long)]
    no_pooling: bool,
}

struct AppState {
    runtime: Runtime,
    admin_token: String,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging();
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
    let state = Arc::new(AppState {
        runtime,
        admin_token,
    });
    let api = Router::new()
        .route("/plugins", get(list_plugins))
        .route("/plugins/{id}/reload", post(reload_plugin))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api/v1", api)
        .with_state(state);

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(listen = %args.listen, "tovor is serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")
}

fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
}

/// `TOVOR_ADMIN_TOKEN` when set; otherwise a token generated on first start, printed
/// once and kept in the data folder.
fn admin_token(data_dir: &std::path::Path) -> anyhow::Result<String> {
    if let Ok(token) = std::env::var("TOVOR_ADMIN_TOKEN")
        && !token.is_empty()
    {
        return Ok(token);
    }
    let path = data_dir.join("admin-token");
    if let Ok(token) = std::fs::read_to_string(&path) {
        return Ok(token.trim().to_owned());
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    std::fs::write(&path, &token).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "admin token (shown once, kept in {}): {token}",
        path.display()
    );
    Ok(token)
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

#[derive(Serialize)]
struct ApiError {
    error: ApiErrorBody,
}

#[derive(Serialize)]
struct ApiErrorBody {
    code: &'static str,
    message: String,
}

fn api_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    (
        status,
        Json(ApiError {
            error: ApiErrorBody {
                code,
                message: message.into(),
            },
        }),
    )
        .into_response()
}

/// Every `/api/v1` route needs the bearer token.
async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(token) if bool::from(token.as_bytes().ct_eq(state.admin_token.as_bytes())) => {
            next.run(request).await
        }
        _ => api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        ),
    }
}

#[derive(Serialize)]
struct PluginView {
    id: String,
    name: String,
    kind: String,
    version: String,
    contract: String,
    sha256: String,
    config: Vec<tovor_manifest::ConfigField>,
}

#[derive(Serialize)]
struct PluginFailureView {
    dir: String,
    message: String,
}

#[derive(Serialize)]
struct PluginsView {
    plugins: Vec<PluginView>,
    failures: Vec<PluginFailureView>,
}

async fn list_plugins(State(state): State<Arc<AppState>>) -> Response {
    let plugins = state
        .runtime
        .plugins()
        .iter()
        .map(|p| PluginView {
            id: p.manifest.plugin.id.clone(),
            name: p.manifest.plugin.name.clone(),
            kind: p.manifest.plugin.kind.to_string(),
            version: p.manifest.plugin.version.to_string(),
            contract: p.manifest.plugin.contract.to_string(),
            sha256: p.wasm_sha256.clone(),
            config: p.manifest.config.clone(),
        })
        .collect();
    let failures = state
        .runtime
        .load_failures()
        .into_iter()
        .map(|f| PluginFailureView {
            dir: f.dir.display().to_string(),
            message: f.message,
        })
        .collect();
    Json(PluginsView { plugins, failures }).into_response()
}

async fn reload_plugin(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match state.runtime.reload(&id).await {
        Ok(plugin) => Json(serde_json::json!({
            "id": plugin.id(),
            "version": plugin.manifest.plugin.version.to_string(),
            "sha256": plugin.wasm_sha256,
        }))
        .into_response(),
        Err(tovor_runtime::ReloadError::NotLoaded(id)) => api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no plugin {id}"),
        ),
        Err(error) => api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin_refused",
            error.to_string(),
        ),
    }
}
