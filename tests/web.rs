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
use tovor_fakes::gls::{self, FakeGls};
use tovor_fakes::woocommerce::{CONSUMER_KEY, CONSUMER_SECRET, FakeWoo, OrderSpec, WEBHOOK_SECRET};
use tovor_tests::service::{ADMIN_TOKEN, Db, ShopSession, TestService, quick_workers};

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
                "password": PASSWORD, "company": {"id": company, "role": role}, "language": "en",
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
    /// Every `Set-Cookie` header received, as sent.
    set_cookies: Vec<String>,
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
            set_cookies: Vec::new(),
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
            self.set_cookies.push(text.to_owned());
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
    let other_external = other_placed["id"].to_string();
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
                .find(|candidate| candidate["external_id"] == other_external.as_str())?;
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
    let sent = ana
        .set_cookies
        .iter()
        .find(|cookie| cookie.starts_with("tovor_session=") && cookie.contains("Max-Age=43200"))
        .expect("the session cookie as sent");
    assert!(
        sent.contains("; HttpOnly") && sent.contains("; SameSite=Lax"),
        "{sent}"
    );
    assert!(!sent.contains("Secure"), "plain HTTP here: {sent}");

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
        page.contains("class=\"notice\" role=\"status\">Delivery note 20"),
        "the message the form left: {page}"
    );
    let (_, page) = ana.get(&order_page).await;
    assert!(
        !page.contains("class=\"notice\""),
        "a message is shown once"
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
    /// Clicks something that loads a new page, and waits for that page.
    async fn submit(&self, css: &str) {
        self.client
            .execute("window.tovorOldPage = true;", Vec::new())
            .await
            .unwrap();
        self.click(css).await;
        let fresh =
            "return window.tovorOldPage === undefined && document.readyState === 'complete';";
        for _ in 0..200 {
            if let Ok(Value::Bool(true)) = self.client.execute(fresh, Vec::new()).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page after clicking {css}");
    }

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

    /// Saves what the browser shows as `target/web-screenshots/{name}.png`, after
    /// checking the page's accessibility basics.
    async fn shot(&self, name: &str) {
        self.assert_accessible(name).await;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// Every visible form control has a name a screen reader can say (a label, or an
    /// `aria-label`), the page has a language and one `h1`, and every image has alt text.
    async fn assert_accessible(&self, name: &str) {
        let script = r#"
            const problems = [];
            for (const control of document.querySelectorAll('input, select, textarea')) {
                if (control.type === 'hidden') continue;
                const labelled = control.labels && control.labels.length > 0
                    || control.getAttribute('aria-label')
                    || control.getAttribute('aria-labelledby');
                if (!labelled) problems.push('unlabelled ' + control.outerHTML.slice(0, 80));
            }
            if (!document.documentElement.lang) problems.push('no lang on <html>');
            if (document.querySelectorAll('h1').length !== 1) problems.push('not one h1');
            for (const image of document.querySelectorAll('img:not([alt])')) {
                problems.push('image without alt ' + image.src);
            }
            return problems;
        "#;
        let problems = self.client.execute(script, Vec::new()).await.unwrap();
        assert_eq!(problems, json!([]), "accessibility of {name}");
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

/// The ids at the end of the browser's path (`/c/1/shops/7` → 7).
async fn last_id(browser: &Browser) -> i64 {
    let path = browser.path().await;
    path.rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no id in {path}"))
}

/// What `form` answers when the browser posts it, read in the page with `fetch`: the
/// content type and the body (a file download stays in the test's hands this way).
async fn post_form_in_page(browser: &Browser, form: &str) -> (String, Vec<u8>) {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const form = document.querySelector(arguments[0]);
        fetch(form.action, {method: 'POST', body: new URLSearchParams(new FormData(form)),
                            credentials: 'same-origin'})
          .then(async (response) => {
            const bytes = new Uint8Array(await response.arrayBuffer());
            let hex = '';
            for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
            done([response.headers.get('content-type') || '', hex]);
          })
          .catch((error) => done(['error', String(error)]));
    "#;
    let answer = browser
        .client
        .execute_async(script, vec![json!(form)])
        .await
        .unwrap();
    let content_type = answer[0].as_str().unwrap().to_owned();
    let body = hex::decode(answer[1].as_str().unwrap()).unwrap_or_default();
    (content_type, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_works_in_the_browser() {
    if !browser_available() {
        eprintln!("skipped: no chromedriver (install chromium-driver)");
        return;
    }
    let woo = FakeWoo::start().await.unwrap();
    let gls = FakeGls::start().await.unwrap();
    let plugins = [
        tovor_tests::connector("woocommerce").unwrap(),
        tovor_tests::connector("gls").unwrap(),
    ];
    let mut workers = quick_workers("web-browser");
    workers.max_attempts = 2;
    let service = TestService::start_with_plugins(Db::Sqlite, workers, &plugins)
        .await
        .unwrap();
    let token = service.company("Acme").await.unwrap();
    let acme = company_id(&service, "Acme").await;
    let api = |method, path: &str, body| {
        let service = &service;
        let token = token.clone();
        let path = path.to_owned();
        async move {
            let (status, body) = service
                .call(method, &path, Some(&token), body)
                .await
                .unwrap();
            assert!(status < 300, "{path}: {status} {body}");
            body
        }
    };
    // What the admin has no screen for yet comes through the API.
    api(
        reqwest::Method::POST,
        "/api/v1/warehouses",
        Some(json!({"name": "Main"})),
    )
    .await;
    let cod = api(
        reqwest::Method::POST,
        "/api/v1/payment-methods",
        Some(json!({"code": "COD", "name": "Cash on delivery", "cash_on_delivery": true})),
    )
    .await;
    add_person(&service, "owner@acme.example", acme, "owner").await;
    let browser = Browser::start().await;
    let page = |path: &str| service.url(&format!("/c/{acme}{path}"));

    // Sign in; the page asked for comes after.
    browser.open(&page("")).await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.shot("sign-in").await;
    browser.fill("#email", "owner@acme.example").await;
    browser.fill("#password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    assert_eq!(
        browser.path().await,
        format!("/c/{acme}"),
        "back where they were going"
    );
    assert!(browser.text().await.contains("Orders today"));
    browser.shot("dashboard").await;

    // Add a WooCommerce shop from the connector's form; its webhooks get registered.
    browser.open(&page("/shops/new")).await;
    browser.submit("a[href$='plugin=woocommerce']").await;
    browser.fill("#name", "Our shop").await;
    browser.fill("#cfg_url", &woo.url()).await;
    browser.fill("#cfg_consumer_key", CONSUMER_KEY).await;
    browser.fill("#cfg_consumer_secret", CONSUMER_SECRET).await;
    browser.fill("#cfg_webhook_secret", WEBHOOK_SECRET).await;
    browser.shot("add-shop").await;
    browser.submit("button[type=submit]").await;
    let text = browser.text().await;
    assert!(text.contains("Connection checked"), "{text}");
    assert!(
        text.contains("Registered in the e-store automatically"),
        "{text}"
    );
    let secret_shown = browser
        .client
        .source()
        .await
        .unwrap()
        .contains(CONSUMER_SECRET);
    assert!(!secret_shown, "a secret is never sent back to the browser");
    browser.shot("shop").await;
    let hooks = woo.webhooks();
    assert_eq!(hooks.len(), 4, "{hooks:?}");
    let webhook_url = hooks[0]["delivery_url"].as_str().unwrap().to_owned();
    browser.open(&page("/shops")).await;
    let shop = browser
        .client
        .find(Locator::Css("table.list tbody a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let shop_id: i64 = shop.rsplit('/').next().unwrap().parse().unwrap();
    browser.shot("shops").await;

    // Map the shop's cash on delivery to the company's.
    browser
        .open(&page(&format!("/shops/{shop_id}/payment-methods")))
        .await;
    browser.shot("payment-methods").await;
    let mapping = "form[action$='/payment-methods/cod']";
    browser
        .client
        .find(Locator::Css(&format!("{mapping} select")))
        .await
        .unwrap()
        .select_by_value(&cod["id"].to_string())
        .await
        .unwrap();
    browser.submit(&format!("{mapping} button")).await;
    assert!(browser.text().await.contains("mapping saved"));
    let methods = api(
        reqwest::Method::GET,
        &format!("/api/v1/shops/{shop_id}/payment-methods"),
        None,
    )
    .await;
    assert_eq!(methods["mapped"][0]["code"], "cod", "{methods}");

    // An order paid on delivery arrives by webhook and appears in the list.
    let product = woo.add_simple_product("MUG-1", "Mug", "12.50", Some(20));
    let placed = woo.create_order(
        &OrderSpec::new()
            .line(product, None, 3)
            .shipping("GLS", "4.10")
            .payment("cod", "Cash on delivery")
            .paid(false),
    );
    let woo_id = placed["id"].as_u64().unwrap();
    let delivered = woo
        .deliver(&webhook_url, &woo.delivery("order.created", woo_id))
        .await
        .unwrap();
    assert_eq!(delivered, 200);
    browser.open(&page("/orders")).await;
    browser.until_text(placed["number"].as_str().unwrap()).await;
    browser.shot("orders").await;
    browser.submit("table.list tbody a").await;
    let order_id = last_id(&browser).await;
    browser.shot("order").await;

    // Goods arrive through the receipt form.
    browser.open(&page("/stock")).await;
    browser.fill("input[name=sku]", "MUG-1").await;
    browser.fill("input[name=quantity]", "10").await;
    browser
        .submit("form[action$='/stock/receipts'] button")
        .await;
    let text = browser.text().await;
    assert!(text.contains("on hand now 10"), "{text}");

    // A delivery note for the whole order: stock goes from 10 to 7.
    browser.open(&page(&format!("/orders/{order_id}"))).await;
    browser.submit("button[value=delivery_note]").await;
    let text = browser.text().await;
    assert!(
        text.contains("Delivery note") && text.contains("issued"),
        "{text}"
    );
    browser.open(&page("/stock")).await;
    let row = browser
        .client
        .find(Locator::XPath("//tr[td[1][normalize-space()='MUG-1']]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("Main 7 0 7"),
        "on hand 7, reserved 0, available 7: {row}"
    );
    browser.shot("stock").await;

    // A GLS connection from the carrier's form.
    browser.open(&page("/carriers/new")).await;
    browser.submit("a[href$='plugin=gls']").await;
    browser.fill("#cfg_username", gls::USERNAME).await;
    browser.fill("#cfg_password", gls::PASSWORD).await;
    browser
        .fill("#cfg_client_number", &gls::CLIENT_NUMBER.to_string())
        .await;
    browser
        .client
        .find(Locator::Css("#cfg_country"))
        .await
        .unwrap()
        .select_by_value("SI")
        .await
        .unwrap();
    browser.fill("#cfg_api_base", &gls.api_base()).await;
    browser.fill("#cfg_request_timeout_ms", "2000").await;
    for (field, value) in [
        ("#sender_name", "Acme d.o.o."),
        ("#sender_street", "Dunajska cesta"),
        ("#sender_house_number", "5"),
        ("#sender_postal_code", "1000"),
        ("#sender_city", "Ljubljana"),
        ("#sender_country", "SI"),
        ("#sender_phone", "01 234 56 78"),
        ("#sender_email", "info@acme.example"),
    ] {
        browser.fill(field, value).await;
    }
    browser.submit("button:not([type=button]):not(.link)").await;
    let text = browser.text().await;
    assert!(text.contains("The carrier connection is added"), "{text}");

    // Ship the order with GLS: cash on delivery shows; one PDF of labels comes back.
    browser.open(&page("/shipping")).await;
    browser.click(&format!("#order_{order_id}")).await;
    browser.shot("shipping").await;
    browser.submit("#ship button").await;
    let text = browser.text().await;
    let cod_amount = format!("€{}", placed["total"].as_str().unwrap());
    assert!(
        text.contains(&cod_amount),
        "COD of the whole order, {cod_amount}: {text}"
    );
    browser.shot("shipped").await;
    let (content_type, pdf) = post_form_in_page(&browser, "form[action$='/shipping/labels']").await;
    assert_eq!(content_type, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF: {} bytes", pdf.len());
    assert_eq!(gls.parcels().len(), 1);

    // A delivery that fails (the shop refuses the key meanwhile), then its retry.
    woo.set_key_forbidden(true);
    let delivered = woo
        .deliver(&webhook_url, &woo.delivery("order.updated", woo_id))
        .await
        .unwrap();
    assert_eq!(delivered, 200, "stored before it is processed");
    browser
        .open(&page(&format!("/shops/{shop_id}/deliveries")))
        .await;
    browser.until_text("failed").await;
    browser.shot("deliveries").await;
    woo.set_key_forbidden(false);
    browser.submit("form[action$='/retry'] button").await;
    assert!(browser.text().await.contains("queued again"));
    for _ in 0..60 {
        let failed = browser
            .client
            .find_all(Locator::Css("form[action$='/retry']"))
            .await
            .unwrap();
        if failed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        browser.client.refresh().await.unwrap();
    }
    assert!(
        browser
            .client
            .find_all(Locator::Css("form[action$='/retry']"))
            .await
            .unwrap()
            .is_empty(),
        "the retried delivery went through"
    );

    // The documents list, and switching language switches every text.
    browser.open(&page("/documents")).await;
    browser.shot("documents").await;
    browser.submit("table.list tbody td:nth-child(2) a").await;
    browser.shot("document").await;
    let pdf_type = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.querySelector('iframe.pdf').src)
               .then((r) => done(r.status + ' ' + r.headers.get('content-type')));",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        pdf_type,
        json!("200 application/pdf"),
        "the document's PDF in the page"
    );
    browser.submit(".me form:first-of-type button").await;
    let text = browser.text().await;
    assert!(text.contains("Dokumenti"), "{text}");
    browser.submit(".me form:first-of-type button").await;

    // CSRF: the same form without its token is refused, and nothing is issued.
    browser.open(&page(&format!("/orders/{order_id}"))).await;
    browser
        .client
        .execute(
            "document.querySelector('#issue input[name=_csrf]').remove();",
            Vec::new(),
        )
        .await
        .unwrap();
    browser.submit("button[value=invoice]").await;
    let text = browser.text().await;
    assert!(text.contains("The form had expired"), "{text}");
    let order = api(
        reqwest::Method::GET,
        &format!("/api/v1/orders/{order_id}"),
        None,
    )
    .await;
    assert_eq!(
        order["documents"].as_array().unwrap().len(),
        1,
        "only the delivery note"
    );

    // Another company's order, by its address: not found.
    let other_token = service.company("Other").await.unwrap();
    let other = company_id(&service, "Other").await;
    let other_order = {
        let call = |path: &str, body: Value| {
            let path = path.to_owned();
            let token = other_token.clone();
            let service = &service;
            async move {
                let (status, body) = service
                    .call(reqwest::Method::POST, &path, Some(&token), Some(body))
                    .await
                    .unwrap();
                assert!(status < 300, "{path}: {status} {body}");
                body
            }
        };
        let warehouse = call("/api/v1/warehouses", json!({"name": "B"})).await;
        let shop = call(
            "/api/v1/shops",
            json!({"name": "B shop", "warehouse_id": warehouse["id"]}),
        )
        .await;
        call(
            &format!("/api/v1/shops/{}/orders", shop["id"]),
            json!({
                "id": "B-1", "number": "B-1", "status": "processing", "payment_status": "paid",
                "currency": "EUR", "prices_include_tax": false,
                "created_at": "2026-11-28T09:00:00Z", "modified_at": "2026-11-28T09:00:00Z",
                "lines": [{"sku": "TEA", "name": "Tea", "quantity": "1", "unit_price": "4.00",
                           "tax_rate": "9.5", "tax_amount": "0.38", "total": "4.00"}],
                "tax_total": "0.38", "total": "4.38"
            }),
        )
        .await["order_id"]
            .as_i64()
            .unwrap()
    };
    for path in [
        format!("/c/{other}/orders/{other_order}"),
        format!("/c/{acme}/orders/{other_order}"),
    ] {
        browser.open(&service.url(&path)).await;
        let text = browser.text().await;
        assert!(text.contains("There is nothing here"), "{path}: {text}");
    }
    browser.shot("not-found").await;

    // A read-only person sees no button they may not press.
    browser.open(&page("")).await;
    browser.submit(".me form:last-of-type button").await;
    add_person(&service, "reader@acme.example", acme, "read_only").await;
    browser.fill("#email", "reader@acme.example").await;
    browser.fill("#password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    browser.open(&page(&format!("/orders/{order_id}"))).await;
    let text = browser.text().await;
    assert!(text.contains("your role is read-only"), "{text}");
    for forbidden in ["button[value=invoice]", "button[value=delivery_note]"] {
        let found = browser
            .client
            .find_all(Locator::Css(forbidden))
            .await
            .unwrap();
        assert!(found.is_empty(), "{forbidden} shown to a read-only person");
    }
    browser.shot("order-read-only").await;
    let people = browser
        .client
        .find_all(Locator::Css("a[href$='/people']"))
        .await
        .unwrap();
    assert!(people.is_empty(), "people and tokens are the owners'");
    browser.open(&page("/shops")).await;
    let buttons = browser
        .client
        .find_all(Locator::Css("main form button"))
        .await
        .unwrap();
    assert!(buttons.is_empty(), "no sync button for read-only");

    // The owner's people and tokens; the operator's companies and plugins.
    browser.open(&page("")).await;
    browser.submit(".me form:last-of-type button").await;
    let (status, _) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/users",
            Some(ADMIN_TOKEN),
            Some(
                json!({"email": "op@tovor.example", "name": "Operator", "password": PASSWORD,
                        "company": {"id": acme}, "operator": true, "language": "en"}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    browser.fill("#email", "op@tovor.example").await;
    browser.fill("#password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    browser.open(&page("/people")).await;
    browser
        .fill(
            "form[action$='/people/tokens'] input[name=name]",
            "accounting",
        )
        .await;
    browser
        .submit("form[action$='/people/tokens'] button")
        .await;
    let shown = browser
        .client
        .find(Locator::Css("#new-token"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(shown.starts_with("tovor_"), "{shown}");
    let (status, _) = service
        .call(reqwest::Method::GET, "/api/v1/orders", Some(&shown), None)
        .await
        .unwrap();
    assert_eq!(status, 200, "the token made in the admin works");
    browser.shot("people").await;
    browser
        .submit("tbody tr:last-child form[action$='/revoke'] button")
        .await;
    let (status, _) = service
        .call(reqwest::Method::GET, "/api/v1/orders", Some(&shown), None)
        .await
        .unwrap();
    assert_eq!(status, 401, "revoked in the admin");
    browser.open(&service.url("/operator/plugins")).await;
    let text = browser.text().await;
    assert!(
        text.contains("woocommerce") && text.contains("0.2"),
        "{text}"
    );
    browser.shot("plugins").await;
    browser.open(&service.url("/operator/companies")).await;
    browser.shot("companies").await;
    let join = "form[action='/operator/companies/people']";
    browser
        .fill(&format!("{join} input[name=email]"), "Nina@Acme.Example")
        .await;
    browser
        .fill(&format!("{join} input[name=name]"), "Nina")
        .await;
    browser
        .fill(&format!("{join} input[name=password]"), PASSWORD)
        .await;
    browser.submit(&format!("{join} button")).await;
    let text = browser.text().await;
    assert!(text.contains("nina@acme.example can now work"), "{text}");
    let reset = "form[action='/operator/users/password']";
    browser
        .fill(&format!("{reset} input[name=email]"), "reader@acme.example")
        .await;
    browser
        .fill(
            &format!("{reset} input[name=password]"),
            "a brand new password",
        )
        .await;
    browser.submit(&format!("{reset} button")).await;
    let text = browser.text().await;
    assert!(text.contains("password set"), "{text}");

    browser.stop().await;
    service.stop().await;
}
