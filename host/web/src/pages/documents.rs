//! Documents: the list, one document with its PDF, and what can be done with it
//! (cancel, credit note, send, e-invoice), each through the API's own handler.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::Deserialize;
use tovor_domain::DocumentId;
use tovor_domain::access::Action;
use tovor_domain::document::{DocumentKind, LineRef};
use tovor_server::AppState;
use tovor_server::api::auth::Company;
use tovor_server::api::documents::{
    ChargeAmount, CreditNoteRequest, DocumentListQuery, EInvoiceQuery, PdfQuery,
    create_credit_note, get_einvoice, get_pdf, list_documents,
};
use tovor_server::api::extract::{ApiJson, ApiPath, ApiQuery};
use tovor_server::api::orders::{LineQuantity, cancel_document};
use tovor_server::api::sending::{SendRequest, list_sends, send_document};
use tovor_store::documents::DocumentState;

use crate::error::{WebError, WebResult};
use crate::i18n::Texts;
use crate::page::{Chrome, render};
use crate::pages::orders::Choice;
use crate::pages::{formats, refused};
use crate::session::{Button, Form, Workplace, redirect_with_flash};

const PAGE_SIZE: u32 = 50;

pub(crate) fn kind_label(t: &Texts, kind: &str) -> &'static str {
    match kind {
        "invoice" => t.invoice,
        "delivery_note" => t.delivery_note,
        "credit_note" => t.credit_note,
        _ => t.documents,
    }
}

pub(crate) fn state_label(t: &Texts, state: &str) -> &'static str {
    match state {
        "cancelled" => t.cancelled,
        "reversal" => t.reversal,
        _ => t.issued,
    }
}

pub struct DocumentRow {
    pub href: String,
    pub kind: &'static str,
    pub number: String,
    pub order: String,
    pub order_href: String,
    pub state: &'static str,
    pub issued: String,
    pub total: String,
}

#[derive(Template)]
#[template(path = "documents.html")]
struct DocumentsPage {
    page: Chrome,
    rows: Vec<DocumentRow>,
    kinds: Vec<Choice>,
    older: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    kind: Option<String>,
    before: Option<i64>,
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Query(query): Query<ListQuery>,
) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let kind = query.kind.clone().filter(|kind| !kind.is_empty());
    let documents = list_documents(
        State(state.clone()),
        Company(workplace.company),
        ApiQuery(DocumentListQuery {
            kind: kind.clone(),
            before: query.before,
            limit: Some(PAGE_SIZE + 1),
        }),
    )
    .await?
    .0;
    let more = documents.len() > PAGE_SIZE as usize;
    let rows: Vec<DocumentRow> = documents
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|document| DocumentRow {
            href: workplace.link(&format!("/documents/{}", document.id)),
            kind: kind_label(t, &document.kind),
            order_href: workplace.link(&format!("/orders/{}", document.order_id)),
            order: document.order_number,
            state: state_label(t, &document.state),
            issued: formats.time(document.issued_at),
            total: formats.money(document.gross, &document.currency),
            number: document.number,
        })
        .collect();
    let older = more.then(|| {
        let last = rows
            .last()
            .and_then(|row| row.href.rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        let kind = kind.clone().unwrap_or_default();
        workplace.link(&format!("/documents?kind={kind}&before={last}"))
    });
    let kinds = ["invoice", "delivery_note", "credit_note"]
        .into_iter()
        .map(|candidate| Choice {
            value: candidate.to_owned(),
            label: kind_label(t, candidate).to_owned(),
            selected: kind.as_deref() == Some(candidate),
        })
        .collect();
    let page = DocumentsPage {
        page: Chrome::company(&workplace, "documents", t.documents),
        rows,
        kinds,
        older,
    };
    Ok(render(&page))
}

pub struct LineView {
    pub sku: String,
    pub name: String,
    pub quantity: String,
    pub unit_price: String,
    pub discount: String,
    pub vat_rate: String,
    pub net: String,
    /// The credit-note field for this line: its name and full value.
    pub credit_field: Option<(String, String)>,
}

