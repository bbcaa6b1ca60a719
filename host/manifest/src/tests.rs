use std::collections::BTreeMap;
use std::time::Duration;

use super::*;

const FULL: &str = r#"
[plugin]
id = "woocommerce"
name = "WooCommerce"
version = "0.1.0"
kind = "shop"
contract = "0.1.0"
description = "Orders, stock and shipping for WooCommerce shops."
capabilities = ["webhooks", "stock-push", "product-list", "mark-shipped"]

[[config]]
name = "url"
label = "Shop URL"
type = "url"
required = true

[[config]]
name = "consumer_secret"
label = "Consumer secret"
required = true
secret = true

[[config]]
name = "country"
label = "Country"
type = "select"
options = ["si", "hu"]
default = "si"

[[config]]
name = "page_size"
label = "Page size"
type = "integer"
default = 50
help = "Orders per request."

[[config]]
name = "sandbox"
label = "Sandbox"
type = "boolean"
default = false

[egress]
allow = ["https://{url}", "https://api.mygls.{country}", "http://127.0.0.1:*"]

[limits]
memory_mib = 128
timeout_ms = 5000
max_requests = 20
max_response_bytes = 1048576
"#;

/// A minimal valid manifest with `extra` appended.
fn minimal_with(extra: &str) -> String {
    format!(
        r#"
[plugin]
id = "gls"
name = "GLS"
version = "1.2.3"
kind = "carrier"
contract = "0.1.0"
{extra}
"#
    )
}

/// Parses text that must be refused and returns the error message.
fn refusal(text: &str) -> String {
    match Manifest::parse(text) {
        Ok(manifest) => panic!("accepted an invalid manifest: {manifest:?}"),
        Err(error) => error.to_string(),
    }
}

fn assert_refused(text: &str, expected: &[&str]) {
    let message = refusal(text);
    for part in expected {
        assert!(
            message.contains(part),
            "message {message:?} should contain {part:?}"
        );
    }
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

#[test]
fn full_manifest_parses() {
    let manifest = Manifest::parse(FULL).unwrap();
    let plugin = &manifest.plugin;
    assert_eq!(plugin.id, "woocommerce");
    assert_eq!(plugin.name, "WooCommerce");
    assert_eq!(plugin.version, semver::Version::new(0, 1, 0));
    assert_eq!(plugin.kind, Kind::Shop);
    assert_eq!(plugin.kind.to_string(), "shop");
    assert_eq!(plugin.contract, Some(semver::Version::new(0, 1, 0)));
    assert_eq!(
        plugin.description.as_deref(),
        Some("Orders, stock and shipping for WooCommerce shops.")
    );
    assert_eq!(
        manifest.capabilities(),
        ["webhooks", "stock-push", "product-list", "mark-shipped"]
    );

    let names: Vec<&str> = manifest.config.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "url",
            "consumer_secret",
            "country",
            "page_size",
            "sandbox",
            "api_base"
        ]
    );
    let url = manifest.field("url").unwrap();
    assert_eq!(url.label, "Shop URL");
    assert_eq!(url.field_type, FieldType::Url);
    assert!(url.required && !url.secret);
    let secret = manifest.field("consumer_secret").unwrap();
    assert_eq!(secret.field_type, FieldType::String);
    assert!(secret.secret);
    let country = manifest.field("country").unwrap();
    assert_eq!(country.options, ["si", "hu"]);
    assert_eq!(country.default.as_deref(), Some("si"));
    assert_eq!(
        manifest.field("page_size").unwrap().default.as_deref(),
        Some("50")
    );
    assert_eq!(
        manifest.field("sandbox").unwrap().default.as_deref(),
        Some("false")
    );
    assert_eq!(
        manifest.field("page_size").unwrap().help.as_deref(),
        Some("Orders per request.")
    );

    assert_eq!(
        manifest.egress.allow,
        [
            "https://{url}",
            "https://api.mygls.{country}",
            "http://127.0.0.1:*",
            "{api_base}"
        ]
    );
    assert_eq!(manifest.limits.memory_bytes(), 128 << 20);
    assert_eq!(manifest.limits.timeout(), Duration::from_millis(5000));
    assert_eq!(manifest.limits.max_requests, 20);
    assert_eq!(manifest.limits.max_response_bytes, 1 << 20);
    assert_eq!(
        manifest.secret_fields().collect::<Vec<_>>(),
        ["consumer_secret"]
    );
}

