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

pub fn credit_notes_or_null() -> Object {
    or_null(fixed(&["auto", "offer"]))
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
    request_schemas.push("OrderShipmentOptions".to_owned());
    resolve_choice(&mut document);
    cod_rounding(&mut document);
    config_values(&mut document);
    sender_address(&mut document);
    custom_or_connector(&mut document);
    receipt_or_adjustment(&mut document);
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

/// A connection's config: the plugin's field names, each a string, or for the
/// manifest's integer and boolean fields a whole number or true/false.
fn config_values(document: &mut Value) {
    let schema = |nullable: bool| {
        json!({
            "type": if nullable { json!(["object", "null"]) } else { json!("object") },
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]{0,62}$"},
            "additionalProperties": {
                "type": ["string", "integer", "boolean"],
                "pattern": format!("^[^{CONTROL}]*$"),
            },
            "description": "the config fields the plugin's manifest declares (GET /api/v1/plugins)",
        })
    };
    for (input, nullable) in [
        ("ShopInput", false),
        ("ShopPatch", true),
        ("CarrierInput", false),
        ("CarrierPatch", true),
    ] {
        if let Some(property) =
            document.pointer_mut(&format!("/components/schemas/{input}/properties/config"))
        {
            *property = schema(nullable);
        }
    }
}

/// The sender printed on labels: an address of known fields.
fn sender_address(document: &mut Value) {
    let text = json!({"type": ["string", "null"]});
    let fields = tovor_domain::order::Address::FIELDS;
    let properties: Map<String, Value> = fields
        .iter()
        .map(|field| ((*field).to_owned(), text.clone()))
        .collect();
    for (input, nullable) in [("CarrierInput", false), ("CarrierPatch", true)] {
        if let Some(property) =
            document.pointer_mut(&format!("/components/schemas/{input}/properties/sender"))
        {
            *property = json!({
                "type": if nullable { json!(["object", "null"]) } else { json!("object") },
                "properties": properties,
                "additionalProperties": false,
            });
        }
    }
}

/// "Add e-store" takes a connector plugin with its config, or neither (a custom
/// platform, whose orders come through the API).
fn custom_or_connector(document: &mut Value) {
    let Some(base) = document.pointer("/components/schemas/ShopInput").cloned() else {
        return;
    };
    let mut custom = base.clone();
    if let Some(properties) = custom.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("plugin".into(), json!({"type": "string", "enum": [""]}));
        properties.insert(
            "config".into(),
            json!({"type": "object", "maxProperties": 0}),
        );
    }
    custom["title"] = json!("custom platform");
    let mut connector = base;
    if let Some(properties) = connector
        .get_mut("properties")
        .and_then(Value::as_object_mut)
    {
        let plugin_id = serde_json::to_value(name())
            .unwrap_or_else(|_| json!({"type": "string", "minLength": 1}));
        properties.insert("plugin".into(), plugin_id);
    }
    let required = connector
        .as_object_mut()
        .map(|schema| schema.entry("required").or_insert_with(|| json!([])));
    if let Some(required) = required.and_then(Value::as_array_mut) {
        required.push(json!("plugin"));
    }
    connector["title"] = json!("connector");
    if let Some(schema) = document.pointer_mut("/components/schemas/ShopInput") {
        *schema = json!({"oneOf": [custom, connector]});
    }
}

/// Stock received adds stock (a quantity above 0); an adjustment corrects a count
/// either way.
fn receipt_or_adjustment(document: &mut Value) {
    let (Some(base), Some(line)) = (
        document
            .pointer("/components/schemas/ReceiptInput")
            .cloned(),
        document.pointer("/components/schemas/ReceiptLine").cloned(),
    ) else {
        return;
    };
    let positive = json!({"oneOf": [
        {"type": "string",
         "pattern": r"^([1-9][0-9]{0,14}|(0|[1-9][0-9]{0,14})\.[0-9]{0,11}[1-9][0-9]{0,11})$"},
        {"type": "number", "exclusiveMinimum": 0, "maximum": 1.0e15},
    ]});
    let mut positive_line = line;
    positive_line["properties"]["quantity"] = positive;
    let mut receipt = base.clone();
    receipt["properties"]["kind"] = json!({"type": "string", "enum": ["receipt"]});
    receipt["properties"]["lines"]["items"] = positive_line;
    receipt["title"] = json!("receipt");
    let mut adjustment = base;
    adjustment["properties"]["kind"] = json!({"type": "string", "enum": ["adjustment"]});
    let required = adjustment
        .as_object_mut()
        .map(|schema| schema.entry("required").or_insert_with(|| json!([])));
    if let Some(required) = required.and_then(Value::as_array_mut) {
        required.push(json!("kind"));
    }
    adjustment["title"] = json!("adjustment");
    if let Some(schema) = document.pointer_mut("/components/schemas/ReceiptInput") {
        *schema = json!({"oneOf": [receipt, adjustment]});
    }
}

/// A carrier connection's COD rounding: ISO currency codes (any case) to a step above
/// 0 with at most two decimals.
fn cod_rounding(document: &mut Value) {
    let schema = json!({
        "type": ["object", "null"],
        "propertyNames": {"pattern": "^[A-Za-z]{3}$"},
        "additionalProperties": {
            "type": "string",
            "pattern": r"^([1-9][0-9]{0,15}(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9]))$",
        },
        "description": "the step COD is rounded to, per currency ({\"CZK\": \"1\", \"HUF\": \"5\"})",
    });
    for input in ["CarrierInput", "CarrierPatch"] {
        if let Some(property) = document.pointer_mut(&format!(
            "/components/schemas/{input}/properties/cod_rounding"
        )) {
            *property = schema.clone();
        }
    }
}

/// `POST /api/v1/shipments/{id}/resolve` takes one of two answers: the shipment was
/// found at the carrier (its id, maybe its tracking numbers), or it was not created.
fn resolve_choice(document: &mut Value) {
    let text = json!({"type": "string", "minLength": 1,
        "pattern": format!(r"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$")});
    let tracking = json!({"type": "array", "items": text,
        "description": "the parcel's tracking numbers (default: the carrier's id)"});
    let found = json!({
        "type": "object",
        "title": "found",
        "required": ["carrier_shipment_id"],
        "properties": {
            "carrier_shipment_id": text,
            "tracking_numbers": tracking,
            "not_created": {"type": "boolean", "enum": [false]},
        },
        "additionalProperties": false,
    });
    let not_created = json!({
        "type": "object",
        "title": "not created",
        "required": ["not_created"],
        "properties": {
            "not_created": {"type": "boolean", "enum": [true]},
            "tracking_numbers": tracking,
        },
        "additionalProperties": false,
    });
    if let Some(schema) = document.pointer_mut("/components/schemas/ResolveInput") {
        *schema = json!({
            "description": "found at the carrier, or not created (then it is created again)",
            "oneOf": [found, not_created],
        });
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
    // Many orders at once (`POST /api/v1/shipments`) need their order ids.
    if let Some(many) = document
        .pointer_mut("/components/schemas/ShipmentOptions")
        .and_then(Value::as_object_mut)
    {
        let required = many.entry("required").or_insert_with(|| json!([]));
        if let Some(required) = required.as_array_mut() {
            required.push(json!("order_ids"));
        }
        if let Some(ids) = many
            .get_mut("properties")
            .and_then(|properties| properties.get_mut("order_ids"))
            .and_then(Value::as_object_mut)
        {
            drop_null(ids);
        }
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
