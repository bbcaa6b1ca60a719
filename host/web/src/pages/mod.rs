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

use std::sync::Arc;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use tovor_server::AppState;
use tovor_server::api::error::ApiError;
use tovor_store::StoreError;

use crate::error::{WebError, WebResult};
use crate::page::{Chrome, Formats, render};
use crate::session::{Workplace, redirect_with_flash};

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

/// An API refusal the person can fix (a 4xx other than "not found", or a "not found"
/// that names a field of the form, such as an unknown SKU), as the message to show them;
/// anything else becomes the error page.
pub(crate) fn form_problem(error: ApiError) -> WebResult<String> {
    let fixable = error.status != StatusCode::NOT_FOUND || error.field.is_some();
    if error.status.is_client_error() && fixable {
        Ok(match &error.field {
            Some(field) => format!("{field}: {}", error.message),
            None => error.message,
        })
    } else {
        Err(error.into())
    }
}

/// Back to `back`, saying why the action was refused (or the error page when it was not
/// a refusal the person can do something about).
pub(crate) fn refused(state: &AppState, back: &str, error: ApiError) -> WebResult<Response> {
    Ok(redirect_with_flash(
        state,
        back,
        &format!("!{}", form_problem(error)?),
    ))
}

/// A loaded connector of `kind` by its id; "not found" for any other.
pub(crate) fn loaded_plugin(
    state: &AppState,
    id: &str,
    kind: tovor_manifest::Kind,
) -> WebResult<Arc<tovor_runtime::LoadedPlugin>> {
    state
        .runtime
        .plugins()
        .into_iter()
        .find(|loaded| loaded.manifest.plugin.id == id && loaded.manifest.plugin.kind == kind)
        .ok_or_else(WebError::not_found)
}

#[derive(Template)]
#[template(path = "shop_choose.html")]
struct ChoosePluginPage {
    page: Chrome,
    plugins: Vec<(String, String, String)>,
}

/// The first step of "add e-store" and "add carrier": the loaded connectors of `kind`,
/// by name, each a link to `{form}?plugin=ID`.
pub(crate) fn choose_plugin(
    state: &AppState,
    workplace: &Workplace,
    kind: tovor_manifest::Kind,
    form: &str,
    title: &'static str,
) -> Response {
    let mut plugins: Vec<(String, String, String)> = state
        .runtime
        .plugins()
        .iter()
        .filter(|plugin| plugin.manifest.plugin.kind == kind)
        .map(|plugin| {
            (
                workplace.link(&format!("{form}?plugin={}", plugin.manifest.plugin.id)),
                plugin.manifest.plugin.name.clone(),
                plugin.manifest.plugin.version.to_string(),
            )
        })
        .collect();
    plugins.sort_by(|a, b| a.1.cmp(&b.1));
    let section = match kind {
        tovor_manifest::Kind::Shop => "shops",
        tovor_manifest::Kind::Carrier => "shipping",
    };
    render(&ChoosePluginPage {
        page: Chrome::company(workplace, section, title),
        plugins,
    })
}
