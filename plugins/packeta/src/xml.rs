//! Packeta's REST/XML API: request documents and the `<response>` envelope.
//!
//! Every call is `POST {api}` with an XML document whose root is the method name and whose
//! first child is `<apiPassword>`. Every answer is HTTP 200 with
//! `<response><status>ok</status><result>…</result></response>` or
//! `<response><status>fault</status><fault>Name</fault><string>text</string><detail>…</detail></response>`.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tovor_sdk::types::ConnectorError;

/// An XML request document under construction: `<method><apiPassword>…</apiPassword>…`.
#[derive(Debug, Clone)]
pub struct Doc {
    method: &'static str,
    body: String,
}

impl Doc {
    /// A request for `method`, authenticated with `password`.
    pub fn new(method: &'static str, password: &str) -> Self {
        let mut doc = Self {
            method,
            body: String::new(),
        };
        doc.element("apiPassword", password);
        doc
    }

    /// Appends `<name>value</name>`, the value escaped.
    pub fn element(&mut self, name: &str, value: &str) -> &mut Self {
        self.body.push('<');
        self.body.push_str(name);
        self.body.push('>');
        self.body.push_str(&quick_xml::escape::escape(value));
        self.body.push_str("</");
        self.body.push_str(name);
        self.body.push('>');
        self
    }

    /// Appends `<name>…</name>` around the given `(child, value)` pairs.
    pub fn group<'a>(
        &mut self,
        name: &str,
        children: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> &mut Self {
        self.body.push('<');
        self.body.push_str(name);
        self.body.push('>');
        for (child, value) in children {
            self.element(child, value);
        }
        self.body.push_str("</");
        self.body.push_str(name);
        self.body.push('>');
        self
    }

    /// The finished document.
    pub fn finish(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{m}>{b}</{m}>",
            m = self.method,
            b = self.body
        )
    }
}

/// The `<response>` envelope; `T` is what `<result>` holds for the method.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    status: String,
    #[serde(default)]
    fault: Option<String>,
    #[serde(default)]
    string: Option<String>,
    #[serde(default)]
    detail: Option<Detail>,
    #[serde(default = "none")]
    result: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Default, Deserialize)]
struct Detail {
    #[serde(default)]
    attributes: Option<Attributes>,
}

#[derive(Debug, Default, Deserialize)]
struct Attributes {
    #[serde(default, rename = "fault")]
    faults: Vec<AttributeFault>,
}

#[derive(Debug, Default, Deserialize)]
struct AttributeFault {
    #[serde(default)]
    name: String,
    #[serde(default)]
    fault: String,
}

/// A fault Packeta answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `PacketAttributesFault`, `IncorrectApiPasswordFault`, ...
    pub name: String,
    /// The human text (`<string>`).
    pub text: String,
    /// Per-field problems (`detail/attributes/fault`): `(field, message)`.
    pub fields: Vec<(String, String)>,
}

impl Fault {
    /// The connector error this fault means, with the fault's name as the platform's
    /// code and HTTP 200 (Packeta answers faults with it).
    pub fn into_error(self) -> ConnectorError {
        let summary = if self.text.is_empty() {
            self.name.clone()
        } else {
            format!("{}: {}", self.name, self.text)
        };
        let error = match self.name.as_str() {
            "IncorrectApiPasswordFault" => ConnectorError::auth(format!(
                "Packeta refused the API password ({summary}); check the `api_password` setting"
            ))
            .with_field("api_password"),
            "PacketAttributesFault" => {
                let details = self
                    .fields
                    .iter()
                    .map(|(field, message)| format!("{field}: {message}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                match self.fields.first() {
                    Some((field, _)) => ConnectorError::invalid_field(
                        request_field(field),
                        format!("Packeta refused the packet: {details}"),
                    ),
                    None => ConnectorError::invalid_input(format!(
                        "Packeta refused the packet: {summary}"
                    )),
                }
            }
            "PacketIdFault" | "PacketIdsFault" | "ShipmentNotFoundFault" => {
                ConnectorError::not_found(format!("Packeta does not know the packet: {summary}"))
            }
            "CancelNotAllowedFault" => ConnectorError::conflict(format!(
                "Packeta cannot cancel the packet any more: {summary}"
            )),
            "IncorrectDataFault" | "DateOutOfRangeFault" | "ArgumentsFault" => {
                ConnectorError::invalid_input(format!("Packeta: {summary}"))
            }
            _ => ConnectorError::other(format!("Packeta answered with a fault: {summary}")),
        };
        error.with_platform_code(self.name).with_http_status(200)
    }
}

/// The shipment request's field a Packeta packet attribute comes from, in the
/// contract's naming, so a refusal names the field the host gave (`email` →
/// `recipient.email`); unknown attributes keep Packeta's name.
pub fn request_field(attribute: &str) -> String {
    let field = match attribute {
        "number" => "reference",
        "name" | "surname" => "recipient.name",
        "company" => "recipient.company",
        "email" => "recipient.email",
        "phone" => "recipient.phone",
        "street" => "recipient.street",
        "houseNumber" => "recipient.house-number",
        "city" => "recipient.city",
        "zip" => "recipient.postal-code",
        "addressId" => "pickup-point",
        "cod" => "cash-on-delivery.amount",
        "weight" => "parcels",
        "adultContent" => "services",
        "value" | "currency" | "note" => attribute,
        other => other,
    };
    field.to_owned()
}

/// What an answer said: the result (absent for methods that return nothing), or a fault.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer<T> {
    Ok(Option<T>),
    Fault(Fault),
}

