//! A company's people and API tokens, for its owners; and the operator's pages:
//! companies (with their first people) and plugins.

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use tovor_domain::access::{Action, Role, normalize_email};
use tovor_domain::{CompanyId, UserId};
use tovor_server::AppState;
use tovor_server::accounts::{self, AccountError, AddUser};
use tovor_server::api::admin::{
    NewToken, create_token, install_plugin, list_plugins, list_tokens, reload_plugin, revoke_token,
};
use tovor_server::api::auth::{Admin, Caller};
use tovor_server::api::extract::{ApiJson, ApiPath};

use crate::error::{WebError, WebResult};
use crate::i18n::Texts;
use crate::page::{Chrome, render};
use crate::pages::orders::Choice;
use crate::pages::{formats, refused};
use crate::session::{Button, Form, SignedIn, Workplace, redirect_with_flash, same_token};

fn role_choices(t: &Texts, selected: Option<Role>) -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|role| Choice {
            value: role.as_str().to_owned(),
            label: t.role(*role).to_owned(),
            selected: Some(*role) == selected,
        })
        .collect()
}

pub struct MemberRow {
    pub name: String,
    pub email: String,
    pub roles: Vec<Choice>,
    pub role_href: String,
    pub remove_href: String,
    pub is_me: bool,
}

pub struct TokenRow {
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub revoked: Option<String>,
    pub revoke_href: String,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    page: Chrome,
    members: Vec<MemberRow>,
    roles: Vec<Choice>,
    add_href: String,
    tokens: Vec<TokenRow>,
    token_href: String,
    /// A token just made: shown on this page only.
    new_token: Option<String>,
}

async fn people_page(
    state: &Arc<AppState>,
    workplace: &Workplace,
    new_token: Option<String>,
) -> WebResult<Response> {
    workplace.require(Action::ManagePeople)?;
    let t = workplace.texts();
    let formats = formats(state, workplace).await?;
    let members = state.store.members(workplace.company).await?;
    let tokens = list_tokens(
        State(state.clone()),
        Caller::Company(workplace.company),
        ApiPath(workplace.company.0),
    )
    .await?
    .0;
    let page = PeoplePage {
        page: Chrome::company(workplace, "people", t.people),
        members: members
            .into_iter()
            .map(|member| MemberRow {
                role_href: workplace.link(&format!("/people/{}/role", member.user.id)),
                remove_href: workplace.link(&format!("/people/{}/remove", member.user.id)),
                is_me: member.user.id == workplace.signed_in.user.id,
                roles: role_choices(t, Some(member.role)),
                name: member.user.name,
                email: member.user.email,
            })
            .collect(),
        roles: role_choices(t, Some(Role::Staff)),
        add_href: workplace.link("/people"),
        tokens: tokens
            .into_iter()
            .map(|token| TokenRow {
                revoke_href: workplace.link(&format!("/people/tokens/{}/revoke", token.id)),
                name: token.name,
                prefix: token.prefix,
                created: formats.time(token.created_at),
                revoked: token.revoked_at.map(|at| formats.time(at)),
            })
            .collect(),
        token_href: workplace.link("/people/tokens"),
        new_token,
    };
    Ok(render(&page))
}

pub async fn show(State(state): State<Arc<AppState>>, workplace: Workplace) -> WebResult<Response> {
    people_page(&state, &workplace, None).await
}

#[derive(Debug, Deserialize)]
pub struct AddPersonForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    role: String,
}

fn parse_role(text: &str) -> WebResult<Role> {
    text.parse()
        .map_err(|error: tovor_domain::access::UnknownRole| {
            WebError::bad_request(error.to_string())
        })
}

fn account_problem(error: AccountError) -> WebResult<String> {
    match error {
        AccountError::Store(error) if !error.is_collision() => Err(error.into()),
        AccountError::Hashing(message) => Err(WebError::internal(message)),
        other => Ok(other.to_string()),
    }
}

