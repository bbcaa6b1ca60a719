//! The web admin end to end: a real headless Chromium (driven through chromedriver)
//! signs in and works through the main flows against the real WooCommerce connector
//! and its fake shop; plain HTTP checks the refusals (CSRF, roles, other companies) on
//! both databases. Screenshots of each main screen land in
//! `target/web-screenshots/` for review.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use tovor_fakes::woocommerce::{CONSUMER_KEY, CONSUMER_SECRET, FakeWoo, OrderSpec, WEBHOOK_SECRET};
use tovor_tests::service::{ADMIN_TOKEN, Db, ShopSession, TestService};

tovor_tests::on_both_databases!(forms_need_their_token_and_companies_stay_apart);

const PASSWORD: &str = "correct horse battery staple";

fn woo_config(woo: &FakeWoo) -> Value {
    json!({
        "url": woo.url(),
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    })
}

/// The id of the company named `name`.
async fn company_id(service: &TestService, name: &str) -> i64 {
    let (_, companies) = service
        .call(
            reqwest::Method::GET,
            "/api/v1/companies",
            Some(ADMIN_TOKEN),
            None,
        )
        .await
        .unwrap();
    companies
        .as_array()
        .unwrap()
        .iter()
        .find(|company| company["name"] == name)
        .unwrap_or_else(|| panic!("no company {name}: {companies}"))["id"]
        .as_i64()
        .unwrap()
}

/// Adds a person with `role` in `company` through the operator's API.
async fn add_person(service: &TestService, email: &str, company: i64, role: &str) -> i64 {
    let (status, user) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/users",
            Some(ADMIN_TOKEN),
            Some(json!({
                "email": email, "name": email.split('@').next().unwrap(),
                "password": PASSWORD, "company_id": company, "role": role, "language": "en",
            })),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{user}");
    user["id"].as_i64().unwrap()
}

/// An order placed in the fake shop and delivered to the shop's webhook URL; the
/// host's order once imported.
async fn place_order(woo: &FakeWoo, webhook_url: &str, sku: &str) -> Value {
    let product = woo.add_simple_product(sku, &format!("Product {sku}"), "12.50", Some(20));
    let placed = woo.create_order(
        &OrderSpec::new()
            .line(product, None, 3)
            .shipping("GLS", "4.10")
            .payment("bacs", "Bank transfer"),
    );
    let id = placed["id"].as_u64().unwrap();
    let status = woo
        .deliver(webhook_url, &woo.delivery("order.created", id))
        .await
        .unwrap();
    assert_eq!(status, 200);
    placed
}

/// A browser-less client of the admin that keeps its cookies and does not follow
/// redirects, to look at each answer.
struct WebClient {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl WebClient {
    fn new(service: &TestService) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: service.url(""),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(kept, _)| kept != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        (response.status(), response.text().await.unwrap())
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|value| value.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap();
        (status, location.unwrap_or(body))
    }

