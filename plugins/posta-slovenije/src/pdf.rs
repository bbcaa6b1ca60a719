//! A small PDF writer for what this connector draws: pages of text in DejaVu Sans
//! (regular and bold), filled rectangles and lines.
//!
//! Text is real text: each font goes in as a CID font (`Identity-H`) holding only the
//! glyphs the document uses, with a `ToUnicode` map, so a reader (or `pdftotext`)
//! extracts "Čučkova ulica" as it was written. Characters the fonts do not have print
//! as `?`. Streams are deflated.

use std::collections::{BTreeMap, BTreeSet};

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use tovor_sdk::types::ConnectorError;
use ttf_parser::{Face, GlyphId};

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;

/// What a character no font has prints as.
const MISSING: char = '?';

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    Regular,
    Bold,
}

const WEIGHTS: [Weight; 2] = [Weight::Regular, Weight::Bold];

impl Weight {
    fn resource(self) -> Name<'static> {
        match self {
            Weight::Regular => Name(b"F1"),
            Weight::Bold => Name(b"F2"),
        }
    }

    fn postscript_name(self) -> &'static str {
        match self {
            Weight::Regular => "DejaVuSans",
            Weight::Bold => "DejaVuSans-Bold",
        }
    }
}

/// The two faces, parsed once per document: they measure text while pages are laid
/// out, and are subset when the document is written.
pub struct Fonts {
    regular: Face<'static>,
    bold: Face<'static>,
}

impl Fonts {
    pub fn load() -> Result<Self, ConnectorError> {
        let parse = |data: &'static [u8], name: &str| {
            Face::parse(data, 0).map_err(|error| {
                ConnectorError::other(format!("the embedded font {name} does not load: {error}"))
            })
        };
        Ok(Self {
            regular: parse(REGULAR, "DejaVu Sans")?,
            bold: parse(BOLD, "DejaVu Sans Bold")?,
        })
    }

    fn face(&self, weight: Weight) -> &Face<'static> {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    fn data(weight: Weight) -> &'static [u8] {
        match weight {
            Weight::Regular => REGULAR,
            Weight::Bold => BOLD,
        }
    }

    /// The glyph of `c`, or of [`MISSING`] when the font has none.
    fn glyph(&self, weight: Weight, c: char) -> (char, GlyphId) {
        let face = self.face(weight);
        match face.glyph_index(c) {
            Some(glyph) if !c.is_control() => (c, glyph),
            _ => (MISSING, face.glyph_index(MISSING).unwrap_or(GlyphId(0))),
        }
    }

    /// Advance of a glyph in thousandths of the font size.
    fn advance(&self, weight: Weight, glyph: GlyphId) -> f32 {
        let face = self.face(weight);
        let units = f32::from(face.units_per_em().max(1));
        f32::from(face.glyph_hor_advance(glyph).unwrap_or(0)) * 1000.0 / units
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, weight: Weight, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(weight, self.glyph(weight, c).1))
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// `text` cut to fit `width` at `size`, with `…` where it was cut.
    pub fn fit(&self, weight: Weight, text: &str, size: f32, width: f32) -> String {
        if self.width(weight, text, size) <= width {
            return text.to_owned();
        }
        let mut cut: String = text.to_owned();
        while !cut.is_empty() && self.width(weight, &format!("{cut}…"), size) > width {
            cut.pop();
        }
        format!("{}…", cut.trim_end())
    }

    /// `text` broken into at most `max_lines` lines of `width` at `size`, on spaces
    /// where it can; the last line is cut with `…` when the text does not fit.
    pub fn wrap(
        &self,
        weight: Weight,
        text: &str,
        size: f32,
        width: f32,
        max_lines: usize,
    ) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if self.width(weight, &candidate, size) <= width || current.is_empty() {
                current = candidate;
            } else {
                lines.push(std::mem::take(&mut current));
                current = word.to_owned();
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        if lines.len() > max_lines {
            let rest = lines.split_off(max_lines.saturating_sub(1)).join(" ");
            lines.push(rest);
        }
        lines
            .into_iter()
            .map(|line| self.fit(weight, &line, size, width))
            .collect()
    }
}

