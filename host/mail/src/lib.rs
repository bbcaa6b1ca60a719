//! E-mail of tovor: sends documents (an invoice or credit note PDF, optionally its e-invoice
//! XML) to a buyer through the merchant's SMTP server.
//!
//! [`build_message`] turns [`SmtpSettings`] and an [`OutgoingMail`] into a `multipart/mixed`
//! MIME message: a UTF-8 `text/plain` body and one base64 part per attachment, its file name
//! encoded per RFC 2231 so non-ASCII names survive. Headers with non-ASCII text are encoded
//! (RFC 2047) by lettre, so the whole message is 7-bit and needs no `8BITMIME` from the server.
//! [`send`] builds the message and hands it to the server over one connection (plain,
//! STARTTLS or implicit TLS) within one time limit, without a queue of its own: the server
//! runs sending as a queued job and retries it.
//!
//! # Permanent and transient errors
//!
//! The queue needs to know whether trying again can help, so every [`MailError`] answers
//! [`MailError::is_permanent`]:
//!
//! - **Permanent**: the settings or the mail are wrong (empty host, an address that does not
//!   parse, credentials without a password), the server answered with a 5xx reply (mailbox
//!   unknown 550, authentication failed 535, authentication required 530), or it lacks something
//!   the settings need (STARTTLS, an AUTH mechanism). RFC 5321 §4.2.1 defines 5yz replies as
//!   permanent negative completions that the client should not repeat as they are; the other
//!   cases will fail the same way until someone edits the settings or the mail. Retrying only
//!   delays telling the merchant, and repeated failed logins can get the account locked.
//! - **Transient**: a 4xx reply (RFC 5321: the same request may succeed later, e.g. 451
//!   local error, 421 service unavailable, greylisting), connection refused, a timeout, a
//!   dropped connection or a failed TLS handshake. These can pass by themselves, so the job
//!   is retried later.
//!
//! The password is never part of an error or of [`SmtpSettings`]' `Debug` output.

#![warn(missing_docs)]

use std::fmt;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::response::Response;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub use lettre::Message;

/// A reasonable [`SmtpSettings::timeout`] for a few documents of a few megabytes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain text, for a relay on the same host or network and for tests. Credentials, if
    /// any, travel unencrypted.
    None,
    /// Plain connection upgraded with `STARTTLS` (RFC 3207), usually on port 587; fails when
    /// the server does not offer it rather than falling back to plain text.
    StartTls,
    /// TLS from the first byte ("implicit TLS", RFC 8314), usually on port 465.
    Tls,
}

impl Security {
    /// The port that usually goes with this kind of connection.
    #[must_use]
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// Where and as whom to send: one merchant's SMTP account.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// Host name or IP address of the SMTP server.
    pub host: String,
    /// TCP port; see [`Security::default_port`].
    pub port: u16,
    /// How the connection is protected.
    pub security: Security,
    /// Login for SMTP AUTH (PLAIN or LOGIN); `None` sends without authenticating.
    pub username: Option<String>,
    /// Password for SMTP AUTH; set exactly when `username` is.
    pub password: Option<String>,
    /// The `From` address of every message, `local@domain`.
    pub from_address: String,
    /// The name shown with `from_address`, such as the company's name; may be non-ASCII.
    pub from_name: Option<String>,
    /// Where replies go when not to `from_address`: `local@domain` or `Name <local@domain>`.
    pub reply_to: Option<String>,
    /// Time allowed for the whole conversation, from connecting to the server's last reply.
    pub timeout: Duration,
}

