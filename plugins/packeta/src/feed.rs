//! Packeta's JSON feeds (branch export version 5), read with the account's API key:
//!
//! - `GET https://pickup-point.api.packeta.com/v5/{api_key}/branch.json?lang=en`: the
//!   pickup points (partner shops);
//! - `…/box.json?lang=en`: the parcel lockers (Z-BOX, AlzaBox, …, `type` says which);
//! - `…/carrier.json?lang=en`: the carriers, among them the home-delivery ones whose id
//!   goes into `addressId` like a pickup point's.
//!
//! Packeta has no search call: the feeds list every point of every country and are
//! refreshed daily. So a search reads a feed as it streams through the parser, keeping
//! only the points that match, without building the whole list in memory.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use tovor_sdk::carrier::{PickupLocation, PickupQuery, Service};
use tovor_sdk::types::{Address, ConnectorError};

/// Packeta's feed host; tests point `api_base` elsewhere and the feeds follow it.
pub const FEED_HOST: &str = "https://pickup-point.api.packeta.com";

/// The language of names and texts in the feeds.
const FEED_LANGUAGE: &str = "en";

/// The feeds a search reads, with the kind of point each lists.
pub const POINT_FEEDS: &[(&str, &str)] = &[("branch.json", "shop"), ("box.json", "locker")];

/// The URL of a feed: `{host}/v5/{api_key}/{file}?lang=en`.
pub fn feed_url(host: &str, api_key: &str, file: &str) -> String {
    format!(
        "{}/v5/{}/{file}?lang={FEED_LANGUAGE}",
        host.trim_end_matches('/'),
        tovor_sdk::http::percent_encode(api_key.trim())
    )
}

/// The feed host for an account: Packeta's, or, when `api_base` replaces the REST
/// endpoint (`http://127.0.0.1:8080/api/rest` in tests, a staging server), that
/// address's origin.
pub fn feed_host(api_base: Option<&str>) -> String {
    let Some(base) = api_base.map(str::trim).filter(|base| !base.is_empty()) else {
        return FEED_HOST.to_owned();
    };
    let after_scheme = base.find("://").map_or(0, |index| index + 3);
    match base[after_scheme..].find('/') {
        Some(path) => base[..after_scheme + path].to_owned(),
        None => base.trim_end_matches('/').to_owned(),
    }
}

/// One point of `branch.json` or `box.json`, only the fields a search answers with.
/// Values are read as text whether the feed writes strings or numbers.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct FeedPoint {
    #[serde(deserialize_with = "text")]
    id: Option<String>,
    #[serde(deserialize_with = "text")]
    name: Option<String>,
    #[serde(deserialize_with = "text")]
    place: Option<String>,
    #[serde(deserialize_with = "text")]
    street: Option<String>,
    #[serde(deserialize_with = "text")]
    city: Option<String>,
    #[serde(deserialize_with = "text")]
    zip: Option<String>,
    #[serde(deserialize_with = "text")]
    country: Option<String>,
    #[serde(deserialize_with = "text")]
    latitude: Option<String>,
    #[serde(deserialize_with = "text")]
    longitude: Option<String>,
    #[serde(deserialize_with = "text")]
    display_frontend: Option<String>,
    opening_hours: Option<OpeningHours>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct OpeningHours {
    #[serde(deserialize_with = "text")]
    compact_short: Option<String>,
}

/// A string, a number or a boolean as text; null, objects and arrays as none.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(match value {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
    .map(|text| text.trim().to_owned())
    .filter(|text| !text.is_empty()))
}

/// What a search looks for, prepared once.
pub struct Matcher {
    country: String,
    postal_code: Option<String>,
    words: Vec<String>,
    limit: usize,
}

