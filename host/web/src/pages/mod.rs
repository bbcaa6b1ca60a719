//! One module per screen.

pub mod account;
pub mod dashboard;
pub mod documents;
pub mod orders;
pub mod people;
pub mod shipping;
pub mod shop_form;
pub mod shops;
pub mod stock;

use tovor_server::AppState;
use tovor_store::StoreError;

use crate::page::Formats;
use crate::session::Workplace;

/// How `workplace`'s person reads values: their language, their company's clock.
pub(crate) async fn formats(
    state: &AppState,
    workplace: &Workplace,
) -> Result<Formats, StoreError> {
    let profile = state.store.company(workplace.company).profile().await?;
    Ok(Formats::new(
        workplace.signed_in.user.language,
        profile.time_zone,
    ))
}
