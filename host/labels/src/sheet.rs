//! Labels four to an A4 sheet, for printers without a label roll.
//!
//! Carriers draw labels on A6 (or 4×6 in) pages. An office printer takes A4 sheets, and
//! self-adhesive A4 stock comes cut into four A6 quarters, so a batch prints four labels
//! to a sheet: page 1 top left, page 2 top right, page 3 bottom left, page 4 bottom
//! right, then the next sheet.
//!
//! Each label page becomes a Form XObject (its content streams joined, its resources
//! kept) drawn into a quarter of the sheet. A label is never enlarged: a barcode must
//! keep the bar widths the carrier chose. One larger than a quarter is shrunk just
//! enough to fit, and turned a quarter turn first when that lets it shrink less (a
//! landscape label on a portrait quarter). The page's own `/Rotate` is honoured, so a
//! label reads the way the carrier meant it to on screen.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use crate::{LabelError, inherited_value, load, pages};

/// A4 in points (210 × 297 mm).
pub const A4: (f64, f64) = (595.276, 841.89);

/// The most a label page's content may inflate to: a label is a few hundred kilobytes
/// at most, so more is a damaged or hostile document, not a label.
const MAX_CONTENT: usize = 32 << 20;

/// How labels are laid out on paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sheet {
    /// One label per page, as the carrier drew it (for label printers).
    #[default]
    AsDrawn,
    /// Four labels to an A4 sheet, in reading order.
    A4FourUp,
}

/// A rectangle on the sheet, in points from its bottom left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The four quarters of an A4 sheet in reading order: top left, top right, bottom
/// left, bottom right.
pub fn a4_quarters() -> [Cell; 4] {
    let (width, height) = (A4.0 / 2.0, A4.1 / 2.0);
    let cell = |column: f64, row: f64| Cell {
        x: column * width,
        y: row * height,
        width,
        height,
    };
    [
        cell(0.0, 1.0),
        cell(1.0, 1.0),
        cell(0.0, 0.0),
        cell(1.0, 0.0),
    ]
}

/// An affine transformation as PDF writes it: `[a b c d e f]` maps `(x, y)` to
/// `(a·x + c·y + e, b·x + d·y + f)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matrix(pub [f64; 6]);

impl Matrix {
    fn translate(x: f64, y: f64) -> Self {
        Self([1.0, 0.0, 0.0, 1.0, x, y])
    }

    fn scale(factor: f64) -> Self {
        Self([factor, 0.0, 0.0, factor, 0.0, 0.0])
    }