/// One thing drawn on a page, in points from the page's lower left corner.
#[derive(Debug, Clone)]
enum Item {
    Text {
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        gray: f32,
        text: String,
    },
    Fill {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        gray: f32,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
    },
}

/// A page being drawn.
#[derive(Debug, Clone)]
pub struct Page {
    width: f32,
    height: f32,
    items: Vec<Item>,
}

impl Page {
    /// A blank page of `width` × `height` points.
    pub fn new(width: f32, height: f32) -> Self {
        Self {
            width,
            height,
            items: Vec::new(),
        }
    }

    pub fn width(&self) -> f32 {
        self.width
    }

    pub fn height(&self) -> f32 {
        self.height
    }

    /// Black text whose baseline starts at (`x`, `y`).
    pub fn text(&mut self, x: f32, y: f32, size: f32, weight: Weight, text: &str) {
        self.gray_text(x, y, size, weight, 0.0, text);
    }

    /// Text in a gray from 0 (black) to 1 (white).
    pub fn gray_text(&mut self, x: f32, y: f32, size: f32, weight: Weight, gray: f32, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        self.items.push(Item::Text {
            x,
            y,
            size,
            weight,
            gray,
            text: text.to_owned(),
        });
    }

    /// A black rectangle.
    pub fn fill(&mut self, x: f32, y: f32, width: f32, height: f32) {
        self.items.push(Item::Fill {
            x,
            y,
            width,
            height,
            gray: 0.0,
        });
    }

    /// A black line.
    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32) {
        self.items.push(Item::Line { from, to, width });
    }

    /// Everything on `other` drawn onto this page, moved by (`dx`, `dy`): an A6 label
    /// placed on an A4 sheet.
    pub fn place(&mut self, other: &Page, dx: f32, dy: f32) {
        for item in &other.items {
            let moved = match item.clone() {
                Item::Text {
                    x,
                    y,
                    size,
                    weight,
                    gray,
                    text,
                } => Item::Text {
                    x: x + dx,
                    y: y + dy,
                    size,
                    weight,
                    gray,
                    text,
                },
                Item::Fill {
                    x,
                    y,
                    width,
                    height,
                    gray,
                } => Item::Fill {
                    x: x + dx,
                    y: y + dy,
                    width,
                    height,
                    gray,
                },
                Item::Line { from, to, width } => Item::Line {
                    from: (from.0 + dx, from.1 + dy),
                    to: (to.0 + dx, to.1 + dy),
                    width,
                },
            };
            self.items.push(moved);
        }
    }
}

/// A font as the document uses it: the characters it shows and their new glyph ids.
struct UsedFont {
    weight: Weight,
    /// Character → glyph id in the subset (the CID, as the subset maps CIDs to glyphs
    /// one to one).
    cids: BTreeMap<char, u16>,
    subset: Vec<u8>,
    /// Advances by CID, thousandths of the font size.
    widths: Vec<f32>,
}

impl UsedFont {
    fn build(
        fonts: &Fonts,
        weight: Weight,
        chars: &BTreeSet<char>,
    ) -> Result<Self, ConnectorError> {
        let mut remapper = subsetter::GlyphRemapper::new();
        let mut cids = BTreeMap::new();
        for c in chars {
            let (shown, glyph) = fonts.glyph(weight, *c);
            if shown == *c {
                cids.insert(*c, remapper.remap(glyph.0));
            }
        }
        let (_, missing) = fonts.glyph(weight, MISSING);
        cids.insert(MISSING, remapper.remap(missing.0));
        let widths = remapper
            .remapped_gids()
            .map(|old| fonts.advance(weight, GlyphId(old)))
            .collect();
        let subset = subsetter::subset(Fonts::data(weight), 0, &remapper).map_err(|error| {
            ConnectorError::other(format!(
                "cannot subset the embedded font {}: {error}",
                weight.postscript_name()
            ))
        })?;
        Ok(Self {
            weight,
            cids,
            subset,
            widths,
        })
    }