/// Parses a `<response>` document. A body that is not one is `other`, with its start.
pub fn parse_answer<T: DeserializeOwned>(body: &[u8]) -> Result<Answer<T>, ConnectorError> {
    let text = String::from_utf8_lossy(body);
    let envelope: Envelope<T> = quick_xml::de::from_str(&text).map_err(|error| {
        ConnectorError::other(format!(
            "Packeta answered with something that is not the expected XML ({error}): {}",
            snippet(&text)
        ))
    })?;
    match envelope.status.trim() {
        "ok" => Ok(Answer::Ok(envelope.result)),
        "fault" => Ok(Answer::Fault(Fault {
            name: envelope.fault.unwrap_or_default().trim().to_owned(),
            text: envelope.string.unwrap_or_default().trim().to_owned(),
            fields: envelope
                .detail
                .and_then(|detail| detail.attributes)
                .map(|attributes| {
                    attributes
                        .faults
                        .into_iter()
                        .map(|f| (f.name.trim().to_owned(), f.fault.trim().to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        })),
        other => Err(ConnectorError::other(format!(
            "Packeta answered with status {other:?}: {}",
            snippet(&text)
        ))),
    }
}

/// Parses an answer and turns a fault into its error.
pub fn parse_result<T: DeserializeOwned>(body: &[u8]) -> Result<Option<T>, ConnectorError> {
    match parse_answer(body)? {
        Answer::Ok(result) => Ok(result),
        Answer::Fault(fault) => Err(fault.into_error()),
    }
}

/// `createPacket`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedPacket {
    pub id: String,
    pub barcode: String,
    #[serde(default)]
    pub barcode_text: Option<String>,
}

/// `packetTracking`'s result: the status records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct StatusRecords {
    #[serde(default)]
    pub record: Vec<StatusRecord>,
}

/// One status record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRecord {
    pub date_time: String,
    pub status_code: String,
    #[serde(default)]
    pub code_text: Option<String>,
    #[serde(default)]
    pub status_text: Option<String>,
    #[serde(default)]
    pub branch_id: Option<String>,
}

/// The start of a body for messages: whitespace collapsed, at most 200 characters.
fn snippet(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use tovor_sdk::types::ErrorKind;

    #[test]
    fn documents_escape_values_and_start_with_the_password() {
        let mut doc = Doc::new("packetsLabelsPdf", "p&ss<word>");
        doc.group("packetIds", [("id", "1"), ("id", "2")])
            .element("format", "A6 on A4")
            .element("offset", "0");
        assert_eq!(
            doc.finish(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<packetsLabelsPdf><apiPassword>\
             p&amp;ss&lt;word&gt;</apiPassword><packetIds><id>1</id><id>2</id></packetIds>\
             <format>A6 on A4</format><offset>0</offset></packetsLabelsPdf>"
        );
    }

    #[test]
    fn created_packet() {
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response><status>ok</status>\
                    <result><id>1234567890</id><barcode>Z1234567890</barcode>\
                    <barcodeText>Z 123 4567 890</barcodeText></result></response>";
        let created: CreatedPacket = parse_result(body.as_bytes()).unwrap().unwrap();
        assert_eq!(created.id, "1234567890");
        assert_eq!(created.barcode, "Z1234567890");
        assert_eq!(created.barcode_text.as_deref(), Some("Z 123 4567 890"));
    }

    #[test]
    fn attribute_faults_name_the_field() {
        let body = "<response><status>fault</status><fault>PacketAttributesFault</fault>\
                    <string>Invalid packet attributes</string><detail><attributes>\
                    <fault><name>addressId</name><fault>Unknown pickup point</fault></fault>\
                    <fault><name>weight</name><fault>Required</fault></fault>\
                    </attributes></detail></response>";
        let answer: Answer<CreatedPacket> = parse_answer(body.as_bytes()).unwrap();
        let Answer::Fault(fault) = answer else {
            panic!("expected a fault")
        };
        assert_eq!(fault.name, "PacketAttributesFault");
        assert_eq!(fault.fields.len(), 2);
        let error = fault.into_error();
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        assert_eq!(error.field.as_deref(), Some("pickup-point"));
        assert!(error.message.contains("Unknown pickup point"));
        assert!(error.message.contains("weight: Required"));
        assert_eq!(
            error.platform_code.as_deref(),
            Some("PacketAttributesFault")
        );
        assert_eq!(error.http_status, Some(200));
    }

    #[test]
    fn other_faults() {
        let fault = |name: &str| {
            let body = format!(
                "<response><status>fault</status><fault>{name}</fault>\
                 <string>text</string></response>"
            );
            parse_result::<CreatedPacket>(body.as_bytes()).unwrap_err()
        };
        let auth = fault("IncorrectApiPasswordFault");
        assert_eq!(auth.kind, ErrorKind::Auth);
        assert_eq!(auth.field.as_deref(), Some("api_password"));
        assert_eq!(fault("PacketIdFault").kind, ErrorKind::NotFound);
        assert_eq!(fault("CancelNotAllowedFault").kind, ErrorKind::Conflict);
        let new = fault("SomethingNew");
        assert_eq!(new.kind, ErrorKind::Other);
        assert!(new.message.contains("SomethingNew"));
        assert_eq!(new.platform_code.as_deref(), Some("SomethingNew"));
        // A detail of another shape is ignored.
        let body = "<response><status>fault</status><fault>PacketIdsFault</fault>\
                    <string>Invalid ids</string><detail><ids><packetId>9</packetId></ids>\
                    </detail></response>";
        assert_eq!(
            parse_result::<String>(body.as_bytes()).map_err(|e| e.kind),
            Err(ErrorKind::NotFound)
        );
        assert_eq!(
            parse_result::<String>(b"<html>Bad gateway</html>").map_err(|e| e.kind),
            Err(ErrorKind::Other)
        );
    }

    #[test]
    fn labels_tracking_and_empty_results() {
        let body = b"<response><status>ok</status><result>JVBERi0xLjQ=</result></response>";
        assert_eq!(
            parse_result::<String>(body).unwrap().as_deref(),
            Some("JVBERi0xLjQ=")
        );
        let body = b"<response><status>ok</status></response>";
        assert!(
            parse_result::<serde::de::IgnoredAny>(body)
                .unwrap()
                .is_none()
        );
        let body = "<response><status>ok</status><result>\
                    <record><dateTime>2026-01-15T10:00:00</dateTime><statusCode>1</statusCode>\
                    <codeText>received data</codeText><statusText>Data received</statusText>\
                    <branchId>0</branchId><destinationBranchId>79</destinationBranchId>\
                    <externalTrackingCode/></record>\
                    <record><dateTime>2026-01-16T08:00:00</dateTime><statusCode>2</statusCode>\
                    <codeText>arrived</codeText></record></result></response>";
        let records: StatusRecords = parse_result(body.as_bytes()).unwrap().unwrap();
        assert_eq!(records.record.len(), 2);
        assert_eq!(records.record[0].status_code, "1");
        assert_eq!(records.record[1].code_text.as_deref(), Some("arrived"));
        let body = b"<response><status>ok</status><result/></response>";
        let records: Option<StatusRecords> = parse_result(body).unwrap();
        assert!(records.unwrap_or_default().record.is_empty());
    }
}
