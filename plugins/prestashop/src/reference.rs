//! The shop's reference lists (order states, carriers, currencies, countries) and
//! settings (time zone, price rounding), kept in connector state for an hour: every
//! page of orders needs them, and they change rarely. An id a page meets that the kept
//! lists lack (a state or carrier added since) reads them again at once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tovor_sdk::Config;
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::{self, Api, de_flag, de_id, de_text};
use crate::shoptime::Zone;

const STATE_KEY: &str = "reference:v1";
/// How long kept lists are trusted.
pub const LIFETIME_SECONDS: i64 = 3600;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    pub name: String,
    pub paid: bool,
    pub shipped: bool,
    pub delivered: bool,
}

/// What the mapping needs to know about the shop besides the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// Unix seconds when read.
    pub fetched_at: i64,
    pub states: BTreeMap<u64, OrderState>,
    pub carriers: BTreeMap<u64, String>,
    /// ISO 4217 by currency id.
    pub currencies: BTreeMap<u64, String>,
    /// ISO 3166-1 alpha-2 by country id.
    pub countries: BTreeMap<u64, String>,
    /// `PS_TIMEZONE`, when the key may read `configurations`.
    pub time_zone: Option<String>,
    /// `PS_ROUND_TYPE` (1 per item, 2 per line, 3 on the total).
    pub round_type: Option<String>,
}

#[derive(Deserialize)]
struct StateRow {
    #[serde(deserialize_with = "de_id")]
    id: u64,
    #[serde(default, deserialize_with = "de_text")]
    name: String,
    #[serde(default, deserialize_with = "de_flag")]
    paid: bool,
    #[serde(default, deserialize_with = "de_flag")]
    shipped: bool,
    /// PrestaShop's name for the "delivered" flag.
    #[serde(default, deserialize_with = "de_flag")]
    delivery: bool,
}

#[derive(Deserialize)]
struct NamedRow {
    #[serde(deserialize_with = "de_id")]
    id: u64,
    #[serde(default, deserialize_with = "de_text")]
    name: String,
}

#[derive(Deserialize)]
struct IsoRow {
    #[serde(deserialize_with = "de_id")]
    id: u64,
    #[serde(default, deserialize_with = "de_text")]
    iso_code: String,
}

#[derive(Deserialize)]
struct ConfigurationRow {
    #[serde(default, deserialize_with = "de_text")]
    name: String,
    #[serde(default, deserialize_with = "de_text")]
    value: String,
}

impl Reference {
    /// The kept lists when fresh, else read from the shop (and kept).
    pub fn load(api: &Api) -> Result<Reference, ConnectorError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if let Ok(Some(kept)) = tovor_sdk::state::get_json::<Reference>(STATE_KEY)
            && now - kept.fetched_at < LIFETIME_SECONDS
            && now >= kept.fetched_at
        {
            return Ok(kept);
        }
        Self::refresh(api)
    }

    /// Reads the lists from the shop and keeps them.
    pub fn refresh(api: &Api) -> Result<Reference, ConnectorError> {
        let requests = vec![
            api.get("order_states")
                .query_param("display", "[id,name,paid,shipped,delivery]"),
            api.get("carriers").query_param("display", "[id,name]"),
            api.get("currencies")
                .query_param("display", "[id,iso_code]"),
            api.get("countries").query_param("display", "[id,iso_code]"),
            api.get("configurations")
                .query_param("display", "[name,value]")
                .query_param("filter[name]", "[PS_TIMEZONE|PS_ROUND_TYPE]"),
        ];
        let mut answers = api.send_all(requests).into_iter();
        let mut next = || {
            answers
                .next()
                .unwrap_or_else(|| Err(ConnectorError::other("a reference list was not read")))
        };
        let states: Vec<StateRow> = api::list_rows(&next()?, "order_states")?;
        let carriers: Vec<NamedRow> = api::list_rows(&next()?, "carriers")?;
        let currencies: Vec<IsoRow> = api::list_rows(&next()?, "currencies")?;
        let countries: Vec<IsoRow> = api::list_rows(&next()?, "countries")?;
        // A key without access to `configurations` still works: the time zone then
        // comes from the settings.
        let configurations: Vec<ConfigurationRow> = match next() {
            Ok(response) => api::list_rows(&response, "configurations")?,
            Err(error) if matches!(error.kind, ErrorKind::Permission | ErrorKind::Auth) => {
                Vec::new()
            }
            Err(error) => return Err(error),
        };
        let setting = |name: &str| {
            configurations
                .iter()
                .find(|row| row.name == name)
                .map(|row| row.value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let reference = Reference {
            fetched_at: OffsetDateTime::now_utc().unix_timestamp(),
            states: states
                .into_iter()
                .map(|row| {
                    (
                        row.id,
                        OrderState {
                            name: row.name,
                            paid: row.paid,
                            shipped: row.shipped,
                            delivered: row.delivery,
                        },
                    )
                })
                .collect(),
            carriers: carriers.into_iter().map(|row| (row.id, row.name)).collect(),
            currencies: currencies
                .into_iter()
                .map(|row| (row.id, row.iso_code.trim().to_ascii_uppercase()))
                .collect(),
            countries: countries
                .into_iter()
                .map(|row| (row.id, row.iso_code.trim().to_ascii_uppercase()))
                .collect(),
            time_zone: setting("PS_TIMEZONE"),
            round_type: setting("PS_ROUND_TYPE"),
        };
        if let Err(error) = tovor_sdk::state::set_json(STATE_KEY, &reference) {
            tovor_sdk::log::warn(format!(
                "could not keep the reference lists: {}",
                error.message
            ));
        }
        Ok(reference)
    }

    /// Whether every id of these orders is in the lists.
    pub fn knows(&self, states: &[u64], carriers: &[u64], currencies: &[u64]) -> bool {
        states
            .iter()
            .all(|id| *id == 0 || self.states.contains_key(id))
            && carriers
                .iter()
                .all(|id| *id == 0 || self.carriers.contains_key(id))
            && currencies.iter().all(|id| self.currencies.contains_key(id))
    }

    /// The shop's time zone: the `time_zone` setting, else `PS_TIMEZONE`.
    pub fn zone(&self, config: &Config) -> Result<Zone, ConnectorError> {
        zone_of(config.text("time_zone"), self.time_zone.as_deref())
    }
}

/// The zone from the setting (wins) or the shop's `PS_TIMEZONE`.
pub fn zone_of(setting: Option<&str>, shop: Option<&str>) -> Result<Zone, ConnectorError> {
    let setting = setting.map(str::trim).filter(|text| !text.is_empty());
    match (setting, shop) {
        (Some(name), _) => Zone::parse(name).ok_or_else(|| {
            ConnectorError::invalid_field(
                "time_zone",
                format!(
                    "{name:?} is neither a time zone name (e.g. Europe/Ljubljana) nor an \
                     offset from UTC (e.g. +01:00)"
                ),
            )
        }),
        (None, Some(name)) => Zone::parse(name).ok_or_else(|| {
            ConnectorError::invalid_field(
                "time_zone",
                format!(
                    "the shop's time zone {name:?} (PS_TIMEZONE) is not a known time zone \
                     name; set the time zone setting to the shop's zone or offset from UTC, \
                     e.g. Europe/Ljubljana or -05:00"
                ),
            )
        }),
        (None, None) => Err(ConnectorError::invalid_field(
            "time_zone",
            "the webservice key may not read configurations (PS_TIMEZONE); set the shop's \
             time zone in the settings, e.g. Europe/Ljubljana or +01:00",
        )),
    }
}