impl Matcher {
    pub fn new(query: &PickupQuery) -> Result<Self, ConnectorError> {
        let country = query.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ConnectorError::invalid_field(
                "country",
                format!("{:?} is not a two-letter country code", query.country),
            ));
        }
        Ok(Self {
            country,
            postal_code: query
                .postal_code
                .as_deref()
                .map(compact)
                .filter(|code| !code.is_empty()),
            words: query
                .text
                .as_deref()
                .map(|text| text.split_whitespace().map(fold).collect())
                .unwrap_or_default(),
            limit: usize::try_from(query.limit).unwrap_or(usize::MAX),
        })
    }

    /// How many points the query asks for.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Points of the query's country whose postal code starts with the query's and whose
    /// id, name, place, street, town or postal code contain every word of its text
    /// (case and accents aside).
    fn matches(&self, point: &FeedPoint) -> bool {
        if point.display_frontend.as_deref() == Some("0")
            || !point
                .country
                .as_deref()
                .is_some_and(|country| country.eq_ignore_ascii_case(&self.country))
        {
            return false;
        }
        if let Some(wanted) = &self.postal_code
            && !point
                .zip
                .as_deref()
                .is_some_and(|zip| compact(zip).starts_with(wanted.as_str()))
        {
            return false;
        }
        if self.words.is_empty() {
            return true;
        }
        let haystack = fold(
            &[
                &point.id,
                &point.name,
                &point.place,
                &point.street,
                &point.city,
                &point.zip,
            ]
            .iter()
            .filter_map(|field| field.as_deref())
            .collect::<Vec<_>>()
            .join(" "),
        );
        self.words
            .iter()
            .all(|word| haystack.contains(word.as_str()))
    }
}

/// Reads a feed (`[ {...}, ... ]`, or `{"data": [...]}`) and returns its points matching
/// `matcher`, in the feed's order, at most `limit` of them (`limit` less than the
/// matcher's when other feeds already answered some).
pub fn search(
    body: &[u8],
    matcher: &Matcher,
    kind: &str,
    limit: usize,
) -> Result<Vec<PickupLocation>, ConnectorError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let found = FeedSeed {
        matcher,
        kind,
        limit,
    }
    .deserialize(&mut deserializer)
    .map_err(|error| {
        ConnectorError::other(format!(
            "Packeta's pickup point feed is not the expected JSON: {error}"
        ))
    })?;
    Ok(found)
}

/// Walks the feed, keeping only the matching points.
#[derive(Clone, Copy)]
struct FeedSeed<'a> {
    matcher: &'a Matcher,
    kind: &'a str,
    limit: usize,
}

impl<'de> DeserializeSeed<'de> for FeedSeed<'_> {
    type Value = Vec<PickupLocation>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FeedSeed<'_> {
    type Value = Vec<PickupLocation>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of pickup points")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut points: A) -> Result<Self::Value, A::Error> {
        let mut found = Vec::new();
        while let Some(point) = points.next_element::<FeedPoint>()? {
            if found.len() < self.limit && self.matcher.matches(&point) {
                found.push(location(point, self.kind));
            }
        }
        Ok(found)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut fields: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = fields.next_key::<String>()? {
            if key == "data" && found.is_none() {
                found = Some(fields.next_value_seed(self)?);
            } else {
                fields.next_value::<IgnoredAny>()?;
            }
        }
        found.ok_or_else(|| de::Error::missing_field("data"))
    }
}

fn location(point: FeedPoint, kind: &str) -> PickupLocation {
    let id = point.id.unwrap_or_default();
    PickupLocation {
        name: point
            .name
            .clone()
            .or_else(|| point.place.clone())
            .unwrap_or_else(|| id.clone()),
        id,
        kind: Some(kind.to_owned()),
        address: Address {
            name: None,
            company: point.place,
            street: point.street.clone(),
            house_number: None,
            line1: point.street,
            line2: None,
            city: point.city,
            postal_code: point.zip,
            region: None,
            country: point.country.map(|country| country.to_ascii_uppercase()),
            phone: None,
            email: None,
        },
        latitude: point.latitude,
        longitude: point.longitude,
        opening_hours: point.opening_hours.and_then(|hours| hours.compact_short),
    }
}

/// One carrier of `carrier.json`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct FeedCarrier {
    #[serde(deserialize_with = "text")]
    id: Option<String>,
    #[serde(deserialize_with = "text")]
    name: Option<String>,
    #[serde(deserialize_with = "text")]
    country: Option<String>,
    #[serde(deserialize_with = "text")]
    available: Option<String>,
    #[serde(deserialize_with = "text")]
    pickup_points: Option<String>,
    #[serde(deserialize_with = "text")]
    api_allowed: Option<String>,
    #[serde(deserialize_with = "text")]
    disallows_cod: Option<String>,
}

/// The feed's yes/no values: `"true"`/`"false"` (or `1`/`0`).
fn flag(value: &Option<String>) -> Option<bool> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("true" | "1" | "yes") => Some(true),
        Some("false" | "0" | "no") => Some(false),
        _ => None,
    }
}

