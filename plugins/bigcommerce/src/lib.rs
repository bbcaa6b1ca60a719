//! Work in progress: the bigcommerce connector (no plugin.toml yet, so nothing loads it).