pub struct RecapView {
    pub rate: String,
    pub base: String,
    pub vat: String,
}

pub struct SendRow {
    pub to: String,
    pub state: String,
    pub when: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    page: Chrome,
    kind: &'static str,
    state: &'static str,
    order: String,
    order_href: String,
    issued: String,
    lines: Vec<LineView>,
    recap: Vec<RecapView>,
    net: String,
    vat: String,
    rounding: Option<String>,
    gross: String,
    pdf_href: String,
    eslog_href: Option<String>,
    ubl_href: Option<String>,
    cancel_href: Option<String>,
    credit_href: Option<String>,
    send_href: Option<String>,
    sends: Vec<SendRow>,
}

fn credit_field(
    source: Option<LineRef>,
    quantity: Decimal,
    gross: Decimal,
) -> Option<(String, String)> {
    match source? {
        LineRef::Item(position) => {
            Some((format!("item_{position}"), quantity.normalize().to_string()))
        }
        LineRef::Shipping(position) => Some((
            format!("shipping_{position}"),
            gross.normalize().to_string(),
        )),
        LineRef::Fee(position) => Some((format!("fee_{position}"), gross.normalize().to_string())),
    }
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let scope = state.store.company(workplace.company);
    let document = scope.document(DocumentId(id)).await?;
    let order = scope.order(document.order).await?;
    let company = Company(workplace.company);
    let sends = list_sends(State(state.clone()), company, ApiPath(id))
        .await?
        .0;
    let draft = &document.draft;
    let currency = draft.currency.clone();
    let issued = document.state == DocumentState::Issued;
    let can_work = workplace.may(Action::DailyWork);
    let is_invoice = draft.kind == DocumentKind::Invoice;
    let financial = draft.kind != DocumentKind::DeliveryNote;
    let base = workplace.link(&format!("/documents/{id}"));
    let page = DocumentPage {
        page: Chrome::company(
            &workplace,
            "documents",
            format!("{} {}", kind_label(t, draft.kind.as_str()), document.number),
        ),
        kind: kind_label(t, draft.kind.as_str()),
        state: state_label(
            t,
            match document.state {
                DocumentState::Issued => "issued",
                DocumentState::Cancelled => "cancelled",
                DocumentState::Reversal => "reversal",
            },
        ),
        order: order.number.clone(),
        order_href: workplace.link(&format!("/orders/{}", order.id)),
        issued: formats.time(document.issued_at),
        lines: draft
            .lines
            .iter()
            .map(|line| LineView {
                sku: line.sku.clone().unwrap_or_default(),
                name: line.name.clone(),
                quantity: formats.quantity(line.quantity),
                unit_price: formats.money(line.unit_price, &currency),
                discount: formats.money(line.discount, &currency),
                vat_rate: format!("{} %", line.vat_rate.normalize()),
                net: formats.money(line.net, &currency),
                credit_field: credit_field(line.source, line.quantity, line.gross),
            })
            .collect(),
        recap: draft
            .vat_recap
            .iter()
            .map(|recap| RecapView {
                rate: format!("{} %", recap.rate.normalize()),
                base: formats.money(recap.base, &currency),
                vat: formats.money(recap.vat, &currency),
            })
            .collect(),
        net: formats.money(draft.totals.net, &currency),
        vat: formats.money(draft.totals.vat, &currency),
        rounding: (!draft.totals.rounding.is_zero())
            .then(|| formats.money(draft.totals.rounding, &currency)),
        gross: formats.money(draft.totals.gross, &currency),
        pdf_href: format!("{base}/pdf"),
        eslog_href: financial.then(|| format!("{base}/einvoice?format=eslog")),
        ubl_href: financial.then(|| format!("{base}/einvoice?format=ubl")),
        cancel_href: (issued && can_work).then(|| format!("{base}/cancel")),
        credit_href: (issued && can_work && is_invoice).then(|| format!("{base}/credit-notes")),
        send_href: (can_work && financial).then(|| format!("{base}/send")),
        sends: sends
            .into_iter()
            .map(|send| SendRow {
                to: send.to.join(", "),
                state: send.state,
                when: send.sent_at.map(|at| formats.time(at)).unwrap_or_default(),
                error: send.last_error.unwrap_or_default(),
            })
            .collect(),
    };
    Ok(render(&page))
}

