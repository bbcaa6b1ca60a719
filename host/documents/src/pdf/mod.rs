//! Documents as PDF: A4 pages with the letterhead, the parties, the lines table
//! (continued over pages with its header repeated), the VAT recap and totals, and on
//! an unpaid invoice payable by credit transfer the UPN QR payment code.
//!
//! Text is DejaVu Sans (regular and bold, `fonts/`), embedded as subsets with a
//! ToUnicode map, so the PDF's text can be searched, copied and extracted.

mod fonts;
mod layout;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::TextDirection;

use self::fonts::Fonts;
use self::layout::{Op, PAGE_HEIGHT, PAGE_WIDTH, Page};
use crate::model::{Language, Printable};
use crate::text::texts;
use crate::upn::{QrMatrix, UpnError};

/// Why a document cannot be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// [`render_many`] was given no documents.
    #[error("there is no document to render")]
    NoDocuments,
    /// The company's logo cannot be decoded.
    #[error("the logo is not a readable {format} image: {reason}")]
    Logo {
        /// `PNG` or `JPEG`.
        format: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// The UPN QR code cannot be made from the invoice's data: the seller's IBAN or the
    /// payment reference is invalid, or the amount is out of the code's range.
    #[error("the UPN QR payment code cannot be made: {0}")]
    Upn(#[from] UpnError),
    /// The compiled-in fonts cannot be read (a broken build).
    #[error("the embedded fonts cannot be read")]
    Font,
    /// The PDF writer failed.
    #[error("the PDF cannot be written: {0}")]
    Write(String),
}

/// Renders one document as a PDF.
pub fn render_pdf(doc: &Printable) -> Result<Vec<u8>, PdfError> {
    render_many(std::slice::from_ref(doc))
}

/// Renders documents into one PDF, in order, each starting on a new page and numbering
/// its own pages.
pub fn render_many(docs: &[Printable]) -> Result<Vec<u8>, PdfError> {
    let first = docs.first().ok_or(PdfError::NoDocuments)?;
    let fonts = fonts::fonts().ok_or(PdfError::Font)?;
    let mut document = Document::new();
    for doc in docs {
        let pages = layout::layout(doc, fonts)?;
        for page in &pages {
            draw_page(&mut document, page, fonts)?;
        }
    }
    let language = match first.language {
        Language::Sl => "sl",
        Language::En => "en",
    };
    let mut metadata = Metadata::new()
        .language(language.to_owned())
        .creator("tovor".to_owned());
    if let [doc] = docs {
        metadata = metadata.title(format!(
            "{} {}",
            texts(doc.language).kind(doc.kind),
            doc.number
        ));
    }
    document.set_metadata(metadata);
    document
        .finish()
        .map_err(|error| PdfError::Write(error.to_string()))
}

fn draw_page(document: &mut Document, ops: &Page, fonts: &Fonts) -> Result<(), PdfError> {
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| PdfError::Write("invalid page size".to_owned()))?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    for op in ops {
        draw(&mut surface, op, fonts);
    }
    surface.finish();
    page.finish();
    Ok(())
}

fn gray_fill(gray: u8) -> Fill {
    Fill {
        paint: rgb::Color::new(gray, gray, gray).into(),
        opacity: NormalizedF32::ONE,
        ..Fill::default()
    }
}

fn draw(surface: &mut Surface<'_>, op: &Op, fonts: &Fonts) {
    match op {
        Op::Text {
            x,
            y,
            size,
            bold,
            gray,
            text,
        } => {
            surface.set_stroke(None);
            surface.set_fill(Some(gray_fill(*gray)));
            let font = fonts.face(*bold).font.clone();
            surface.draw_text(
                Point::from_xy(*x, *y),
                font,
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Fill {
            x,
            y,
            width,
            height,
            gray,
        } => {
            if let Some(rect) = Rect::from_xywh(*x, *y, *width, *height) {
                let mut path = PathBuilder::new();
                path.push_rect(rect);
                if let Some(path) = path.finish() {
                    surface.set_stroke(None);
                    surface.set_fill(Some(gray_fill(*gray)));
                    surface.draw_path(&path);
                }
            }
        }
        Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            gray,
        } => {
            let mut path = PathBuilder::new();
            path.move_to(*x1, *y1);
            path.line_to(*x2, *y2);
            if let Some(path) = path.finish() {
                stroke(surface, &path, *width, *gray);
            }
        }
        Op::Frame {
            x,
            y,
            width,
            height,
            line,
            gray,
        } => {
            if let Some(rect) = Rect::from_xywh(*x, *y, *width, *height) {
                let mut path = PathBuilder::new();
                path.push_rect(rect);
                if let Some(path) = path.finish() {
                    stroke(surface, &path, *line, *gray);
                }
            }
        }
        Op::Image {
            x,
            y,
            width,
            height,
            image,
        } => {
            if let Some(size) = Size::from_wh(*width, *height) {
                surface.push_transform(&Transform::from_translate(*x, *y));
                surface.draw_image(image.clone(), size);
                surface.pop();
            }
        }
        Op::Qr {
            x,
            y,
            module,
            matrix,
        } => draw_qr(surface, *x, *y, *module, matrix),
    }
}

fn stroke(surface: &mut Surface<'_>, path: &krilla::geom::Path, width: f32, gray: u8) {
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: rgb::Color::new(gray, gray, gray).into(),
        width,
        ..Stroke::default()
    }));
    surface.draw_path(path);
    surface.set_stroke(None);
}

/// The symbol as one path of rectangles, a rectangle per horizontal run of dark
/// modules: one fill, so no seams between modules when rasterised.
fn draw_qr(surface: &mut Surface<'_>, x: f32, y: f32, module: f32, matrix: &QrMatrix) {
    let width = matrix.width();
    let mut path = PathBuilder::new();
    for row in 0..width {
        let mut column = 0;
        while column < width {
            if !matrix.is_dark(column, row) {
                column += 1;
                continue;
            }
            let start = column;
            while column < width && matrix.is_dark(column, row) {
                column += 1;
            }
            let rect = Rect::from_xywh(
                x + start as f32 * module,
                y + row as f32 * module,
                (column - start) as f32 * module,
                module,
            );
            if let Some(rect) = rect {
                path.push_rect(rect);
            }
        }
    }
    if let Some(path) = path.finish() {
        surface.set_stroke(None);
        surface.set_fill(Some(gray_fill(0)));
        surface.draw_path(&path);
    }
}
