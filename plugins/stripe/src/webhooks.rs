//! Webhooks: verifying `Stripe-Signature`, reading events, and the webhook endpoint
//! that tovor registers (or the merchant adds by hand).
//!
//! **Signature.** `Stripe-Signature: t={unix seconds},v1={hex},v1={hex},v0=…`: each `v1`
//! is the lowercase hex HMAC-SHA256 of `"{t}.{raw body}"` keyed with the whole signing
//! secret, `whsec_` prefix included (what Stripe's libraries do). While a secret is
//! being rolled Stripe signs with the old and the new one, so a delivery passes when
//! any `v1` matches any known secret. A signature older than [`TOLERANCE_SECONDS`] is
//! refused, like the libraries' default, against the host's clock (the contract passes
//! no time: the sandbox's wall clock is the host's). Duplicates share the event id
//! (`evt_…`), which is the delivery id the host de-duplicates on.
//!
//! **Secrets.** Stripe returns an endpoint's secret only when it creates it, so
//! [`register`] keeps it (sealed) in connector state under [`SECRETS_KEY`]. A merchant who
//! adds the endpoint in the Dashboard pastes its secret into `webhook_secret` instead;
//! both are accepted.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use tovor_sdk::shop::{
    OrderHint, RegisteredWebhook, VerifiedWebhook, WebhookEvent, WebhookRequest, WebhookSetup,
};
use tovor_sdk::types::{ConnectorError, ErrorKind};
use tovor_sdk::{Config, signature, state};

use crate::api::{API_VERSION, Api, check, path_id};
use crate::mapping::{List, id_of};
use crate::orders;

/// How old a signature may be, in seconds.
pub const TOLERANCE_SECONDS: i64 = 300;
/// The events the registered endpoint receives.
pub const ENABLED_EVENTS: &[&str] = &[
    "invoice.paid",
    "invoice.voided",
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "charge.refunded",
];
/// Connector state: `{endpoint id: signing secret}` of the endpoints tovor created.
pub const SECRETS_KEY: &str = "webhook-secrets";

/// A parsed `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    /// Every `v1` signature (several while a secret is rolled).
    pub v1: Vec<String>,
}

/// Reads `t=…,v1=…[,v1=…][,v0=…]`; other schemes are ignored.
pub fn parse_signature_header(header: &str) -> Result<SignatureHeader, ConnectorError> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            continue;
        };
        match key.trim() {
            "t" => timestamp = value.trim().parse::<i64>().ok(),
            "v1" if !value.trim().is_empty() => v1.push(value.trim().to_owned()),
            _ => {}
        }
    }
    let timestamp = timestamp
        .ok_or_else(|| ConnectorError::bad_signature("Stripe-Signature has no timestamp (t=…)"))?;
    if v1.is_empty() {
        return Err(ConnectorError::bad_signature(
            "Stripe-Signature has no v1 signature",
        ));
    }
    Ok(SignatureHeader { timestamp, v1 })
}

/// Whether any `v1` is the signature of `body` under any of `secrets`, made within
/// [`TOLERANCE_SECONDS`] of `now` (Unix seconds).
pub fn check_signature(
    header: &SignatureHeader,
    body: &[u8],
    secrets: &[String],
    now: i64,
) -> Result<(), ConnectorError> {
    let mut signed = format!("{}.", header.timestamp).into_bytes();
    signed.extend_from_slice(body);
    let matched = secrets.iter().any(|secret| {
        header
            .v1
            .iter()
            .any(|v1| signature::verify_hmac_sha256_hex(secret.as_bytes(), &signed, v1))
    });
    if !matched {
        return Err(ConnectorError::bad_signature(
            "no v1 signature in Stripe-Signature matches the webhook signing secret",
        ));
    }
    let age = now - header.timestamp;
    if age > TOLERANCE_SECONDS {
        return Err(ConnectorError::bad_signature(format!(
            "the signature was made {age} s ago, more than the {TOLERANCE_SECONDS} s allowed \
             (a replayed delivery?)"
        )));
    }
    Ok(())
}

/// The signing secrets to try: the one pasted into the config, and those of the
/// endpoints tovor registered.
fn secrets(config: &Config) -> Result<Vec<String>, ConnectorError> {
    let mut secrets: Vec<String> = config
        .text("webhook_secret")
        .map(|s| s.trim().to_owned())
        .into_iter()
        .collect();
    match load_secrets() {
        Ok(stored) => secrets.extend(stored.into_values()),
        // Without the stored secrets a delivery signed with one cannot be judged now;
        // with a pasted secret there is still something to check against.
        Err(error) if secrets.is_empty() => return Err(error),
        Err(error) => tovor_sdk::log::warn(format!(
            "cannot read the registered endpoints' secrets: {}",
            error.message
        )),
    }
    if secrets.is_empty() {
        return Err(ConnectorError::bad_signature(
            "no webhook signing secret is known: let tovor register the endpoint, or paste \
             the endpoint's signing secret (whsec_…) into webhook_secret",
        ));
    }
    Ok(secrets)
}

