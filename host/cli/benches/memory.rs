//! The resident memory of `tovor serve` idle on SQLite with every bundled connector of
//! `target/plugins` loaded (compiled, instantiated once by the load's smoke test).
//!
//! `cargo xtask setup && cargo bench -p tovor --bench memory`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn resident_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let plugins = root.join("target/plugins");
    let bundled = std::fs::read_dir(&plugins)
        .map(Iterator::count)
        .unwrap_or(0);
    if bundled == 0 {
        println!(
            "tovor serve idle memory: no connectors in target/plugins (run cargo xtask setup)"
        );
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tovor"))
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data.path())
        .arg("--plugins")
        .arg(&plugins)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Every bundled connector is logged (on stdout) once it is loaded; idle is when they
    // all have been.
    let started = Instant::now();
    let log = child.stdout.take().unwrap();
    let loaded = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counting = loaded.clone();
    // Read to the end, so the service never writes into a closed pipe.
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
            if line.contains("plugin loaded") {
                counting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    let deadline = Duration::from_secs(120);
    while loaded.load(std::sync::atomic::Ordering::Relaxed) < bundled
        && started.elapsed() < deadline
        && child.try_wait().ok().flatten().is_none()
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let load_seconds = started.elapsed().as_secs_f64();
    // Whatever the start-up left to settle (the first worker rounds).
    std::thread::sleep(Duration::from_secs(2));
    let rss = resident_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    match rss {
        Some(rss) => {
            println!(
                "tovor serve idle on SQLite with {bundled} bundled connectors loaded: {rss:.0} MiB resident \
                 ({load_seconds:.1} s to load them)"
            );
            tovor_bench_figures::record("memory.serve_idle", rss, "MiB");
        }
        None => println!("tovor serve idle memory: the process could not be read"),
    }
}
