//! Who may do what in a company: the roles people hold and the policy over them.
//!
//! Pure policy: the web admin asks [`Role::may`] before it shows a button and again
//! before it does what the button asks, so a page that forgot to hide a button still
//! cannot be used to do what the role does not allow.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a person is in one company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including the company's people, tokens and secrets.
    Owner,
    /// The daily work: orders, documents, stock, shipments, deliveries.
    Staff,
    /// Looks, changes nothing.
    ReadOnly,
}

/// What a person wants to do, in the policy's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the company's records.
    View,
    /// Issue documents, receive stock, create shipments, map payment methods, retry
    /// deliveries, start a sync.
    DailyWork,
    /// Add, change or disable shops and carriers (they hold credentials), SMTP and the
    /// company profile.
    Configure,
    /// Add people, change their roles, create and revoke API tokens.
    ManagePeople,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Staff, Role::ReadOnly];

    /// Whether this role allows `action`.
    pub fn may(self, action: Action) -> bool {
        match action {
            Action::View => true,
            Action::DailyWork => matches!(self, Role::Owner | Role::Staff),
            Action::Configure | Action::ManagePeople => self == Role::Owner,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::ReadOnly => "read_only",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is none of `owner`, `staff`, `read_only`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: use owner, staff or read_only")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "owner" => Ok(Role::Owner),
            "staff" => Ok(Role::Staff),
            "read_only" | "readonly" => Ok(Role::ReadOnly),
            _ => Err(UnknownRole(text.to_owned())),
        }
    }
}

/// An e-mail address as people sign in with it: trimmed, lower case, and of the
/// shape `local@domain.tld` (delivery is not checked: nobody is mailed).
///
/// # Errors
///
/// [`InvalidEmail`] when it is empty, too long, or not of that shape.
pub fn normalize_email(text: &str) -> Result<String, InvalidEmail> {
    let email = text.trim().to_lowercase();
    let refuse = || Err(InvalidEmail(text.to_owned()));
    if email.is_empty() || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return refuse();
    }
    let Some((local, domain)) = email.split_once('@') else {
        return refuse();
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok || email.chars().any(char::is_control) {
        return refuse();
    }
    Ok(email)
}

/// Not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an e-mail address")]
pub struct InvalidEmail(pub String);

/// Shortest password a person may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Why a password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("a password needs at least 10 characters")]
    TooShort,
    #[error("a password may have at most 1024 characters")]
    TooLong,
    #[error("the password must not be the e-mail address")]
    IsTheEmail,
}

/// Whether `password` may be set for the person signing in as `email`. Length is what
/// matters (NIST SP 800-63B); composition rules are not imposed.
///
/// # Errors
///
/// The [`WeakPassword`] reason.
pub fn check_password(password: &str, email: &str) -> Result<(), WeakPassword> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(WeakPassword::TooShort);
    }
    if chars > 1024 {
        return Err(WeakPassword::TooLong);
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(WeakPassword::IsTheEmail);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_configure_and_manage_people() {
        for role in Role::ALL {
            assert!(role.may(Action::View));
            assert_eq!(role.may(Action::DailyWork), role != Role::ReadOnly);
            assert_eq!(role.may(Action::Configure), role == Role::Owner);
            assert_eq!(role.may(Action::ManagePeople), role == Role::Owner);
        }
    }

    #[test]
    fn roles_read_back_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("read-only".parse::<Role>(), Ok(Role::ReadOnly));
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn emails_are_lower_case_and_shaped() {
        assert_eq!(
            normalize_email("  Ana.Novak@Example.SI ").as_deref(),
            Ok("ana.novak@example.si")
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.si",
            "ana@example",
            "a b@example.si",
            "ana@@example.si",
            "ana@example..si",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_need_length_not_composition() {
        assert_eq!(
            check_password("short", "a@b.si"),
            Err(WeakPassword::TooShort)
        );
        assert_eq!(check_password("long enough words", "a@b.si"), Ok(()));
        assert_eq!(
            check_password("ana@example.si", "ANA@example.si"),
            Err(WeakPassword::IsTheEmail)
        );
        assert_eq!(
            check_password("čšžčšžčšžč", "a@b.si"),
            Ok(()),
            "characters, not bytes"
        );
    }
}