    /// The two-byte CIDs of `text`.
    fn encode(&self, text: &str) -> Vec<u8> {
        let missing = self.cids.get(&MISSING).copied().unwrap_or(0);
        text.chars()
            .flat_map(|c| self.cids.get(&c).copied().unwrap_or(missing).to_be_bytes())
            .collect()
    }

    /// A subset tag (six capital letters) that names this glyph set.
    fn tag(&self) -> String {
        let mut hash: u32 = 2_166_136_261;
        for (c, cid) in &self.cids {
            for byte in (*c as u32)
                .to_le_bytes()
                .into_iter()
                .chain(cid.to_le_bytes())
            {
                hash = (hash ^ u32::from(byte)).wrapping_mul(16_777_619);
            }
        }
        (0..6)
            .map(|i| char::from(b'A' + ((hash >> (i * 5)) % 26) as u8))
            .collect()
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// Writes `pages` as one PDF titled `title`.
pub fn write(fonts: &Fonts, pages: &[Page], title: &str) -> Result<Vec<u8>, ConnectorError> {
    let mut used_chars: BTreeMap<Weight, BTreeSet<char>> = BTreeMap::new();
    for page in pages {
        for item in &page.items {
            if let Item::Text { weight, text, .. } = item {
                used_chars.entry(*weight).or_default().extend(text.chars());
            }
        }
    }
    let used: Vec<UsedFont> = WEIGHTS
        .iter()
        .filter_map(|weight| used_chars.get(weight).map(|chars| (*weight, chars)))
        .map(|(weight, chars)| UsedFont::build(fonts, weight, chars))
        .collect::<Result<_, _>>()?;

    let mut next = 1;
    let mut alloc = || {
        let id = Ref::new(next);
        next += 1;
        id
    };
    let catalog_id = alloc();
    let tree_id = alloc();
    let info_id = alloc();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();
    // Per font: Type0, CIDFont, descriptor, font file, ToUnicode.
    let font_ids: Vec<[Ref; 5]> = used
        .iter()
        .map(|_| [alloc(), alloc(), alloc(), alloc(), alloc()])
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.document_info(info_id)
        .title(pdf_writer::TextStr(title))
        .producer(pdf_writer::TextStr("tovor posta-slovenije connector"));
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));

    for (page, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut writer = pdf.page(*page_id);
        writer
            .media_box(Rect::new(0.0, 0.0, page.width, page.height))
            .parent(tree_id)
            .contents(*content_id);
        let mut resources = writer.resources();
        let mut font_dict = resources.fonts();
        for (font, ids) in used.iter().zip(&font_ids) {
            font_dict.pair(font.weight.resource(), ids[0]);
        }
        font_dict.finish();
        resources.finish();
        writer.finish();

        let content = draw(page, &used);
        pdf.stream(*content_id, &deflate(&content))
            .filter(Filter::FlateDecode);
    }

