//! Per-call resource caps enforced inside the store.

use wasmtime::ResourceLimiter;

/// A plugin tried to grow its memory past its limit. Raised as the trap's error so the
/// caller can tell an out-of-memory stop from any other trap.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes exceeded (wanted {desired})")]
pub(crate) struct MemoryLimitExceeded {
    pub(crate) limit: usize,
    pub(crate) desired: usize,
}

/// Caps linear memory and tables of one call's store.
pub(crate) struct CallLimiter {
    pub(crate) memory_bytes: usize,
    pub(crate) table_elements: usize,
}

/// Generous for any connector; a table this large means a runaway plugin.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl CallLimiter {
    pub(crate) fn new(memory_bytes: usize) -> Self {
        Self {
            memory_bytes,
            table_elements: MAX_TABLE_ELEMENTS,
        }
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            // Trapping right here (rather than failing `memory.grow`) stops the plugin at
            // the allocation that crossed the line and gives the caller a typed reason.
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.memory_bytes,
                desired,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.table_elements)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}