fn load_secrets() -> Result<BTreeMap<String, String>, ConnectorError> {
    Ok(state::get_json(SECRETS_KEY)?.unwrap_or_default())
}

fn save_secrets(secrets: &BTreeMap<String, String>) -> Result<(), ConnectorError> {
    state::set_json_sealed(SECRETS_KEY, secrets)
}

/// Checks the signature, then says what the event means.
pub fn verify(
    config: &Config,
    request: &WebhookRequest,
) -> Result<VerifiedWebhook, ConnectorError> {
    let header = request
        .header("stripe-signature")
        .ok_or_else(|| ConnectorError::bad_signature("no Stripe-Signature header"))?;
    let header = parse_signature_header(header)?;
    let secrets = secrets(config)?;
    check_signature(
        &header,
        &request.body,
        &secrets,
        tovor_sdk::time::now().unix_timestamp(),
    )?;
    let event: Event = request.json()?;
    let meaning = interpret(&event)?;
    let webhook_event = match meaning {
        Meaning::Order(id) => WebhookEvent::OrderChanged(OrderHint::id(id)),
        Meaning::Payment(intent) => {
            let api = Api::new(config)?;
            match orders::order_of_payment(&api, &intent)? {
                Some(id) => WebhookEvent::OrderChanged(OrderHint::id(id)),
                None => WebhookEvent::Ignored(format!(
                    "payment {intent} belongs to no invoice or Checkout Session"
                )),
            }
        }
        Meaning::Ignored(reason) => WebhookEvent::Ignored(reason),
    };
    Ok(VerifiedWebhook {
        delivery_id: Some(event.id),
        topic: Some(event.kind),
        event: webhook_event,
    })
}

/// An event: `{"id": "evt_…", "type": "invoice.paid", "data": {"object": {…}}}`.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: Value,
}

/// What an event is about, before any request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// The order (invoice or session) with this id changed.
    Order(String),
    /// The payment intent with this id changed (a refund): its order changed.
    Payment(String),
    Ignored(String),
}

pub fn interpret(event: &Event) -> Result<Meaning, ConnectorError> {
    let object = &event.data.object;
    let field = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
    let id = || {
        field("id").ok_or_else(|| {
            ConnectorError::invalid_input(format!("the {} event has no object id", event.kind))
        })
    };
    Ok(match event.kind.as_str() {
        "invoice.paid" | "invoice.voided" | "invoice.marked_uncollectible" => Meaning::Order(id()?),
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let id = id()?;
            if let Some(invoice) = id_of(object.get("invoice")) {
                Meaning::Ignored(format!(
                    "Checkout Session {id} made invoice {invoice}, which is imported instead"
                ))
            } else if field("payment_status").as_deref() == Some("unpaid") {
                Meaning::Ignored(format!(
                    "Checkout Session {id} waits for a delayed payment; it is imported when \
                     checkout.session.async_payment_succeeded comes"
                ))
            } else {
                Meaning::Order(id)
            }
        }
        "charge.refunded" => match id_of(object.get("payment_intent")) {
            Some(intent) => Meaning::Payment(intent),
            None => Meaning::Ignored(format!(
                "charge {} has no payment intent, so no order",
                field("id").unwrap_or_default()
            )),
        },
        other => Meaning::Ignored(format!("Stripe event {other:?} is not used")),
    })
}

/// A webhook endpoint as Stripe lists it (`secret` only in the answer to its creation).
#[derive(Debug, Deserialize)]
struct Endpoint {
    id: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    enabled_events: Vec<String>,
    #[serde(default)]
    secret: Option<String>,
}

/// The account's endpoints delivering to `url`.
fn endpoints_at(api: &Api, url: &str) -> Result<Vec<Endpoint>, ConnectorError> {
    let mut found = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut request = api.get("webhook_endpoints").query_param("limit", 100);
        if let Some(after) = &after {
            request = request.query_param("starting_after", after);
        }
        let page: List<Endpoint> = api.send(request)?.json()?;
        after = page.data.last().map(|e| e.id.clone());
        let more = page.has_more && after.is_some();
        found.extend(page.data.into_iter().filter(|e| e.url.trim() == url.trim()));
        if !more {
            return Ok(found);
        }
    }
}