/// The home-delivery carriers of `carrier.json` an API client may use, as the
/// `carrier:<id>` services that choose them.
pub fn home_delivery_services(body: &[u8]) -> Result<Vec<Service>, ConnectorError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Carriers {
        List(Vec<FeedCarrier>),
        Wrapped { data: Vec<FeedCarrier> },
    }
    let carriers = match serde_json::from_slice::<Carriers>(body).map_err(|error| {
        ConnectorError::other(format!(
            "Packeta's carrier feed is not the expected JSON: {error}"
        ))
    })? {
        Carriers::List(list) | Carriers::Wrapped { data: list } => list,
    };
    Ok(carriers
        .into_iter()
        .filter(|carrier| {
            flag(&carrier.available) != Some(false)
                && flag(&carrier.api_allowed) != Some(false)
                && flag(&carrier.pickup_points) == Some(false)
        })
        .filter_map(|carrier| {
            let id = carrier.id?;
            let name = carrier.name.unwrap_or_else(|| format!("Carrier {id}"));
            let country = carrier
                .country
                .map(|country| country.to_ascii_uppercase())
                .unwrap_or_else(|| "?".to_owned());
            let mut description =
                format!("Home delivery in {country} by {name} (Packeta carrier {id})");
            if flag(&carrier.disallows_cod) == Some(true) {
                description.push_str("; no cash on delivery");
            }
            Some(home_delivery_service(&id, &name, description))
        })
        .collect())
}

/// The `carrier:<id>` service that sends a packet home through carrier `id`.
pub fn home_delivery_service(id: &str, name: &str, description: String) -> Service {
    Service {
        code: format!("carrier:{id}"),
        name: name.to_owned(),
        description: Some(description),
    }
}

