use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn templates(list: &[&str]) -> Vec<String> {
    list.iter().map(|template| (*template).to_owned()).collect()
}

fn render_with(
    list: &[&str],
    pairs: &[(&str, &str)],
    policy: Policy,
) -> Result<AllowList, RenderError> {
    AllowList::render(&templates(list), &config(pairs), policy)
}

fn render(list: &[&str], pairs: &[(&str, &str)]) -> Result<AllowList, RenderError> {
    render_with(list, pairs, Policy::default())
}

/// The rendered entries as text.
fn rendered(list: &[&str], pairs: &[(&str, &str)]) -> Vec<String> {
    render(list, pairs)
        .unwrap()
        .entries()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn check(allow: &AllowList, url: &str) -> Result<Permit, Denied> {
    allow.check_url(&Url::parse(url).unwrap())
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn public_only() -> Permit {
    Permit::for_resolver(false)
}

fn private_allowed() -> Permit {
    Permit::for_resolver(true)
}

mod entries {
    use super::*;

    #[test]
    fn are_normalised() {
        for (written, shown) in [
            ("https://API.Example.com/", "https://api.example.com"),
            ("https://example.com:443", "https://example.com"),
            ("http://example.com:443", "http://example.com:443"),
            ("HTTP://example.com", "http://example.com"),
            ("http://127.0.0.1:*", "http://127.0.0.1:*"),
            ("http://2130706433", "http://127.0.0.1"),
            ("http://10.1.2.3/8:8000-8999", "http://10.0.0.0/8:8000-8999"),
            ("https://*.Example.com", "https://*.example.com"),
            ("http://[::1]:8080/", "http://[::1]:8080"),
            ("http://[fc00::1/7]", "http://[fc00::/7]"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            ("http://fake_shop:8080", "http://fake_shop:8080"),
        ] {
            assert_eq!(rendered(&[written], &[]), [shown], "{written}");
        }
    }

    #[test]
    fn bad_grammar_is_refused() {
        for (written, reason) in [
            ("ftp://example.com", "scheme `ftp` is not allowed"),
            ("*://example.com", "a `*` scheme is not allowed"),
            ("example.com", "must start with http:// or https://"),
            ("https://example.com/api", "paths are not allowed"),
            ("https://example.com:8443/api", "paths are not allowed"),
            ("http://[::1]/api", "paths are not allowed"),
            ("https://user@example.com", "user info is not allowed"),
            ("https://example.com?q=1", "a query is not allowed"),
            ("https://example.com#top", "a fragment is not allowed"),
            ("https://*", "a bare `*` host"),
            ("https://*:*", "a bare `*` host"),
            (
                "https://api.*.example.com",
                "`*` may only stand as the whole first label",
            ),
            ("https://*.*.example.com", "is not a valid DNS name"),
            ("https://*.10.0.0.1", "not an address"),
            ("https://example.com:0", "is not `*`, a port"),
            ("https://example.com:65536", "is not `*`, a port"),
            ("https://example.com:", "is not `*`, a port"),
            ("https://example.com:http", "is not `*`, a port"),
            ("https://example.com:9000-8000", "is backwards"),
            ("https://", "the host is missing"),
            ("https://:443", "the host is missing"),
            ("https://[::1", "unclosed `[`"),
            ("https://[::1]x", "paths are not allowed"),
            ("https://[example.com]", "is not an IPv6 address"),
            ("https://[::1/200]", "is not an IPv6 CIDR block"),
            ("https://exa mple.com", "whitespace"),
            ("https://a..example.com", "is not a valid DNS name"),
            ("https://example.com.", "is not a valid DNS name"),
            ("https://ex!ample.com", "is not a valid DNS name"),
        ] {
            match render(&[written], &[]) {
                Err(RenderError::BadEntry { entry, reason: why }) => {
                    assert_eq!(entry, written);
                    assert!(why.contains(reason), "{written}: {why:?}");
                }
                other => panic!("{written}: expected BadEntry, got {other:?}"),
            }
        }
    }

    #[test]
    fn know_their_source() {
        let allow = render(
            &[
                "https://api.example.com",
                "https://{shop_domain}",
                "{api_base}",
            ],
            &[
                ("shop_domain", "shop.example.com"),
                ("api_base", "http://127.0.0.1:9"),
            ],
        )
        .unwrap();
        let sources: Vec<EntrySource> = allow.entries().iter().map(Entry::source).collect();
        assert_eq!(
            sources,
            [
                EntrySource::Manifest,
                EntrySource::Config,
                EntrySource::Config
            ]
        );
    }

    #[test]
    fn display_for_logs() {
        let allow = render(&["https://a.example.com", "http://127.0.0.1:*"], &[]).unwrap();
        assert_eq!(
            allow.to_string(),
            "https://a.example.com, http://127.0.0.1:*"
        );
        assert!(!allow.is_empty());
        let empty = render(&[], &[]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.to_string(), "(nothing)");
    }
}

mod rendering {
    use super::*;

    #[test]
    fn a_whole_url_field_becomes_its_origin() {
        for (value, origin) in [
            ("https://shop.example.com/wp/", "https://shop.example.com"),
            (
                "https://Shop.Example.com:443/x?y#z",
                "https://shop.example.com",
            ),
            ("http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080"),
            ("http://[::1]:9000", "http://[::1]:9000"),
            ("http://2130706433:8080", "http://127.0.0.1:8080"),
            (
                "https://user:pw@shop.example.com",
                "https://shop.example.com",
            ),
        ] {
            assert_eq!(rendered(&["{url}"], &[("url", value)]), [origin], "{value}");
        }
    }

    #[test]
    fn a_whole_url_field_must_hold_a_url() {
        for value in ["shop.example.com", "ftp://shop.example.com", "https://"] {
            match render(&["{url}"], &[("url", value)]) {
                Err(RenderError::BadValue { field, .. }) => assert_eq!(field, "url"),
                other => panic!("{value}: expected BadValue, got {other:?}"),
            }
        }
    }

    #[test]
    fn absent_or_empty_fields_drop_the_entry() {
        let list = [
            "https://api.example.com",
            "{api_base}",
            "https://api.{region}.example.com",
        ];
        assert_eq!(rendered(&list, &[]), ["https://api.example.com"]);
        assert_eq!(
            rendered(&list, &[("api_base", ""), ("region", "")]),
            ["https://api.example.com"]
        );
        assert!(render(&["{api_base}"], &[]).unwrap().is_empty());
    }

    #[test]
    fn host_placeholders_take_plain_host_text() {
        assert_eq!(
            rendered(
                &["https://{shop_domain}"],
                &[("shop_domain", "Shop.Example.com")]
            ),
            ["https://shop.example.com"]
        );
        assert_eq!(
            rendered(&["https://api.mygls.{country}"], &[("country", "si")]),
            ["https://api.mygls.si"]
        );
        assert_eq!(
            rendered(
                &["https://{store}.myshopify.com:8443/"],
                &[("store", "my-store")]
            ),
            ["https://my-store.myshopify.com:8443"]
        );
        assert_eq!(
            rendered(&["http://{host}:*"], &[("host", "192.168.1.10")]),
            ["http://192.168.1.10:*"]
        );
        let idn = rendered(&["https://{shop_domain}"], &[("shop_domain", "šop.si")]);
        assert_eq!(idn, ["https://xn--op-kta.si"]);
    }

    #[test]
    fn host_placeholders_take_the_host_of_a_url() {
        assert_eq!(
            rendered(
                &["https://{shop_domain}"],
                &[("shop_domain", "http://Shop.Example.com/wp/")]
            ),
            ["https://shop.example.com"]
        );
        // The URL's port counts when the template sets none...
        assert_eq!(
            rendered(
                &["https://{shop_domain}"],
                &[("shop_domain", "https://shop.example.com:8443/")]
            ),
            ["https://shop.example.com:8443"]
        );
        // ...and the template's port wins when it sets one.
        assert_eq!(
            rendered(
                &["https://{shop_domain}:9443"],
                &[("shop_domain", "https://shop.example.com:8443/")]
            ),
            ["https://shop.example.com:9443"]
        );
        assert_eq!(
            rendered(
                &["http://{shop_domain}"],
                &[("shop_domain", "http://[::1]:8080")]
            ),
            ["http://[::1]:8080"]
        );
        // Inside a longer host only the URL's host counts, and it must be plain text.
        assert_eq!(
            rendered(
                &["https://api.{region}"],
                &[("region", "https://eu.example.com:8443")]
            ),
            ["https://api.eu.example.com"]
        );
        assert!(matches!(
            render(&["https://api.{region}"], &[("region", "http://[::1]")]),
            Err(RenderError::BadValue { .. })
        ));
    }

    #[test]
    fn smuggling_attempts_are_refused() {
        for value in [
            "evil.com/x",
            "a@evil.com",
            "evil.com:22",
            "shop.com#",
            "shop.com?x=1",
            "shop.com\\evil.com",
            "shop .com",
            "shop.com\n",
            "*.evil.com",
            "*",
            ".evil.com",
            "evil..com",
            "evil.com.",
            "evil%2ecom",
            "evil。com",
            "[::1]",
            "::1",
            "https:evil.com",
        ] {
            for template in ["https://{shop_domain}", "https://{shop_domain}.example.com"] {
                match render(&[template], &[("shop_domain", value)]) {
                    Err(RenderError::BadValue { field, .. }) => {
                        assert_eq!(field, "shop_domain", "{template} {value:?}");
                    }
                    other => panic!("{template} with {value:?}: expected BadValue, got {other:?}"),
                }
            }
        }
        let error = render(&["https://{shop_domain}"], &[("shop_domain", "evil.com/x")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "config field `shop_domain` must be a plain host name (letters, digits, '-' and \
             '.'); '/' is not allowed"
        );
    }

    #[test]
    fn url_values_cannot_smuggle_wildcards_or_odd_names() {
        for value in [
            "https://*.evil.com",
            "http://*",
            "https://ev*l.com",
            "http://fake_shop:80",
        ] {
            for template in ["{url}", "https://{url}", "https://{url}.example.com"] {
                match render(&[template], &[("url", value)]) {
                    Err(RenderError::BadValue { field, .. }) => assert_eq!(field, "url"),
                    other => panic!("{template} with {value:?}: expected BadValue, got {other:?}"),
                }
            }
        }
    }

    #[test]
    fn an_empty_host_value_makes_no_entry() {
        assert!(
            render(&["https://{shop_domain}"], &[("shop_domain", "")])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn placeholders_outside_the_host_are_refused() {
        for template in [
            "{scheme}://example.com",
            "https://example.com:{port}",
            "https://example.com/{path}",
            "{url}/",
            "{url}{url}",
            "https{url}://example.com",
        ] {
            match render(
                &[template],
                &[
                    ("scheme", "https"),
                    ("port", "8080"),
                    ("path", "x"),
                    ("url", "https://shop.example.com"),
                ],
            ) {
                Err(RenderError::BadTemplate { reason, .. }) => {
                    assert!(reason.contains("host part"), "{template}: {reason}");
                }
                other => panic!("{template}: expected BadTemplate, got {other:?}"),
            }
        }
    }

    #[test]
    fn malformed_templates_are_refused_even_when_a_field_is_empty() {
        for (template, reason) in [
            ("https://{shop_domain", "`{` without a matching `}`"),
            ("https://shop}", "`}` without a matching `{`"),
            ("https://{}", "`{}` names no field"),
            ("https://{a}.{b", "`{` without a matching `}`"),
        ] {
            match render(&[template], &[]) {
                Err(RenderError::BadTemplate { reason: why, .. }) => {
                    assert_eq!(why, reason, "{template}");
                }
                other => panic!("{template}: expected BadTemplate, got {other:?}"),
            }
        }
    }
}

mod urls {
    use super::*;

    #[test]
    fn scheme_must_be_http_or_https_and_match() {
        let allow = render(&["https://example.com"], &[]).unwrap();
        assert!(check(&allow, "https://example.com/orders?page=2").is_ok());
        assert_eq!(
            check(&allow, "http://example.com/"),
            Err(Denied::NotAllowed {
                url_host: "example.com".to_owned(),
                port: 80
            })
        );
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "ws://example.com/",
        ] {
            assert!(
                matches!(check(&allow, url), Err(Denied::BadScheme { .. })),
                "{url}"
            );
        }
        assert_eq!(
            check(&allow, "ftp://example.com/").unwrap_err().to_string(),
            "scheme `ftp` is not allowed; plugins may only use http and https"
        );
    }

    #[test]
    fn hosts_compare_case_insensitively_and_after_idna() {
        let allow = render(&["https://bücher.example", "https://Example.com"], &[]).unwrap();
        assert!(check(&allow, "https://EXAMPLE.com/").is_ok());
        assert!(check(&allow, "https://BÜCHER.example/").is_ok());
        assert!(check(&allow, "https://xn--bcher-kva.example/").is_ok());
        assert!(check(&allow, "https://example.co/").is_err());
        assert!(check(&allow, "https://example.com.evil.net/").is_err());
    }

    #[test]
    fn denial_names_host_and_port() {
        let allow = render(&["https://example.com"], &[]).unwrap();
        assert_eq!(
            check(&allow, "https://host.example/")
                .unwrap_err()
                .to_string(),
            "host.example:443 is not on the plugin's allow-list"
        );
        assert_eq!(
            check(&allow, "http://[::1]:8080/").unwrap_err().to_string(),
            "[::1]:8080 is not on the plugin's allow-list"
        );
    }

    #[test]
    fn an_empty_list_denies_everything() {
        let allow = render(&["{api_base}"], &[]).unwrap();
        assert!(matches!(
            check(&allow, "https://example.com/"),
            Err(Denied::NotAllowed { .. })
        ));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let allow = render(&["https://*.example.com"], &[]).unwrap();
        assert!(check(&allow, "https://a.example.com/").is_ok());
        assert!(check(&allow, "https://a.b.example.com/").is_ok());
        assert!(check(&allow, "https://example.com/").is_err());
        assert!(check(&allow, "https://badexample.com/").is_err());
        assert!(check(&allow, "https://a.example.com.evil.net/").is_err());
        assert!(check(&allow, "https://a.example.com:8443/").is_err());
    }

    #[test]
    fn ports_default_explicit_range_and_any() {
        let default_port = render(&["https://example.com"], &[]).unwrap();
        assert!(check(&default_port, "https://example.com/").is_ok());
        assert!(check(&default_port, "https://example.com:443/").is_ok());
        assert!(check(&default_port, "https://example.com:8443/").is_err());

        let explicit = render(&["http://example.com:8080"], &[]).unwrap();
        assert!(check(&explicit, "http://example.com:8080/").is_ok());
        assert!(check(&explicit, "http://example.com/").is_err());
        assert!(check(&explicit, "http://example.com:8081/").is_err());

        let range = render(&["http://example.com:8000-8999"], &[]).unwrap();
        assert!(check(&range, "http://example.com:8000/").is_ok());
        assert!(check(&range, "http://example.com:8999/").is_ok());
        assert!(check(&range, "http://example.com:7999/").is_err());
        assert!(check(&range, "http://example.com:9000/").is_err());
        assert!(check(&range, "http://example.com/").is_err());

        let any = render(&["http://example.com:*"], &[]).unwrap();
        for url in [
            "http://example.com/",
            "http://example.com:1/",
            "http://example.com:65535/",
        ] {
            assert!(check(&any, url).is_ok(), "{url}");
        }
        assert!(check(&any, "https://example.com/").is_err());
    }

    #[test]
    fn ipv6_literals_and_blocks() {
        let allow = render(&["http://[::1]:8080", "http://[fd12::/16]:*"], &[]).unwrap();
        let permit = check(&allow, "http://[::1]:8080/").unwrap();
        assert!(permit.private_allowed);
        assert_eq!(permit.entry, "http://[::1]:8080");
        assert_eq!(permit.within, Some("::1/128".parse().unwrap()));
        assert!(check(&allow, "http://[::1]:8081/").is_err());
        assert!(check(&allow, "http://[0:0::1]:8080/").is_ok());
        assert!(check(&allow, "http://[fd12:3::4]:1/").is_ok());
        assert!(check(&allow, "http://[fd13::4]:1/").is_err());
        // A mapped address is a different URL host: the entry must name it that way.
        assert!(check(&allow, "http://[::ffff:127.0.0.1]:8080/").is_err());
    }

    #[test]
    fn ipv4_blocks() {
        let allow = render(&["http://10.0.0.0/8:*"], &[]).unwrap();
        let permit = check(&allow, "http://10.1.2.3:9000/").unwrap();
        assert!(permit.private_allowed);
        assert_eq!(permit.within, Some("10.0.0.0/8".parse().unwrap()));
        assert!(check(&allow, "http://11.0.0.1/").is_err());
        assert!(check(&allow, "http://ten.example/").is_err());
    }

    #[test]
    fn ip_hosts_in_any_form_match_as_the_url_crate_reads_them() {
        let allow = render(&["http://127.0.0.1:*"], &[]).unwrap();
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://127.1:8080/",
            "http://0177.0.0.1/",
        ] {
            let permit = check(&allow, url).unwrap();
            assert!(permit.private_allowed, "{url}");
            assert_eq!(check_address(ip("127.0.0.1"), &permit), Ok(()));
        }
        let names_only = render(&["http://localhost:*"], &[]).unwrap();
        assert_eq!(
            check(&names_only, "http://2130706433/"),
            Err(Denied::NotAllowed {
                url_host: "127.0.0.1".to_owned(),
                port: 80
            })
        );
    }
}

mod permits {
    use super::*;

    #[test]
    fn manifest_literals_allow_private_addresses() {
        let allow = render(&["http://127.0.0.1:*"], &[]).unwrap();
        let permit = check(&allow, "http://127.0.0.1:3000/").unwrap();
        assert_eq!(
            permit,
            Permit {
                private_allowed: true,
                entry: "http://127.0.0.1:*".to_owned(),
                within: Some("127.0.0.1/32".parse().unwrap()),
            }
        );
        assert_eq!(check_address(ip("127.0.0.1"), &permit), Ok(()));
        assert_eq!(
            check_address(ip("127.0.0.2"), &permit),
            Err(Denied::OutsideEntry {
                ip: ip("127.0.0.2"),
                entry: "http://127.0.0.1:*".to_owned()
            })
        );
        assert_eq!(check_address(ip("::ffff:127.0.0.1"), &permit), Ok(()));
    }

    #[test]
    fn manifest_host_names_never_allow_private_addresses() {
        let allow = render(&["http://localhost:*"], &[]).unwrap();
        let permit = check(&allow, "http://localhost:8080/").unwrap();
        assert!(!permit.private_allowed);
        assert_eq!(permit.within, None);
        assert_eq!(
            check_address(ip("127.0.0.1"), &permit),
            Err(Denied::BlockedAddress {
                ip: ip("127.0.0.1"),
                reason: BlockReason::Loopback
            })
        );
    }

    #[test]
    fn config_entries_need_the_operator_switch() {
        let list = ["{api_base}"];
        let values = [("api_base", "http://127.0.0.1:8080")];
        let strict = render(&list, &values).unwrap();
        let permit = check(&strict, "http://127.0.0.1:8080/").unwrap();
        assert!(!permit.private_allowed);
        assert_eq!(
            check_address(ip("127.0.0.1"), &permit)
                .unwrap_err()
                .to_string(),
            "127.0.0.1 is a loopback address, which this plugin may not reach"
        );

        let open = render_with(
            &list,
            &values,
            Policy {
                allow_private_egress: true,
            },
        )
        .unwrap();
        let permit = check(&open, "http://127.0.0.1:8080/").unwrap();
        assert!(permit.private_allowed);
        assert_eq!(check_address(ip("127.0.0.1"), &permit), Ok(()));

        let host_from_config = render_with(
            &["https://{shop_domain}"],
            &[("shop_domain", "shop.lan")],
            Policy {
                allow_private_egress: true,
            },
        )
        .unwrap();
        let permit = check(&host_from_config, "https://shop.lan/").unwrap();
        assert!(permit.private_allowed);
        assert_eq!(check_address(ip("192.168.1.20"), &permit), Ok(()));
    }

    #[test]
    fn decimal_ip_in_config_is_still_loopback() {
        let allow = render(&["{api_base}"], &[("api_base", "http://2130706433:8080")]).unwrap();
        let permit = check(&allow, "http://127.0.0.1:8080/").unwrap();
        assert!(matches!(
            check_address(ip("127.0.0.1"), &permit),
            Err(Denied::BlockedAddress {
                reason: BlockReason::Loopback,
                ..
            })
        ));
    }

    #[test]
    fn the_most_permissive_matching_entry_wins() {
        let allow = render(
            &["{api_base}", "http://127.0.0.1:*"],
            &[("api_base", "http://127.0.0.1:8080")],
        )
        .unwrap();
        let permit = check(&allow, "http://127.0.0.1:8080/").unwrap();
        assert!(permit.private_allowed);
        assert_eq!(permit.entry, "http://127.0.0.1:*");
    }
}

mod addresses {
    use super::*;

    const METADATA: [&str; 4] = [
        "169.254.169.254",
        "169.254.170.2",
        "100.100.100.200",
        "fd00:ec2::254",
    ];

    #[test]
    fn cloud_metadata_is_refused_always() {
        let wide_open = Permit {
            private_allowed: true,
            entry: "http://169.254.0.0/16:*".to_owned(),
            within: Some("169.254.0.0/16".parse().unwrap()),
        };
        for address in METADATA.into_iter().chain([
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ]) {
            for permit in [&public_only(), &private_allowed(), &wide_open] {
                assert_eq!(
                    check_address(ip(address), permit),
                    Err(Denied::BlockedAddress {
                        ip: ip(address),
                        reason: BlockReason::CloudMetadata
                    }),
                    "{address}"
                );
            }
        }
        assert_eq!(
            check_address(ip("169.254.169.254"), &private_allowed())
                .unwrap_err()
                .to_string(),
            "169.254.169.254 is a cloud metadata address, which this plugin may not reach"
        );
    }

    #[test]
    fn non_global_addresses_need_private_allowed() {
        use BlockReason::*;
        for (address, reason) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", ThisNetwork),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.254", SharedAddressSpace),
            ("169.254.1.1", LinkLocal),
            ("192.0.0.8", Reserved),
            ("192.0.2.1", Documentation),
            ("198.51.100.1", Documentation),
            ("203.0.113.1", Documentation),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Broadcast),
            ("::", Unspecified),
            ("::1", Loopback),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fc00::1", UniqueLocal),
            ("fd12:3456::1", UniqueLocal),
            ("fec0::1", SiteLocal),
            ("ff02::1", Multicast),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("2001:2::1", Benchmarking),
            ("2001::1", Reserved),
            ("64:ff9b:1::1", Reserved),
            ("100::1", Reserved),
            ("4000::1", Reserved),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:192.168.0.1", Private),
            ("::127.0.0.1", Loopback),
            ("64:ff9b::7f00:1", Loopback),
            ("64:ff9b::a00:1", Private),
            ("2002:7f00:1::1", Loopback),
            ("2002:c0a8:101::", Private),
        ] {
            assert_eq!(
                check_address(ip(address), &public_only()),
                Err(Denied::BlockedAddress {
                    ip: ip(address),
                    reason
                }),
                "{address}"
            );
            assert_eq!(
                check_address(ip(address), &private_allowed()),
                Ok(()),
                "{address}"
            );
        }
    }

    #[test]
    fn global_addresses_pass() {
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(
                check_address(ip(address), &public_only()),
                Ok(()),
                "{address}"
            );
        }
    }

    #[test]
    fn literal_entries_keep_the_connection_inside() {
        let permit = Permit {
            private_allowed: true,
            entry: "http://10.0.0.0/8:*".to_owned(),
            within: Some("10.0.0.0/8".parse().unwrap()),
        };
        assert_eq!(check_address(ip("10.9.8.7"), &permit), Ok(()));
        assert_eq!(check_address(ip("::ffff:10.9.8.7"), &permit), Ok(()));
        assert_eq!(
            check_address(ip("192.168.0.1"), &permit)
                .unwrap_err()
                .to_string(),
            "192.168.0.1 is outside the allow-list entry http://10.0.0.0/8:*"
        );
        // A public literal named by a config entry: inside it, and global.
        let public_literal = Permit {
            private_allowed: false,
            entry: "https://8.8.8.8".to_owned(),
            within: Some(IpNet::from(ip("8.8.8.8"))),
        };
        assert_eq!(check_address(ip("8.8.8.8"), &public_literal), Ok(()));
        assert!(check_address(ip("8.8.4.4"), &public_literal).is_err());
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Characters that make up config values: plain host text, URL and path syntax,
    /// whitespace, and Unicode that IDNA maps to dots or letters.
    fn value_char() -> impl Strategy<Value = char> {
        prop_oneof![
            4 => prop::char::range('a', 'z'),
            1 => prop::char::range('A', 'Z'),
            1 => prop::char::range('0', '9'),
            2 => prop::sample::select(vec!['-', '.']),
            2 => prop::sample::select(vec![
                '/', '@', ':', '?', '#', '%', '\\', '*', '[', ']', ' ', '\t', '\n', '_', '~',
                '\u{3002}', '\u{ff0e}', '\u{2488}', '\u{200b}', 'é', 'ß', 'Ω', '٣', '＠',
            ]),
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(value_char(), 0..24).prop_map(String::from_iter)
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => text(),
            1 => text().prop_map(|rest| format!("https://{rest}")),
        ]
    }

    fn is_plain_ascii_host(value: &str) -> bool {
        !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !value.starts_with('.')
            && !value.ends_with('.')
            && !value.contains("..")
    }

    fn is_plain_host_text(value: &str) -> bool {
        value
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
    }

    proptest! {
        #[test]
        fn config_cannot_move_a_fixed_host(value in value()) {
            let result = render(&["https://api.mygls.{country}"], &[("country", &value)]);
            if !value.contains("://") && !is_plain_host_text(&value) {
                prop_assert!(result.is_err(), "accepted {value:?}");
            }
            if let Ok(allow) = result {
                let entries: Vec<String> = allow.entries().iter().map(ToString::to_string).collect();
                if value.is_empty() {
                    prop_assert!(entries.is_empty());
                } else {
                    prop_assert_eq!(entries.len(), 1);
                    let host = entries[0].strip_prefix("https://api.mygls.");
                    prop_assert!(host.is_some(), "{value:?} gave {}", entries[0]);
                    // No port, path or second host could follow the value.
                    prop_assert!(
                        host.is_some_and(|host| !host.contains([':', '/', '@', '*'])),
                        "{value:?} gave {}", entries[0]
                    );
                    if is_plain_ascii_host(&value) {
                        prop_assert_eq!(
                            &entries[0],
                            &format!("https://api.mygls.{}", value.to_ascii_lowercase())
                        );
                    }
                    // Whatever the value, the entry only lets through hosts under api.mygls.
                    let elsewhere = Url::parse("https://evil.example/").unwrap();
                    prop_assert!(allow.check_url(&elsewhere).is_err());
                }
            }
        }

        #[test]
        fn config_cannot_add_a_path_port_or_wildcard(
            value in value(),
            template in prop::sample::select(vec!["https://{shop_domain}", "{shop_domain}"]),
        ) {
            let result = render(&[template], &[("shop_domain", &value)]);
            let must_refuse = if template.starts_with('{') {
                !value.is_empty() && !value.contains("://")
            } else {
                !value.contains("://") && !is_plain_host_text(&value)
            };
            if must_refuse {
                prop_assert!(result.is_err(), "accepted {value:?}");
            }
            if let Ok(allow) = result {
                for entry in allow.entries() {
                    let text = entry.to_string();
                    let url = Url::parse(&text).unwrap();
                    prop_assert_eq!(url.scheme(), "https");
                    prop_assert_eq!(url.path(), "/");
                    prop_assert!(!text.contains('*'), "{value:?} gave {text}");
                    // Only a URL value may carry its own port.
                    if !value.contains("://") {
                        prop_assert_eq!(url.port(), None, "{:?} gave {}", value, text);
                    }
                    // The host is the value as the url crate reads a host (IPv4 forms
                    // such as `0` or `0x7f.1` included), nothing else.
                    if is_plain_ascii_host(&value) {
                        let host = url::Host::parse(&value).unwrap();
                        prop_assert_eq!(text, format!("https://{host}"));
                    }
                }
            }
        }

        #[test]
        fn private_ranges_need_private_allowed(
            block in prop::sample::select(vec![
                "127.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16", "169.254.0.0/16",
            ]),
            bits in any::<u32>(),
            mapped in any::<bool>(),
        ) {
            let block: ipnet::Ipv4Net = block.parse().unwrap();
            let v4 = Ipv4Addr::from(
                u32::from(block.network()) | (bits & u32::from(block.hostmask())),
            );
            let address = if mapped {
                IpAddr::V6(v4.to_ipv6_mapped())
            } else {
                IpAddr::V4(v4)
            };
            prop_assert!(
                matches!(
                    check_address(address, &public_only()),
                    Err(Denied::BlockedAddress { .. })
                ),
                "{address} passed"
            );
        }

        #[test]
        fn metadata_never_passes(
            index in 0..METADATA_FORMS.len(),
            private in any::<bool>(),
        ) {
            let address = ip(METADATA_FORMS[index]);
            let permit = Permit::for_resolver(private);
            prop_assert_eq!(
                check_address(address, &permit),
                Err(Denied::BlockedAddress { ip: address, reason: BlockReason::CloudMetadata })
            );
        }

        #[test]
        fn wrapped_ipv4_is_judged_like_ipv4(bits in any::<u32>()) {
            let v4 = Ipv4Addr::from(bits);
            let [a, b, c, d] = v4.octets();
            let high = u16::from_be_bytes([a, b]);
            let low = u16::from_be_bytes([c, d]);
            let verdict = check_address(IpAddr::V4(v4), &public_only()).is_ok();
            for wrapped in [
                v4.to_ipv6_mapped(),
                Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, high, low),
                Ipv6Addr::new(0x2002, high, low, 0, 0, 0, 0, 1),
                v4.to_ipv6_compatible(),
            ] {
                prop_assert_eq!(
                    check_address(IpAddr::V6(wrapped), &public_only()).is_ok(),
                    verdict,
                    "{} vs {}", v4, wrapped
                );
            }
        }
    }

    const METADATA_FORMS: [&str; 8] = [
        "169.254.169.254",
        "169.254.170.2",
        "100.100.100.200",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "::ffff:100.100.100.200",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
    ];
}
