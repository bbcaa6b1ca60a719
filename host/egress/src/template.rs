//! Rendering one allow-list template for one shop's config.
//!
//! The manifest fixes an entry's structure (scheme, port, which part of the host is
//! literal); the config may only fill in host text. Every value is checked so that it
//! cannot add a path, user info, a port or a second host: a company's users write their
//! shop's config, and this is what keeps it from widening the plugin's reach.

use std::collections::BTreeMap;

use url::Url;

use crate::RenderError;
use crate::entry::{Entry, EntrySource};

#[derive(Clone, Copy)]
enum Piece<'a> {
    Text(&'a str),
    Field { name: &'a str, value: &'a str },
}

/// Renders one template; `None` when it names a field the config leaves empty.
pub(crate) fn render(
    template: &str,
    config: &BTreeMap<String, String>,
) -> Result<Option<Entry>, RenderError> {
    let Some(pieces) = split(template, config)? else {
        // An optional field left empty: the entry it would make does not exist.
        return Ok(None);
    };
    let (rendered, source) = match pieces.as_slice() {
        [Piece::Text(_)] | [] => (template.to_owned(), EntrySource::Manifest),
        [Piece::Field { name, value }] => (origin_of(name, value)?, EntrySource::Config),
        _ => (render_host(template, &pieces)?, EntrySource::Config),
    };
    Entry::parse(&rendered, source)
        .map(Some)
        .map_err(|reason| RenderError::BadEntry {
            entry: rendered,
            reason,
        })
}

/// Splits `https://api.{country}` into text and `{field}` pieces, each field with its
/// value; `None` when a field is absent or empty.
fn split<'a>(
    template: &'a str,
    config: &'a BTreeMap<String, String>,
) -> Result<Option<Vec<Piece<'a>>>, RenderError> {
    let bad = |reason: &str| RenderError::BadTemplate {
        template: template.to_owned(),
        reason: reason.to_owned(),
    };
    let mut pieces = Vec::new();
    let mut some_field_empty = false;
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(bad("`}` without a matching `{`"));
        }
        let after_open = &rest[open + 1..];
        let close = after_open
            .find(['{', '}'])
            .filter(|&close| after_open[close..].starts_with('}'))
            .ok_or_else(|| bad("`{` without a matching `}`"))?;
        let name = &after_open[..close];
        if name.is_empty() {
            return Err(bad("`{}` names no field"));
        }
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        match config.get(name).filter(|value| !value.is_empty()) {
            Some(value) => pieces.push(Piece::Field { name, value }),
            // Keep scanning: a malformed template is reported even for this shop.
            None => some_field_empty = true,
        }
        rest = &after_open[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok((!some_field_empty).then_some(pieces))
}

/// A template that is just `{field}`: the value is a URL and the entry is its origin.
fn origin_of(field: &str, value: &str) -> Result<String, RenderError> {
    if !value.contains("://") {
        return Err(bad_value(
            field,
            "must be a URL starting with http:// or https://",
        ));
    }
    let url = parse_http_url(field, value)?;
    // scheme://host[:port], the port only when it is not the scheme's default.
    Ok(url.origin().ascii_serialization())
}

/// A template whose placeholders sit in the host part: `https://{shop_domain}`,
/// `https://api.mygls.{country}:8443`.
fn render_host(template: &str, pieces: &[Piece<'_>]) -> Result<String, RenderError> {
    let outside_host = || RenderError::BadTemplate {
        template: template.to_owned(),
        reason: "placeholders may stand only in the host part, or be the whole entry".to_owned(),
    };
    let Some((Piece::Text(first), rest)) = pieces.split_first() else {
        return Err(outside_host());
    };
    let (scheme, after_scheme) = first.split_once("://").ok_or_else(outside_host)?;
    // The host ends at the first literal `:` (port) or `/`; what follows is the
    // manifest's own text, where placeholders are not allowed.
    let mut host_pieces = Vec::new();
    let mut tail = String::new();
    for piece in std::iter::once(Piece::Text(after_scheme)).chain(rest.iter().copied()) {
        match piece {
            Piece::Field { .. } if !tail.is_empty() => return Err(outside_host()),
            Piece::Field { .. } => host_pieces.push(piece),
            Piece::Text(text) if !tail.is_empty() => tail.push_str(text),
            Piece::Text(text) => match text.find([':', '/']) {
                Some(end) => {
                    host_pieces.push(Piece::Text(&text[..end]));
                    tail.push_str(&text[end..]);
                }
                None => host_pieces.push(piece),
            },
        }
    }
    host_pieces.retain(|piece| !matches!(piece, Piece::Text("")));
    let whole_host = matches!(host_pieces.as_slice(), [Piece::Field { .. }]);
    let mut host = String::new();
    let mut url_port = None;
    for piece in host_pieces {
        match piece {
            Piece::Text(text) => host.push_str(text),
            Piece::Field { name, value } => {
                let (fragment, port) = host_fragment(name, value, whole_host)?;
                host.push_str(&fragment);
                url_port = port;
            }
        }
    }
    // A shop URL's own port is kept when the manifest fixes none: `{shop_domain}`
    // filled with `http://localhost:8080` means that port.
    let port = match url_port {
        Some(port) if !tail.starts_with(':') => format!(":{port}"),
        _ => String::new(),
    };
    Ok(format!("{scheme}://{host}{port}{tail}"))
}

/// The host text a value contributes, and the explicit port of a URL value when the
/// field is the whole host. A URL contributes its host; anything else must be plain
/// host text.
fn host_fragment(
    field: &str,
    value: &str,
    whole_host: bool,
) -> Result<(String, Option<u16>), RenderError> {
    if !value.contains("://") {
        check_plain_host(field, value)?;
        return Ok((value.to_owned(), None));
    }
    let url = parse_http_url(field, value)?;
    let host = url
        .host_str()
        .ok_or_else(|| bad_value(field, "is a URL without a host"))?
        .to_owned();
    if whole_host {
        // An IP literal (IPv6 in brackets) may stand as the whole host; a name was
        // checked by parse_http_url.
        Ok((host, url.port()))
    } else {
        check_plain_host(field, &host)?;
        Ok((host, None))
    }
}

/// Parses a URL value. Its host, when a name, must be plain host text like any other
/// value: the url crate accepts `*` in names, which would turn into a wildcard entry.
fn parse_http_url(field: &str, value: &str) -> Result<Url, RenderError> {
    let url =
        Url::parse(value).map_err(|error| bad_value(field, &format!("is not a URL: {error}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad_value(field, "must be an http:// or https:// URL"));
    }
    if let Some(url::Host::Domain(name)) = url.host() {
        check_plain_host(field, name)?;
    }
    Ok(url)
}

/// Letters, digits, `-` and `.`, without empty labels. This is what stops a value such
/// as `evil.com/x`, `a@evil.com` or `evil.com:22` from changing the entry's structure.
fn check_plain_host(field: &str, value: &str) -> Result<(), RenderError> {
    if let Some(bad) = value
        .chars()
        .find(|&c| !(c.is_alphanumeric() || c == '-' || c == '.'))
    {
        return Err(bad_value(
            field,
            &format!(
                "must be a plain host name (letters, digits, '-' and '.'); {bad:?} is not allowed"
            ),
        ));
    }
    if value.starts_with('.') || value.ends_with('.') || value.contains("..") {
        return Err(bad_value(
            field,
            "must be a plain host name; it has an empty label",
        ));
    }
    Ok(())
}

fn bad_value(field: &str, reason: &str) -> RenderError {
    RenderError::BadValue {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}
