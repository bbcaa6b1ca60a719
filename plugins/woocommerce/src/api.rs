//! The WooCommerce REST API v3 (`{site}/wp-json/wc/v3`) for one shop: signed requests,
//! WooCommerce's error bodies, and `page`/`X-WP-TotalPages` paging.
//!
//! Authentication: over HTTPS, HTTP Basic with the consumer key and secret; over plain
//! HTTP WooCommerce refuses Basic and wants OAuth 1.0a one-legged signatures in the
//! query (see [`tovor_sdk::oauth1`]).

use serde::de::DeserializeOwned;
use serde_json::Value;
use tovor_sdk::Config;
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::types::ConnectorError;

use tovor_sdk::oauth1;

use crate::woo;

/// Items per page: WooCommerce's maximum `per_page`.
pub const PAGE_SIZE: usize = 100;

/// Query parameters, decoded: they are signed before they are encoded.
pub type Query<'a> = [(&'a str, String)];

/// The API root and credentials for one shop.
pub struct Api {
    /// The site, without a trailing `/` (`https://shop.example`).
    site: String,
    /// `{site}/wp-json/wc/v3`.
    base: String,
    key: String,
    secret: String,
    /// Plain HTTP: sign with OAuth 1.0a instead of sending the secret.
    oauth: bool,
}

impl Api {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        let site = config.api_base_or(config.require("url")?);
        let scheme = site
            .split("://")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(ConnectorError::invalid_field(
                "url",
                format!("{site:?} is not an http:// or https:// address"),
            ));
        }
        Ok(Self {
            base: api_root(&site),
            site,
            key: config.require("consumer_key")?.trim().to_owned(),
            secret: config.require("consumer_secret")?.trim().to_owned(),
            oauth: scheme == "http",
        })
    }

    /// The site the API belongs to.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// Whether the site is reached over plain HTTP.
    pub fn is_plain_http(&self) -> bool {
        self.oauth
    }

    /// A request with our credentials. Its query must be given here, not added later:
    /// over plain HTTP it is part of the signature.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        query: &Query<'_>,
        body: Option<&Value>,
    ) -> Request {
        let url = format!("{}{path}", self.base);
        let mut params: Vec<(String, String)> = query
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        let mut request = if self.oauth {
            let timestamp = tovor_sdk::time::now().unix_timestamp();
            let consumer = oauth1::Credentials {
                consumer_key: self.key.clone(),
                consumer_secret: self.secret.clone(),
                token: None,
            };
            params.extend(oauth1::signed_params(
                &consumer,
                method,
                &url,
                &params,
                timestamp,
                &oauth1::nonce(),
            ));
            Request::new(method, url).query(&params)
        } else {
            Request::new(method, url)
                .query(&params)
                .basic_auth(&self.key, &self.secret)
        };
        request = request.header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        request
    }

    /// Sends a request; a non-2xx answer is an error whose kind follows the status and
    /// whose text quotes WooCommerce's code and message.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        query: &Query<'_>,
        body: Option<&Value>,
    ) -> Result<Response, ConnectorError> {
        checked(self.request(method, path, query, body).send()?)
    }

    /// `GET` with a query.
    pub fn get(&self, path: &str, query: &Query<'_>) -> Result<Response, ConnectorError> {
        self.send("GET", path, query, None)
    }

    /// Sends requests at once (see [`http::send_many`]); one checked result each.
    pub fn send_all(&self, requests: Vec<Request>) -> Vec<Result<Response, ConnectorError>> {
        http::send_many(requests)
            .into_iter()
            .map(|result| result.and_then(checked))
            .collect()
    }

    /// Every item of a paged collection (`page`/`per_page`, `X-WP-TotalPages`).
    pub fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query<'_>,
    ) -> Result<Vec<T>, ConnectorError> {
        let first = self.get(path, &paged(query, 1))?;
        self.rest_of(&first, path, query)
    }

    /// [`Api::get_all`] for a collection whose first page (`paged(query, 1)`) was
    /// already fetched.
    pub fn rest_of<T: DeserializeOwned>(
        &self,
        first: &Response,
        path: &str,
        query: &Query<'_>,
    ) -> Result<Vec<T>, ConnectorError> {
        let mut items: Vec<T> = first.json()?;
        let mut page = 1;
        // An empty page ends the walk even if the total said otherwise (items deleted
        // meanwhile), so a wrong total cannot make us loop.
        let mut more = next_page(first, page).is_some() && !items.is_empty();
        while more {
            page += 1;
            let response = self.get(path, &paged(query, page))?;
            let batch: Vec<T> = response.json()?;
            more = next_page(&response, page).is_some() && !batch.is_empty();
            items.extend(batch);
        }
        Ok(items)
    }
}

/// `query` with `per_page` at the maximum and `page`.
pub fn paged<'a>(query: &Query<'a>, page: usize) -> Vec<(&'a str, String)> {
    let mut paged: Vec<(&str, String)> = query.to_vec();
    paged.push(("per_page", PAGE_SIZE.to_string()));
    paged.push(("page", page.to_string()));
    paged
}

/// The response, or the error its status and WooCommerce's body mean.
pub fn checked(response: Response) -> Result<Response, ConnectorError> {
    match woo::response_error(response.status, &response.headers, &response.body) {
        Some(error) => Err(error),
        None => Ok(response),
    }
}

/// `{site}/wp-json/wc/v3`, the site given with or without a trailing `/`.
pub fn api_root(site: &str) -> String {
    format!("{}/wp-json/wc/v3", site.trim().trim_end_matches('/'))
}

/// The page a cursor names; no cursor is page 1.
pub fn page_cursor(cursor: Option<String>) -> Result<usize, ConnectorError> {
    match cursor {
        None => Ok(1),
        Some(cursor) => cursor
            .trim()
            .parse()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| {
                ConnectorError::invalid_field("cursor", format!("{cursor:?} is not a page number"))
            }),
    }
}

/// The next page while `X-WP-TotalPages` says there is one. (The `Link` header is not
/// followed: WordPress copies the request's query into it, OAuth parameters included,
/// which would have to be re-signed anyway.)
pub fn next_page(response: &Response, page: usize) -> Option<String> {
    let total_pages: usize = response
        .header("x-wp-totalpages")
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    (page < total_pages).then(|| (page + 1).to_string())
}
