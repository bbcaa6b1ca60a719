//! Work in progress: the fake metakocka.
