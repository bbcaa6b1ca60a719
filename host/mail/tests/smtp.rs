//! Sends through a real SMTP server (aiosmtpd, started from `smtp_server.py`) on 127.0.0.1
//! and reads back what it received.
//!
//! Needs `python3` with `aiosmtpd`; without them the tests say so and pass, unless
//! `TOVOR_REQUIRE_TOOLS=1`, when they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders};
use tovor_mail::{Attachment, MailError, OutgoingMail, Security, SmtpSettings};

const PASSWORD: &str = "Geslo-č-123";

/// The aiosmtpd helper, killed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    spool: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts the helper with `args`, or `None` when aiosmtpd is missing and may be.
    fn start(args: &[&str]) -> Option<Self> {
        if !aiosmtpd_available() {
            assert!(
                std::env::var("TOVOR_REQUIRE_TOOLS").as_deref() != Ok("1"),
                "TOVOR_REQUIRE_TOOLS=1 but `python3 -c 'import aiosmtpd'` fails"
            );
            eprintln!("skipped: python3 with aiosmtpd is not available");
            return None;
        }
        let spool = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--out-dir")
            .arg(spool.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first_line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first_line)
            .unwrap();
        let Ok(port) = first_line.trim().parse() else {
            let _ = child.kill();
            panic!("the SMTP helper printed {first_line:?} instead of its port");
        };
        Some(Self { child, port, spool })
    }

    fn settings(&self) -> SmtpSettings {
        settings_for(self.port)
    }

    /// The `<n>.eml` and `<n>.json` the helper wrote for the n-th delivered message.
    fn delivered(&self, n: usize) -> (Vec<u8>, serde_json::Value) {
        let path = |extension: &str| self.spool.path().join(format!("{n}.{extension}"));
        let sidecar = std::fs::read(path("json"))
            .unwrap_or_else(|error| panic!("message {n} was not delivered: {error}"));
        (
            std::fs::read(path("eml")).unwrap(),
            serde_json::from_slice(&sidecar).unwrap(),
        )
    }

    fn delivered_count(&self) -> usize {
        std::fs::read_dir(self.spool.path())
            .unwrap()
            .filter(|entry| entry.as_ref().unwrap().path().extension() == Some("json".as_ref()))
            .count()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aiosmtpd_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn settings_for(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".to_owned(),
        port,
        security: Security::None,
        username: None,
        password: None,
        from_address: "racuni@zabica.si".to_owned(),
        from_name: Some("Trgovina Žabica d.o.o.".to_owned()),
        reply_to: Some("Prodaja Žabica <prodaja@zabica.si>".to_owned()),
        timeout: Duration::from_secs(10),
    }
}

/// Every byte value, so any 8-bit mangling shows.
fn pdf_bytes() -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    pdf.extend((0..=255u8).cycle().take(4096));
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

const XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Invoice><Seller>Žabica d.o.o.</Seller>  \n<Note>čšž ČŠŽ</Note></Invoice>\n";
const SUBJECT: &str = "Račun 2025-0042 – Trgovina Žabica (čšž ČŠŽ)";
const TEXT: &str = "Pozdravljeni,\n\nv prilogi vam pošiljamo račun 2025-0042.\nČeprav ste že plačali, šteje žig.\n\nLep pozdrav,\nTrgovina Žabica\n";

fn invoice_mail(to: &[&str]) -> OutgoingMail {
    OutgoingMail {
        to: to.iter().map(|address| (*address).to_owned()).collect(),
        cc: vec!["knjigovodstvo@zabica.si".to_owned()],
        subject: SUBJECT.to_owned(),
        text: TEXT.to_owned(),
        attachments: vec![
            Attachment {
                filename: "račun-2025-0042.pdf".to_owned(),
                content_type: "application/pdf".to_owned(),
                data: pdf_bytes(),
            },
            Attachment {
                filename: "invoice-2025-0042-eslog.xml".to_owned(),
                content_type: "application/xml".to_owned(),
                data: XML.as_bytes().to_vec(),
            },
        ],
    }
}

fn assert_no_password(error: &MailError) {
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
}

#[tokio::test]
async fn delivers_text_and_attachments_intact() {
    let Some(server) = SmtpServer::start(&[]) else {
        return;
    };
    let mail = invoice_mail(&["Kupec Čebula <kupec@example.com>"]);
    let receipt = tovor_mail::send(&server.settings(), &mail).await.unwrap();
    assert!(
        receipt.response.starts_with("250 OK queued as 1"),
        "{receipt:?}"
    );

    let (eml, envelope) = server.delivered(1);
    assert_eq!(envelope["mail_from"], "racuni@zabica.si");
    assert_eq!(
        envelope["rcpt_tos"],
        serde_json::json!(["kupec@example.com", "knjigovodstvo@zabica.si"])
    );
    assert!(eml.is_ascii(), "the message should be 7-bit");

    let message = MessageParser::default().parse(&eml).unwrap();
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("racuni@zabica.si"));
    assert_eq!(from.name(), Some("Trgovina Žabica d.o.o."));
    let to = message.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("kupec@example.com"));
    assert_eq!(to.name(), Some("Kupec Čebula"));
    let cc = message.cc().unwrap().first().unwrap();
    assert_eq!(cc.address(), Some("knjigovodstvo@zabica.si"));
    let reply_to = message.reply_to().unwrap().first().unwrap();
    assert_eq!(reply_to.address(), Some("prodaja@zabica.si"));
    assert_eq!(message.subject(), Some(SUBJECT));
    assert!(message.date().is_some());
    assert_eq!(
        format!("<{}>", message.message_id().unwrap()),
        receipt.message_id
    );
    assert!(receipt.message_id.ends_with("@zabica.si>"), "{receipt:?}");

    let body = message.body_text(0).unwrap();
    assert_eq!(body.replace("\r\n", "\n"), TEXT);
    let text_part = message.text_part(0).unwrap();
    let text_type = text_part.content_type().unwrap();
    assert_eq!(
        (text_type.ctype(), text_type.subtype()),
        ("text", Some("plain"))
    );
    assert_eq!(text_type.attribute("charset"), Some("utf-8"));

    let attachments: Vec<_> = message.attachments().collect();
    assert_eq!(attachments.len(), 2);
    let (pdf, xml) = (attachments[0], attachments[1]);
    assert_eq!(pdf.attachment_name(), Some("račun-2025-0042.pdf"));
    assert_eq!(pdf.content_type().unwrap().subtype(), Some("pdf"));
    assert!(pdf.content_disposition().unwrap().is_attachment());
    assert_eq!(pdf.encoding, mail_parser::Encoding::Base64);
    assert!(
        pdf.contents() == pdf_bytes().as_slice(),
        "PDF bytes changed"
    );
    assert_eq!(xml.attachment_name(), Some("invoice-2025-0042-eslog.xml"));
    assert_eq!(
        xml.content_type().unwrap().ctype(),
        "application",
        "{:?}",
        xml.content_type()
    );
    assert_eq!(xml.content_type().unwrap().subtype(), Some("xml"));
    assert_eq!(xml.encoding, mail_parser::Encoding::Base64);
    assert_eq!(xml.contents(), XML.as_bytes());
}