#[test]
fn defaults_apply_to_a_minimal_manifest() {
    let manifest = Manifest::parse(&minimal_with("")).unwrap();
    assert_eq!(manifest.plugin.kind, Kind::Carrier);
    assert_eq!(manifest.plugin.kind.to_string(), "carrier");
    assert!(manifest.capabilities().is_empty());
    assert_eq!(manifest.plugin.description, None);
    assert_eq!(manifest.limits, Limits::default());
    assert_eq!(manifest.limits.memory_bytes(), 64 << 20);
    assert_eq!(manifest.limits.timeout(), Duration::from_secs(30));
    assert_eq!(manifest.limits.max_requests, 100);
    assert_eq!(manifest.limits.max_response_bytes, 16 << 20);
    assert_eq!(manifest.secret_fields().count(), 0);
}

#[test]
fn api_base_is_implicit() {
    let manifest = Manifest::parse(&minimal_with("")).unwrap();
    let api_base = manifest.field(API_BASE_FIELD).unwrap();
    assert_eq!(api_base.label, "API base URL (sandbox, tests)");
    assert_eq!(api_base.field_type, FieldType::Url);
    assert!(!api_base.required && !api_base.secret);
    assert_eq!(manifest.egress.allow, ["{api_base}"]);
}

#[test]
fn a_declared_api_base_is_kept_and_not_doubled() {
    let manifest = Manifest::parse(&minimal_with(
        r#"
[[config]]
name = "api_base"
label = "API address"
type = "url"
required = true

[egress]
allow = ["{api_base}", "https://api.gls.example"]
"#,
    ))
    .unwrap();
    let declared: Vec<_> = manifest
        .config
        .iter()
        .filter(|field| field.name == API_BASE_FIELD)
        .collect();
    assert_eq!(declared.len(), 1);
    assert_eq!(declared[0].label, "API address");
    assert!(declared[0].required);
    assert_eq!(
        manifest.egress.allow,
        ["{api_base}", "https://api.gls.example"]
    );
}

#[test]
fn a_declared_api_base_must_be_a_url() {
    assert_refused(
        &minimal_with("[[config]]\nname = \"api_base\"\nlabel = \"API\"\n"),
        &["`config.api_base`", "type \"url\""],
    );
}

#[test]
fn templates_may_use_api_base_without_declaring_it() {
    let manifest = Manifest::parse(&minimal_with(
        "[egress]\nallow = [\"https://{api_base}\"]\n",
    ))
    .unwrap();
    assert_eq!(manifest.egress.allow, ["https://{api_base}", "{api_base}"]);
}

#[test]
fn bad_ids_are_refused() {
    for id in [
        "",
        "WooCommerce",
        "-woo",
        "woo_commerce",
        "woo.commerce",
        "wöo",
    ] {
        let text = FULL.replace("id = \"woocommerce\"", &format!("id = {id:?}"));
        assert_refused(&text, &["`plugin.id`", "is not a plugin id"]);
    }
    let too_long = "a".repeat(64);
    assert_refused(
        &FULL.replace("\"woocommerce\"", &format!("{too_long:?}")),
        &["`plugin.id`"],
    );
    let longest = "a".repeat(63);
    assert!(Manifest::parse(&FULL.replace("\"woocommerce\"", &format!("{longest:?}"))).is_ok());
    assert!(Manifest::parse(&FULL.replace("\"woocommerce\"", "\"0-woo-2\"")).is_ok());
}

#[test]
fn empty_name_is_refused() {
    assert_refused(
        &FULL.replace("name = \"WooCommerce\"", "name = \" \""),
        &["`plugin.name`", "must not be empty"],
    );
}

#[test]
fn bad_kind_is_refused() {
    assert_refused(
        &FULL.replace("kind = \"shop\"", "kind = \"marketplace\""),
        &[
            "line 6",
            "unknown variant `marketplace`",
            "`shop`",
            "`carrier`",
        ],
    );
}

