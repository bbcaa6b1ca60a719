//! UPU S10 item numbers (`RA123456785SI`): two service indicator letters, an eight-digit
//! serial, a check digit and the issuing country, here always `SI`.
//!
//! Pošta Slovenije gives a contract customer a range of serials; the shipper numbers its
//! items itself ([`allocate`]) and prints the number as the label's barcode. The numbers
//! are handed out from the connector's state with a compare-and-swap, so concurrent
//! create calls never get the same one.

use std::fmt;

use tovor_sdk::state;
use tovor_sdk::types::ConnectorError;

/// The weights of the eight serial digits, left to right.
pub const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];

/// The largest serial: eight digits.
pub const MAX_SERIAL: u32 = 99_999_999;

/// The only issuing country this connector numbers for.
pub const COUNTRY: &str = "SI";

/// The config fields holding the ends of the contract's range.
pub const FIRST_FIELD: &str = "first_number";
pub const LAST_FIELD: &str = "last_number";

/// The S10 check digit of an eight-digit serial: 11 − (Σ dᵢ·wᵢ mod 11), where 10 becomes
/// 0 and 11 becomes 5.
pub fn check_digit(serial: u32) -> u8 {
    let mut rest = serial % (MAX_SERIAL + 1);
    let mut sum = 0;
    for weight in WEIGHTS.iter().rev() {
        sum += (rest % 10) * weight;
        rest /= 10;
    }
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        digit => digit as u8,
    }
}

/// One S10 number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct S10 {
    prefix: [u8; 2],
    serial: u32,
}

impl S10 {
    /// The number with service indicator `prefix` and `serial`, issued in Slovenia.
    pub fn new(prefix: [u8; 2], serial: u32) -> Self {
        Self {
            prefix,
            serial: serial.min(MAX_SERIAL),
        }
    }

    /// Reads a full S10 number (`RA123456785SI`, spaces allowed): the check digit must
    /// be right and the country `SI`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match parse_parts(text)? {
            Parts {
                prefix,
                serial,
                check: Some(check),
            } => {
                let expected = check_digit(serial);
                if check == expected {
                    Ok(Self { prefix, serial })
                } else {
                    Err(format!(
                        "{text:?} has the check digit {check}, but the serial {serial:08} needs \
                         {expected}"
                    ))
                }
            }
            Parts { check: None, .. } => Err(format!(
                "{text:?} is not an S10 number: two letters, eight digits, the check digit \
                 and SI"
            )),
        }
    }

    pub fn prefix(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.prefix).unwrap_or("??")
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    pub fn check_digit(&self) -> u8 {
        check_digit(self.serial)
    }

    /// The number as people read it on Pošta's labels: `RA 1234 5678 5 SI`.
    pub fn spaced(&self) -> String {
        let digits = format!("{:08}", self.serial);
        format!(
            "{} {} {} {} {COUNTRY}",
            self.prefix(),
            &digits[..4],
            &digits[4..],
            self.check_digit()
        )
    }
}

impl fmt::Display for S10 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{:08}{}{COUNTRY}",
            self.prefix(),
            self.serial,
            self.check_digit()
        )
    }
}

/// What a range end or number says, before its check digit is checked.
struct Parts {
    prefix: [u8; 2],
    serial: u32,
    check: Option<u8>,
}

/// Two letters, eight digits, an optional check digit, `SI`; blanks ignored.
fn parse_parts(text: &str) -> Result<Parts, String> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = compact.as_bytes();
    if !(12..=13).contains(&bytes.len()) {
        return Err(format!(
            "{text:?} is not an S10 number: two letters, eight digits, the check digit and SI \
             (13 characters)"
        ));
    }
    let prefix = [bytes[0], bytes[1]];
    if !prefix.iter().all(u8::is_ascii_uppercase) {
        return Err(format!(
            "{text:?} does not start with two letters (the service indicator, such as RA)"
        ));
    }
    // JA–KZ are reserved by the S10 standard and never issued.
    if matches!(prefix[0], b'J' | b'K') {
        return Err(format!(
            "{text:?}: the service indicators JA to KZ are reserved by the UPU S10 standard"
        ));
    }
    let country = &compact[bytes.len() - 2..];
    if country != COUNTRY {
        return Err(format!(
            "{text:?} ends in {country:?}: Pošta Slovenije's numbers end in {COUNTRY}"
        ));
    }
    let digits = &compact[2..bytes.len() - 2];
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{text:?} must have digits between the letters and {COUNTRY}"
        ));
    }
    let serial: u32 = digits[..8]
        .parse()
        .map_err(|_| format!("{text:?} has no eight-digit serial"))?;
    let check = digits.as_bytes().get(8).map(|digit| digit - b'0');
    Ok(Parts {
        prefix,
        serial,
        check,
    })
}

/// The contract's range of numbers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    prefix: [u8; 2],
    first: u32,
    last: u32,
}