impl SmtpSettings {
    /// Checks what can be checked without a server: the host, the port, the addresses, that
    /// credentials come in pairs, and that the timeout is not zero.
    ///
    /// # Errors
    ///
    /// [`MailError::InvalidSettings`] or [`MailError::InvalidAddress`], both permanent.
    pub fn validate(&self) -> Result<(), MailError> {
        let host = self.host.trim();
        if host.is_empty() {
            return Err(invalid_settings("the SMTP host is empty"));
        }
        if host.len() != self.host.len()
            || host.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid_settings("the SMTP host contains white space"));
        }
        if self.port == 0 {
            return Err(invalid_settings("the SMTP port is 0"));
        }
        if self.timeout.is_zero() {
            return Err(invalid_settings("the SMTP timeout is zero"));
        }
        match (&self.username, &self.password) {
            (None, None) => {}
            (Some(username), Some(_)) if username.is_empty() => {
                return Err(invalid_settings("the SMTP username is empty"));
            }
            (Some(_), Some(_)) => {}
            (Some(_), None) => {
                return Err(invalid_settings(
                    "an SMTP username is set without a password",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid_settings(
                    "an SMTP password is set without a username",
                ));
            }
        }
        self.sender()?;
        if let Some(reply_to) = &self.reply_to {
            parse_mailbox(reply_to)?;
        }
        Ok(())
    }

    fn sender(&self) -> Result<Mailbox, MailError> {
        let address = parse_address(&self.from_address)?;
        // A blank name would print as `"" <address>`; it means no name.
        let name = self
            .from_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty());
        if name.is_some_and(|name| name.chars().any(char::is_control)) {
            return Err(invalid_settings(
                "the sender's name contains a control character",
            ));
        }
        Ok(Mailbox::new(name.map(str::to_owned), address))
    }

    /// A fresh `Message-ID`: random, at the sender's domain, which mail filters expect
    /// rather than the sending machine's host name.
    fn new_message_id(&self) -> Result<String, MailError> {
        let from = parse_address(&self.from_address)?;
        Ok(format!(
            "<{:032x}@{}>",
            rand::random::<u128>(),
            from.domain()
        ))
    }
}

impl fmt::Debug for SmtpSettings {
    // By hand, so the password never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("reply_to", &self.reply_to)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipients, each `local@domain` or `Name <local@domain>`; at least one.
    pub to: Vec<String>,
    /// Copy recipients, in the same forms as `to`.
    pub cc: Vec<String>,
    /// The subject, any Unicode without control characters.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// Files attached after the body, in this order.
    pub attachments: Vec<Attachment>,
}

/// A file attached to a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name the recipient's mail client offers to save it as; may be non-ASCII.
    pub filename: String,
    /// Its MIME type, such as `application/pdf` or `application/xml`.
    pub content_type: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

impl fmt::Debug for Attachment {
    // The bytes of a PDF are no use in a log; their count is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// What the server said when it took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentReceipt {
    /// The `Message-ID` header of the sent message, with its angle brackets.
    pub message_id: String,
    /// The server's final reply, such as `250 2.0.0 Ok: queued as 4Xq3`.
    pub response: String,
}

/// Why a message was not sent; [`MailError::is_permanent`] tells whether to try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The SMTP settings cannot work as they are.
    #[error("invalid SMTP settings: {0}")]
    InvalidSettings(String),
    /// An address (sender, recipient or reply-to) does not parse.
    #[error("invalid e-mail address {address:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The mail cannot be built: no recipient, a bad content type, a control character.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// The server refused with a 5xx reply.
    #[error("the SMTP server refused ({code}): {message}")]
    Rejected {
        /// The reply code, 500–599.
        code: u16,
        /// The server's reply text.
        message: String,
    },
    /// The server refused for now with a 4xx reply.
    #[error("the SMTP server deferred ({code}): {message}")]
    Deferred {
        /// The reply code, 400–499.
        code: u16,
        /// The server's reply text.
        message: String,
    },
    /// The server lacks what the settings need, such as STARTTLS or a supported AUTH
    /// mechanism.
    #[error("the SMTP server does not support what the settings need: {0}")]
    Unsupported(String),
    /// The server could not be reached or the connection failed: refused, timed out, TLS
    /// handshake failed, closed early, or a reply that is not SMTP.
    #[error("SMTP connection failed: {0}")]
    Connection(String),
}

impl MailError {
    /// Whether sending the same mail with the same settings will fail again, so the job
    /// should stop and tell the merchant instead of retrying.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::InvalidSettings(_)
            | Self::InvalidAddress { .. }
            | Self::InvalidMessage(_)
            | Self::Rejected { .. }
            | Self::Unsupported(_) => true,
            Self::Deferred { .. } | Self::Connection(_) => false,
        }
    }
}

impl From<lettre::transport::smtp::Error> for MailError {
    fn from(error: lettre::transport::smtp::Error) -> Self {
        use std::error::Error as _;

        if let Some(code) = error.status() {
            // lettre keeps the reply text as the source; its Display repeats the code.
            let message = error.source().map(ToString::to_string).unwrap_or_default();
            let code = u16::from(code);
            if error.is_permanent() {
                Self::Rejected { code, message }
            } else {
                Self::Deferred { code, message }
            }
        } else if error.is_client() {
            // lettre's client errors are capability mismatches found before sending: no
            // STARTTLS, no usable AUTH mechanism, no SMTPUTF8/8BITMIME where needed.
            Self::Unsupported(error.to_string())
        } else {
            Self::Connection(error.to_string())
        }
    }
}