#[tokio::test]
async fn authenticates_with_the_right_password() {
    let auth = format!("tovor:{PASSWORD}");
    let Some(server) = SmtpServer::start(&["--auth", &auth]) else {
        return;
    };
    let mut settings = server.settings();
    settings.username = Some("tovor".to_owned());
    settings.password = Some(PASSWORD.to_owned());
    tovor_mail::send(&settings, &invoice_mail(&["kupec@example.com"]))
        .await
        .unwrap();
    let (_, envelope) = server.delivered(1);
    assert_eq!(envelope["rcpt_tos"][0], "kupec@example.com");
}

#[tokio::test]
async fn wrong_password_is_permanent_and_not_shown() {
    let Some(server) = SmtpServer::start(&["--auth", "tovor:the-right-one"]) else {
        return;
    };
    let mut settings = server.settings();
    settings.username = Some("tovor".to_owned());
    settings.password = Some(PASSWORD.to_owned());
    let error = tovor_mail::send(&settings, &invoice_mail(&["kupec@example.com"]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, MailError::Rejected { code: 535, .. }),
        "{error:?}"
    );
    assert!(error.is_permanent());
    assert_no_password(&error);
    assert_eq!(server.delivered_count(), 0);
}

#[tokio::test]
async fn missing_credentials_are_permanent() {
    let Some(server) = SmtpServer::start(&["--auth", "tovor:secret"]) else {
        return;
    };
    let error = tovor_mail::send(&server.settings(), &invoice_mail(&["kupec@example.com"]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, MailError::Rejected { code: 530, .. }),
        "{error:?}"
    );
    assert!(error.is_permanent());
}

#[tokio::test]
async fn rejected_recipient_is_permanent() {
    let Some(server) = SmtpServer::start(&["--reject-rcpt", "nobody@example.com"]) else {
        return;
    };
    let error = tovor_mail::send(
        &server.settings(),
        &invoice_mail(&["kupec@example.com", "nobody@example.com"]),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, MailError::Rejected { code: 550, message } if message.contains("Mailbox unknown")),
        "{error:?}"
    );
    assert!(error.is_permanent());
    assert_eq!(server.delivered_count(), 0);
}

#[tokio::test]
async fn temporary_failure_is_transient_and_a_retry_delivers() {
    let Some(server) = SmtpServer::start(&["--tempfail-first", "1"]) else {
        return;
    };
    let mail = invoice_mail(&["kupec@example.com"]);
    let error = tovor_mail::send(&server.settings(), &mail)
        .await
        .unwrap_err();
    assert!(
        matches!(error, MailError::Deferred { code: 451, .. }),
        "{error:?}"
    );
    assert!(!error.is_permanent());
    assert_eq!(server.delivered_count(), 0);

    let receipt = tovor_mail::send(&server.settings(), &mail).await.unwrap();
    let (eml, _) = server.delivered(1);
    let message = MessageParser::default().parse(&eml).unwrap();
    assert_eq!(
        format!("<{}>", message.message_id().unwrap()),
        receipt.message_id
    );
}

/// A port nothing listens on: bound once to learn a free one, then released.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn refused_connection_is_transient() {
    let error = tovor_mail::send(
        &settings_for(closed_port()),
        &invoice_mail(&["kupec@example.com"]),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, MailError::Connection(_)), "{error:?}");
    assert!(!error.is_permanent());
}

#[tokio::test]
async fn silent_server_times_out_transiently() {
    // The kernel accepts the connection into the backlog, but no greeting ever comes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut settings = settings_for(listener.local_addr().unwrap().port());
    settings.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let error = tovor_mail::send(&settings, &invoice_mail(&["kupec@example.com"]))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{error:?}");
    assert!(matches!(error, MailError::Connection(_)), "{error:?}");
    assert!(!error.is_permanent());
}

#[tokio::test]
async fn starttls_against_a_server_without_it_is_permanent() {
    let Some(server) = SmtpServer::start(&[]) else {
        return;
    };
    let mut settings = server.settings();
    settings.security = Security::StartTls;
    let error = tovor_mail::send(&settings, &invoice_mail(&["kupec@example.com"]))
        .await
        .unwrap_err();
    assert!(matches!(error, MailError::Unsupported(_)), "{error:?}");
    assert!(error.is_permanent());
}
