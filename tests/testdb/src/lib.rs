//! Every storage and service test runs twice, on SQLite and on PostgreSQL. SQLite is
//! always there; PostgreSQL is the server at `TOVOR_TEST_POSTGRES_URL` (default
//! [`DEFAULT_POSTGRES_URL`]).
//!
//! A developer without a PostgreSQL server still gets the SQLite halves: the PostgreSQL
//! halves return early, and the test process says once, on its terminal, that they were
//! skipped and how to run them. CI sets `TOVOR_REQUIRE_POSTGRES=1`, which turns a
//! missing server back into failing tests.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Duration;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The PostgreSQL the tests use.
pub fn postgres_url() -> String {
    std::env::var("TOVOR_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// Whether PostgreSQL is required (CI): then its halves never skip.
pub fn postgres_required() -> bool {
    std::env::var("TOVOR_REQUIRE_POSTGRES").is_ok_and(|value| !value.is_empty() && value != "0")
}

/// Whether the PostgreSQL half of a test should run: the server accepts connections, or
/// it is required. Checked once per test process.
pub fn postgres_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        if postgres_required() {
            return true;
        }
        let url = postgres_url();
        let reachable = accepts_connections(&url);
        if !reachable {
            // Written to the process's stderr, not through `eprintln!`, which the test
            // harness captures and shows only for failing tests.
            let _ = writeln!(
                std::io::stderr(),
                "note: no PostgreSQL accepts connections at {url}: the PostgreSQL halves of \
                 these tests are SKIPPED. Start PostgreSQL (or set TOVOR_TEST_POSTGRES_URL) \
                 to run them; TOVOR_REQUIRE_POSTGRES=1 makes a missing server fail them."
            );
        }
        reachable
    })
}

fn accepts_connections(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or("127.0.0.1");
    let port = parsed.port().unwrap_or(5432);
    let Ok(addresses) = (host, port).to_socket_addrs() else {
        return false;
    };
    addresses
        .into_iter()
        .any(|address| TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_port_does_not_accept_connections() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(accepts_connections(&format!(
            "postgres://u@127.0.0.1:{port}/db"
        )));
        drop(listener);
        assert!(!accepts_connections(&format!(
            "postgres://u@127.0.0.1:{port}/db"
        )));
        assert!(!accepts_connections("not a url"));
    }
}
