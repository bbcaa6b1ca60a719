//! Work in progress: the fake bigcommerce.