impl Range {
    /// The range between two ends, each a full S10 number (`RA000000005SI`, its check
    /// digit checked) or one without its check digit (`RA00000000SI`), as Pošta's
    /// contract may list the serials alone.
    pub fn parse(first: &str, last: &str) -> Result<Self, ConnectorError> {
        let end = |text: &str, field: &str| -> Result<Parts, ConnectorError> {
            let parts = parse_parts(text).map_err(|message| range_error(field, message))?;
            if let Some(check) = parts.check {
                let expected = check_digit(parts.serial);
                if check != expected {
                    let prefix = std::str::from_utf8(&parts.prefix).unwrap_or("??");
                    return Err(range_error(
                        field,
                        format!(
                            "{text:?} has the check digit {check}, but the serial {:08} needs \
                             {expected} ({prefix}{:08}{expected}{COUNTRY}); enter the number \
                             with its right check digit, or without one ({prefix}{:08}{COUNTRY})",
                            parts.serial, parts.serial, parts.serial
                        ),
                    ));
                }
            }
            Ok(parts)
        };
        let low = end(first, FIRST_FIELD)?;
        let high = end(last, LAST_FIELD)?;
        if low.prefix != high.prefix {
            return Err(range_error(
                LAST_FIELD,
                format!("the range's ends {first:?} and {last:?} have different letters"),
            ));
        }
        if low.serial > high.serial {
            return Err(range_error(
                LAST_FIELD,
                format!("the range ends at {last:?}, before it starts at {first:?}"),
            ));
        }
        Ok(Self {
            prefix: low.prefix,
            first: low.serial,
            last: high.serial,
        })
    }

    pub fn prefix(&self) -> [u8; 2] {
        self.prefix
    }

    pub fn first(&self) -> S10 {
        S10::new(self.prefix, self.first)
    }

    pub fn last(&self) -> S10 {
        S10::new(self.prefix, self.last)
    }

    /// Whether `number` is one of the range's.
    pub fn contains(&self, number: &S10) -> bool {
        number.prefix == self.prefix && (self.first..=self.last).contains(&number.serial)
    }

    /// The state key of the range's next free serial. A new range (another contract
    /// range entered in the settings) starts from its first number; the same range
    /// entered again continues where it stopped.
    pub fn state_key(&self) -> String {
        format!(
            "s10-next:{}{:08}-{:08}",
            self.first().prefix(),
            self.first,
            self.last
        )
    }

    fn exhausted(&self) -> ConnectorError {
        range_error(
            LAST_FIELD,
            format!(
                "the S10 number range {} to {} is used up: ask Pošta Slovenije for a new \
                 range and enter it in the settings",
                self.first(),
                self.last()
            ),
        )
    }
}

fn range_error(field: &str, message: String) -> ConnectorError {
    ConnectorError::invalid_field(field, message)
}

/// Takes up to `count` numbers, the next ones of `range`, in one atomic step of the
/// connector's state: of concurrent calls each gets its own numbers. Fewer than `count`
/// come back when the range ends; none, with an error naming the range, when it has
/// ended already.
pub fn allocate(range: &Range, count: u32) -> Result<Vec<S10>, ConnectorError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let key = range.state_key();
    let (start, taken) = state::update(&key, |current| {
        let next = match current {
            None => range.first,
            Some(bytes) => std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| text.trim().parse::<u32>().ok())
                .ok_or_else(|| {
                    ConnectorError::other(format!(
                        "the connector's counter {key:?} does not hold a serial number"
                    ))
                })?,
        };
        if next > range.last {
            return Err(range.exhausted());
        }
        let taken = count.min(range.last - next + 1);
        let after = u64::from(next) + u64::from(taken);
        Ok((after.to_string().into_bytes(), (next, taken)))
    })?;
    Ok((start..start + taken)
        .map(|serial| S10::new(range.prefix, serial))
        .collect())
}

/// The error for the numbers a batch could not get because the range ended.
pub fn exhausted(range: &Range) -> ConnectorError {
    range.exhausted()
}

