//! Work in progress: the metakocka connector (no plugin.toml yet, so nothing loads it).
