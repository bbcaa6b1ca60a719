//! What one plugin call's store holds, and the host imports that read it.

use std::sync::{Arc, Mutex};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::v0_1_0::log::{self, Level};
use crate::limits::CallLimiter;
use tovor_runtime_http::Egress;
pub(crate) use tovor_runtime_log::CallLabels;
use tovor_runtime_log::{PluginLog, Redactor};
use tovor_runtime_state::AccountState;

/// Bytes of stderr/stdout kept per call (panic messages land there).
const MAX_CAPTURED_OUTPUT: usize = 16 * 1024;

/// Store data of one call. A fresh one per call: nothing survives between calls.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: CallLimiter,
    pub(crate) egress: Egress,
    pub(crate) labels: CallLabels,
    pub(crate) redactor: Arc<Redactor>,
    log: PluginLog,
    pub(crate) output: CapturedOutput,
    /// The account's connector state (unavailable when the call is made for none).
    pub(crate) state: AccountState,
}

impl CallState {
    pub(crate) fn new(
        labels: CallLabels,
        limiter: CallLimiter,
        egress: Egress,
        redactor: Arc<Redactor>,
    ) -> Self {
        let output = CapturedOutput::new(MAX_CAPTURED_OUTPUT);
        // No preopens, no environment, no arguments, no sockets: the `http` import is the
        // only way out. Clocks and randomness are what Rust's std needs.
        let wasi = WasiCtxBuilder::new()
            .stdout(output.clone())
            .stderr(output.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter,
            egress,
            labels,
            redactor,
            log: PluginLog::default(),
            output,
            state: AccountState::none(),
        }
    }

    /// What the plugin wrote to stdout/stderr during the call (a panic message,
    /// usually), redacted and logged once; empty when it wrote nothing.
    pub(crate) fn take_output(&self) -> String {
        let text = self.output.take();
        let text = self.redactor.redact(text.trim_end());
        if !text.trim().is_empty() {
            tracing::warn!(
                plugin = %self.labels.plugin,
                shop = self.labels.shop.as_deref().unwrap_or("-"),
                operation = self.labels.operation,
                output = %text,
                "plugin wrote to stdout/stderr"
            );
        }
        text
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The types interface has no functions; the linker still wants it implemented.
impl crate::bindings::v0_1_0::types::Host for CallState {}

impl log::Host for CallState {
    async fn log(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Trace => tovor_runtime_log::Level::Trace,
            Level::Debug => tovor_runtime_log::Level::Debug,
            Level::Info => tovor_runtime_log::Level::Info,
            Level::Warn => tovor_runtime_log::Level::Warn,
            Level::Error => tovor_runtime_log::Level::Error,
        };
        self.log
            .write(&self.labels, &self.redactor, level, &message);
    }
}

/// A bounded in-memory sink for a plugin's stdout and stderr. Unlike wasmtime's
/// `MemoryOutputPipe` it never fails a write when full (a failing stderr write would make
/// Rust's `eprintln!` panic inside the plugin); it silently drops the excess.
#[derive(Clone)]
pub(crate) struct CapturedOutput {
    buffer: Arc<Mutex<Vec<u8>>>,
    capacity: usize,
}

impl CapturedOutput {
    fn new(capacity: usize) -> Self {
        Self {
            buffer: Arc::new(Mutex::new(Vec::new())),
            capacity,
        }
    }

    fn take(&self) -> String {
        let bytes = match self.buffer.lock() {
            Ok(mut buffer) => std::mem::take(&mut *buffer),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn append(&self, bytes: &[u8]) {
        let mut buffer = match self.buffer.lock() {
            Ok(buffer) => buffer,
            Err(poisoned) => poisoned.into_inner(),
        };
        let room = self.capacity.saturating_sub(buffer.len());
        buffer.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.append(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