    /// `quarter_turns` clockwise turns of a `width` × `height` box standing on the
    /// origin, moved back onto the origin afterwards.
    fn turn(quarter_turns: u8, width: f64, height: f64) -> Self {
        match quarter_turns % 4 {
            1 => Self([0.0, -1.0, 1.0, 0.0, 0.0, width]),
            2 => Self([-1.0, 0.0, 0.0, -1.0, width, height]),
            3 => Self([0.0, 1.0, -1.0, 0.0, height, 0.0]),
            _ => Self([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
        }
    }

    /// `self` applied first, then `then`.
    fn then(self, then: Self) -> Self {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = then.0;
        Self([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    /// Where the point `(x, y)` goes.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }
}

/// How a label page whose visible box is `bounds` (`[x0, y0, x1, y1]`) and which
/// turns `rotate` degrees clockwise on screen is drawn into `cell`: at its own size
/// when it fits, else shrunk to fit (turned a quarter when that shrinks it less),
/// centred either way.
pub fn place(bounds: [f64; 4], rotate: i64, cell: Cell) -> Matrix {
    let [x0, y0, x1, y1] = bounds;
    let (width, height) = ((x1 - x0).abs(), (y1 - y0).abs());
    let own_turns = u8::try_from(rotate.rem_euclid(360) / 90).unwrap_or(0);
    let fit = |turns: u8| {
        let (w, h) = if turns % 2 == 1 {
            (height, width)
        } else {
            (width, height)
        };
        if w <= 0.0 || h <= 0.0 {
            return 1.0;
        }
        (cell.width / w).min(cell.height / h).min(1.0)
    };
    // Turning is only worth it when the label does not fit as it is. A page the
    // carrier turned for the screen is turned back upright rather than further.
    let turned = if own_turns % 2 == 1 { 0 } else { own_turns + 1 };
    let turns = if fit(own_turns) < 1.0 && fit(turned) > fit(own_turns) {
        turned
    } else {
        own_turns
    };
    let factor = fit(turns);
    let (shown_width, shown_height) = if turns % 2 == 1 {
        (height * factor, width * factor)
    } else {
        (width * factor, height * factor)
    };
    Matrix::translate(-x0.min(x1), -y0.min(y1))
        .then(Matrix::turn(turns, width, height))
        .then(Matrix::scale(factor))
        .then(Matrix::translate(
            cell.x + (cell.width - shown_width) / 2.0,
            cell.y + (cell.height - shown_height) / 2.0,
        ))
}

/// Lays a PDF's pages out four to an A4 sheet (see the module's documentation).
///
/// # Errors
///
/// [`LabelError::Unreadable`] or [`LabelError::NoPages`] when the document cannot be
/// used (a content stream in a filter the reader cannot undo counts as unreadable);
/// [`LabelError::Write`] if the result cannot be serialised.
pub fn four_up_a4(pdf: &[u8]) -> Result<Vec<u8>, LabelError> {
    let mut document = load(0, pdf)?;
    let page_ids = pages(0, &document)?;
    let mut forms = Vec::with_capacity(page_ids.len());
    for (number, page_id) in page_ids.iter().enumerate() {
        forms.push(label_form(&mut document, *page_id, number)?);
    }

    let tree_id = document.new_object_id();
    let mut kids = Vec::new();
    for sheet in forms.chunks(4) {
        let mut xobjects = Dictionary::new();
        let mut content = Vec::new();
        for (index, ((form_id, matrix), cell)) in sheet.iter().zip(a4_quarters()).enumerate() {
            let name = format!("L{index}");
            xobjects.set(name.as_bytes(), Object::Reference(*form_id));
            let [a, b, c, d, e, f] = matrix.0;
            content.extend_from_slice(
                format!(
                    "q {} {} {} {} {} {} cm /{name} Do Q\n",
                    number(a),
                    number(b),
                    number(c),
                    number(d),
                    number(e + cell.x),
                    number(f + cell.y)
                )
                .as_bytes(),
            );
        }
        let content_id = document.add_object(compressed(Stream::new(Dictionary::new(), content)));
        let mut resources = Dictionary::new();
        resources.set("XObject", Object::Dictionary(xobjects));
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference(tree_id));
        page.set(
            "MediaBox",
            Object::Array(vec![
                0.into(),
                0.into(),
                Object::Real(A4.0 as f32),
                Object::Real(A4.1 as f32),
            ]),
        );
        page.set("Resources", Object::Dictionary(resources));
        page.set("Contents", Object::Reference(content_id));
        kids.push(Object::Reference(document.add_object(page)));
    }

    let count = i64::try_from(kids.len()).unwrap_or(i64::MAX);
    let mut tree = Dictionary::new();
    tree.set("Type", Object::Name(b"Pages".to_vec()));
    tree.set("Kids", Object::Array(kids));
    tree.set("Count", Object::Integer(count));
    document.objects.insert(tree_id, Object::Dictionary(tree));
    // A fresh catalog: the old one's outlines, destinations and forms point at pages
    // that no longer exist.
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(tree_id));
    let catalog_id = document.add_object(catalog);
    document.trailer.set("Root", Object::Reference(catalog_id));
    document.trailer.remove(b"Info");
    document.prune_objects();

    let mut out = Vec::new();
    document.save_to(&mut out).map_err(LabelError::Write)?;
    Ok(out)
}

/// Turns a page into a Form XObject, giving its id and where it goes in a cell at the
/// sheet's origin (the caller moves it to its quarter).
fn label_form(
    document: &mut Document,
    page_id: ObjectId,
    number: usize,
) -> Result<(ObjectId, Matrix), LabelError> {
    let unreadable = |message: String| LabelError::Unreadable {
        index: 0,
        message: format!("page {}: {message}", number + 1),
    };
    let page = document
        .get_dictionary(page_id)
        .map_err(|error| unreadable(error.to_string()))?
        .clone();
    let attribute = |key: &[u8]| {
        page.get(key)
            .ok()
            .filter(|value| !matches!(value, Object::Null))
            .cloned()
            .or_else(|| inherited_value(document, &page, key))
    };
    let bounds = attribute(b"CropBox")
        .or_else(|| attribute(b"MediaBox"))
        .and_then(|value| rectangle(document, &value))
        .ok_or_else(|| unreadable("has no readable MediaBox".into()))?;
    let rotate = attribute(b"Rotate")
        .and_then(|value| value.as_i64().ok())
        .unwrap_or(0);
    let resources = attribute(b"Resources").unwrap_or_else(|| Dictionary::new().into());

    let mut content = Vec::new();
    for stream_id in content_streams(&page) {
        let stream = document
            .get_object(stream_id)
            .and_then(Object::as_stream)
            .map_err(|error| unreadable(format!("content stream: {error}")))?;
        let bytes = stream
            .decompressed_content_with_limit(MAX_CONTENT)
            .map_err(|error| unreadable(format!("content stream: {error}")))?;
        content.extend_from_slice(&bytes);
        content.push(b'\n');
    }

    let mut form = Dictionary::new();
    form.set("Type", Object::Name(b"XObject".to_vec()));
    form.set("Subtype", Object::Name(b"Form".to_vec()));
    form.set(
        "BBox",
        Object::Array(
            bounds
                .iter()
                .map(|value| Object::Real(*value as f32))
                .collect(),
        ),
    );
    form.set("Resources", resources);
    let origin = Cell {
        x: 0.0,
        y: 0.0,
        width: A4.0 / 2.0,
        height: A4.1 / 2.0,
    };
    let matrix = place(bounds, rotate, origin);
    Ok((
        document.add_object(compressed(Stream::new(form, content))),
        matrix,
    ))
}

/// A new stream, deflated when that makes it smaller (a failure leaves it plain).
fn compressed(mut stream: Stream) -> Stream {
    let _ = stream.compress();
    stream
}

fn content_streams(page: &Dictionary) -> Vec<ObjectId> {
    match page.get(b"Contents") {
        Ok(Object::Reference(id)) => vec![*id],
        Ok(Object::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_reference().ok())
            .collect(),
        _ => Vec::new(),
    }
}

fn rectangle(document: &Document, value: &Object) -> Option<[f64; 4]> {
    let value = match value {
        Object::Reference(id) => document.get_object(*id).ok()?,
        other => other,
    };
    let items = value.as_array().ok()?;
    let mut numbers = items.iter().map(|item| {
        let item = match item {
            Object::Reference(id) => document.get_object(*id).ok()?,
            other => other,
        };
        item.as_float().ok().map(f64::from)
    });
    let rectangle = [
        numbers.next()??,
        numbers.next()??,
        numbers.next()??,
        numbers.next()??,
    ];
    let [x0, y0, x1, y1] = rectangle;
    Some([x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)])
}

/// A number for a content stream: four decimals, no exponent.
fn number(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}
