//! eOddaja, Pošta Slovenije's WCF SOAP service for handing over registered items
//! electronically (`…/Services/eSpremnica.Provider/WCF/eOddaja.svc`).
//!
//! The flow: `GetGuid(aAuthentication)` opens a submission and returns its GUID,
//! `PostData(aAuthentication, aGuid, aData)` sends the CSV, `GetStatus(aAuthentication,
//! aGuid)` says whether Pošta took it. Each answer carries `aResult` with a
//! `ResultCode`; only `Normal` is success.
//!
//! The envelope is SOAP 1.1 as WCF's `basicHttpBinding` takes it. Pošta publishes the
//! service's WSDL only to contract customers, so its namespaces are WCF's defaults:
//! operations in `http://tempuri.org/`, the `SOAPAction` `http://tempuri.org/IeOddaja/{operation}`,
//! and the authentication record's fields in the operation's namespace unless the
//! `soap_data_namespace` setting names the data contract's (`http://schemas.datacontract.org/2004/07/…`).
//! The answers are read by local names, whatever their namespaces.

use quick_xml::Reader;
use quick_xml::events::Event;
use tovor_sdk::http::{Request, Response};
use tovor_sdk::types::{ConnectorError, ErrorKind};

/// WCF's default service namespace.
pub const NAMESPACE: &str = "http://tempuri.org/";
/// The service contract's name, which WCF puts in each operation's `SOAPAction`.
pub const CONTRACT: &str = "IeOddaja";
/// The only result code that means success.
pub const NORMAL: &str = "Normal";

/// The four ids that identify a contract customer to eOddaja.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    /// Customer ("komitent").
    pub komitent_id: String,
    /// Contract ("pogodba").
    pub pogodba_id: String,
    /// Post office ("pošta") the items are handed over at.
    pub posta_id: String,
    /// Branch ("podružnica").
    pub podruznica_id: String,
}

/// The service address and how to talk to it.
#[derive(Debug, Clone)]
pub struct Service {
    pub url: String,
    pub auth: Authentication,
    /// Namespace of the authentication record's fields; `None`: the operation's.
    pub data_namespace: Option<String>,
    pub timeout_ms: u32,
}

/// An operation's answer, when its `ResultCode` is `Normal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `{Operation}Result`, when the operation returns one (the GUID of `GetGuid`).
    pub result: Option<String>,
    /// Whatever else `aResult` says (its other fields), for the log.
    pub details: Vec<(String, String)>,
}

/// Which operation failed decides what a refusal means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    GetGuid,
    PostData,
    GetStatus,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::GetGuid => "GetGuid",
            Operation::PostData => "PostData",
            Operation::GetStatus => "GetStatus",
        }
    }
}

impl Service {
    /// `GetGuid`: opens a submission; returns its GUID.
    pub fn get_guid(&self) -> Result<String, ConnectorError> {
        let answer = self.call(Operation::GetGuid, &[])?;
        answer
            .result
            .filter(|guid| !guid.trim().is_empty())
            .map(|guid| guid.trim().to_owned())
            .ok_or_else(|| {
                ConnectorError::other("eOddaja answered GetGuid with Normal but without a GUID")
            })
    }

    /// `PostData`: sends the CSV for the submission `guid`.
    pub fn post_data(&self, guid: &str, csv: &str) -> Result<Answer, ConnectorError> {
        self.call(Operation::PostData, &[("aGuid", guid), ("aData", csv)])
    }

    /// `GetStatus`: whether Pošta took the submission `guid`.
    pub fn get_status(&self, guid: &str) -> Result<Answer, ConnectorError> {
        self.call(Operation::GetStatus, &[("aGuid", guid)])
    }

    fn call(
        &self,
        operation: Operation,
        parameters: &[(&str, &str)],
    ) -> Result<Answer, ConnectorError> {
        let body = envelope(
            operation,
            &self.auth,
            self.data_namespace.as_deref(),
            parameters,
        );
        let response = Request::post(&self.url)
            .header("SOAPAction", format!("\"{}\"", soap_action(operation)))
            .body(body, "text/xml; charset=utf-8")
            .timeout_ms(self.timeout_ms)
            .send()
            .map_err(|error| error.context(format!("eOddaja {}", operation.name())))?;
        read_answer(operation, &response)
    }
}

