//! The company's profile: legal data, bank account, letterhead, time zone and document
//! language. A company that never set one has the defaults: its own name, Europe/
//! Ljubljana, Slovenian, 8 days to pay.

use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;
use tovor_domain::company::{CompanyTimeZone, DocumentLanguage};

use crate::codec::{RowExt, parse_time, time_text};
use crate::error::{StoreError, StoreResult};
use crate::scope::CompanyScope;

/// Days to pay an invoice unless the profile says otherwise.
pub const DEFAULT_PAYMENT_DAYS: u16 = 8;

/// What a company's documents say about it. Text values are stored as given (the
/// server validates and normalises them first).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompanyProfile {
    pub legal_name: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub vat_id: Option<String>,
    pub registration_number: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Printed at the foot of every page.
    pub footer: Option<String>,
    pub time_zone: CompanyTimeZone,
    pub language: DocumentLanguage,
    /// Days from issue to the due date of an unpaid invoice.
    pub payment_days: u16,
    /// The logo's content type (`image/png`, `image/jpeg`), when there is one.
    pub logo_type: Option<String>,
    /// When it was last changed; `None` for a company still on the defaults.
    pub updated_at: Option<OffsetDateTime>,
}

impl CompanyProfile {
    fn defaults() -> Self {
        Self {
            payment_days: DEFAULT_PAYMENT_DAYS,
            ..Self::default()
        }
    }
}

/// A logo as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub content_type: String,
    pub data: Vec<u8>,
}

const COLUMNS: &str = "legal_name, street, postal_code, city, country, vat_id, \
    registration_number, iban, bic, email, phone, footer, time_zone, language, payment_days, \
    logo_type, updated_at";

impl CompanyScope<'_> {
    /// The company's profile, or the defaults when it has none.
    pub async fn profile(&self) -> StoreResult<CompanyProfile> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM company_profiles WHERE company_id = $1"
        )))
        .bind(self.cid())
        .fetch_optional(self.store.reader())
        .await?;
        let Some(row) = row else {
            return Ok(CompanyProfile::defaults());
        };
        let zone = row.text("time_zone")?;
        let language = row.text("language")?;
        Ok(CompanyProfile {
            legal_name: row.opt_text("legal_name")?,
            street: row.opt_text("street")?,
            postal_code: row.opt_text("postal_code")?,
            city: row.opt_text("city")?,
            country: row.opt_text("country")?,
            vat_id: row.opt_text("vat_id")?,
            registration_number: row.opt_text("registration_number")?,
            iban: row.opt_text("iban")?,
            bic: row.opt_text("bic")?,
            email: row.opt_text("email")?,
            phone: row.opt_text("phone")?,
            footer: row.opt_text("footer")?,
            time_zone: CompanyTimeZone::parse(&zone)
                .map_err(|error| StoreError::corrupt("company_profiles.time_zone", error))?,
            language: language
                .parse()
                .map_err(|error| StoreError::corrupt("company_profiles.language", error))?,
            payment_days: u16::try_from(row.int("payment_days")?)
                .map_err(|error| StoreError::corrupt("company_profiles.payment_days", error))?,
            logo_type: row.opt_text("logo_type")?,
            updated_at: Some(parse_time("updated_at", &row.text("updated_at")?)?),
        })
    }

    /// Replaces the profile's values (the logo stays as it is).
    pub async fn set_profile(
        &self,
        profile: &CompanyProfile,
        at: OffsetDateTime,
    ) -> StoreResult<CompanyProfile> {
        sqlx::query(
            "INSERT INTO company_profiles (company_id, legal_name, street, postal_code, city, \
             country, vat_id, registration_number, iban, bic, email, phone, footer, time_zone, \
             language, payment_days, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (company_id) DO UPDATE SET legal_name = $2, street = $3, \
             postal_code = $4, city = $5, country = $6, vat_id = $7, registration_number = $8, \
             iban = $9, bic = $10, email = $11, phone = $12, footer = $13, time_zone = $14, \
             language = $15, payment_days = $16, updated_at = $17",
        )
        .bind(self.cid())
        .bind(profile.legal_name.as_deref())
        .bind(profile.street.as_deref())
        .bind(profile.postal_code.as_deref())
        .bind(profile.city.as_deref())
        .bind(profile.country.as_deref())
        .bind(profile.vat_id.as_deref())
        .bind(profile.registration_number.as_deref())
        .bind(profile.iban.as_deref())
        .bind(profile.bic.as_deref())
        .bind(profile.email.as_deref())
        .bind(profile.phone.as_deref())
        .bind(profile.footer.as_deref())
        .bind(profile.time_zone.name())
        .bind(profile.language.as_str())
        .bind(i64::from(profile.payment_days))
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        self.profile().await
    }

    /// The company's logo, when it has one.
    pub async fn logo(&self) -> StoreResult<Option<Logo>> {
        let row = sqlx::query(
            "SELECT logo_type, logo FROM company_profiles WHERE company_id = $1 \
             AND logo IS NOT NULL",
        )
        .bind(self.cid())
        .fetch_optional(self.store.reader())
        .await?;
        row.map(|row| {
            Ok(Logo {
                content_type: row.text("logo_type")?,
                data: row.try_get::<Vec<u8>, _>("logo")?,
            })
        })
        .transpose()
    }

    /// Sets (or with `None` removes) the logo. A company on the defaults gets a profile
    /// with them.
    pub async fn set_logo(&self, logo: Option<&Logo>, at: OffsetDateTime) -> StoreResult<()> {
        if self.profile().await?.updated_at.is_none() {
            self.set_profile(&CompanyProfile::defaults(), at).await?;
        }
        sqlx::query(
            "UPDATE company_profiles SET logo_type = $2, logo = $3, updated_at = $4 \
             WHERE company_id = $1",
        )
        .bind(self.cid())
        .bind(logo.map(|logo| logo.content_type.clone()))
        .bind(logo.map(|logo| logo.data.clone()))
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        Ok(())
    }
}

/// The company's time zone, read inside a transaction that numbers a document.
pub(crate) async fn time_zone(
    conn: &mut AnyConnection,
    company: i64,
) -> StoreResult<CompanyTimeZone> {
    let row = sqlx::query("SELECT time_zone FROM company_profiles WHERE company_id = $1")
        .bind(company)
        .fetch_optional(&mut *conn)
        .await?;
    let stored = row.map(|row| row.text("time_zone")).transpose()?;
    time_zone_of(stored.as_deref())
}

/// The company's time zone as its profile stores it; the default without a profile.
pub(crate) fn time_zone_of(stored: Option<&str>) -> StoreResult<CompanyTimeZone> {
    stored.map_or(Ok(CompanyTimeZone::default()), |zone| {
        CompanyTimeZone::parse(zone)
            .map_err(|error| StoreError::corrupt("company_profiles.time_zone", error))
    })
}
