//! The API's extractors: [`ApiJson`], [`ApiPath`] and [`ApiQuery`] stand in for axum's
//! `Json`, `Path` and `Query`, and every refusal they make is the API's JSON error
//! naming the field (`lines[0].quantity`, `id`, `limit`), never a plain-text rejection.
//!
//! Every text that arrives (body strings and object keys, path and query values) is
//! checked for control characters first: PostgreSQL cannot store U+0000 at all, and
//! the others (except tab and line breaks) are never meant in a name, SKU or address,
//! so both databases refuse the same input the same way, before any work is done.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{
    FromRequest, FromRequestParts, OptionalFromRequest, Path, RawPathParams, Request,
};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tovor_domain::order::is_unstorable;

use super::error::ApiError;

/// A JSON request body (`Content-Type: application/json`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// Path parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

/// Query parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

/// A body that must be JSON, kept as bytes for a handler that parses it itself (with
/// [`parse_json`]).
#[derive(Debug, Clone)]
pub struct JsonBytes(pub Bytes);

fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let Some(essence) = value.split(';').next() else {
        return false;
    };
    let essence = essence.trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_error(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError {
            message: "the body is larger than this service accepts (--max-body-bytes)".into(),
            ..ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "")
        }
    } else {
        ApiError::bad_request(format!(
            "the body could not be read: {}",
            rejection.body_text()
        ))
    }
}

async fn json_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    if !has_json_content_type(request.headers()) {
        return Err(ApiError::unsupported_media_type(
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    <Bytes as FromRequest<S>>::from_request(request, state)
        .await
        .map_err(body_error)
}

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        json_bytes(request, state).await.map(Self)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let body = json_bytes(request, state).await?;
        parse_json(&body).map(Self)
    }
}

/// An optional body: none at all (no Content-Type, or an empty body) and JSON `null`
/// are `None`.
impl<T: DeserializeOwned, S: Send + Sync> OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let json = has_json_content_type(request.headers());
        let declared = request.headers().contains_key(CONTENT_TYPE);
        let body = <Bytes as FromRequest<S>>::from_request(request, state)
            .await
            .map_err(body_error)?;
        if body.is_empty() {
            return Ok(None);
        }
        if !json {
            return Err(ApiError::unsupported_media_type(if declared {
                "send the body as JSON with Content-Type: application/json"
            } else {
                "a body needs Content-Type: application/json"
            }));
        }
        parse_json::<Option<T>>(&body).map(|value| value.map(Self))
    }
}

/// Parses a JSON body into `T`: malformed JSON, a control character in any text, a
/// wrong type, a missing or unknown field and an unknown enum value are each refused
/// with the path of the field to blame.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {error}"),
        )
    })?;
    check_json_texts(&value, &mut String::new())?;
    let mut value = value;
    whole_numbers_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        let field = field_of(&path, &message);
        let message = match &field {
            Some(field) => format!("{field}: {message}"),
            None => message,
        };
        ApiError {
            field,
            ..ApiError::bad_request(message)
        }
    })
}

/// `3.0` is the integer 3 in JSON (as JSON Schema counts it), but serde refuses it for an
/// integer field: whole numbers written with a fraction become integers first. Decimal
/// fields read either form the same.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < 9.0e15
            {
                // Exact: every whole f64 below 2^53 is an i64.
                #[allow(clippy::cast_possible_truncation)]
                let whole = float as i64;
                *value = Value::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// The field a deserialization error blames: its path, extended by the name serde
/// quotes for a missing or unknown field (those are reported at their parent).
fn field_of(path: &str, message: &str) -> Option<String> {
    let parent = (path != "." && !path.is_empty()).then_some(path);
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (parent, named) {
        (Some(parent), Some(name)) if parent == name || parent.ends_with(&format!(".{name}")) => {
            Some(parent.to_owned())
        }
        (Some(parent), Some(name)) => Some(format!("{parent}.{name}")),
        (None, Some(name)) => Some(name.to_owned()),
        (Some(parent), None) => Some(parent.to_owned()),
        (None, None) => None,
    }
}

/// `text` without surrounding blanks, refused (naming `field`) when nothing is left.
pub fn non_blank<'a>(field: &str, text: &'a str) -> Result<&'a str, ApiError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ApiError::field(field, format!("{field} must not be empty")));
    }
    Ok(trimmed)
}

