//! Work in progress: metakocka end to end.