/// A postal code without blanks, upper case (`"110 00"` → `"11000"`).
fn compact(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Lower case without the accents of the Latin letters of Packeta's countries, so
/// `Příkopě` is found as `prikope`.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ă' | 'ą' => 'a',
            'č' | 'ć' | 'ç' => 'c',
            'ď' | 'đ' => 'd',
            'é' | 'è' | 'ê' | 'ë' | 'ě' | 'ę' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ĺ' | 'ľ' | 'ł' => 'l',
            'ň' | 'ń' => 'n',
            'ó' | 'ò' | 'ô' | 'ö' | 'ő' => 'o',
            'ř' | 'ŕ' => 'r',
            'š' | 'ś' | 'ș' | 'ş' => 's',
            'ť' | 'ț' | 'ţ' => 't',
            'ú' | 'ù' | 'û' | 'ü' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ž' | 'ź' | 'ż' => 'z',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use tovor_sdk::types::ErrorKind;

    const BRANCHES: &str = r#"[
        {"id": "79", "name": "Praha 1, Na Příkopě 15", "place": "Trafika U Můstku",
         "street": "Na Příkopě 15", "city": "Praha", "zip": "110 00", "country": "cz",
         "currency": "CZK", "status": {"statusId": "1", "description": "In operation"},
         "displayFrontend": "1", "latitude": "50.0855", "longitude": 14.4237,
         "openingHours": {"compactShort": "Mo-Fr 08:00–19:00", "regular": {"monday": "08:00–19:00"}},
         "photos": [{"normal": "https://x.example/1.jpg"}]},
        {"id": 80, "name": "Praha 2, Vinohradská 1", "street": "Vinohradská 1",
         "city": "Praha", "zip": "120 00", "country": "cz", "displayFrontend": "1"},
        {"id": "81", "name": "Praha 1, hidden", "city": "Praha", "zip": "110 00",
         "country": "cz", "displayFrontend": "0"},
        {"id": "1717", "name": "Bratislava, Obchodná 1", "city": "Bratislava",
         "zip": "811 06", "country": "sk", "displayFrontend": "1"}
    ]"#;

    fn query(country: &str, postal_code: Option<&str>, text: Option<&str>, limit: u32) -> Matcher {
        Matcher::new(&PickupQuery {
            country: country.into(),
            postal_code: postal_code.map(Into::into),
            text: text.map(Into::into),
            limit,
        })
        .unwrap()
    }

    fn ids(found: &[PickupLocation]) -> Vec<&str> {
        found.iter().map(|point| point.id.as_str()).collect()
    }

    #[test]
    fn filters_by_country_postal_code_and_text() {
        let all = |matcher: Matcher| {
            let limit = matcher.limit();
            search(BRANCHES.as_bytes(), &matcher, "shop", limit).unwrap()
        };
        assert_eq!(ids(&all(query("CZ", None, None, 10))), ["79", "80"]);
        assert_eq!(ids(&all(query("cz", Some("11000"), None, 10))), ["79"]);
        assert_eq!(ids(&all(query("CZ", Some("1"), None, 10))), ["79", "80"]);
        assert_eq!(ids(&all(query("CZ", None, Some("prikope"), 10))), ["79"]);
        assert_eq!(
            ids(&all(query("CZ", None, Some("PRAHA vinohradska"), 10))),
            ["80"]
        );
        assert_eq!(ids(&all(query("CZ", None, Some("Můstku"), 10))), ["79"]);
        assert_eq!(ids(&all(query("CZ", None, None, 1))), ["79"]);
        assert!(all(query("CZ", None, None, 0)).is_empty());
        assert_eq!(ids(&all(query("SK", None, None, 10))), ["1717"]);
        assert!(all(query("HU", None, None, 10)).is_empty());
    }

    #[test]
    fn maps_a_point() {
        let matcher = query("CZ", Some("110"), None, 5);
        let found = search(BRANCHES.as_bytes(), &matcher, "shop", 5).unwrap();
        let point = &found[0];
        assert_eq!(point.name, "Praha 1, Na Příkopě 15");
        assert_eq!(point.kind.as_deref(), Some("shop"));
        assert_eq!(point.address.street.as_deref(), Some("Na Příkopě 15"));
        assert_eq!(point.address.company.as_deref(), Some("Trafika U Můstku"));
        assert_eq!(point.address.postal_code.as_deref(), Some("110 00"));
        assert_eq!(point.address.country.as_deref(), Some("CZ"));
        assert_eq!(point.latitude.as_deref(), Some("50.0855"));
        assert_eq!(point.longitude.as_deref(), Some("14.4237"));
        assert_eq!(point.opening_hours.as_deref(), Some("Mo-Fr 08:00–19:00"));
    }

    #[test]
    fn wrapped_feeds_and_bad_ones() {
        let wrapped = format!(r#"{{"version": 5, "data": {BRANCHES}}}"#);
        let matcher = query("SK", None, None, 5);
        let found = search(wrapped.as_bytes(), &matcher, "locker", 5).unwrap();
        assert_eq!(ids(&found), ["1717"]);
        assert_eq!(found[0].kind.as_deref(), Some("locker"));
        let error = search(b"<html>", &matcher, "shop", 5).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Other);
        assert!(search(br#"{"error": "x"}"#, &matcher, "shop", 5).is_err());
        let error = Matcher::new(&PickupQuery {
            country: "Czechia".into(),
            postal_code: None,
            text: None,
            limit: 5,
        })
        .err()
        .unwrap();
        assert_eq!(error.field.as_deref(), Some("country"));
    }

    #[test]
    fn urls_and_hosts() {
        assert_eq!(feed_host(None), FEED_HOST);
        assert_eq!(
            feed_host(Some("http://127.0.0.1:8080/api/rest")),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            feed_host(Some("https://staging.example/")),
            "https://staging.example"
        );
        assert_eq!(
            feed_url(FEED_HOST, "abc", "box.json"),
            "https://pickup-point.api.packeta.com/v5/abc/box.json?lang=en"
        );
    }

    #[test]
    fn home_delivery_carriers_from_the_carrier_feed() {
        let feed = r#"[
            {"id": "106", "name": "CZ Packeta Home HD", "country": "cz", "available": "true",
             "pickupPoints": "false", "apiAllowed": "true", "disallowsCod": "false"},
            {"id": "3060", "name": "PL InPost Paczkomaty", "country": "pl", "available": "true",
             "pickupPoints": "true", "apiAllowed": "true"},
            {"id": "999", "name": "Gone", "country": "de", "available": "false",
             "pickupPoints": "false", "apiAllowed": "true"},
            {"id": 131, "name": "SK Packeta Home HD", "country": "sk", "available": true,
             "pickupPoints": false, "apiAllowed": true, "disallowsCod": true}
        ]"#;
        let services = home_delivery_services(feed.as_bytes()).unwrap();
        let codes: Vec<&str> = services.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["carrier:106", "carrier:131"]);
        assert_eq!(services[0].name, "CZ Packeta Home HD");
        let description = services[1].description.as_deref().unwrap();
        assert!(description.contains("SK") && description.contains("no cash on delivery"));
        assert!(home_delivery_services(b"nope").is_err());
    }

    #[test]
    fn folding() {
        assert_eq!(
            fold("Příkopě ŽLUŤOUČKÝ Łódź Ștefan"),
            "prikope zlutoucky lodz stefan"
        );
    }
}
