//! What can go wrong in the store.

use tovor_domain::document::{DocumentError, DocumentNumberError};
use tovor_domain::order::FieldProblem;

/// An error of the store. `NotFound` is also what a record of another company looks
/// like: the store never says whether the record exists elsewhere.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("the order is not valid: {}", describe_problems(.0))]
    InvalidOrder(Vec<FieldProblem>),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Numbering(#[from] DocumentNumberError),
    #[error("stored {column} is unreadable: {message}")]
    Corrupt { column: String, message: String },
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            what,
            id: id.to_string(),
        }
    }

    pub(crate) fn corrupt(column: &str, message: impl ToString) -> Self {
        Self::Corrupt {
            column: column.to_owned(),
            message: message.to_string(),
        }
    }

    /// True when a write lost a race: a unique key taken meanwhile, whether still raw
    /// or already worded as a [`StoreError::Conflict`].
    pub fn is_collision(&self) -> bool {
        self.is_unique_violation() || matches!(self, Self::Conflict(_))
    }

    /// True when the database refused a row because a unique key already exists.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(error)
            if error.as_database_error().is_some_and(|db| db.is_unique_violation()))
    }
}

fn describe_problems(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(|problem| format!("{}: {}", problem.field, problem.message))
        .collect::<Vec<_>>()
        .join("; ")
}

pub type StoreResult<T> = Result<T, StoreError>;