/// Puts someone into `company` with `role`: a new person with the password given, or
/// someone who already signs in (for another company), found by their address. Then back
/// to `back` saying so, or why not.
async fn put_into_company(
    state: &AppState,
    back: &str,
    person: &AddPersonForm,
    language: tovor_domain::company::DocumentLanguage,
    company: CompanyId,
    texts: &Texts,
) -> WebResult<Response> {
    let role = parse_role(&person.role)?;
    let existing = match normalize_email(&person.email) {
        Ok(email) => state.store.user_credentials(&email).await?,
        Err(error) => return Ok(redirect_with_flash(state, back, &format!("!{error}"))),
    };
    let outcome = match existing {
        Some(existing) => state
            .store
            .set_membership(existing.user.id, company, role, OffsetDateTime::now_utc())
            .await
            .map_err(AccountError::from),
        None => accounts::add_user(
            &state.store,
            AddUser {
                email: person.email.clone(),
                name: person.name.clone(),
                password: person.password.clone(),
                language,
                operator: false,
                company: Some((company, role)),
            },
        )
        .await
        .map(|_| ()),
    };
    Ok(match outcome {
        Ok(()) => redirect_with_flash(
            state,
            back,
            &format!(
                "{} {}",
                person.email.trim().to_lowercase(),
                texts.person_added
            ),
        ),
        Err(error) => redirect_with_flash(state, back, &format!("!{}", account_problem(error)?)),
    })
}

pub async fn add(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Form(form): Form<AddPersonForm>,
) -> WebResult<Response> {
    workplace.require(Action::ManagePeople)?;
    put_into_company(
        &state,
        &workplace.link("/people"),
        &form,
        workplace.signed_in.user.language,
        workplace.company,
        workplace.texts(),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn change_role(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, user)): Path<(i64, i64)>,
    Form(form): Form<RoleForm>,
) -> WebResult<Response> {
    workplace.require(Action::ManagePeople)?;
    let t = workplace.texts();
    let back = workplace.link("/people");
    let role = parse_role(&form.role)?;
    let user = UserId(user);
    if state
        .store
        .role_in(user, workplace.company)
        .await?
        .is_none()
    {
        return Err(WebError::not_found());
    }
    if user == workplace.signed_in.user.id && role != Role::Owner {
        return Ok(redirect_with_flash(
            &state,
            &back,
            &format!("!{}", t.keep_one_owner),
        ));
    }
    state
        .store
        .set_membership(user, workplace.company, role, OffsetDateTime::now_utc())
        .await?;
    Ok(redirect_with_flash(&state, &back, t.role_changed))
}

pub async fn remove(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, user)): Path<(i64, i64)>,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    workplace.require(Action::ManagePeople)?;
    let t = workplace.texts();
    let back = workplace.link("/people");
    let user = UserId(user);
    if user == workplace.signed_in.user.id {
        return Ok(redirect_with_flash(
            &state,
            &back,
            &format!("!{}", t.keep_one_owner),
        ));
    }
    if state
        .store
        .role_in(user, workplace.company)
        .await?
        .is_none()
    {
        return Err(WebError::not_found());
    }
    state
        .store
        .remove_membership(user, workplace.company)
        .await?;
    Ok(redirect_with_flash(&state, &back, t.person_removed))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

/// Makes an API token and shows it once, on the page the form returns.
pub async fn new_token(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Form(form): Form<TokenForm>,
) -> WebResult<Response> {
    workplace.require(Action::ManagePeople)?;
    let made = create_token(
        State(state.clone()),
        Caller::Company(workplace.company),
        ApiPath(workplace.company.0),
        ApiJson(NewToken { name: form.name }),
    )
    .await;
    match made {
        Ok((_, token)) => people_page(&state, &workplace, Some(token.0.token)).await,
        Err(error) => refused(&state, &workplace.link("/people"), error),
    }
}

