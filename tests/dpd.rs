//! Placeholder: DPD end to end is being written.