/// Builds the MIME message for `mail` as sent by `settings.from_address`.
///
/// The message is `multipart/mixed`: first a `text/plain; charset=utf-8` body, then each
/// attachment base64-encoded with a `Content-Disposition: attachment` file name. It has
/// `Date` (now) and `Message-ID` headers.
///
/// # Errors
///
/// Permanent errors only: invalid settings or addresses, no recipient, a content type that
/// does not parse, a control character in the subject or a file name.
pub fn build_message(settings: &SmtpSettings, mail: &OutgoingMail) -> Result<Message, MailError> {
    compose(settings, mail).map(|(message, _)| message)
}

/// Sends `mail` through the server in `settings`: one connection, one message, no retries,
/// all within `settings.timeout`.
///
/// # Errors
///
/// Any [`MailError`]; see [`MailError::is_permanent`] for which ones a retry can fix.
pub async fn send(settings: &SmtpSettings, mail: &OutgoingMail) -> Result<SentReceipt, MailError> {
    let (message, message_id) = compose(settings, mail)?;
    let transport = transport(settings)?;
    // lettre's async transport applies its timeout to connecting only, not to the replies,
    // so a server that accepts and then stays silent would hold the job for ever.
    let response = tokio::time::timeout(settings.timeout, transport.send(message))
        .await
        .map_err(|_| {
            MailError::Connection(format!(
                "no complete answer from the SMTP server within {:?}",
                settings.timeout
            ))
        })??;
    Ok(SentReceipt {
        message_id,
        response: describe(&response),
    })
}

fn compose(settings: &SmtpSettings, mail: &OutgoingMail) -> Result<(Message, String), MailError> {
    settings.validate()?;
    if mail.to.is_empty() {
        return Err(MailError::InvalidMessage("no recipient in To".to_owned()));
    }
    reject_control_chars(&mail.subject, "the subject")?;
    let message_id = settings.new_message_id()?;

    let mut builder = Message::builder()
        .from(settings.sender()?)
        .subject(mail.subject.clone())
        .message_id(Some(message_id.clone()))
        .date_now();
    if let Some(reply_to) = &settings.reply_to {
        builder = builder.reply_to(parse_mailbox(reply_to)?);
    }
    for recipient in &mail.to {
        builder = builder.to(parse_mailbox(recipient)?);
    }
    for recipient in &mail.cc {
        builder = builder.cc(parse_mailbox(recipient)?);
    }

    let mut body = MultiPart::mixed().singlepart(SinglePart::plain(mail.text.clone()));
    for attachment in &mail.attachments {
        body = body.singlepart(attachment_part(attachment)?);
    }
    let message = builder
        .multipart(body)
        .map_err(|error| MailError::InvalidMessage(error.to_string()))?;
    Ok((message, message_id))
}

fn attachment_part(attachment: &Attachment) -> Result<SinglePart, MailError> {
    if attachment.filename.trim().is_empty() {
        return Err(MailError::InvalidMessage(
            "an attachment has no file name".to_owned(),
        ));
    }
    reject_control_chars(&attachment.filename, "an attachment's file name")?;
    let content_type = ContentType::parse(&attachment.content_type).map_err(|error| {
        MailError::InvalidMessage(format!(
            "attachment {:?} has content type {:?}: {error}",
            attachment.filename, attachment.content_type
        ))
    })?;
    // Always base64, even for XML that is nearly ASCII: quoted-printable would let relays
    // rewrap lines and trailing spaces of a document whose bytes must stay as they are.
    let body = Body::new_with_encoding(attachment.data.clone(), ContentTransferEncoding::Base64)
        .map_err(|_| MailError::InvalidMessage("base64 encoding was refused".to_owned()))?;
    Ok(lettre::message::Attachment::new(attachment.filename.clone()).body(body, content_type))
}

fn transport(settings: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
            .port(settings.port)
            .timeout(Some(settings.timeout));
    builder = match settings.security {
        Security::None => builder.tls(Tls::None),
        Security::StartTls => {
            builder.tls(Tls::Required(TlsParameters::new(settings.host.clone())?))
        }
        Security::Tls => builder.tls(Tls::Wrapper(TlsParameters::new(settings.host.clone())?)),
    };
    if let (Some(username), Some(password)) = (&settings.username, &settings.password) {
        builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
    }
    Ok(builder.build())
}