/// The `SOAPAction` of an operation.
pub fn soap_action(operation: Operation) -> String {
    format!("{NAMESPACE}{CONTRACT}/{}", operation.name())
}

/// The request envelope of `operation`: the authentication record, then `parameters`
/// in order.
pub fn envelope(
    operation: Operation,
    auth: &Authentication,
    data_namespace: Option<&str>,
    parameters: &[(&str, &str)],
) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>",
    );
    xml.push_str(&format!("<{} xmlns=\"{NAMESPACE}\">", operation.name()));
    match data_namespace {
        Some(namespace) => xml.push_str(&format!(
            "<aAuthentication xmlns:d=\"{}\">",
            escape(namespace)
        )),
        None => xml.push_str("<aAuthentication>"),
    }
    let prefix = if data_namespace.is_some() { "d:" } else { "" };
    // A WCF data contract without explicit order serializes its members alphabetically,
    // and reads them only in that order.
    for (name, value) in [
        ("KomitentId", &auth.komitent_id),
        ("PodruznicaId", &auth.podruznica_id),
        ("PogodbaId", &auth.pogodba_id),
        ("PostaId", &auth.posta_id),
    ] {
        xml.push_str(&format!(
            "<{prefix}{name}>{}</{prefix}{name}>",
            escape(value)
        ));
    }
    xml.push_str("</aAuthentication>");
    for (name, value) in parameters {
        xml.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
    xml.push_str(&format!("</{}></s:Body></s:Envelope>", operation.name()));
    xml
}

/// XML text with `&`, `<`, `>`, `"` and `'` escaped, and carriage returns kept as such
/// (an XML reader would otherwise fold the CSV's CRLF line ends).
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\r' => escaped.push_str("&#13;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// An element found in an answer: its local name, the local names of its ancestors,
/// and its text.
#[derive(Debug, Clone)]
struct Element {
    path: Vec<String>,
    text: String,
}

/// Every element of `xml` with text, by local names.
fn elements(xml: &[u8]) -> Result<Vec<Element>, String> {
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut found = Vec::new();
    let mut text = String::new();
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Start(start)) => {
                path.push(String::from_utf8_lossy(start.local_name().as_ref()).into_owned());
                text.clear();
            }
            Ok(Event::Empty(empty)) => {
                let mut element = path.clone();
                element.push(String::from_utf8_lossy(empty.local_name().as_ref()).into_owned());
                found.push(Element {
                    path: element,
                    text: String::new(),
                });
            }
            Ok(Event::Text(content)) => {
                // Entity references come as their own events.
                let decoded = content.decode().map_err(|error| error.to_string())?;
                text.push_str(&decoded);
            }
            Ok(Event::GeneralRef(reference)) => {
                let name = reference.decode().map_err(|error| error.to_string())?;
                match reference.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    _ => match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(value) => text.push_str(value),
                        None => return Err(format!("unknown entity &{name};")),
                    },
                }
            }
            Ok(Event::CData(data)) => {
                text.push_str(&String::from_utf8_lossy(&data.into_inner()));
            }
            Ok(Event::End(_)) => {
                found.push(Element {
                    path: path.clone(),
                    text: std::mem::take(&mut text),
                });
                path.pop();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(error) => return Err(error.to_string()),
        }
        buffer.clear();
    }
    Ok(found)
}

fn local(element: &Element) -> &str {
    element.path.last().map(String::as_str).unwrap_or("")
}

