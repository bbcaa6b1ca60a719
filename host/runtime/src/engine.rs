//! The one wasmtime `Engine` of the process and its epoch ticker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances. Guest code yields to the executor on every tick and is
/// stopped at the first tick past its deadline, so this bounds both fairness and how far a
/// runaway plugin overshoots its time limit.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Engine-wide settings chosen by the operator.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Use wasmtime's pooling allocator: instance slots are reserved up front and
    /// recycled, which makes instantiation several times cheaper.
    pub pooling: bool,
    /// Component instances that may be alive at once (the pool size when pooling).
    pub max_concurrent_instances: u32,
    /// The largest linear memory any plugin may declare in its limits.
    pub max_memory_bytes: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            pooling: true,
            max_concurrent_instances: 64,
            max_memory_bytes: 1 << 30,
        }
    }
}

pub(crate) fn build_engine(options: &EngineOptions) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.memory_init_cow(true);
    if options.pooling {
        let mut pool = PoolingAllocationConfig::default();
        let instances = options.max_concurrent_instances;
        pool.total_component_instances(instances);
        // A Rust component built for wasm32-wasip2 is a handful of core modules (the
        // program plus the WASI adapter shims).
        pool.total_core_instances(instances * 8);
        pool.total_memories(instances * 2);
        pool.total_tables(instances * 4);
        pool.total_stacks(instances);
        pool.max_memory_size(options.max_memory_bytes);
        pool.max_core_instances_per_component(32);
        pool.max_memories_per_component(4);
        pool.max_tables_per_component(16);
        pool.max_unused_warm_slots(instances.min(16));
        // Resetting a slot with madvise costs page faults on the next call and TLB
        // shootdowns across threads; memset of what a small connector touches is
        // cheaper (Spin keeps the same amounts resident).
        pool.linear_memory_keep_resident(2 << 20);
        pool.table_keep_resident(512 << 10);
        pool.async_stack_keep_resident(128 << 10);
        // Where the kernel supports it (6.7+), reset only the pages actually dirtied.
        pool.pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on a thread of its own until dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engine: Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("tovor-epoch".into())
            .spawn(move || {
                while !stop_flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