    async fn sign_in(&mut self, email: &str) {
        let (status, page) = self.get("/sign-in").await;
        assert_eq!(status, 200);
        let token = form_token(&page);
        let (status, to) = self
            .post(
                "/sign-in",
                &[("_csrf", &token), ("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    }
}

/// The CSRF token a page's forms carry.
fn form_token(page: &str) -> String {
    let at = page
        .find("name=\"_csrf\" value=\"")
        .unwrap_or_else(|| panic!("no form token in {page}"));
    let rest = &page[at + "name=\"_csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn forms_need_their_token_and_companies_stay_apart(db: Db) {
    let woo = FakeWoo::start().await.unwrap();
    let s = ShopSession::start(db, "woocommerce", woo_config(&woo), json!({})).await;
    let acme = company_id(&s.service, "Acme").await;
    let placed = place_order(&woo, &s.webhook_url, "MUG-1").await;
    let order = s.order_where(&placed["id"].to_string(), |_| true).await;
    let order_id = order["id"].as_i64().unwrap();

    // Another company with its own shop and order.
    let other_token = s.service.company("Other").await.unwrap();
    let other = company_id(&s.service, "Other").await;
    let (other_shop, other_hook) = s
        .service
        .add_shop(
            &other_token,
            "woocommerce",
            "woocommerce",
            woo_config(&woo),
            json!({}),
        )
        .await
        .unwrap();
    let other_placed = place_order(&woo, &other_hook, "CUP-1").await;
    let other_order = s
        .service
        .eventually(Duration::from_secs(20), || async {
            let (_, orders) = s
                .service
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/orders?shop_id={other_shop}"),
                    Some(&other_token),
                    None,
                )
                .await
                .ok()?;
            let found = orders
                .as_array()?
                .iter()
                .find(|candidate| candidate["external_id"] == other_placed["id"].to_string())?;
            found["id"].as_i64()
        })
        .await
        .expect("the other company's order");

    add_person(&s.service, "ana@acme.example", acme, "staff").await;
    add_person(&s.service, "rok@acme.example", acme, "read_only").await;

    // Nobody signed in: sent to sign in, with the way back.
    let mut anonymous = WebClient::new(&s.service);
    let (status, to) = anonymous.get(&format!("/c/{acme}/orders")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let _ = to;

    // A wrong password, then the right one.
    let mut ana = WebClient::new(&s.service);
    let (_, page) = ana.get("/sign-in").await;
    let token = form_token(&page);
    let (status, page) = ana
        .post(
            "/sign-in",
            &[
                ("_csrf", &token),
                ("email", "ana@acme.example"),
                ("password", "wrong password!"),
                ("lang", "en"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("wrong"), "{page}");
    // The sign-in form itself refuses a post without its token.
    let (status, _) = ana
        .post(
            "/sign-in",
            &[("email", "ana@acme.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    ana.sign_in("ana@acme.example").await;
    let session_cookie = ana
        .cookies
        .iter()
        .find(|(name, _)| name == "tovor_session")
        .cloned()
        .expect("a session cookie");
    assert_eq!(session_cookie.1.len(), 64);

    let order_page = format!("/c/{acme}/orders/{order_id}");
    let (status, page) = ana.get(&order_page).await;
    assert_eq!(status, 200);
    let token = form_token(&page);
    let issue = format!("{order_page}/documents");

    // CSRF: without the token, and with another one, nothing is issued.
    let (status, _) = ana.post(&issue, &[("kind", "delivery_note")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = ana
        .post(
            &issue,
            &[("_csrf", &"0".repeat(64)), ("kind", "delivery_note")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, documents) = s.get(&format!("/api/v1/orders/{order_id}")).await["documents"]
        .clone()
        .as_array()
        .map(|documents| (0, documents.len()))
        .unwrap();
    assert_eq!(documents, 0, "nothing issued without the form's token");
    // With it, the delivery note is issued.
    let (status, to) = ana
        .post(
            &issue,
            &[
                ("_csrf", &token),
                ("kind", "delivery_note"),
                ("scope", "all"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(to, order_page);
    let (_, page) = ana.get(&order_page).await;
    assert!(
        page.contains("Delivery note 2026-") || page.contains("Delivery note 20"),
        "{page}"
    );

    // Another company: its pages and its order are not found, by either path.
    let (status, _) = ana.get(&format!("/c/{other}/orders/{other_order}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ana.get(&format!("/c/{acme}/orders/{other_order}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ana.get(&format!("/c/{other}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Read-only: no buttons, and the post is refused even with a valid token.
    let mut rok = WebClient::new(&s.service);
    rok.sign_in("rok@acme.example").await;
    let (status, page) = rok.get(&order_page).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("value=\"invoice\""),
        "no issue button for read-only"
    );
    let token = form_token(&page);
    let (status, _) = rok
        .post(
            &issue,
            &[("_csrf", &token), ("kind", "invoice"), ("scope", "all")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Signing out ends the session on the server, not only in the browser.
    let (_, page) = ana.get(&format!("/c/{acme}")).await;
    let token = form_token(&page);
    let (status, _) = ana.post("/sign-out", &[("_csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    ana.cookies.push(session_cookie);
    let (status, _) = ana.get(&order_page).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "an ended session is refused");

    s.service.stop().await;
}

/// Chromium driven through chromedriver, headless.
struct Browser {
    client: Client,
    driver: Child,
    shots: PathBuf,
}

impl Browser {
    async fn start() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; .ci/tools installs it)");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en"]}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .expect("TLS roots")
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    let shots = tovor_tests::workspace().join("target/web-screenshots");
                    std::fs::create_dir_all(&shots).unwrap();
                    return Self {
                        client,
                        driver,
                        shots,
                    };
                }
                Err(error) => last_error = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start: {last_error:?}");
    }

    async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css}: {error}"))
            .click()
            .await
            .unwrap();
    }

    /// The page's text; waits out a page that is still being replaced.
    async fn text(&self) -> String {
        let mut last = None;
        for _ in 0..50 {
            let body = self.client.find(Locator::Css("body")).await;
            match body {
                Ok(body) => match body.text().await {
                    Ok(text) => return text,
                    Err(error) => last = Some(error),
                },
                Err(error) => last = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page has no readable body: {last:?}");
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Saves what the browser shows as `target/web-screenshots/{name}.png`.
    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// Reloads until the page's text contains `expected`.
    async fn until_text(&self, expected: &str) -> String {
        for _ in 0..60 {
            let text = self.text().await;
            if text.contains(expected) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            self.client.refresh().await.unwrap();
        }
        panic!("the page never showed {expected:?}: {}", self.text().await);
    }

    async fn stop(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Whether the browser tests can run here; in CI they must.
fn browser_available() -> bool {
    let available = tovor_tests::tool_available("chromedriver");
    assert!(
        available || std::env::var_os("CI").is_none(),
        "chromedriver is missing: run .ci/tools"
    );
    available
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_works_in_the_browser() {
    if !browser_available() {
        eprintln!("skipped: no chromedriver (install chromium-driver)");
        return;
    }
    let woo = FakeWoo::start().await.unwrap();
    let s = ShopSession::start(Db::Sqlite, "woocommerce", woo_config(&woo), json!({})).await;
    let acme = company_id(&s.service, "Acme").await;
    add_person(&s.service, "owner@acme.example", acme, "owner").await;
    let browser = Browser::start().await;

    // Sign in.
    browser.open(&s.service.url(&format!("/c/{acme}"))).await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.shot("sign-in").await;
    browser.fill("#email", "owner@acme.example").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    assert_eq!(
        browser.path().await,
        format!("/c/{acme}"),
        "back where they were going"
    );
    let text = browser.text().await;
    assert!(text.contains("Orders today"), "{text}");
    browser.shot("dashboard").await;

    // An order arrives by webhook and appears in the list.
    let placed = place_order(&woo, &s.webhook_url, "MUG-1").await;
    browser
        .open(&s.service.url(&format!("/c/{acme}/orders")))
        .await;
    let shop_number = placed["number"].as_str().unwrap().to_owned();
    browser.until_text(&shop_number).await;
    browser.shot("orders").await;

    // Its page, then a delivery note for all of it: delivered moves and stock drops.
    let order = s.order_where(&placed["id"].to_string(), |_| true).await;
    let warehouse = order["warehouse_id"].clone();
    s.receive(&warehouse, &[("MUG-1", "10")]).await;
    browser
        .open(&s.service.url(&format!("/c/{acme}/orders/{}", order["id"])))
        .await;
    browser.shot("order").await;
    browser.click("button[value=delivery_note]").await;
    let text = browser.text().await;
    assert!(text.contains("Delivery note"), "{text}");
    assert!(text.contains("issued"), "{text}");
    let stock = s.get("/api/v1/stock").await;
    let mug = stock
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["sku"] == "MUG-1")
        .unwrap_or_else(|| panic!("MUG-1 in {stock}"));
    let on_hand: f64 = mug["on_hand"].as_str().unwrap().parse().unwrap();
    assert!(
        (on_hand - 7.0).abs() < 1e-9,
        "10 received, 3 delivered: {mug}"
    );
    browser.shot("order-delivered").await;

    // Switching language switches every text.
    browser.click(".me form:first-of-type button").await;
    let text = browser.text().await;
    assert!(text.contains("Naročilo"), "{text}");

    browser.stop().await;
    s.service.stop().await;
}