#[derive(Debug, Default, Deserialize)]
pub struct PdfParams {
    #[serde(default)]
    prices: bool,
}

pub async fn pdf(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
    Query(params): Query<PdfParams>,
) -> WebResult<Response> {
    Ok(get_pdf(
        State(state),
        Company(workplace.company),
        ApiPath(id),
        ApiQuery(PdfQuery {
            prices: params.prices,
        }),
    )
    .await?)
}

#[derive(Debug, Deserialize)]
pub struct EInvoiceParams {
    format: String,
}

pub async fn einvoice(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
    Query(params): Query<EInvoiceParams>,
) -> WebResult<Response> {
    let file = get_einvoice(
        State(state),
        Company(workplace.company),
        ApiPath(id),
        ApiQuery(EInvoiceQuery {
            format: params.format,
        }),
    )
    .await?;
    Ok(file.into_response())
}

pub async fn cancel(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let t = workplace.texts();
    let back = workplace.link(&format!("/documents/{id}"));
    match cancel_document(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(id),
    )
    .await
    {
        Ok((_, reversal)) => Ok(redirect_with_flash(
            &state,
            &workplace.link(&format!("/documents/{}", reversal.0.id)),
            &format!("{} {}", t.reversal, reversal.0.number),
        )),
        Err(error) => refused(&state, &back, error),
    }
}

#[derive(Debug, Deserialize)]
pub struct CreditForm {
    #[serde(default)]
    restock: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

pub async fn credit_note(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
    Form(form): Form<CreditForm>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let t = workplace.texts();
    let back = workplace.link(&format!("/documents/{id}"));
    let mut lines = Vec::new();
    let mut charges = Vec::new();
    for (key, value) in &form.rest {
        let Some((kind, position)) = key.split_once('_') else {
            continue;
        };
        let Ok(position) = position.parse::<u32>() else {
            continue;
        };
        let value = value.trim().replace(',', ".");
        if value.is_empty() {
            continue;
        }
        let amount: Decimal = value
            .parse()
            .map_err(|_| WebError::bad_request(format!("{}: {value}", t.quantity)))?;
        if amount.is_zero() {
            continue;
        }
        match kind {
            "item" => lines.push(LineQuantity {
                position,
                quantity: amount,
            }),
            "shipping" | "fee" => charges.push(ChargeAmount {
                kind: kind.to_owned(),
                position,
                amount,
            }),
            _ => {}
        }
    }
    let request = CreditNoteRequest {
        refund_id: None,
        lines: Some(lines),
        charges: Some(charges),
        restock: form.restock.is_some(),
    };
    match create_credit_note(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(id),
        ApiJson(request),
    )
    .await
    {
        Ok((_, note)) => Ok(redirect_with_flash(
            &state,
            &workplace.link(&format!("/documents/{}", note.0.id)),
            &format!(
                "{} {} {}",
                t.credit_note,
                note.0.number,
                t.document_issued.to_lowercase()
            ),
        )),
        Err(error) => refused(&state, &back, error),
    }
}

#[derive(Debug, Deserialize)]
pub struct SendForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    einvoice: String,
}

pub async fn send(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
    Form(form): Form<SendForm>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let t = workplace.texts();
    let back = workplace.link(&format!("/documents/{id}"));
    let to: Vec<String> = form
        .to
        .split([',', ';', ' '])
        .map(str::trim)
        .filter(|address| !address.is_empty())
        .map(str::to_owned)
        .collect();
    let request = SendRequest {
        to: (!to.is_empty()).then_some(to),
        einvoice: (!form.einvoice.is_empty()).then_some(form.einvoice),
    };
    match send_document(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(id),
        Some(ApiJson(request)),
    )
    .await
    {
        Ok((_, send)) => Ok(redirect_with_flash(
            &state,
            &back,
            &format!("{}: {}", t.send_queued, send.0.to.join(", ")),
        )),
        Err(error) => refused(&state, &back, error),
    }
}
