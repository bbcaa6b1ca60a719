//! How fast a batch of carrier labels merges into one printable PDF.
//!
//! `cargo bench -p tovor-labels --bench merge`
//!
//! Builds 500 single-page A6 labels in memory, shaped like the carriers' own: each its
//! own document with its own fonts and resources, a logo image, sender, recipient and
//! parcel number as text, a barcode of filled rectangles, contents Flate-compressed.
//! Then merges them into one PDF a few times and prints sizes and timings. The same
//! for 500 of the GLS fake's small hand-written labels. Nothing is asserted on time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use lopdf::{Document, Object, Stream, dictionary};

const LABELS: usize = 500;
const WARM_UPS: usize = 1;
const RUNS: usize = 5;
/// A6 in points.
const WIDTH: f32 = 297.64;
const HEIGHT: f32 = 419.53;

/// A small deterministic generator, so every run builds the same labels.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn pdf_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)")
}

/// A 96×32 RGB carrier logo: a gradient with noise, so it compresses like a real one.
fn logo(rng: &mut Lcg) -> Stream {
    let (width, height) = (96_u32, 32_u32);
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            let noise = rng.below(24) as u8;
            pixels.push((200 + x / 2) as u8 ^ noise);
            pixels.push((40 + y * 3) as u8 ^ (noise / 2));
            pixels.push(30_u8.wrapping_add(noise));
        }
    }
    let mut stream = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image",
            "Width" => i64::from(width), "Height" => i64::from(height),
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
        },
        pixels,
    );
    stream.compress().unwrap();
    stream
}

