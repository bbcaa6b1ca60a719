//! What the derived OpenAPI document cannot say by itself: the fixed sets of words
//! some text fields take (`schema_with` functions, built from the domain's own lists
//! so the document follows the code), and the rules every request obeys ([`document`]).

use serde_json::{Map, Value, json};
use tovor_domain::mapping::HostStatus;
use tovor_domain::shipping::ShipmentStatus;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// Characters no text may hold (see [`super::extract::acceptable_text`]): every
/// control character but tab, line feed and carriage return.
const CONTROL: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";

fn words(values: impl IntoIterator<Item = String>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

fn fixed(values: &[&str]) -> Object {
    words(values.iter().map(|value| (*value).to_owned()))
}

/// The same words, or `null` (an optional field: left as it is).
fn or_null(mut words: Object) -> Object {
    words.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    if let Some(values) = words.enum_values.as_mut() {
        values.push(Value::Null);
    }
    words
}

pub fn tell_shop_or_null() -> Object {
    or_null(tell_shop())
}

pub fn order_reference_or_null() -> Object {
    or_null(order_reference())
}

pub fn cash_on_delivery_or_null() -> Object {
    or_null(cash_on_delivery())
}

pub fn stock_mode_or_null() -> Object {
    or_null(stock_mode())
}

pub fn stock_document_or_null() -> Object {
    or_null(stock_document())
}

pub fn auto_invoice_or_null() -> Object {
    or_null(auto_invoice())
}

pub fn name_or_null() -> Object {
    let mut name = name();
    name.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    name
}

pub fn host_status() -> Object {
    words(
        HostStatus::ALL
            .iter()
            .map(|status| status.as_str().to_owned()),
    )
}

pub fn shipment_status() -> Object {
    words(
        ShipmentStatus::ALL
            .iter()
            .map(|status| status.as_str().to_owned()),
    )
}

pub fn shipment_state() -> Object {
    fixed(&[
        "requested",
        "created",
        "unknown_outcome",
        "failed",
        "cancelled",
    ])
}

pub fn push_outcome() -> Object {
    fixed(&["pushed", "unlinked", "refused"])
}

pub fn delivery_state() -> Object {
    fixed(&["pending", "done", "failed", "malformed"])
}

pub fn tell_shop() -> Object {
    fixed(&["off", "created", "delivered"])
}

pub fn order_reference() -> Object {
    fixed(&["auto", "shop", "tovor"])
}

pub fn cash_on_delivery() -> Object {
    fixed(&["auto", "on", "off"])
}

pub fn stock_mode() -> Object {
    fixed(&["on_hand", "available"])
}

pub fn stock_document() -> Object {
    fixed(&["delivery_note", "invoice"])
}

/// `off`, `paid` or `status:<host status>`.
pub fn auto_invoice() -> Object {
    words(
        ["off".to_owned(), "paid".to_owned()].into_iter().chain(
            HostStatus::ALL
                .iter()
                .map(|status| format!("status:{}", status.as_str())),
        ),
    )
}

/// A name that is trimmed before it is kept: it needs a character that is not a
/// space.
pub fn name() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .pattern(Some(format!(r"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$")))
        .build()
}

/// The OpenAPI document as served, with what holds for every request written into
/// it: a query parameter is given or left out (never `null`), and no text a request
/// carries (values, object keys, path and query parameters) may hold a control
/// character.
pub fn document(openapi: &utoipa::openapi::OpenApi) -> Value {
    let mut document = serde_json::to_value(openapi).unwrap_or_else(|_| json!({}));
    let mut request_schemas = Vec::new();
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in item.values_mut().filter_map(Value::as_object_mut) {
                if let Some(parameters) = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                {
                    for parameter in parameters.iter_mut().filter_map(Value::as_object_mut) {
                        if let Some(schema) =
                            parameter.get_mut("schema").and_then(Value::as_object_mut)
                        {
                            drop_null(schema);
                            restrict_texts(schema, &mut request_schemas);
                        }
                    }
                }
                if let Some(contents) = operation
                    .get_mut("requestBody")
                    .and_then(|body| body.get_mut("content"))
                    .and_then(Value::as_object_mut)
                {
                    for (content_type, content) in contents.iter_mut() {
                        if content_type != "application/json" {
                            continue;
                        }
                        if let Some(schema) =
                            content.get_mut("schema").and_then(Value::as_object_mut)
                        {
                            restrict_texts(schema, &mut request_schemas);
                        }
                    }
                }
            }
        }
    }
    own_order_shipment(&mut document);
    // The schemas the requests refer to get the same rule.
    let mut done = Vec::new();
    while let Some(name) = request_schemas.pop() {
        if done.contains(&name) {
            continue;
        }
        done.push(name.clone());
        if let Some(schema) = document
            .pointer_mut(&format!("/components/schemas/{name}"))
            .and_then(Value::as_object_mut)
        {
            restrict_texts(schema, &mut request_schemas);
        }
    }
    document
}

fn drop_null(schema: &mut Map<String, Value>) {
    if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
        types.retain(|kind| kind != "null");
        if types.len() == 1 {
            let only = types[0].clone();
            schema.insert("type".into(), only);
        }
    }
}

fn is_type(schema: &Map<String, Value>, wanted: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(kind)) => kind == wanted,
        Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == wanted),
        _ => false,
    }
}

fn restrict_texts(schema: &mut Map<String, Value>, referenced: &mut Vec<String>) {
    if let Some(Value::String(reference)) = schema.get("$ref") {
        if let Some(name) = reference.strip_prefix("#/components/schemas/") {
            referenced.push(name.to_owned());
        }
        return;
    }
    let free_text = is_type(schema, "string")
        && !schema.contains_key("enum")
        && !schema.contains_key("pattern")
        && !schema.contains_key("format");
    if free_text {
        schema.insert("pattern".into(), json!(format!("^[^{CONTROL}]*$")));
    }
    if is_type(schema, "object") && schema.get("additionalProperties") != Some(&json!(false)) {
        schema.insert(
            "propertyNames".into(),
            json!({"pattern": format!("^[^{CONTROL}]*$")}),
        );
    }
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut().filter_map(Value::as_object_mut) {
            restrict_texts(property, referenced);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = schema.get_mut(key).and_then(Value::as_object_mut) {
            restrict_texts(inner, referenced);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(variants) = schema.get_mut(key).and_then(Value::as_array_mut) {
            for variant in variants.iter_mut().filter_map(Value::as_object_mut) {
                restrict_texts(variant, referenced);
            }
        }
    }
}

/// `POST /api/v1/orders/{id}/shipments` ships its own order: its body is the shipment
/// options without `order_ids`.
fn own_order_shipment(document: &mut Value) {
    let Some(mut options) = document
        .pointer("/components/schemas/ShipmentOptions")
        .cloned()
    else {
        return;
    };
    if let Some(properties) = options.get_mut("properties").and_then(Value::as_object_mut) {
        properties.remove("order_ids");
    }
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert("OrderShipmentOptions".into(), options);
    }
    if let Some(schema) = document.pointer_mut(
        "/paths/~1api~1v1~1orders~1{id}~1shipments/post/requestBody/content/application~1json/schema",
    ) {
        *schema = json!({"$ref": "#/components/schemas/OrderShipmentOptions"});
    }
}