fn registered(id: &str) -> WebhookSetup {
    WebhookSetup::Registered(vec![RegisteredWebhook {
        id: id.to_owned(),
        topic: ENABLED_EVENTS.join(","),
    }])
}

fn event_pairs() -> Vec<(&'static str, String)> {
    ENABLED_EVENTS
        .iter()
        .map(|event| ("enabled_events[]", (*event).to_owned()))
        .collect()
}

/// Creates the endpoint for `url` and keeps its secret, or keeps the one tovor created
/// before (its events brought up to date). An endpoint at `url` whose secret tovor does
/// not know is replaced: its deliveries could not be verified. With a pasted
/// `webhook_secret` the merchant manages the endpoint, and nothing is registered.
pub fn register(config: &Config, url: &str) -> Result<WebhookSetup, ConnectorError> {
    if config.text("webhook_secret").is_some() {
        return Ok(WebhookSetup::Manual(format!(
            "In the Stripe Dashboard › Developers › Webhooks, add an endpoint for {url} \
             with the events {} and API version {API_VERSION}; its signing secret is the \
             one pasted into webhook_secret.",
            ENABLED_EVENTS.join(", ")
        )));
    }
    let api = Api::new(config)?;
    let mut secrets = load_secrets()?;
    let mut kept: Option<String> = None;
    for endpoint in endpoints_at(&api, url)? {
        if kept.is_none() && secrets.contains_key(&endpoint.id) {
            let mut wanted: Vec<&str> = ENABLED_EVENTS.to_vec();
            let mut has: Vec<&str> = endpoint.enabled_events.iter().map(String::as_str).collect();
            wanted.sort_unstable();
            has.sort_unstable();
            if wanted != has {
                let id = path_id(&endpoint.id, "we_", "webhook endpoint")?;
                api.send(api.post_form(&format!("webhook_endpoints/{id}"), &event_pairs()))?;
            }
            kept = Some(endpoint.id);
        } else {
            delete_endpoint(&api, &endpoint.id)?;
            secrets.remove(&endpoint.id);
        }
    }
    if let Some(id) = kept {
        save_secrets(&secrets)?;
        return Ok(registered(&id));
    }
    let mut form = vec![("url", url.to_owned())];
    form.extend(event_pairs());
    form.push(("api_version", API_VERSION.to_owned()));
    form.push((
        "description",
        "tovor: paid invoices and Checkout Sessions".to_owned(),
    ));
    let created: Endpoint = api
        .send(api.post_form("webhook_endpoints", &form))?
        .json()?;
    let Some(secret) = created.secret.filter(|s| !s.trim().is_empty()) else {
        delete_endpoint(&api, &created.id)?;
        return Err(ConnectorError::other(
            "Stripe created the webhook endpoint without returning its signing secret",
        ));
    };
    secrets.insert(created.id.clone(), secret);
    if let Err(error) = save_secrets(&secrets) {
        // An endpoint whose secret is lost only produces deliveries that fail.
        delete_endpoint(&api, &created.id)?;
        return Err(error);
    }
    Ok(registered(&created.id))
}

/// Deletes the registered endpoints and any other endpoint at `url` that tovor created;
/// ones already gone are fine.
pub fn unregister(
    config: &Config,
    url: &str,
    registered: &[RegisteredWebhook],
) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let mut secrets = load_secrets().unwrap_or_else(|error| {
        tovor_sdk::log::warn(format!(
            "cannot read the registered endpoints' secrets: {}",
            error.message
        ));
        BTreeMap::new()
    });
    let mut ids: Vec<String> = registered.iter().map(|w| w.id.trim().to_owned()).collect();
    for endpoint in endpoints_at(&api, url)? {
        if secrets.contains_key(&endpoint.id) && !ids.contains(&endpoint.id) {
            ids.push(endpoint.id);
        }
    }
    for id in ids {
        delete_endpoint(&api, &id)?;
        secrets.remove(&id);
    }
    match save_secrets(&secrets) {
        Ok(()) => Ok(()),
        Err(error) if error.kind == ErrorKind::Transient => Err(error),
        Err(error) => {
            tovor_sdk::log::warn(format!("cannot forget the secrets: {}", error.message));
            Ok(())
        }
    }
}

fn delete_endpoint(api: &Api, id: &str) -> Result<(), ConnectorError> {
    let id = match path_id(id, "we_", "webhook endpoint") {
        Ok(id) => id,
        Err(_) => {
            tovor_sdk::log::warn(format!("{id:?} is not a webhook endpoint id; skipping it"));
            return Ok(());
        }
    };
    let response = api.send_unchecked(api.delete(&format!("webhook_endpoints/{id}")))?;
    if response.status != 404 {
        check(response)?;
    }
    Ok(())
}
