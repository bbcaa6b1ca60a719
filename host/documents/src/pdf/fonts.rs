//! The two embedded fonts, for krilla to draw with and for the layout to measure.

use std::sync::LazyLock;

use krilla::text::Font;

const REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// One font: krilla's handle (embedding) and its metrics (measuring).
pub(crate) struct Face {
    pub font: Font,
    metrics: ttf_parser::Face<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(data: &'static [u8]) -> Option<Self> {
        let metrics = ttf_parser::Face::parse(data, 0).ok()?;
        let units_per_em = f32::from(metrics.units_per_em());
        let font = Font::new(data.into(), 0)?;
        Some(Self {
            font,
            metrics,
            units_per_em,
        })
    }

    /// The width of `text` at `size` points. The fonts have no kerning or ligatures
    /// (see fonts/README.md), so this is the sum of the glyphs' advances, which is what
    /// krilla's shaping draws.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| {
                let glyph = self
                    .metrics
                    .glyph_index(c)
                    .unwrap_or(ttf_parser::GlyphId(0));
                u32::from(self.metrics.glyph_hor_advance(glyph).unwrap_or(0))
            })
            .sum();
        units as f32 * size / self.units_per_em
    }
}

/// Regular and bold DejaVu Sans.
pub(crate) struct Fonts {
    pub regular: Face,
    pub bold: Face,
}

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    Some(Fonts {
        regular: Face::load(REGULAR)?,
        bold: Face::load(BOLD)?,
    })
});

/// The fonts, parsed once per process; `None` only if the compiled-in files were broken.
pub(crate) fn fonts() -> Option<&'static Fonts> {
    FONTS.as_ref()
}

impl Fonts {
    /// The face of a weight.
    pub fn face(&self, bold: bool) -> &Face {
        if bold { &self.bold } else { &self.regular }
    }
}

/// `text` broken into lines no wider than `width`: at spaces where it can, inside a
/// word that is wider than a line by itself. Line breaks in `text` are kept.
pub(crate) fn wrap(face: &Face, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if face.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if face.width(word, size) <= width {
                line = word.to_owned();
                continue;
            }
            for c in word.chars() {
                let mut longer = line.clone();
                longer.push(c);
                if !line.is_empty() && face.width(&longer, size) > width {
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                } else {
                    line = longer;
                }
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_and_wraps() {
        let fonts = fonts().unwrap();
        let narrow = fonts.regular.width("iiii", 10.0);
        let wide = fonts.regular.width("WWWW", 10.0);
        assert!(narrow > 0.0 && wide > narrow * 2.0);
        assert!(fonts.bold.width("Račun", 10.0) > fonts.regular.width("Račun", 10.0));
        assert!(fonts.regular.width("čšž", 10.0) > 0.0);

        let lines = wrap(
            &fonts.regular,
            "Ročno izdelana lesena žlica iz češnjevega lesa",
            8.0,
            80.0,
        );
        assert!(lines.len() > 1);
        assert!(
            lines
                .iter()
                .all(|line| fonts.regular.width(line, 8.0) <= 80.0)
        );
        assert_eq!(
            lines.join(" "),
            "Ročno izdelana lesena žlica iz češnjevega lesa"
        );

        let long_word = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let lines = wrap(&fonts.regular, long_word, 8.0, 40.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.concat(), long_word);

        assert_eq!(
            wrap(&fonts.regular, "one\ntwo", 8.0, 200.0),
            vec!["one", "two"]
        );
        assert_eq!(wrap(&fonts.regular, "", 8.0, 200.0), vec![String::new()]);
    }
}