/// Whether `number` was handed out already from its range (its serial is below the
/// range's next free one). `false` for a number of another range.
pub fn was_allocated(range: &Range, number: &S10) -> Result<bool, ConnectorError> {
    if !range.contains(number) {
        return Ok(false);
    }
    let next = state::get_text(&range.state_key())?
        .and_then(|text| text.trim().parse::<u32>().ok())
        .unwrap_or(range.first);
    Ok(number.serial < next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tovor_sdk::types::ErrorKind;

    #[test]
    fn check_digits_of_known_numbers() {
        // The worked example of the S10 standard: 47312482 → 9.
        assert_eq!(check_digit(47_312_482), 9);
        // RR 287043775 IN, a registered letter from India.
        assert_eq!(check_digit(28_704_377), 5);
        // Pošta Slovenije's example number.
        assert_eq!(check_digit(12_345_678), 5);
        // 11 − 0 = 11 → 5, and a sum with remainder 1 → 10 → 0.
        assert_eq!(check_digit(0), 5);
        assert_eq!(check_digit(8), 0);
        assert_eq!(check_digit(1), 4);
        assert_eq!(check_digit(2), 8);
        assert_eq!(
            S10::parse("RA123456785SI").map(|n| n.serial()),
            Ok(12_345_678)
        );
        assert_eq!(
            S10::parse("rr 2870 4377 5 si").map(|n| n.prefix().to_owned()),
            Ok("RR".into())
        );
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        // Property: changing one digit of the serial always changes the weighted sum
        // modulo 11 (the weights are units modulo 11), so the check digit changes too,
        // except where the rule folds 11 into 5.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2_000 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let serial = ((seed >> 33) % u64::from(MAX_SERIAL + 1)) as u32;
            let digit = check_digit(serial);
            assert!(digit <= 9);
            let text = format!("{serial:08}");
            for position in 0..8 {
                for replacement in b'0'..=b'9' {
                    let mut changed = text.clone().into_bytes();
                    if changed[position] == replacement {
                        continue;
                    }
                    changed[position] = replacement;
                    let other: u32 = String::from_utf8(changed).unwrap().parse().unwrap();
                    let sum = |s: u32| {
                        format!("{s:08}")
                            .bytes()
                            .zip(WEIGHTS)
                            .map(|(d, w)| u32::from(d - b'0') * w)
                            .sum::<u32>()
                            % 11
                    };
                    assert_ne!(sum(serial), sum(other), "{serial:08} and {other:08}");
                    // Equal check digits only where the rule folds 11 into 5.
                    if check_digit(other) == digit {
                        assert!(
                            matches!((sum(serial), sum(other)), (0, 6) | (6, 0)),
                            "{serial:08} and {other:08}"
                        );
                    }
                }
            }
            // Display and parse agree.
            let number = S10::new(*b"CP", serial);
            assert_eq!(S10::parse(&number.to_string()), Ok(number));
            assert_eq!(S10::parse(&number.spaced()), Ok(number));
        }
    }

    #[test]
    fn numbers_are_refused_with_the_reason() {
        assert!(S10::parse("RA123456784SI").unwrap_err().contains("needs 5"));
        assert!(S10::parse("RA123456785AT").unwrap_err().contains("SI"));
        assert!(S10::parse("R1123456785SI").is_err());
        assert!(
            S10::parse("JA123456785SI")
                .unwrap_err()
                .contains("reserved")
        );
        assert!(S10::parse("RA12345678SI").is_err(), "no check digit");
        assert!(S10::parse("RA1234567X5SI").is_err());
    }

    #[test]
    fn ranges_take_ends_with_or_without_check_digit() {
        let range = Range::parse("RA000000005SI", "RA00099999SI").unwrap();
        assert_eq!(range.first().to_string(), "RA000000005SI");
        assert_eq!(range.last().to_string(), "RA000999998SI");
        assert!(range.contains(&S10::parse("RA000000014SI").unwrap()));
        assert!(!range.contains(&S10::parse("RB000000014SI").unwrap()));

        let wrong = Range::parse("RA000000001SI", "RA000099999SI").unwrap_err();
        assert_eq!(wrong.kind, ErrorKind::InvalidInput);
        assert_eq!(wrong.field.as_deref(), Some(FIRST_FIELD));
        assert!(wrong.message.contains("RA000000005SI"), "{}", wrong.message);
        let mixed = Range::parse("RA00000000SI", "RB00000099SI").unwrap_err();
        assert_eq!(mixed.field.as_deref(), Some(LAST_FIELD));
        let backwards = Range::parse("RA00000099SI", "RA00000010SI").unwrap_err();
        assert!(backwards.message.contains("before"));
        let foreign = Range::parse("RA00000000AT", "RA00000010AT").unwrap_err();
        assert_eq!(foreign.field.as_deref(), Some(FIRST_FIELD));
    }

    #[test]
    fn numbers_are_taken_in_order_until_the_range_ends() {
        let range = Range::parse("CP00000100SI", "CP00000104SI").unwrap();
        let first = allocate(&range, 2).unwrap();
        assert_eq!(
            first.iter().map(S10::serial).collect::<Vec<_>>(),
            [100, 101]
        );
        assert!(was_allocated(&range, &first[1]).unwrap());
        assert!(!was_allocated(&range, &S10::new(*b"CP", 102)).unwrap());
        let rest = allocate(&range, 5).unwrap();
        assert_eq!(
            rest.iter().map(S10::serial).collect::<Vec<_>>(),
            [102, 103, 104],
            "what is left of the range"
        );
        let used_up = allocate(&range, 1).unwrap_err();
        assert_eq!(used_up.kind, ErrorKind::InvalidInput);
        assert_eq!(used_up.field.as_deref(), Some(LAST_FIELD));
        assert!(used_up.message.contains("used up"), "{}", used_up.message);
        assert!(allocate(&range, 0).unwrap().is_empty());
        // Another range has its own counter.
        let other = Range::parse("CP00000200SI", "CP00000300SI").unwrap();
        assert_eq!(allocate(&other, 1).unwrap()[0].serial(), 200);
    }
}
