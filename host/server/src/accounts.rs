//! People who sign in: adding them, their passwords (argon2id), and signing in with
//! limits per account and per address. The API (`/api/v1/users`, admin token) and
//! the web admin both come here.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use time::OffsetDateTime;
use tovor_domain::access::{self, Role};
use tovor_domain::company::DocumentLanguage;
use tovor_domain::{CompanyId, UserId};
use tovor_store::users::{NewUser, User};
use tovor_store::{Store, StoreError};

/// Why an account could not be made or changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Email(#[from] access::InvalidEmail),
    #[error(transparent)]
    Password(#[from] access::WeakPassword),
    #[error("hashing the password failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a sign-in failed. The message never tells whether the address is known.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the e-mail address or the password is wrong")]
    WrongCredentials,
    #[error("too many sign-in attempts; try again in {} seconds", .0.as_secs().max(1))]
    TooManyAttempts(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("checking the password failed: {0}")]
    Hashing(String),
}

/// Hashes `password` with argon2id (the crate's defaults: 19 MiB, 2 passes, OWASP's
/// recommendation) and a random salt, as a PHC string. Slow on purpose: call it off
/// the async threads.
///
/// # Errors
///
/// [`AccountError::Hashing`] when the hasher refuses its input.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut random = [0_u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
    let salt = SaltString::encode_b64(&random)
        .map_err(|error| AccountError::Hashing(error.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AccountError::Hashing(error.to_string()))
}

/// Whether `password` matches a stored PHC hash.
fn password_matches(hash: &str, password: &str) -> Result<bool, SignInError> {
    let parsed =
        PasswordHash::new(hash).map_err(|error| SignInError::Hashing(error.to_string()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

async fn hash_off_thread(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| AccountError::Hashing(error.to_string()))?
}

/// A person to add.
#[derive(Debug, Clone)]
pub struct AddUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub language: DocumentLanguage,
    pub operator: bool,
    /// The company they join at once, and as what.
    pub company: Option<(CompanyId, Role)>,
}

/// Adds a person after checking the address and the password.
///
/// # Errors
///
/// A refused address or password, an address already taken
/// ([`StoreError::Conflict`]), or a company that does not exist.
pub async fn add_user(store: &Store, person: AddUser) -> Result<UserId, AccountError> {
    let email = access::normalize_email(&person.email)?;
    access::check_password(&person.password, &email)?;
    if let Some((company, _)) = person.company
        && store.find_company(company).await?.is_none()
    {
        return Err(StoreError::NotFound {
            what: "company",
            id: company.to_string(),
        }
        .into());
    }
    let hash = hash_off_thread(person.password).await?;
    let now = OffsetDateTime::now_utc();
    let id = store
        .create_user(
            NewUser {
                email: &email,
                name: &person.name,
                password_hash: &hash,
                language: person.language,
                operator: person.operator,
            },
            now,
        )
        .await?;
    if let Some((company, role)) = person.company {
        store.set_membership(id, company, role, now).await?;
    }
    Ok(id)
}

/// Sets a new password (the operator's reset, or the person's own change) and signs
/// the person out everywhere.
///
/// # Errors
///
/// A refused password, or no such person.
pub async fn set_password(
    store: &Store,
    user: UserId,
    password: String,
) -> Result<(), AccountError> {
    let person = store
        .user(user)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "user",
            id: user.to_string(),
        })?;
    access::check_password(&password, &person.email)?;
    let hash = hash_off_thread(password).await?;
    store.set_password_hash(user, &hash).await?;
    Ok(())
}

/// How often someone may try to sign in: per account, five tries and then one every
/// 20 seconds; per address, twenty and then one every 3 seconds (an office behind one
/// address has several people).
pub struct SignInLimiter {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        let quota = |every: Duration, burst: u32| {
            Quota::with_period(every)
                .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        Self {
            per_account: RateLimiter::keyed(quota(Duration::from_secs(20), 5)),
            per_address: RateLimiter::keyed(quota(Duration::from_secs(3), 20)),
        }
    }
}

impl SignInLimiter {
    /// Counts an attempt from `address` at something password-like (the first-account
    /// form's admin token) against the address's budget.
    ///
    /// # Errors
    ///
    /// [`SignInError::TooManyAttempts`] when the address has tried too often.
    pub fn check_address(&self, address: IpAddr) -> Result<(), SignInError> {
        self.per_address.check_key(&address).map_err(|not_until| {
            SignInError::TooManyAttempts(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    fn check(&self, email: &str, address: IpAddr) -> Result<(), SignInError> {
        if self.per_account.len() > 100_000 {
            self.per_account.retain_recent();
        }
        if self.per_address.len() > 100_000 {
            self.per_address.retain_recent();
        }
        let wait = |not_until: governor::NotUntil<_>| {
            SignInError::TooManyAttempts(not_until.wait_time_from(DefaultClock::default().now()))
        };
        self.per_address.check_key(&address).map_err(wait)?;
        self.per_account
            .check_key(&email.to_owned())
            .map_err(wait)?;
        Ok(())
    }
}

/// A hash of no one's password, checked when the address is unknown so that an
/// unknown address takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("no one's password, ever").unwrap_or_default())
}

/// Checks an e-mail address and password; the person, when they match and the person
/// is not disabled.
///
/// # Errors
///
/// [`SignInError::TooManyAttempts`] before anything is checked when the account or
/// the address has tried too often; [`SignInError::WrongCredentials`] for an unknown
/// address, a wrong password or a disabled person alike.
pub async fn sign_in(
    store: &Store,
    limiter: &SignInLimiter,
    email: &str,
    password: &str,
    address: IpAddr,
) -> Result<User, SignInError> {
    let email = access::normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    limiter.check(&email, address)?;
    let found = store.user_credentials(&email).await?;
    let hash = found.as_ref().map_or_else(
        || decoy_hash().to_owned(),
        |found| found.password_hash.clone(),
    );
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || password_matches(&hash, &password))
        .await
        .map_err(|error| SignInError::Hashing(error.to_string()))??;
    match found {
        Some(found) if matches && found.user.disabled_at.is_none() => Ok(found.user),
        _ => {
            tracing::info!(%address, "sign-in refused");
            Err(SignInError::WrongCredentials)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_salted() {
        let first = hash_password("correct horse battery").unwrap();
        let second = hash_password("correct horse battery").unwrap();
        assert!(first.starts_with("$argon2id$"), "{first}");
        assert_ne!(first, second, "a salt per hash");
        assert!(password_matches(&first, "correct horse battery").unwrap());
        assert!(!password_matches(&first, "correct horse battery!").unwrap());
    }

    #[test]
    fn an_account_gets_five_tries_then_waits() {
        let limiter = SignInLimiter::default();
        let here: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..5 {
            limiter.check("ana@example.si", here).unwrap();
        }
        assert!(matches!(
            limiter.check("ana@example.si", here),
            Err(SignInError::TooManyAttempts(_))
        ));
        limiter.check("bor@example.si", here).unwrap();
    }

    #[test]
    fn an_address_gets_twenty_tries_whatever_the_accounts() {
        let limiter = SignInLimiter::default();
        let there: IpAddr = [10, 0, 0, 9].into();
        for n in 0..20 {
            limiter.check(&format!("p{n}@example.si"), there).unwrap();
        }
        assert!(matches!(
            limiter.check("new@example.si", there),
            Err(SignInError::TooManyAttempts(_))
        ));
        limiter
            .check("new@example.si", [10, 0, 0, 10].into())
            .unwrap();
    }
}