    for (font, [type0_id, cid_id, descriptor_id, file_id, cmap_id]) in used.iter().zip(&font_ids) {
        let base = format!("{}+{}", font.tag(), font.weight.postscript_name());
        let base = Name(base.as_bytes());
        pdf.type0_font(*type0_id)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(*cid_id)
            .to_unicode(*cmap_id);
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        let mut cid = pdf.cid_font(*cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(system_info)
            .font_descriptor(*descriptor_id)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, font.widths.iter().copied());
        cid.finish();

        let face = fonts.face(font.weight);
        let units = f32::from(face.units_per_em().max(1));
        let scale = |value: i16| f32::from(value) * 1000.0 / units;
        let bbox = face.global_bounding_box();
        pdf.font_descriptor(*descriptor_id)
            .name(base)
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                scale(bbox.x_min),
                scale(bbox.y_min),
                scale(bbox.x_max),
                scale(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(scale(face.ascender()))
            .descent(scale(face.descender()))
            .cap_height(scale(face.capital_height().unwrap_or(face.ascender())))
            .stem_v(if font.weight == Weight::Bold {
                140.0
            } else {
                80.0
            })
            .font_file2(*file_id);
        pdf.stream(*file_id, &deflate(&font.subset))
            .filter(Filter::FlateDecode)
            .pair(
                Name(b"Length1"),
                i32::try_from(font.subset.len()).unwrap_or(i32::MAX),
            );

        let mut cmap = UnicodeCmap::new(
            Name(b"Custom"),
            SystemInfo {
                registry: Str(b"Adobe"),
                ordering: Str(b"UCS"),
                supplement: 0,
            },
        );
        for (c, cid) in &font.cids {
            cmap.pair(*cid, *c);
        }
        pdf.cmap(*cmap_id, &cmap.finish());
    }
    Ok(pdf.finish())
}

/// The content stream of one page.
fn draw(page: &Page, used: &[UsedFont]) -> Vec<u8> {
    let mut content = Content::new();
    for item in &page.items {
        match item {
            Item::Fill {
                x,
                y,
                width,
                height,
                gray,
            } => {
                content
                    .set_fill_gray(*gray)
                    .rect(*x, *y, *width, *height)
                    .fill_nonzero();
            }
            Item::Line { from, to, width } => {
                content
                    .set_stroke_gray(0.0)
                    .set_line_width(*width)
                    .move_to(from.0, from.1)
                    .line_to(to.0, to.1)
                    .stroke();
            }
            Item::Text {
                x,
                y,
                size,
                weight,
                gray,
                text,
            } => {
                let Some(font) = used.iter().find(|font| font.weight == *weight) else {
                    continue;
                };
                content
                    .set_fill_gray(*gray)
                    .begin_text()
                    .set_font(weight.resource(), *size)
                    .set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, *y])
                    .show(Str(&font.encode(text)))
                    .end_text();
            }
        }
    }
    content.finish().into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_and_wraps_text() {
        let fonts = Fonts::load().unwrap();
        let narrow = fonts.width(Weight::Regular, "iii", 10.0);
        let wide = fonts.width(Weight::Regular, "WWW", 10.0);
        assert!(narrow > 0.0 && wide > narrow * 2.0);
        assert!(
            fonts.width(Weight::Bold, "Čučkova", 10.0)
                > fonts.width(Weight::Regular, "Čučkova", 10.0)
        );
        let fitted = fonts.fit(Weight::Regular, "Slovenska cesta 12a, Maribor", 10.0, 60.0);
        assert!(fitted.ends_with('…'), "{fitted}");
        assert!(fonts.width(Weight::Regular, &fitted, 10.0) <= 60.0);
        let lines = fonts.wrap(
            Weight::Regular,
            "ena dva tri štiri pet šest sedem",
            10.0,
            50.0,
            2,
        );
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'));
    }

    #[test]
    fn writes_a_pdf_with_subset_fonts() {
        let fonts = Fonts::load().unwrap();
        let mut page = Page::new(100.0, 100.0);
        page.text(10.0, 50.0, 10.0, Weight::Regular, "Čučkova ulica ✈");
        page.text(10.0, 30.0, 10.0, Weight::Bold, "Đurđa");
        page.fill(0.0, 0.0, 5.0, 5.0);
        let pdf = write(&fonts, &[page.clone(), page], "test").unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(
            text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count(),
            2,
            "two pages"
        );
        assert!(text.contains("+DejaVuSans-Bold"));
        // Subsets, not whole fonts.
        assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
    }
}