fn describe(response: &Response) -> String {
    let mut text = u16::from(response.code()).to_string();
    for line in response.message() {
        text.push(' ');
        text.push_str(line);
    }
    text
}

/// Checks a recipient as [`OutgoingMail::to`] and `cc` take it: `local@domain` or
/// `Name <local@domain>`.
///
/// # Errors
///
/// [`MailError::InvalidAddress`], which is permanent.
pub fn check_address(address: &str) -> Result<(), MailError> {
    parse_mailbox(address).map(drop)
}

fn parse_address(address: &str) -> Result<Address, MailError> {
    address
        .parse::<Address>()
        .map_err(|error| MailError::InvalidAddress {
            address: address.to_owned(),
            reason: error.to_string(),
        })
}

fn parse_mailbox(mailbox: &str) -> Result<Mailbox, MailError> {
    let invalid = |reason: String| MailError::InvalidAddress {
        address: mailbox.to_owned(),
        reason,
    };
    // A CR or LF could start a header of its own.
    if mailbox.chars().any(char::is_control) {
        return Err(invalid("it contains a control character".to_owned()));
    }
    mailbox
        .parse::<Mailbox>()
        .map_err(|error| invalid(error.to_string()))
}

fn reject_control_chars(text: &str, what: &str) -> Result<(), MailError> {
    // A CR or LF in a header value could start a header of its own.
    if text.chars().any(char::is_control) {
        return Err(MailError::InvalidMessage(format!(
            "{what} contains a control character"
        )));
    }
    Ok(())
}