#[test]
fn unknown_keys_are_refused() {
    assert_refused(
        &FULL.replace("kind = \"shop\"", "kind = \"shop\"\nkindd = \"shop\""),
        &["unknown field `kindd`", "line 7"],
    );
    assert_refused(
        &FULL.replace("required = true\n", "requird = true\n"),
        &["unknown field `requird`"],
    );
    assert_refused(
        &minimal_with("[limits]\nmemory = 5"),
        &["unknown field `memory`"],
    );
    assert_refused(
        &minimal_with("[egress]\nallowed = []"),
        &["unknown field `allowed`"],
    );
    assert_refused(
        &minimal_with("[runtime]\nfuel = 1"),
        &["unknown field `runtime`"],
    );
}

#[test]
fn missing_keys_are_refused() {
    // The contract version may be left to the component.
    let manifest = Manifest::parse(&FULL.replace("contract = \"0.1.0\"\n", "")).unwrap();
    assert_eq!(manifest.plugin.contract, None);
    assert_refused(
        "[[config]]\nname = \"x\"\nlabel = \"X\"\n",
        &["missing field `plugin`"],
    );
}

#[test]
fn toml_syntax_errors_carry_the_line() {
    assert_refused(
        &minimal_with("[limits\nmemory_mib = 5"),
        &["TOML parse error at line 8"],
    );
}

#[test]
fn bad_semver_is_refused() {
    assert_refused(
        &FULL.replace("version = \"0.1.0\"", "version = \"1.0\""),
        &["line 5", "version"],
    );
    assert_refused(
        &FULL.replace("contract = \"0.1.0\"", "contract = \"latest\""),
        &["line 7"],
    );
}

#[test]
fn unknown_capabilities_are_refused() {
    assert_refused(
        &minimal_with("capabilities = [\"webhooks\"]"),
        &[
            "`plugin.capabilities`",
            "\"webhooks\" is not a carrier capability",
            "pickup-points",
        ],
    );
    assert_refused(
        &minimal_with("capabilities = [\"cancel\", \"cancel\"]"),
        &["\"cancel\" is listed twice"],
    );
    let manifest = Manifest::parse(&minimal_with(
        "capabilities = [\"cash-on-delivery\", \"pickup-points\", \"cancel\", \"lookup-by-reference\"]",
    ))
    .unwrap();
    assert_eq!(manifest.capabilities().len(), 4);
}

#[test]
fn placeholders_must_name_declared_fields() {
    assert_refused(
        &FULL.replace("https://{url}", "https://{shop_domain}"),
        &[
            "`egress.allow`",
            "\"https://{shop_domain}\"",
            "{shop_domain} names no config field",
        ],
    );
}

#[test]
fn placeholders_must_not_name_secrets() {
    assert_refused(
        &FULL.replace("https://{url}", "https://{consumer_secret}"),
        &["{consumer_secret} names a secret field"],
    );
}

#[test]
fn malformed_templates_are_refused() {
    for (template, expected) in [
        ("https://{url", "`{` without a matching `}`"),
        ("https://{{url}}", "`{` without a matching `}`"),
        ("https://url}", "`}` without a matching `{`"),
        ("https://{}", "{} names no config field"),
        ("", "must not be empty"),
    ] {
        let text = FULL.replace("\"https://{url}\"", &format!("{template:?}"));
        assert_refused(&text, &["`egress.allow`", expected]);
    }
}

#[test]
fn bad_field_names_are_refused() {
    for name in ["", "Url", "1url", "shop-url", "shop url", "_url"] {
        let text = FULL.replace("name = \"url\"", &format!("name = {name:?}"));
        assert_refused(&text, &["`config[0].name`", "is not a field name"]);
    }
}

#[test]
fn duplicate_fields_are_refused() {
    assert_refused(
        &FULL.replace("name = \"sandbox\"", "name = \"url\""),
        &["`config[4].name`", "field \"url\" is declared twice"],
    );
}

#[test]
fn empty_labels_are_refused() {
    assert_refused(
        &FULL.replace("label = \"Shop URL\"", "label = \"\""),
        &["`config.url.label`", "must not be empty"],
    );
}

#[test]
fn unknown_field_types_are_refused() {
    assert_refused(
        &FULL.replace("type = \"url\"", "type = \"uri\""),
        &["unknown variant `uri`", "`select`"],
    );
}

