//! Code lists both formats share: the VAT category of a line (UNCL 5305 as restricted
//! by EN 16931), the member states of the EU for VAT, and the Peppol electronic address
//! scheme (EAS) that a VAT identifier can be an address in.

use rust_decimal::Decimal;

/// The VAT category of a line or of a VAT breakdown (BT-151, BT-118): the EN 16931
/// subset of UNCL 5305 that a shop's invoices need.
///
/// The model carries a rate per line but no exemption reason, so a 0 % rate is read
/// from where the goods go (see [`vat_category`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VatCategory {
    /// `S`, standard rate: any rate above zero (22 % and the reduced 9.5 % and 5 % in
    /// Slovenia alike; EN 16931 has one category for all positive rates, told apart by
    /// the rate).
    Standard,
    /// `Z`, zero rated goods: a 0 % line that is neither an intra-community supply nor
    /// an export. It needs no exemption reason (BR-Z-10 even forbids one), which suits
    /// a model that has none.
    ZeroRated,
    /// `K`, intra-community supply (VAT directive art. 138; ZDDV-1 art. 46): 0 % to a
    /// buyer with a VAT identifier in another member state. Reason code `VATEX-EU-IC`.
    IntraCommunity,
    /// `G`, export outside the EU (VAT directive art. 146; ZDDV-1 art. 52): 0 % to a
    /// buyer outside the EU. Reason code `VATEX-EU-G`.
    Export,
}

impl VatCategory {
    /// The UNCL 5305 code (`S`, `Z`, `K`, `G`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Standard => "S",
            Self::ZeroRated => "Z",
            Self::IntraCommunity => "K",
            Self::Export => "G",
        }
    }

    /// The VATEX exemption reason code (BT-121) the category requires (BR-K-10,
    /// BR-G-10; Peppol PEPPOL-EN16931-P0104/P0106 tie the codes to these categories).
    pub fn exemption_reason_code(self) -> Option<&'static str> {
        match self {
            Self::IntraCommunity => Some("VATEX-EU-IC"),
            Self::Export => Some("VATEX-EU-G"),
            Self::Standard | Self::ZeroRated => None,
        }
    }

    /// The exemption reason as text (BT-120), in Slovenian or English; Slovenian names
    /// the article of ZDDV-1 the exemption rests on.
    pub(crate) fn exemption_reason_text(self, slovenian: bool) -> Option<&'static str> {
        match (self, slovenian) {
            (Self::IntraCommunity, true) => {
                Some("Oproščena dobava blaga v drugo državo članico EU (46. člen ZDDV-1)")
            }
            (Self::IntraCommunity, false) => Some("Intra-community supply"),
            (Self::Export, true) => Some("Oproščen izvoz blaga (52. člen ZDDV-1)"),
            (Self::Export, false) => Some("Export outside the EU"),
            (Self::Standard | Self::ZeroRated, _) => None,
        }
    }
}

/// The VAT category of a line at `rate` percent sold by a seller in `seller_country` to
/// a buyer in `buyer_country` (ISO 3166-1 alpha-2), who has a VAT identifier or not.
///
/// - a rate above zero is `S`;
/// - 0 % to a buyer outside the EU, from a seller in the EU, is an export, `G`;
/// - 0 % to a buyer with a VAT identifier in another member state is an
///   intra-community supply, `K` (without a VAT identifier the supply would be taxed in
///   one of the two states, so 0 % there is no intra-community supply);
/// - any other 0 % is `Z`. It could as well be an exemption (`E`), but `E` requires a
///   reason (BR-E-10) the model does not carry; `Z` requires none.
pub fn vat_category(
    rate: Decimal,
    seller_country: &str,
    buyer_country: &str,
    buyer_has_vat_id: bool,
) -> VatCategory {
    if rate > Decimal::ZERO {
        return VatCategory::Standard;
    }
    let seller_in_eu = is_eu_member(seller_country);
    let buyer_in_eu = is_eu_member(buyer_country);
    if seller_in_eu && !buyer_in_eu {
        VatCategory::Export
    } else if seller_in_eu
        && buyer_in_eu
        && buyer_has_vat_id
        && !seller_country.eq_ignore_ascii_case(buyer_country)
    {
        VatCategory::IntraCommunity
    } else {
        VatCategory::ZeroRated
    }
}

