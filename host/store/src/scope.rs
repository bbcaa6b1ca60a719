//! The company scope: the only way to company-owned records.

use tovor_domain::CompanyId;

use crate::db::Store;

/// The records of one company. Every query made through it is filtered by the
/// company's id, and every record it creates belongs to the company; composite foreign
/// keys in the schema make a cross-company reference impossible even so.
#[derive(Debug, Clone, Copy)]
pub struct CompanyScope<'s> {
    pub(crate) store: &'s Store,
    pub(crate) company: CompanyId,
}

impl Store {
    /// The records of `company`. Obtain the id from [`Store::authenticate`] (or the
    /// operator's own choice); a scope of a company that does not exist sees nothing.
    pub fn company(&self, company: CompanyId) -> CompanyScope<'_> {
        CompanyScope {
            store: self,
            company,
        }
    }
}

impl CompanyScope<'_> {
    pub fn id(&self) -> CompanyId {
        self.company
    }

    pub(crate) fn cid(&self) -> i64 {
        self.company.0
    }
}
