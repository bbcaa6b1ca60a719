use std::ops::RangeInclusive;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ManifestError;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

const MEMORY_MIB: RangeInclusive<u64> = 1..=1024;
const TIMEOUT_MS: RangeInclusive<u64> = 100..=300_000;
const MAX_REQUESTS: RangeInclusive<u64> = 1..=10_000;
const MAX_RESPONSE_BYTES: RangeInclusive<u64> = KIB..=256 * MIB;

/// The `[limits]` table: what one call of the plugin may use. Values from a parsed
/// manifest are within their documented ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Largest linear memory, in MiB: 1 to 1024, default 64.
    pub memory_mib: u32,
    /// Wall-clock time per call, in milliseconds: 100 to 300000, default 30000.
    pub timeout_ms: u32,
    /// Outbound HTTP requests per call: 1 to 10000, default 100.
    pub max_requests: u32,
    /// Largest response body, in bytes: 1 KiB to 256 MiB, default 16 MiB.
    pub max_response_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mib: 64,
            timeout_ms: 30_000,
            max_requests: 100,
            max_response_bytes: 16 * MIB,
        }
    }
}

impl Limits {
    /// Largest linear memory the plugin may grow to, in bytes.
    pub fn memory_bytes(&self) -> usize {
        // At most 1024 MiB in a parsed manifest, so it fits even a 32-bit usize.
        (self.memory_mib as usize) << 20
    }

    /// Wall-clock time one call may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.timeout_ms))
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    memory_mib: Option<u64>,
    timeout_ms: Option<u64>,
    max_requests: Option<u64>,
    max_response_bytes: Option<u64>,
}

impl Limits {
    pub(crate) fn from_raw(raw: RawLimits) -> Result<Self, ManifestError> {
        let defaults = Limits::default();
        Ok(Self {
            memory_mib: within(
                "memory_mib",
                raw.memory_mib,
                MEMORY_MIB,
                defaults.memory_mib,
            )?,
            timeout_ms: within(
                "timeout_ms",
                raw.timeout_ms,
                TIMEOUT_MS,
                defaults.timeout_ms,
            )?,
            max_requests: within(
                "max_requests",
                raw.max_requests,
                MAX_REQUESTS,
                defaults.max_requests,
            )?,
            max_response_bytes: within(
                "max_response_bytes",
                raw.max_response_bytes,
                MAX_RESPONSE_BYTES,
                defaults.max_response_bytes,
            )?,
        })
    }
}

/// The given value if it lies in `range`, the default if none was given.
fn within<T: TryFrom<u64>>(
    key: &str,
    value: Option<u64>,
    range: RangeInclusive<u64>,
    default: T,
) -> Result<T, ManifestError> {
    let Some(value) = value else {
        return Ok(default);
    };
    let out_of_range = || {
        ManifestError::invalid(
            format!("limits.{key}"),
            format!(
                "{value} is out of range; allowed {} to {}",
                range.start(),
                range.end()
            ),
        )
    };
    if !range.contains(&value) {
        return Err(out_of_range());
    }
    T::try_from(value).map_err(|_| out_of_range())
}
