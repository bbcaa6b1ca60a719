//! Work in progress: bigcommerce end to end.