#[test]
fn select_needs_options() {
    assert_refused(
        &FULL.replace("options = [\"si\", \"hu\"]\n", ""),
        &["`config.country.options`", "a select field needs `options`"],
    );
    assert_refused(
        &FULL.replace("options = [\"si\", \"hu\"]", "options = []"),
        &["`config.country.options`", "at least one option"],
    );
    assert_refused(
        &FULL.replace("options = [\"si\", \"hu\"]", "options = [\"si\", \"si\"]"),
        &["\"si\" is listed twice"],
    );
}

#[test]
fn options_are_only_for_select() {
    assert_refused(
        &FULL.replace("type = \"url\"", "type = \"url\"\noptions = [\"a\"]"),
        &["`config.url.options`", "only select fields take `options`"],
    );
}

#[test]
fn defaults_must_fit_the_type() {
    assert_refused(
        &FULL.replace("default = \"si\"", "default = \"de\""),
        &["`config.country.default`", "must be one of: si, hu"],
    );
    assert_refused(
        &FULL.replace("default = 50", "default = \"fifty\""),
        &["`config.page_size.default`", "must be a whole number"],
    );
    assert_refused(
        &FULL.replace("default = 50", "default = 1.5"),
        &["`config.page_size.default`", "not float"],
    );
}

#[test]
fn secrets_cannot_have_defaults() {
    assert_refused(
        &FULL.replace("secret = true", "secret = true\ndefault = \"hunter2\""),
        &["`config.consumer_secret.default`", "cannot have a default"],
    );
}

#[test]
fn limits_out_of_range_are_refused() {
    for (limit, value, range) in [
        ("memory_mib", "0", "1 to 1024"),
        ("memory_mib", "1025", "1 to 1024"),
        ("timeout_ms", "99", "100 to 300000"),
        ("timeout_ms", "300001", "100 to 300000"),
        ("max_requests", "0", "1 to 10000"),
        ("max_requests", "10001", "1 to 10000"),
        ("max_response_bytes", "1023", "1024 to 268435456"),
        ("max_response_bytes", "268435457", "1024 to 268435456"),
    ] {
        assert_refused(
            &minimal_with(&format!("[limits]\n{limit} = {value}")),
            &[
                &format!("`limits.{limit}`"),
                &format!("{value} is out of range"),
                range,
            ],
        );
    }
    assert_refused(&minimal_with("[limits]\nmemory_mib = -1"), &["line 9"]);
}

#[test]
fn limits_at_their_bounds_are_accepted() {
    let manifest = Manifest::parse(&minimal_with(
        "[limits]\nmemory_mib = 1024\ntimeout_ms = 100\nmax_requests = 10000\nmax_response_bytes = 268435456",
    ))
    .unwrap();
    assert_eq!(manifest.limits.memory_bytes(), 1 << 30);
    assert_eq!(manifest.limits.timeout(), Duration::from_millis(100));
    assert_eq!(manifest.limits.max_requests, 10_000);
    assert_eq!(manifest.limits.max_response_bytes, 256 << 20);
}

#[test]
fn from_file_reports_the_path() {
    let path = std::env::temp_dir().join("tovor-manifest-test-does-not-exist/plugin.toml");
    let message = Manifest::from_file(&path).unwrap_err().to_string();
    assert!(message.contains("tovor-manifest-test-does-not-exist/plugin.toml"));
}