/// One realistic single-page A6 label, as its own PDF.
fn realistic_label(number: usize) -> Vec<u8> {
    let mut rng = Lcg(number as u64 + 1);
    let parcel = format!("{:011}", 70_000_000_000_u64 + number as u64 * 7919);
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = |base: &str| {
        dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => base,
            "Encoding" => "WinAnsiEncoding",
        }
    };
    let regular = doc.add_object(font("Helvetica"));
    let bold = doc.add_object(font("Helvetica-Bold"));
    let mono = doc.add_object(font("Courier"));
    let image = doc.add_object(logo(&mut rng));
    let resources = doc.add_object(dictionary! {
        "ProcSet" => vec!["PDF".into(), "Text".into(), "ImageC".into()],
        "Font" => dictionary! { "F1" => regular, "F2" => bold, "F3" => mono },
        "XObject" => dictionary! { "Im1" => image },
    });

    let mut content = String::new();
    // Frame and dividers.
    content
        .push_str("0.8 w 8 8 281.64 403.53 re S 8 300 m 289.64 300 l S 8 160 m 289.64 160 l S\n");
    // Logo.
    content.push_str("q 96 0 0 32 16 370 cm /Im1 Do Q\n");
    let lines: [(&str, f32, f32, f32, String); 11] = [
        ("F2", 14.0, 130.0, 384.0, "PARCEL".to_string()),
        ("F1", 7.0, 16.0, 352.0, "Sender:".to_string()),
        (
            "F1",
            8.0,
            16.0,
            342.0,
            format!("Shop s.r.o. warehouse {}", number % 7),
        ),
        (
            "F1",
            8.0,
            16.0,
            332.0,
            format!("Prumyslova {}, 602 00 Brno", 10 + number % 90),
        ),
        ("F1", 8.0, 16.0, 322.0, "CZ  +420 555 123 456".to_string()),
        ("F1", 7.0, 16.0, 286.0, "Recipient:".to_string()),
        ("F2", 12.0, 16.0, 270.0, format!("Customer Number {number}")),
        (
            "F1",
            10.0,
            16.0,
            256.0,
            format!("Hlavni {} / {}", number % 200, number % 13),
        ),
        (
            "F2",
            12.0,
            16.0,
            240.0,
            format!("{} {:02} Praha", 110 + number % 80, number % 100),
        ),
        ("F1", 10.0, 16.0, 226.0, "CZ  +420 777 000 000".to_string()),
        (
            "F3",
            9.0,
            16.0,
            172.0,
            format!("Weight 1.{:02} kg  Ref ORD-{number:06}", number % 100),
        ),
    ];
    for (font, size, x, y, text) in &lines {
        writeln!(
            content,
            "BT /{font} {size} Tf {x} {y} Td ({}) Tj ET",
            pdf_text(text)
        )
        .unwrap();
    }
    // Barcode: ~60 bars of varying width.
    content.push_str("0 g\n");
    let mut x = 24.0_f32;
    for _ in 0..60 {
        let width = 0.9 * (1 + rng.below(3)) as f32;
        writeln!(content, "{x:.2} 60 {width:.2} 90 re").unwrap();
        x += width + 0.9 * (1 + rng.below(2)) as f32;
    }
    content.push_str("f\n");
    writeln!(content, "BT /F3 11 Tf 70 44 Td ({parcel}) Tj ET").unwrap();
    writeln!(content, "BT /F2 20 Tf 200 110 Td (CZ) Tj ET").unwrap();

    let mut contents = Stream::new(dictionary! {}, content.into_bytes());
    contents.compress().unwrap();
    let contents = doc.add_object(contents);
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => contents, "Resources" => resources,
        "MediaBox" => vec![0.into(), 0.into(), WIDTH.into(), HEIGHT.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let info = doc.add_object(dictionary! {
        "Producer" => Object::string_literal("carrier label service"),
    });
    doc.trailer.set("Info", info);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

struct Report {
    name: &'static str,
    labels: usize,
    input_bytes: usize,
    smallest: usize,
    largest: usize,
    output_bytes: usize,
    pages: usize,
    min: Duration,
    median: Duration,
}

fn run(name: &'static str, labels: &[Vec<u8>]) -> Report {
    let refs: Vec<&[u8]> = labels.iter().map(Vec::as_slice).collect();
    let mut output = Vec::new();
    for _ in 0..WARM_UPS {
        output = tovor_labels::merge(&refs).unwrap();
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        output = std::hint::black_box(tovor_labels::merge(std::hint::black_box(&refs)).unwrap());
        times.push(start.elapsed());
    }
    times.sort();
    Report {
        name,
        labels: labels.len(),
        input_bytes: labels.iter().map(Vec::len).sum(),
        smallest: labels.iter().map(Vec::len).min().unwrap_or(0),
        largest: labels.iter().map(Vec::len).max().unwrap_or(0),
        output_bytes: output.len(),
        pages: tovor_labels::page_count(&output).unwrap(),
        min: times[0],
        median: times[times.len() / 2],
    }
}

/// One row of the table: how a report's value is shown.
type Cell = Box<dyn Fn(&Report) -> String>;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let realistic: Vec<Vec<u8>> = (0..LABELS).map(realistic_label).collect();
    let minimal: Vec<Vec<u8>> = (0..LABELS)
        .map(|i| {
            tovor_fakes::gls::minimal_pdf(&[format!("GLS {:011}", 90_000_000_000_u64 + i as u64)])
        })
        .collect();
    let reports = [
        run("realistic A6 (lopdf-built)", &realistic),
        run("GLS fake minimal_pdf", &minimal),
    ];
    tovor_bench_figures::record(
        "labels.merge_realistic",
        reports[0].median.as_secs_f64() * 1e3,
        "ms",
    );

    println!();
    println!("tovor-labels merge: {WARM_UPS} warm-up + {RUNS} timed runs per set");
    println!();
    let rows: [(&str, Cell); 10] = [
        ("labels", Box::new(|r| r.labels.to_string())),
        (
            "input size per label",
            Box::new(|r| format!("{}-{} B", r.smallest, r.largest)),
        ),
        (
            "total input",
            Box::new(|r| format!("{} B ({:.2} MiB)", r.input_bytes, mib(r.input_bytes))),
        ),
        (
            "output size",
            Box::new(|r| format!("{} B ({:.2} MiB)", r.output_bytes, mib(r.output_bytes))),
        ),
        ("pages in output", Box::new(|r| r.pages.to_string())),
        (
            "min time",
            Box::new(|r| format!("{:.1} ms", r.min.as_secs_f64() * 1e3)),
        ),
        (
            "median time",
            Box::new(|r| format!("{:.1} ms", r.median.as_secs_f64() * 1e3)),
        ),
        (
            "labels/s (median)",
            Box::new(|r| format!("{:.0}", r.labels as f64 / r.median.as_secs_f64())),
        ),
        (
            "labels/s (min)",
            Box::new(|r| format!("{:.0}", r.labels as f64 / r.min.as_secs_f64())),
        ),
        (
            "output/input",
            Box::new(|r| format!("{:.2}", r.output_bytes as f64 / r.input_bytes as f64)),
        ),
    ];
    let first = 22;
    let column = 30;
    print!("{:<first$}", "");
    for report in &reports {
        print!("  {:>column$}", report.name);
    }
    println!();
    println!("{}", "-".repeat(first + reports.len() * (column + 2)));
    for (label, cell) in &rows {
        print!("{label:<first$}");
        for report in &reports {
            print!("  {:>column$}", cell(report));
        }
        println!();
    }
    println!();
}
