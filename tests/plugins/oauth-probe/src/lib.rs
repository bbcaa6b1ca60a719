//! A test connector for connector state. Its platform hands out access tokens for a
//! refresh token, and every refresh token works once: the answer carries the next one.
//! A connector that forgot the rotated token (lost state, a restart) is locked out, so
//! the host's tests prove state is kept per account, sealed, across restarts.

use serde::{Deserialize, Serialize};
use tovor_sdk::http::Request;
use tovor_sdk::shop::{OrderPage, Orders};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, Order};
use tovor_sdk::{Config, state};

struct OauthProbe;

/// What the connector keeps, sealed: the tokens of the last refresh.
#[derive(Serialize, Deserialize)]
struct Tokens {
    refresh_token: String,
    access_token: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: String,
}

const STATE_KEY: &str = "oauth.tokens";

/// Exchanges the newest refresh token for new tokens and keeps them.
fn refresh(config: &Config, base: &str) -> Result<Tokens, ConnectorError> {
    let refresh_token = match state::get_json::<Tokens>(STATE_KEY)? {
        Some(kept) => kept.refresh_token,
        None => config.require("refresh_token")?.to_owned(),
    };
    let answer: TokenAnswer = Request::post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
        ])
        .send()?
        .error_for_status()?
        .json()?;
    let tokens = Tokens {
        refresh_token: answer.refresh_token,
        access_token: answer.access_token,
    };
    state::set_json_sealed(STATE_KEY, &tokens)?;
    Ok(tokens)
}

impl Orders for OauthProbe {
    fn list_orders(
        config: &Config,
        _changed_since: OffsetDateTime,
        _cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        let base = config.require("api_base")?.trim_end_matches('/').to_owned();
        let tokens = refresh(config, &base)?;
        Request::get(format!("{base}/orders"))
            .bearer_auth(&tokens.access_token)
            .send()?
            .error_for_status()?;
        Ok(OrderPage {
            orders: Vec::new(),
            next_cursor: None,
        })
    }

    fn get_order(_config: &Config, _id: String) -> Result<Order, ConnectorError> {
        Err(ConnectorError::unsupported("get-order"))
    }
}

tovor_sdk::export_shop!(OauthProbe: orders);
