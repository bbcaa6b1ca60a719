//! What the connector remembers between calls, in its state:
//!
//! - which numbers went to Pošta in a hand-over, so a cancel can tell a shipment still
//!   on the shelf (cancelled by simply never handing its number over) from one Pošta
//!   has (which cannot be cancelled). Kept per service indicator as ranges of serials
//!   (`12-40,42-90`): numbers are handed out in order and handed over by the day, so a
//!   few ranges cover months;
//! - the GUID of a submission whose answer was lost, so the same hand-over asked again
//!   checks that submission's status instead of sending the data twice.

use tovor_sdk::state;
use tovor_sdk::types::ConnectorError;

use crate::s10::S10;

/// The most ranges kept per service indicator; beyond, the oldest are forgotten (a
/// cancel of such an old number is then taken as one never handed over).
const MAX_RANGES: usize = 2_000;

fn handed_key(number: &S10) -> String {
    format!("handed-over:{}SI", number.prefix())
}

/// `lo-hi,lo-hi`, ascending, not touching.
fn parse_ranges(text: &str) -> Vec<(u32, u32)> {
    text.split(',')
        .filter_map(|part| {
            let (low, high) = part.trim().split_once('-')?;
            Some((low.parse().ok()?, high.parse().ok()?))
        })
        .collect()
}

fn format_ranges(ranges: &[(u32, u32)]) -> String {
    ranges
        .iter()
        .map(|(low, high)| format!("{low}-{high}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `ranges` with `serials` added, merged and sorted.
fn merge(ranges: &[(u32, u32)], serials: &[u32]) -> Vec<(u32, u32)> {
    let mut all: Vec<(u32, u32)> = ranges.to_vec();
    all.extend(serials.iter().map(|serial| (*serial, *serial)));
    all.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(all.len());
    for (low, high) in all {
        match merged.last_mut() {
            Some(last) if u64::from(low) <= u64::from(last.1) + 1 => last.1 = last.1.max(high),
            _ => merged.push((low, high)),
        }
    }
    if merged.len() > MAX_RANGES {
        merged.drain(..merged.len() - MAX_RANGES);
    }
    merged
}

/// Remembers that `numbers` were handed over.
pub fn record_handed_over(numbers: &[S10]) -> Result<(), ConnectorError> {
    let mut by_key: Vec<(String, Vec<u32>)> = Vec::new();
    for number in numbers {
        let key = handed_key(number);
        match by_key.iter_mut().find(|(known, _)| *known == key) {
            Some((_, serials)) => serials.push(number.serial()),
            None => by_key.push((key, vec![number.serial()])),
        }
    }
    for (key, serials) in by_key {
        state::update(&key, |current| {
            let ranges = current
                .map(|bytes| parse_ranges(&String::from_utf8_lossy(bytes)))
                .unwrap_or_default();
            Ok((format_ranges(&merge(&ranges, &serials)).into_bytes(), ()))
        })?;
    }
    Ok(())
}

/// Whether `number` was handed over.
pub fn was_handed_over(number: &S10) -> Result<bool, ConnectorError> {
    let ranges = state::get_text(&handed_key(number))?
        .map(|text| parse_ranges(&text))
        .unwrap_or_default();
    let serial = number.serial();
    Ok(ranges
        .iter()
        .any(|(low, high)| (*low..=*high).contains(&serial)))
}

/// The key under which a hand-over's submission waits for its outcome: the date and
/// the numbers it hands over.
pub fn submission_key(date: &str, numbers: &[S10]) -> String {
    let mut sorted: Vec<String> = numbers.iter().map(S10::to_string).collect();
    sorted.sort_unstable();
    // FNV-1a: stable across builds, unlike the standard library's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in sorted.join(",").bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("submission:{date}:{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge() {
        assert_eq!(merge(&[], &[5, 3, 4, 9]), [(3, 5), (9, 9)]);
        assert_eq!(merge(&[(3, 5), (9, 9)], &[6, 7, 8]), [(3, 9)]);
        assert_eq!(merge(&[(1, 2)], &[1]), [(1, 2)]);
        assert_eq!(
            parse_ranges(&format_ranges(&[(1, 2), (7, 7)])),
            [(1, 2), (7, 7)]
        );
        let many: Vec<u32> = (0..(MAX_RANGES as u32 + 10)).map(|i| i * 2).collect();
        let kept = merge(&[], &many);
        assert_eq!(kept.len(), MAX_RANGES);
        assert_eq!(kept[0], (20, 20), "the oldest are forgotten");
    }

    #[test]
    fn handed_over_numbers_are_remembered() {
        let number = |serial| S10::new(*b"RA", serial);
        record_handed_over(&[number(10), number(11), S10::new(*b"CP", 10)]).unwrap();
        assert!(was_handed_over(&number(10)).unwrap());
        assert!(was_handed_over(&S10::new(*b"CP", 10)).unwrap());
        assert!(!was_handed_over(&number(12)).unwrap());
        record_handed_over(&[number(12)]).unwrap();
        assert_eq!(
            state::get_text("handed-over:RASI").unwrap().as_deref(),
            Some("10-12")
        );
    }

    #[test]
    fn submissions_are_keyed_by_date_and_numbers() {
        let a = S10::new(*b"RA", 1);
        let b = S10::new(*b"RA", 2);
        assert_eq!(
            submission_key("2026-12-03", &[a, b]),
            submission_key("2026-12-03", &[b, a])
        );
        assert_ne!(
            submission_key("2026-12-03", &[a]),
            submission_key("2026-12-03", &[a, b])
        );
        assert!(submission_key("2026-12-03", &[a]).len() < 60);
    }
}
