//! The storage of tovor's commerce core, on SQLite (the embedded default) and
//! PostgreSQL, with the same schema, the same SQL and the same behaviour on both.
//!
//! - [`Store`] opens the database and migrates it; it holds companies and their API
//!   tokens ([`Store::create_company`], [`Store::authenticate`]).
//! - [`CompanyScope`] ([`Store::company`]) is the only way to a company's records:
//!   catalogs ([`catalog`]), shops and mappings ([`shops`]), orders and the import
//!   transaction ([`orders`], [`import`]), documents ([`documents`]) and the stock ledger
//!   ([`stock`]). No query through it can see or touch another company's rows, and
//!   composite foreign keys in the schema make cross-company references impossible.
//! - [`users`]: the people who sign in to the web admin, their roles in companies,
//!   their sessions.
//!
//! The rules themselves live in `tovor-domain`, as pure functions: the store loads the
//! rows a rule needs inside a transaction, calls the rule, and writes its decision in
//! the same transaction.

pub mod catalog;
mod checkpoint;
mod codec;
pub mod companies;
pub mod connector_state;
mod db;
pub mod documents;
mod error;
pub mod handovers;
pub mod import;
pub mod inbox;
mod numbering;
pub mod orders;
pub mod overview;
pub mod problems;
pub mod profiles;
pub mod push;
mod scope;
pub mod sending;
pub mod shipping;
pub mod shops;
mod sql;
pub mod stock;
pub mod sync;
pub mod users;

pub use companies::{ApiToken, Company, NewApiToken};
pub use db::{Backend, Store, StoreOptions};
pub use error::{StoreError, StoreResult};
pub use scope::CompanyScope;
