//! Placeholder: the connector is being written.