pub async fn revoke(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, token)): Path<(i64, i64)>,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    workplace.require(Action::ManagePeople)?;
    let t = workplace.texts();
    let _revoked = revoke_token(
        State(state.clone()),
        Caller::Company(workplace.company),
        ApiPath((workplace.company.0, token)),
    )
    .await?;
    Ok(redirect_with_flash(
        &state,
        &workplace.link("/people"),
        t.token_revoked,
    ))
}

fn require_operator(signed_in: &SignedIn) -> WebResult<()> {
    if signed_in.is_operator() {
        Ok(())
    } else {
        Err(WebError::not_found())
    }
}

pub struct CompanyRow {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub people: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "operator_companies.html")]
struct CompaniesPage {
    page: Chrome,
    companies: Vec<CompanyRow>,
    roles: Vec<Choice>,
}

pub async fn companies(
    State(state): State<Arc<AppState>>,
    signed_in: SignedIn,
) -> WebResult<Response> {
    require_operator(&signed_in)?;
    let t = signed_in.texts;
    let mut rows = Vec::new();
    for company in state.store.companies().await? {
        let people = state
            .store
            .members(company.id)
            .await?
            .into_iter()
            .map(|member| format!("{} ({})", member.user.email, t.role(member.role)))
            .collect::<Vec<_>>()
            .join(", ");
        rows.push(CompanyRow {
            id: company.id.0,
            href: format!("/c/{}", company.id.0),
            name: company.name,
            created: company.created_at.date().to_string(),
            people,
        });
    }
    let page = CompaniesPage {
        page: Chrome::personal(&signed_in, "companies", t.companies),
        companies: rows,
        roles: role_choices(t, Some(Role::Owner)),
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
pub struct NewCompanyForm {
    #[serde(default)]
    name: String,
}

pub async fn create_company(
    State(state): State<Arc<AppState>>,
    signed_in: SignedIn,
    Form(form): Form<NewCompanyForm>,
) -> WebResult<Response> {
    require_operator(&signed_in)?;
    let t = signed_in.texts;
    let name = form.name.trim();
    if name.is_empty() {
        return Ok(redirect_with_flash(
            &state,
            "/operator/companies",
            &format!("!{}", t.company_needs_name),
        ));
    }
    let now = OffsetDateTime::now_utc();
    let company = state.store.create_company(name, now).await?;
    // The operator who made it can open it at once.
    state
        .store
        .set_membership(signed_in.user.id, company, Role::Owner, now)
        .await?;
    Ok(redirect_with_flash(
        &state,
        "/operator/companies",
        &format!("{name}: {}", t.company_created),
    ))
}

#[derive(Debug, Deserialize)]
pub struct CompanyPersonForm {
    company: i64,
    #[serde(flatten)]
    person: AddPersonForm,
}

/// The operator puts a person into a company (a new one with a password, or someone
/// who already signs in).
pub async fn add_company_person(
    State(state): State<Arc<AppState>>,
    signed_in: SignedIn,
    Form(form): Form<CompanyPersonForm>,
) -> WebResult<Response> {
    require_operator(&signed_in)?;
    put_into_company(
        &state,
        "/operator/companies",
        &form.person,
        signed_in.user.language,
        CompanyId(form.company),
        signed_in.texts,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// The operator sets someone's password (there is no "forgot password"); the person is
/// signed out everywhere.
pub async fn reset_password(
    State(state): State<Arc<AppState>>,
    signed_in: SignedIn,
    Form(form): Form<ResetForm>,
) -> WebResult<Response> {
    require_operator(&signed_in)?;
    let t = signed_in.texts;
    let back = "/operator/companies";
    let person = match normalize_email(&form.email) {
        Ok(email) => state.store.user_credentials(&email).await?,
        Err(error) => return Ok(redirect_with_flash(&state, back, &format!("!{error}"))),
    };
    let Some(person) = person else {
        return Ok(redirect_with_flash(
            &state,
            back,
            &format!("!{}: {}", form.email.trim(), t.no_such_person),
        ));
    };
    Ok(
        match accounts::set_password(&state.store, person.user.id, form.password).await {
            Ok(()) => redirect_with_flash(
                &state,
                back,
                &format!("{}: {}", person.user.email, t.password_set),
            ),
            Err(error) => {
                redirect_with_flash(&state, back, &format!("!{}", account_problem(error)?))
            }
        },
    )
}

pub struct PluginRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub version: String,
    pub contract: String,
    pub capabilities: String,
    pub reload_href: String,
}

#[derive(Template)]
#[template(path = "operator_plugins.html")]
struct PluginsPage {
    page: Chrome,
    plugins: Vec<PluginRow>,
    failures: Vec<(String, String)>,
}

pub async fn plugins(
    State(state): State<Arc<AppState>>,
    signed_in: SignedIn,
) -> WebResult<Response> {
    require_operator(&signed_in)?;
    let t = signed_in.texts;
    let list = list_plugins(State(state.clone()), Caller::Admin).await.0;
    let page = PluginsPage {
        page: Chrome::personal(&signed_in, "plugins", t.plugins),
        plugins: list
            .plugins
            .into_iter()
            .map(|plugin| PluginRow {
                reload_href: format!("/operator/plugins/{}/reload", plugin.id),
                id: plugin.id,
                name: plugin.name,
                kind: plugin.kind,
                version: plugin.version,
                contract: plugin.contract,
                capabilities: plugin.capabilities.join(", "),
            })
            .collect(),
        failures: list
            .failures
            .into_iter()
            .map(|failure| (failure.dir, failure.message))
            .collect(),
    };
    Ok(render(&page))
}

pub async fn reload(
    State(state): State<Arc<AppState>>,
    signed_in: SignedIn,
    Path(plugin): Path<String>,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    require_operator(&signed_in)?;
    let t = signed_in.texts;
    let back = "/operator/plugins";
    Ok(
        match reload_plugin(State(state.clone()), Admin, ApiPath(plugin.clone())).await {
            Ok(view) => redirect_with_flash(
                &state,
                back,
                &format!("{} {}: {}", view.0.id, view.0.version, t.plugin_reloaded),
            ),
            Err(error) => return refused(&state, back, error),
        },
    )
}

/// A plugin folder's two files uploaded from the browser (`multipart/form-data`:
/// `_csrf`, `manifest`, `wasm`).
pub async fn upload(
    State(state): State<Arc<AppState>>,
    signed_in: SignedIn,
    request: Request,
) -> WebResult<Response> {
    require_operator(&signed_in)?;
    let t = signed_in.texts;
    let back = "/operator/plugins";
    let mut form = Multipart::from_request(request, &state)
        .await
        .map_err(|rejection| WebError::bad_request(rejection.body_text()))?;
    let mut csrf = String::new();
    let mut manifest = None;
    let mut wasm = None;
    while let Some(part) = form
        .next_field()
        .await
        .map_err(|error| WebError::bad_request(error.body_text()))?
    {
        match part.name().unwrap_or_default() {
            "_csrf" => csrf = part.text().await.unwrap_or_default(),
            "manifest" => {
                let bytes = part
                    .bytes()
                    .await
                    .map_err(|error| WebError::bad_request(error.body_text()))?;
                manifest = Some(String::from_utf8_lossy(&bytes).into_owned());
            }
            "wasm" => {
                wasm = Some(
                    part.bytes()
                        .await
                        .map_err(|error| WebError::bad_request(error.body_text()))?,
                );
            }
            _ => {}
        }
    }
    if !same_token(&csrf, &signed_in.csrf) {
        return Err(WebError::csrf());
    }
    let (Some(manifest), Some(wasm)) = (manifest, wasm) else {
        return Ok(redirect_with_flash(
            &state,
            back,
            &format!("!{}", t.plugin_files_missing),
        ));
    };
    Ok(match install_plugin(&state, &manifest, &wasm).await {
        Ok(plugin) => redirect_with_flash(
            &state,
            back,
            &format!("{} {}: {}", plugin.id, plugin.version, t.plugin_installed),
        ),
        Err(error) => return refused(&state, back, error),
    }
    .into_response())
}
