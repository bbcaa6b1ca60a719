//! A thin layer over quick-xml's writer: elements with escaped text, never raw strings.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::EInvoiceError;

/// Writes an indented UTF-8 XML document.
pub(crate) struct Xml {
    writer: Writer<Vec<u8>>,
}

impl Xml {
    /// A document with its XML declaration.
    pub(crate) fn new() -> Result<Self, EInvoiceError> {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        Ok(Self { writer })
    }

    /// Opens `name` with `attributes` (values are escaped).
    pub(crate) fn open(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
    ) -> Result<(), EInvoiceError> {
        let start = BytesStart::new(name).with_attributes(attributes.iter().copied());
        self.writer.write_event(Event::Start(start))?;
        Ok(())
    }

    /// Closes `name`.
    pub(crate) fn close(&mut self, name: &str) -> Result<(), EInvoiceError> {
        self.writer.write_event(Event::End(BytesEnd::new(name)))?;
        Ok(())
    }

    /// `<name>text</name>`, the text escaped and stripped of characters XML 1.0 cannot
    /// carry.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) -> Result<(), EInvoiceError> {
        self.leaf_with(name, &[], text)
    }

    /// `<name attributes…>text</name>`.
    pub(crate) fn leaf_with(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> Result<(), EInvoiceError> {
        let text = xml_safe(text);
        self.open(name, attributes)?;
        self.writer
            .write_event(Event::Text(BytesText::new(&text)))?;
        self.close(name)
    }

    /// The finished document.
    pub(crate) fn finish(self) -> Result<String, EInvoiceError> {
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        String::from_utf8(bytes).map_err(|error| EInvoiceError::Xml(error.to_string()))
    }
}

impl From<std::io::Error> for EInvoiceError {
    fn from(error: std::io::Error) -> Self {
        Self::Xml(error.to_string())
    }
}

/// `text` without the control characters XML 1.0 does not allow (all below U+0020
/// except tab, line feed and carriage return) and without the non-characters U+FFFE
/// and U+FFFF; shop data is pasted from anywhere.
pub(crate) fn xml_safe(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect()
}