/// Whether `country` (ISO 3166-1 alpha-2) is in the EU for VAT on goods: the 27 member
/// states, and Northern Ireland (`XI`, which Peppol's country list has for this reason)
/// under the Windsor framework.
pub(crate) fn is_eu_member(country: &str) -> bool {
    const EU_FOR_VAT: [&str; 28] = [
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
        "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
    ];
    EU_FOR_VAT
        .iter()
        .any(|member| member.eq_ignore_ascii_case(country))
}

/// A Peppol electronic address (BT-34, BT-49): `schemeID` from the EAS code list and
/// the identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub scheme: &'static str,
    pub id: String,
}

/// The Peppol electronic address a VAT identifier is, by its country prefix.
///
/// Peppol's EAS list (the `eaid` variable of PEPPOL-EN16931-UBL.sch, release 3.0.19,
/// rule PEPPOL-EN16931-CL008) has a VAT scheme for most European countries, `99xx`,
/// whose identifier is the VAT number with its prefix (the Peppol participant
/// identifier scheme list v9.4 gives `ATU12345678` and `HU[0-9]{8}` as the form).
/// Denmark, Finland, Italy and Sweden have no active VAT scheme; their organisation
/// schemes take the number the VAT identifier is made of (`0184` CVR with its `DK`
/// prefix, rule PEPPOL-COMMON-R042; `0213` Finnish VAT; `0211` Italian partita IVA;
/// `0007` Swedish organisation number, the ten digits inside `SE…01`).
///
/// `None` for a country without such a scheme (Norway's VAT scheme is deprecated, for
/// example).
pub(crate) fn vat_endpoint(vat_id: &str) -> Option<Endpoint> {
    let prefix = vat_id.get(..2)?.to_ascii_uppercase();
    let scheme = match prefix.as_str() {
        "HU" => "9910",
        "AT" => "9914",
        "ES" => "9920",
        "AD" => "9922",
        "AL" => "9923",
        "BA" => "9924",
        "BE" => "9925",
        "BG" => "9926",
        "CH" => "9927",
        "CY" => "9928",
        "CZ" => "9929",
        "DE" => "9930",
        "EE" => "9931",
        "GB" => "9932",
        // Greece's VAT prefix is EL, not its ISO code.
        "EL" | "GR" => "9933",
        "HR" => "9934",
        "IE" => "9935",
        "LI" => "9936",
        "LT" => "9937",
        "LU" => "9938",
        "LV" => "9939",
        "MC" => "9940",
        "ME" => "9941",
        "MK" => "9942",
        "MT" => "9943",
        "NL" => "9944",
        "PL" => "9945",
        "PT" => "9946",
        "RO" => "9947",
        "RS" => "9948",
        "SI" => "9949",
        "SK" => "9950",
        "SM" => "9951",
        "TR" => "9952",
        "VA" => "9953",
        "FR" => "9957",
        "DK" => "0184",
        "FI" => "0213",
        "IT" => "0211",
        "SE" => {
            let digits = vat_id.get(2..12)?;
            if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            return Some(Endpoint {
                scheme: "0007",
                id: digits.to_owned(),
            });
        }
        _ => return None,
    };
    Some(Endpoint {
        scheme,
        id: vat_id.to_owned(),
    })
}

/// Whether `iban` is an IBAN: country, check digits and up to 30 letters or digits,
/// with the ISO 13616 mod-97 check.
pub(crate) fn is_valid_iban(iban: &str) -> bool {
    let bytes = iban.as_bytes();
    if !(15..=34).contains(&bytes.len())
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
        || !bytes[4..].iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let rearranged = bytes[4..].iter().chain(&bytes[..4]);
    let mut remainder: u32 = 0;
    for &byte in rearranged {
        let value = match byte {
            b'0'..=b'9' => u32::from(byte - b'0'),
            b'A'..=b'Z' => u32::from(byte - b'A') + 10,
            b'a'..=b'z' => u32::from(byte - b'a') + 10,
            _ => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}