fn invalid_settings(reason: &str) -> MailError {
    MailError::InvalidSettings(reason.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// A named way to spoil a valid value.
    type Breakage<T> = (&'static str, fn(&mut T));

    fn settings() -> SmtpSettings {
        SmtpSettings {
            host: "smtp.example.com".to_owned(),
            port: Security::StartTls.default_port(),
            security: Security::StartTls,
            username: Some("racuni@zabica.si".to_owned()),
            password: Some("hunter2-secret".to_owned()),
            from_address: "racuni@zabica.si".to_owned(),
            from_name: Some("Trgovina Žabica".to_owned()),
            reply_to: Some("Prodaja <prodaja@zabica.si>".to_owned()),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    fn mail() -> OutgoingMail {
        OutgoingMail {
            to: vec!["Kupec Čebula <kupec@example.com>".to_owned()],
            cc: vec![],
            subject: "Račun 2025-0001".to_owned(),
            text: "Pozdravljeni,\nv prilogi je račun.\n".to_owned(),
            attachments: vec![Attachment {
                filename: "račun.pdf".to_owned(),
                content_type: "application/pdf".to_owned(),
                data: b"%PDF-1.7\n%%EOF\n".to_vec(),
            }],
        }
    }

    #[test]
    fn valid_settings_pass() {
        settings().validate().unwrap();
        let mut without_credentials = settings();
        without_credentials.username = None;
        without_credentials.password = None;
        without_credentials.validate().unwrap();
    }

    #[test]
    fn settings_are_checked_and_failures_are_permanent() {
        let cases: &[Breakage<SmtpSettings>] = &[
            ("empty host", |s| s.host = " ".to_owned()),
            ("host with space", |s| {
                s.host = "smtp .example.com".to_owned()
            }),
            ("port 0", |s| s.port = 0),
            ("zero timeout", |s| s.timeout = Duration::ZERO),
            ("username without password", |s| s.password = None),
            ("password without username", |s| s.username = None),
            ("empty username", |s| s.username = Some(String::new())),
            ("bad from", |s| {
                s.from_address = "racuni.zabica.si".to_owned()
            }),
            ("named from", |s| {
                s.from_address = "Žabica <racuni@zabica.si>".to_owned()
            }),
            ("newline in from name", |s| {
                s.from_name = Some("Žabica\r\nBcc: x@y.z".to_owned())
            }),
            ("bad reply-to", |s| s.reply_to = Some("a@".to_owned())),
        ];
        for (case, break_it) in cases {
            let mut broken = settings();
            break_it(&mut broken);
            let error = broken.validate().expect_err(case);
            assert!(
                matches!(
                    error,
                    MailError::InvalidSettings(_) | MailError::InvalidAddress { .. }
                ),
                "{case}: {error:?}"
            );
            assert!(error.is_permanent(), "{case}: {error}");
            assert!(!error.to_string().contains("hunter2"), "{case}: {error}");
        }
    }

    #[test]
    fn debug_of_settings_hides_the_password() {
        let debug = format!("{:?} {:#?}", settings(), settings());
        assert!(!debug.contains("hunter2-secret"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(debug.contains("smtp.example.com"), "{debug}");
    }

    #[test]
    fn debug_of_attachment_shows_size_not_bytes() {
        let debug = format!("{:?}", mail().attachments[0]);
        assert!(debug.contains("bytes: 15"), "{debug}");
        assert!(!debug.contains("PDF"), "{debug}");
    }

    #[test]
    fn message_has_headers_and_is_seven_bit() {
        let message = build_message(&settings(), &mail()).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.is_ascii(), "non-ASCII would need 8BITMIME:\n{raw}");
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(
            headers.contains("\r\nDate: ") || headers.starts_with("Date: "),
            "{headers}"
        );
        assert!(headers.contains("Message-ID: <"), "{headers}");
        assert!(headers.contains("@zabica.si>"), "{headers}");
        assert!(
            headers.contains("Content-Type: multipart/mixed"),
            "{headers}"
        );
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(raw.contains("Content-Type: application/pdf"), "{raw}");
        assert!(raw.contains("Content-Transfer-Encoding: base64"), "{raw}");
    }

    #[test]
    fn blank_sender_name_means_none() {
        let mut unnamed = settings();
        unnamed.from_name = Some("  ".to_owned());
        let message = build_message(&unnamed, &mail()).unwrap();
        assert_eq!(message.headers().get_raw("From"), Some("racuni@zabica.si"));
    }

    #[test]
    fn new_message_ids_differ_and_use_the_sender_domain() {
        let first = settings().new_message_id().unwrap();
        let second = settings().new_message_id().unwrap();
        assert_ne!(first, second);
        assert!(
            first.starts_with('<') && first.ends_with("@zabica.si>"),
            "{first}"
        );
        assert_eq!(first.len(), "<@zabica.si>".len() + 32, "{first}");
    }

    #[test]
    fn check_address_takes_what_to_takes() {
        check_address("kupec@example.com").unwrap();
        check_address("Kupec Čebula <kupec@example.com>").unwrap();
        for bad in [
            "kupec",
            "kupec@",
            "<kupec@example.com",
            "a@b.c\nBcc: x@y.z",
            "",
        ] {
            assert!(check_address(bad).unwrap_err().is_permanent(), "{bad}");
        }
    }

    #[test]
    fn bad_mails_are_refused_permanently() {
        let cases: &[Breakage<OutgoingMail>] = &[
            ("no recipient", |m| m.to.clear()),
            ("bad to", |m| m.to = vec!["kupec(at)example.com".to_owned()]),
            ("bad cc", |m| m.cc = vec!["@example.com".to_owned()]),
            ("header injection in to", |m| {
                m.to = vec!["a@b.c\r\nBcc: x@y.z".to_owned()]
            }),
            ("newline in subject", |m| {
                m.subject = "Račun\r\nBcc: x@y.z".to_owned()
            }),
            ("empty file name", |m| {
                m.attachments[0].filename = " ".to_owned()
            }),
            ("newline in file name", |m| {
                m.attachments[0].filename = "a\n.pdf".to_owned()
            }),
            ("bad content type", |m| {
                m.attachments[0].content_type = "pdf".to_owned()
            }),
        ];
        for (case, break_it) in cases {
            let mut broken = mail();
            break_it(&mut broken);
            let error = build_message(&settings(), &broken).expect_err(case);
            assert!(error.is_permanent(), "{case}: {error}");
        }
    }

    #[test]
    fn classification() {
        let transient = [
            MailError::Deferred {
                code: 451,
                message: String::new(),
            },
            MailError::Connection("refused".to_owned()),
        ];
        assert!(transient.iter().all(|error| !error.is_permanent()));
        let permanent = [
            MailError::Rejected {
                code: 550,
                message: String::new(),
            },
            MailError::Unsupported("no STARTTLS".to_owned()),
            MailError::InvalidMessage(String::new()),
        ];
        assert!(permanent.iter().all(MailError::is_permanent));
    }
}