/// Whether a text can be kept: no control characters but tab, line feed and carriage
/// return (the rule orders from connectors are scrubbed by, too).
pub fn acceptable_text(text: &str) -> bool {
    !text.contains(is_unstorable)
}

fn control_error(field: &str, text: &str) -> ApiError {
    let found = text
        .chars()
        .find(|c| is_unstorable(*c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .unwrap_or_default();
    ApiError {
        field: (!field.is_empty()).then(|| field.to_owned()),
        ..ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_text",
            format!(
                "{}: text may not contain control characters ({found})",
                if field.is_empty() { "body" } else { field }
            ),
        )
    }
}

fn check_json_texts(value: &Value, path: &mut String) -> Result<(), ApiError> {
    match value {
        Value::String(text) if !acceptable_text(text) => Err(control_error(path, text)),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                check_json_texts(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if !acceptable_text(key) {
                    return Err(control_error(path, key));
                }
                check_json_texts(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        let names: Vec<String> = raw.iter().map(|(name, _)| name.to_owned()).collect();
        for (name, value) in &raw {
            if !acceptable_text(value) {
                return Err(control_error(name, value));
            }
        }
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                use axum::extract::path::ErrorKind;
                let (field, value, expected) = match error.kind() {
                    ErrorKind::ParseErrorAtKey {
                        key,
                        value,
                        expected_type,
                    } => (Some(key.clone()), value.clone(), *expected_type),
                    ErrorKind::ParseErrorAtIndex {
                        index,
                        value,
                        expected_type,
                    } => (names.get(*index).cloned(), value.clone(), *expected_type),
                    ErrorKind::ParseError {
                        value,
                        expected_type,
                    } => (names.first().cloned(), value.clone(), *expected_type),
                    _ => return Err(ApiError::bad_request(error.body_text())),
                };
                let what = match expected {
                    "i64" | "i32" | "u64" | "u32" => "an integer id",
                    other => other,
                };
                let message = format!("{value:?} is not {what}");
                Err(match field {
                    Some(field) => ApiError::field(&field, format!("{field}: {message}")),
                    None => ApiError::bad_request(message),
                })
            }
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if !acceptable_text(&name) {
                return Err(control_error("", &name));
            }
            if !acceptable_text(&value) {
                return Err(control_error(&name, &value));
            }
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Self)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = error.into_inner().to_string();
                let field = field_of(&path, &message);
                let message = match &field {
                    Some(field) => format!("{field}: {message}"),
                    None => message,
                };
                ApiError {
                    field,
                    ..ApiError::bad_request(message)
                }
            })
    }
}

/// `limit` of a listing: `default` when left out, refused outside 1..=`max`.
pub fn limit(given: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match given {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(_) => Err(ApiError::field(
            "limit",
            format!("limit: must be between 1 and {max}"),
        )),
    }
}

/// How a decimal (an amount, a quantity, a rate) may be sent: as a string (`"19.99"`,
/// what answers use) or as a JSON number (`19.99`, `10`).
pub struct DecimalInput;

/// The decimals the API documents: up to 16 digits before the point and 12 after.
pub const DECIMAL_PATTERN: &str = r"^-?[0-9]{1,16}(\.[0-9]{1,12})?$";
/// JSON numbers beyond this are refused (an amount that large is a mistake).
pub const DECIMAL_NUMBER_LIMIT: f64 = 1.0e15;

impl utoipa::PartialSchema for DecimalInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(DECIMAL_PATTERN)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(-DECIMAL_NUMBER_LIMIT))
                    .maximum(Some(DECIMAL_NUMBER_LIMIT)),
            )
            .description(Some("a decimal, as a string (\"19.99\") or a JSON number"))
            .into()
    }
}

impl utoipa::ToSchema for DecimalInput {}

