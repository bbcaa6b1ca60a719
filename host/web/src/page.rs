//! What every page around its content shows: the person, the company and its switch,
//! the navigation, the message a form left, and the CSRF token its forms carry. And
//! how values are written for people: money, quantities and times in the person's
//! language and the company's time zone.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use rust_decimal::Decimal;
use time::OffsetDateTime;
use tovor_documents::model::Language;
use tovor_domain::access::Action;
use tovor_domain::company::{CompanyTimeZone, DocumentLanguage};

use crate::error::WebError;
use crate::i18n::Texts;
use crate::session::{SignedIn, Workplace};

/// A link of the navigation.
pub struct NavLink {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// A company the person can switch to.
pub struct CompanyChoice {
    pub href: String,
    pub name: String,
    pub current: bool,
}

/// The frame of a page.
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub title: String,
    pub user_name: String,
    pub csrf: String,
    pub company_name: Option<String>,
    pub companies: Vec<CompanyChoice>,
    pub nav: Vec<NavLink>,
    /// A message from the form handled before this page (`!` first: an error).
    pub notice: Option<String>,
    pub problem: Option<String>,
    /// Read-only people see a note instead of the buttons they may not press.
    pub read_only: bool,
    pub operator: bool,
}

/// The sections of a company, by the key pages name themselves with.
const SECTIONS: [&str; 7] = [
    "dashboard",
    "orders",
    "documents",
    "stock",
    "shops",
    "shipping",
    "people",
];

fn section_label(texts: &'static Texts, key: &str) -> &'static str {
    match key {
        "dashboard" => texts.dashboard,
        "orders" => texts.orders,
        "documents" => texts.documents,
        "stock" => texts.stock,
        "shops" => texts.shops,
        "shipping" => texts.shipping,
        "people" => texts.people,
        "plugins" => texts.plugins,
        "companies" => texts.companies,
        _ => texts.product,
    }
}

fn split_flash(flash: Option<&String>) -> (Option<String>, Option<String>) {
    match flash {
        Some(message) => match message.strip_prefix('!') {
            Some(problem) => (None, Some(problem.to_owned())),
            None => (Some(message.clone()), None),
        },
        None => (None, None),
    }
}

impl Chrome {
    /// The frame of a company's page; `section` is the navigation entry it is under.
    pub fn company(workplace: &Workplace, section: &str, title: impl Into<String>) -> Self {
        let texts = workplace.texts();
        let signed_in = &workplace.signed_in;
        let (notice, problem) = split_flash(signed_in.flash.as_ref());
        let nav = SECTIONS
            .iter()
            .filter(|key| **key != "people" || workplace.may(Action::ManagePeople))
            .map(|key| NavLink {
                href: if *key == "dashboard" {
                    workplace.link("")
                } else {
                    workplace.link(&format!("/{key}"))
                },
                label: section_label(texts, key),
                current: *key == section,
            })
            .collect();
        Self {
            t: texts,
            lang: signed_in.user.language.as_str(),
            title: title.into(),
            user_name: signed_in.user.name.clone(),
            csrf: signed_in.csrf.clone(),
            company_name: Some(workplace.company_name.clone()),
            companies: workplace
                .memberships
                .iter()
                .map(|membership| CompanyChoice {
                    href: format!("/c/{}", membership.company.0),
                    name: membership.company_name.clone(),
                    current: membership.company == workplace.company,
                })
                .collect(),
            nav,
            notice,
            problem,
            read_only: !workplace.may(Action::DailyWork),
            operator: signed_in.is_operator(),
        }
    }

    /// The frame of a page outside any company (the operator's, the company choice).
    pub fn personal(signed_in: &SignedIn, section: &str, title: impl Into<String>) -> Self {
        let texts = signed_in.texts;
        let (notice, problem) = split_flash(signed_in.flash.as_ref());
        let nav = if signed_in.is_operator() {
            ["companies", "plugins"]
                .iter()
                .map(|key| NavLink {
                    href: format!("/operator/{key}"),
                    label: section_label(texts, key),
                    current: *key == section,
                })
                .collect()
        } else {
            Vec::new()
        };
        Self {
            t: texts,
            lang: signed_in.user.language.as_str(),
            title: title.into(),
            user_name: signed_in.user.name.clone(),
            csrf: signed_in.csrf.clone(),
            company_name: None,
            companies: Vec::new(),
            nav,
            notice,
            problem,
            read_only: false,
            operator: signed_in.is_operator(),
        }
    }
}

/// A template as an HTML answer; a template that fails to render is an internal error.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => Html(body).into_response(),
        Err(error) => WebError::internal(error).into_response(),
    }
}

/// How a person reads values: their language, the company's clock.
#[derive(Debug, Clone)]
pub struct Formats {
    language: Language,
    zone: CompanyTimeZone,
}

impl Formats {
    pub fn new(language: DocumentLanguage, zone: CompanyTimeZone) -> Self {
        let language = match language {
            DocumentLanguage::Sl => Language::Sl,
            DocumentLanguage::En => Language::En,
        };
        Self { language, zone }
    }

    pub fn money(&self, amount: Decimal, currency: &str) -> String {
        tovor_documents::format::money(amount, currency, self.language)
    }

    pub fn quantity(&self, quantity: Decimal) -> String {
        tovor_documents::format::quantity(quantity, self.language)
    }

    /// Date and time on the company's clock, to the minute.
    pub fn time(&self, at: OffsetDateTime) -> String {
        let local = self.zone.local(at);
        let day = tovor_documents::format::date(local.date(), self.language);
        format!("{day} {:02}:{:02}", local.hour(), local.minute())
    }

    /// The company's calendar day `at` falls on.
    pub fn day(&self, at: OffsetDateTime) -> time::Date {
        self.zone.local_date(at)
    }

    pub fn zone(&self) -> &CompanyTimeZone {
        &self.zone
    }
}