/// Reads an answer: a SOAP fault or HTTP error becomes a typed error, a `ResultCode`
/// other than `Normal` too (see [`refusal`]).
pub fn read_answer(operation: Operation, response: &Response) -> Result<Answer, ConnectorError> {
    let parsed = elements(&response.body);
    if let Ok(elements) = &parsed
        && elements.iter().any(|element| local(element) == "Fault")
    {
        return Err(fault(operation, elements, response.status));
    }
    if let Some(error) = response.error() {
        return Err(error.context(format!("eOddaja {}", operation.name())));
    }
    let elements = parsed.map_err(|error| {
        ConnectorError::other(format!(
            "eOddaja answered {} with something that is not XML ({error}): {}",
            operation.name(),
            snippet(&response.text())
        ))
    })?;
    let result_name = format!("{}Result", operation.name());
    let result = elements
        .iter()
        .find(|element| local(element) == result_name)
        .map(|element| element.text.clone());
    let Some(code_element) = elements
        .iter()
        .find(|element| local(element) == "ResultCode")
    else {
        return Err(ConnectorError::other(format!(
            "eOddaja answered {} without a ResultCode: {}",
            operation.name(),
            snippet(&response.text())
        ))
        .with_http_status(response.status));
    };
    let code = code_element.text.trim().to_owned();
    // The other fields of the record that holds the ResultCode.
    let parent = &code_element.path[..code_element.path.len() - 1];
    let details: Vec<(String, String)> = elements
        .iter()
        .filter(|element| {
            element.path.len() == code_element.path.len()
                && element.path[..parent.len()] == *parent
                && local(element) != "ResultCode"
                && !element.text.trim().is_empty()
        })
        .map(|element| (local(element).to_owned(), element.text.trim().to_owned()))
        .collect();
    if code == NORMAL {
        return Ok(Answer { result, details });
    }
    Err(refusal(operation, &code, &details).with_http_status(response.status))
}

