//! Document numbers: `2026-00042`, gapless per company, kind and year.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A document number: the year and the sequence number within it.
///
/// Written as the four-digit year, a dash and the sequence zero-padded to five digits
/// (`2026-00042`); sequences past 99999 take as many digits as they need
/// (`2026-123456`). Parsing accepts exactly that form, so every number has one spelling.
/// The storage keeps the counter; this type only formats, parses and steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentNumber {
    year: u16,
    seq: u32,
}

/// Why a document number is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentNumberError {
    /// The year has not four digits.
    #[error("year {0} is not a four-digit year")]
    YearOutOfRange(u16),
    /// Sequences start at 1.
    #[error("sequence numbers start at 1")]
    ZeroSequence,
    /// The year's sequence is used up.
    #[error("no sequence number left in {0}")]
    Exhausted(u16),
    /// Text that is not `YYYY-NNNNN`.
    #[error("{0:?} is not a document number like 2026-00042")]
    Malformed(String),
}

impl DocumentNumber {
    /// The number `seq` of `year`.
    pub fn new(year: u16, seq: u32) -> Result<Self, DocumentNumberError> {
        if !(1000..=9999).contains(&year) {
            return Err(DocumentNumberError::YearOutOfRange(year));
        }
        if seq == 0 {
            return Err(DocumentNumberError::ZeroSequence);
        }
        Ok(Self { year, seq })
    }

    /// The first number of `year`.
    pub fn first(year: u16) -> Result<Self, DocumentNumberError> {
        Self::new(year, 1)
    }

    /// The number after this one, in the same year.
    pub fn next(self) -> Result<Self, DocumentNumberError> {
        let seq = self
            .seq
            .checked_add(1)
            .ok_or(DocumentNumberError::Exhausted(self.year))?;
        Ok(Self { seq, ..self })
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The sequence number within the year, from 1.
    pub fn seq(self) -> u32 {
        self.seq
    }
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:05}", self.year, self.seq)
    }
}

impl FromStr for DocumentNumber {
    type Err = DocumentNumberError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || DocumentNumberError::Malformed(text.to_owned());
        let (year, seq) = text.split_once('-').ok_or_else(malformed)?;
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !all_digits(year) || seq.len() < 5 || !all_digits(seq) {
            return Err(malformed());
        }
        // Only as much zero padding as the format writes: one spelling per number.
        if seq.len() > 5 && seq.starts_with('0') {
            return Err(malformed());
        }
        let year: u16 = year.parse().map_err(|_| malformed())?;
        let seq: u32 = seq.parse().map_err(|_| malformed())?;
        Self::new(year, seq)
    }
}

impl Serialize for DocumentNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DocumentNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