#[test]
fn from_file_parses() {
    let dir = std::env::temp_dir().join(format!("tovor-manifest-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("plugin.toml");
    std::fs::write(&path, FULL).unwrap();
    let parsed = Manifest::from_file(&path);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(parsed.unwrap(), Manifest::parse(FULL).unwrap());
}

#[test]
fn serializes_for_the_api() {
    let manifest = Manifest::parse(FULL).unwrap();
    let value = toml::Value::try_from(&manifest).unwrap();
    let plugin = &value["plugin"];
    assert_eq!(plugin["kind"].as_str(), Some("shop"));
    assert_eq!(plugin["version"].as_str(), Some("0.1.0"));
    let country = &value["config"][2];
    assert_eq!(country["type"].as_str(), Some("select"));
    assert_eq!(country["options"][1].as_str(), Some("hu"));
    assert!(value["config"][0].get("options").is_none());
    assert_eq!(value["limits"]["memory_mib"].as_integer(), Some(128));
}

mod validate_config {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::parse(FULL).unwrap()
    }

    fn problems(values: &BTreeMap<String, String>) -> Vec<(String, String)> {
        manifest()
            .validate_config(values)
            .unwrap_err()
            .into_problems()
            .into_iter()
            .map(|problem| (problem.field, problem.message))
            .collect()
    }

    #[test]
    fn fills_in_defaults() {
        let accepted = manifest()
            .validate_config(&values(&[
                ("url", "https://shop.example.com/wp/"),
                ("consumer_secret", "cs_123"),
            ]))
            .unwrap();
        assert_eq!(
            accepted,
            values(&[
                ("url", "https://shop.example.com/wp/"),
                ("consumer_secret", "cs_123"),
                ("country", "si"),
                ("page_size", "50"),
                ("sandbox", "false"),
            ])
        );
    }

    #[test]
    fn keeps_given_values_and_trims_typed_ones() {
        let accepted = manifest()
            .validate_config(&values(&[
                ("url", " https://shop.example.com "),
                ("consumer_secret", " spaces kept "),
                ("country", "hu"),
                ("page_size", "-7"),
                ("sandbox", "true"),
                ("api_base", "http://127.0.0.1:8080/v3"),
            ]))
            .unwrap();
        assert_eq!(accepted["url"], "https://shop.example.com");
        assert_eq!(accepted["consumer_secret"], " spaces kept ");
        assert_eq!(accepted["country"], "hu");
        assert_eq!(accepted["page_size"], "-7");
        assert_eq!(accepted["sandbox"], "true");
        assert_eq!(accepted["api_base"], "http://127.0.0.1:8080/v3");
    }

    #[test]
    fn empty_optional_values_are_left_out() {
        let accepted = manifest()
            .validate_config(&values(&[
                ("url", "https://shop.example.com"),
                ("consumer_secret", "x"),
                ("api_base", ""),
            ]))
            .unwrap();
        assert!(!accepted.contains_key("api_base"));
    }

    #[test]
    fn reports_every_problem_with_its_field() {
        let found = problems(&values(&[
            ("url", "shop.example.com"),
            ("consumer_secret", "  "),
            ("country", "de"),
            ("page_size", "12.5"),
            ("sandbox", "yes"),
            ("colour", "blue"),
        ]));
        let expected = [
            ("colour", "is not a field of this plugin"),
            ("url", "must be an absolute http:// or https:// URL"),
            ("consumer_secret", "is required"),
            ("country", "must be one of: si, hu"),
            ("page_size", "must be a whole number"),
            ("sandbox", "must be true or false"),
        ];
        assert_eq!(
            found,
            expected.map(|(field, message)| (field.to_owned(), message.to_owned()))
        );
    }

    #[test]
    fn display_lists_all_problems() {
        let errors = manifest()
            .validate_config(&values(&[("colour", "blue")]))
            .unwrap_err();
        assert_eq!(errors.problems().len(), 3);
        assert_eq!(
            errors.to_string(),
            "invalid config: colour is not a field of this plugin; url is required; \
             consumer_secret is required"
        );
    }

    #[test]
    fn urls_must_be_absolute_http() {
        for (url, expected) in [
            ("ftp://shop.example.com", "not ftp://"),
            ("/relative", "absolute"),
            ("https://", "absolute"),
            ("https://user:pw@shop.example.com", "user name or password"),
        ] {
            let found = problems(&values(&[("url", url), ("consumer_secret", "x")]));
            assert_eq!(found.len(), 1, "{url}: {found:?}");
            assert_eq!(found[0].0, "url");
            assert!(found[0].1.contains(expected), "{url}: {found:?}");
        }
        for url in [
            "http://127.0.0.1:8080",
            "https://[::1]/",
            "https://šop.si/x?y#z",
        ] {
            let config = values(&[("url", url), ("consumer_secret", "x")]);
            assert!(manifest().validate_config(&config).is_ok(), "{url}");
        }
    }

    #[test]
    fn messages_never_repeat_the_value() {
        let errors = manifest()
            .validate_config(&values(&[
                ("url", "not-a-url-hunter2"),
                ("consumer_secret", "x"),
            ]))
            .unwrap_err();
        assert!(!errors.to_string().contains("hunter2"));
    }
}