/// A `ResultCode` other than `Normal`. `GetGuid` carries nothing but the customer's
/// ids, so its refusal means they do not open eOddaja (`auth`); `PostData` and
/// `GetStatus` refuse the submitted data (`invalid-input`, with Pošta's message,
/// which names the row). The code itself is kept as the platform's code.
pub fn refusal(operation: Operation, code: &str, details: &[(String, String)]) -> ConnectorError {
    let said = if details.is_empty() {
        String::new()
    } else {
        format!(
            ": {}",
            details
                .iter()
                .map(|(_, text)| text.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    let error = match operation {
        Operation::GetGuid => ConnectorError::auth(format!(
            "eOddaja refused the customer, contract, post office and branch ids \
             (ResultCode {code}){said}"
        ))
        .with_field("komitent_id"),
        Operation::PostData | Operation::GetStatus => ConnectorError::invalid_input(format!(
            "eOddaja refused the hand-over at {} (ResultCode {code}){said}",
            operation.name()
        )),
    };
    error.with_platform_code(code)
}

/// A SOAP fault. WCF sends faults with HTTP 500; the fault code says whose fault it
/// is: the request's (`Client`, a message WCF could not read) → `invalid-input`; an
/// operation or address WCF does not know → `other` (the setting or this connector is
/// wrong); anything on the server's side → `transient`.
fn fault(operation: Operation, elements: &[Element], status: u16) -> ConnectorError {
    let text_of = |name: &str| {
        elements
            .iter()
            .find(|element| local(element) == name)
            .map(|element| element.text.trim().to_owned())
            .unwrap_or_default()
    };
    let code = text_of("faultcode");
    let reason = text_of("faultstring");
    let local_code = code.rsplit(':').next().unwrap_or("").to_owned();
    let message = format!(
        "eOddaja answered {} with a SOAP fault {code}: {reason}",
        operation.name()
    );
    let kind = match local_code.as_str() {
        "Client" | "Sender" | "DeserializationFailed" => ErrorKind::InvalidInput,
        "ActionNotSupported" | "ContractFilter" | "EndpointNotFound" | "InvalidMessage"
        | "VersionMismatch" | "MustUnderstand" => ErrorKind::Other,
        _ => ErrorKind::Transient,
    };
    let mut error = ConnectorError::new(kind, message).with_http_status(status);
    if !local_code.is_empty() {
        error = error.with_platform_code(local_code);
    }
    error
}

fn snippet(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(300) {
        Some((index, _)) => format!("{}…", &flat[..index]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Authentication {
        Authentication {
            komitent_id: "12345".into(),
            pogodba_id: "678".into(),
            posta_id: "1000".into(),
            podruznica_id: "1".into(),
        }
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
            url: "https://tsteportal.posta.si/x".into(),
        }
    }

    #[test]
    fn envelopes() {
        let xml = envelope(
            Operation::PostData,
            &auth(),
            None,
            &[("aGuid", "g-1"), ("aData", "A;B\r\n1;<2>&\r\n")],
        );
        assert!(xml.contains("<PostData xmlns=\"http://tempuri.org/\"><aAuthentication><KomitentId>12345</KomitentId><PodruznicaId>1</PodruznicaId><PogodbaId>678</PogodbaId><PostaId>1000</PostaId></aAuthentication><aGuid>g-1</aGuid>"), "{xml}");
        assert!(
            xml.contains("<aData>A;B&#13;\n1;&lt;2&gt;&amp;&#13;\n</aData>"),
            "{xml}"
        );
        let xml = envelope(Operation::GetGuid, &auth(), Some("urn:x"), &[]);
        assert!(
            xml.contains("<aAuthentication xmlns:d=\"urn:x\"><d:KomitentId>12345</d:KomitentId>")
        );
        assert_eq!(
            soap_action(Operation::GetStatus),
            "http://tempuri.org/IeOddaja/GetStatus"
        );
    }

    #[test]
    fn normal_answers() {
        let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetGuidResponse xmlns="http://tempuri.org/"><GetGuidResult>0f8fad5b-d9cb-469f-a165-70867728950e</GetGuidResult><aResult xmlns:a="http://schemas.datacontract.org/2004/07/X" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><a:ResultCode>Normal</a:ResultCode><a:ResultMessage/></aResult></GetGuidResponse></s:Body></s:Envelope>"#;
        let answer = read_answer(Operation::GetGuid, &response(200, body)).unwrap();
        assert_eq!(
            answer.result.as_deref(),
            Some("0f8fad5b-d9cb-469f-a165-70867728950e")
        );
    }

    #[test]
    fn refusals_and_faults_are_typed() {
        let refused = |operation, status, body: &str| {
            read_answer(operation, &response(status, body)).unwrap_err()
        };
        let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetStatusResponse xmlns="http://tempuri.org/"><aResult><ResultCode>Error</ResultCode><ResultMessage>Vrstica 2 (RA000000014SI): napačna poštna številka</ResultMessage></aResult></GetStatusResponse></s:Body></s:Envelope>"#;
        let error = refused(Operation::GetStatus, 200, body);
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        assert_eq!(error.platform_code.as_deref(), Some("Error"));
        assert!(
            error.message.contains("Vrstica 2 (RA000000014SI)"),
            "{}",
            error.message
        );
        let error = refused(
            Operation::GetGuid,
            200,
            &body.replace("GetStatus", "GetGuid"),
        );
        assert_eq!(error.kind, ErrorKind::Auth);

        let fault = |code: &str| {
            format!(
                r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="urn:a">{code}</faultcode><faultstring xml:lang="en-US">went wrong</faultstring></s:Fault></s:Body></s:Envelope>"#
            )
        };
        let error = refused(Operation::PostData, 500, &fault("s:Client"));
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        assert_eq!(error.http_status, Some(500));
        assert_eq!(
            refused(Operation::PostData, 500, &fault("a:ActionNotSupported")).kind,
            ErrorKind::Other
        );
        assert_eq!(
            refused(Operation::PostData, 500, &fault("a:InternalServiceFault")).kind,
            ErrorKind::Transient
        );
        assert_eq!(
            refused(Operation::PostData, 503, "Service Unavailable").kind,
            ErrorKind::Transient
        );
        assert_eq!(
            refused(Operation::PostData, 200, "not xml <").kind,
            ErrorKind::Other
        );
        assert_eq!(
            refused(Operation::PostData, 200, "<a>no code</a>").kind,
            ErrorKind::Other
        );
    }
}