/// A plugin config value as JSON: a string, or for the manifest's `integer` and
/// `boolean` fields a number or `true`/`false`. Kept as text, as the manifest checks
/// and the connector reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigText(pub String);

impl<'de> serde::Deserialize<'de> for ConfigText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Scalar;

        impl serde::de::Visitor<'_> for Scalar {
            type Value = ConfigText;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a string, a whole number or true/false")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ConfigText, E> {
                Ok(ConfigText(text.to_owned()))
            }

            fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<ConfigText, E> {
                Ok(ConfigText(number.to_string()))
            }

            fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<ConfigText, E> {
                Ok(ConfigText(number.to_string()))
            }

            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<ConfigText, E> {
                Ok(ConfigText(value.to_string()))
            }
        }

        deserializer.deserialize_any(Scalar)
    }
}

/// `#[serde(deserialize_with = "config_values")]` on a `BTreeMap<String, String>`.
pub fn config_values<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    let values: std::collections::BTreeMap<String, ConfigText> =
        serde::Deserialize::deserialize(deserializer)?;
    Ok(values
        .into_iter()
        .map(|(name, ConfigText(value))| (name, value))
        .collect())
}

/// `#[serde(default, deserialize_with = "optional_config_values")]`: `null` is the
/// same as leaving the field out.
pub fn optional_config_values<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<std::collections::BTreeMap<String, String>>, D::Error> {
    let values: Option<std::collections::BTreeMap<String, ConfigText>> =
        serde::Deserialize::deserialize(deserializer)?;
    Ok(values.map(|values| {
        values
            .into_iter()
            .map(|(name, ConfigText(value))| (name, value))
            .collect()
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        lines: Vec<Line>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        sku: String,
        quantity: u32,
        #[serde(default)]
        mode: Option<Mode>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        Fast,
    }

    fn field(json: &str) -> (String, Option<String>) {
        let error = parse_json::<Body>(json.as_bytes()).unwrap_err();
        (error.code.to_owned(), error.field)
    }

    #[test]
    fn every_refusal_names_its_field() {
        assert_eq!(field("{"), ("malformed_json".into(), None));
        assert_eq!(
            field(r#"{"name": "a", "lines": [{"sku": "A", "quantity": "x"}]}"#),
            ("bad_request".into(), Some("lines[0].quantity".into()))
        );
        assert_eq!(
            field(r#"{"name": "a", "lines": [{"sku": "A"}]}"#),
            ("bad_request".into(), Some("lines[0].quantity".into()))
        );
        assert_eq!(
            field(r#"{"lines": []}"#),
            ("bad_request".into(), Some("name".into()))
        );
        assert_eq!(
            field(r#"{"name": "a", "lines": [{"sku": "A", "quantity": 1, "mode": "slow"}]}"#),
            ("bad_request".into(), Some("lines[0].mode".into()))
        );
        assert_eq!(
            field(r#"{"name": "a", "lines": [{"sku": "A", "quantity": 1, "qty": 2}]}"#),
            ("bad_request".into(), Some("lines[0].qty".into()))
        );
        assert_eq!(
            field(r#"{"name": "a", "lines": [{"sku": "A\u0000", "quantity": 1}]}"#),
            ("invalid_text".into(), Some("lines[0].sku".into()))
        );
    }

    #[test]
    fn tabs_and_line_breaks_are_text_other_controls_are_not() {
        assert!(acceptable_text("two\tcolumns\r\nand lines"));
        assert!(!acceptable_text("nul\u{0}"));
        assert!(!acceptable_text("bell\u{7}"));
        assert!(!acceptable_text("c1\u{85}"));
    }

    #[test]
    fn limits_are_refused_outside_their_range() {
        assert_eq!(limit(None, 50, 500).unwrap(), 50);
        assert_eq!(limit(Some(500), 50, 500).unwrap(), 500);
        assert_eq!(
            limit(Some(0), 50, 500).unwrap_err().field.as_deref(),
            Some("limit")
        );
        assert!(limit(Some(501), 50, 500).is_err());
    }
}
