use lopdf::content::Content;
use lopdf::{Document, Object, ObjectId, SaveOptions, Stream, dictionary};

use super::{LabelError, merge, page_count};

const A6: [i64; 4] = [0, 0, 298, 420];

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| (*text).to_string()).collect()
}

/// Labels as the GLS fake prints them: one page per parcel showing "GLS <number>".
fn gls(numbers: &[&str]) -> Vec<u8> {
    let lines: Vec<String> = numbers.iter().map(|n| format!("GLS {n}")).collect();
    tovor_fakes::gls::minimal_pdf(&lines)
}

fn packeta(numbers: &[&str]) -> Vec<u8> {
    tovor_fakes::packeta::label_pdf(&strings(numbers))
}

fn text_page(text: &str) -> Stream {
    let content = format!("BT /F1 18 Tf 24 360 Td ({text}) Tj ET");
    Stream::new(dictionary! {}, content.into_bytes())
}

fn number_box(values: [i64; 4]) -> Object {
    Object::Array(values.into_iter().map(Object::Integer).collect())
}

/// Root Pages (MediaBox A6, Resources) → [Pages (Rotate 90) → [page, page], page with its
/// own MediaBox]. No page carries MediaBox or Resources except the last's MediaBox.
fn nested_tree_pdf(texts: [&str; 3]) -> Vec<u8> {
    let mut doc = Document::with_version("1.4");
    let root_id = doc.new_object_id();
    let inner_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier",
    });
    let resources = dictionary! { "Font" => dictionary! { "F1" => font_id } };
    let page = |doc: &mut Document, parent: ObjectId, text: &str, media_box: Option<[i64; 4]>| {
        let contents = doc.add_object(text_page(text));
        let mut dict = dictionary! { "Type" => "Page", "Parent" => parent, "Contents" => contents };
        if let Some(values) = media_box {
            dict.set("MediaBox", number_box(values));
        }
        doc.add_object(dict)
    };
    let first = page(&mut doc, inner_id, texts[0], None);
    let second = page(&mut doc, inner_id, texts[1], None);
    let third = page(&mut doc, root_id, texts[2], Some([0, 0, 400, 600]));
    doc.objects.insert(
        inner_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Parent" => root_id, "Rotate" => 90,
            "Kids" => vec![first.into(), second.into()], "Count" => 2,
        }),
    );
    doc.objects.insert(
        root_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "MediaBox" => number_box(A6), "Resources" => resources,
            "Kids" => vec![inner_id.into(), third.into()], "Count" => 3,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A PDF 1.5 written with a cross-reference stream and its objects in object streams,
/// contents Flate-compressed.
fn object_stream_pdf(texts: &[&str]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let mut kids = Vec::new();
    for text in texts {
        let mut stream = text_page(text);
        stream.compress().unwrap();
        let contents = doc.add_object(stream);
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => contents,
            "MediaBox" => number_box(A6),
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        });
        kids.push(Object::Reference(page));
    }
    let count = i64::try_from(kids.len()).unwrap();
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let options = SaveOptions::builder()
        .use_object_streams(true)
        .use_xref_streams(true)
        .build();
    let mut out = Vec::new();
    doc.save_with_options(&mut out, options).unwrap();
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The text shown on each page (the operands of its `Tj` operators), in page order.
fn page_texts(pdf: &[u8]) -> Vec<String> {
    let doc = Document::load_mem(pdf).unwrap();
    doc.page_iter()
        .map(|page| {
            let content = Content::decode(&doc.get_page_content(page)).unwrap();
            content
                .operations
                .iter()
                .filter(|op| op.operator == "Tj")
                .filter_map(|op| op.operands.first())
                .map(|operand| String::from_utf8_lossy(operand.as_str().unwrap()).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Each page's own MediaBox and Rotate (not looked up in the tree: they must be on the page).
fn page_boxes(pdf: &[u8]) -> Vec<(Vec<f32>, i64)> {
    let doc = Document::load_mem(pdf).unwrap();
    doc.page_iter()
        .map(|page| {
            let dict = doc.get_dictionary(page).unwrap();
            let media_box = dict
                .get(b"MediaBox")
                .expect("MediaBox on the page itself")
                .as_array()
                .unwrap()
                .iter()
                .map(|value| value.as_float().unwrap())
                .collect();
            let rotate = dict
                .get(b"Rotate")
                .map_or(0, |value| value.as_i64().unwrap());
            (media_box, rotate)
        })
        .collect()
}

#[test]
fn inputs_are_what_the_tests_expect() {
    assert_eq!(page_count(&gls(&["1", "2"])).unwrap(), 2);
    assert_eq!(page_texts(&packeta(&["Z1"])), ["Packeta Z1"]);
    // The nested tree's pages really do inherit: no MediaBox, Resources or Rotate of their own.
    let nested = nested_tree_pdf(["a", "b", "c"]);
    let doc = Document::load_mem(&nested).unwrap();
    let first = doc.page_iter().next().unwrap();
    let page = doc.get_dictionary(first).unwrap();
    for key in [b"MediaBox".as_slice(), b"Resources", b"Rotate"] {
        assert!(page.get(key).is_err());
    }
    assert_eq!(page_texts(&nested), ["a", "b", "c"]);
}

#[test]
fn merges_every_page_of_every_input_in_order() {
    let nested = nested_tree_pdf(["Nested 1", "Nested 2", "Nested 3"]);
    let compressed = object_stream_pdf(&["Compressed 1", "Compressed 2"]);
    assert!(
        contains(&compressed, b"/ObjStm"),
        "built with object streams"
    );
    assert!(contains(&compressed, b"/XRef"), "built with an xref stream");
    let inputs = [
        gls(&["100", "101"]),
        packeta(&["Z200"]),
        nested,
        compressed,
        gls(&["102"]),
    ];
    let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();

    let merged = merge(&refs).unwrap();

    assert_eq!(page_count(&merged).unwrap(), 9);
    assert_eq!(
        page_texts(&merged),
        [
            "GLS 100",
            "GLS 101",
            "Packeta Z200",
            "Nested 1",
            "Nested 2",
            "Nested 3",
            "Compressed 1",
            "Compressed 2",
            "GLS 102",
        ]
    );
    let a6 = vec![0.0, 0.0, 298.0, 420.0];
    let boxes = page_boxes(&merged);
    let expected = [
        (a6.clone(), 0),
        (a6.clone(), 0),
        (a6.clone(), 0),
        (a6.clone(), 90),
        (a6.clone(), 90),
        (vec![0.0, 0.0, 400.0, 600.0], 0),
        (a6.clone(), 0),
        (a6.clone(), 0),
        (a6, 0),
    ];
    assert_eq!(boxes, expected);
}

#[test]
fn merged_document_is_one_flat_tree_with_fonts_on_every_page() {
    let inputs = [
        nested_tree_pdf(["a", "b", "c"]),
        gls(&["1"]),
        object_stream_pdf(&["d"]),
    ];
    let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let merged = merge(&refs).unwrap();
    assert!(merged.starts_with(b"%PDF-1.5"), "highest input version");

    let doc = Document::load_mem(&merged).unwrap();
    let root = doc
        .catalog()
        .unwrap()
        .get(b"Pages")
        .unwrap()
        .as_reference()
        .unwrap();
    let tree = doc.get_dictionary(root).unwrap();
    assert_eq!(tree.get(b"Count").unwrap().as_i64().unwrap(), 5);
    assert_eq!(tree.get(b"Kids").unwrap().as_array().unwrap().len(), 5);
    for page in doc.page_iter() {
        let dict = doc.get_dictionary(page).unwrap();
        assert_eq!(dict.get(b"Parent").unwrap().as_reference().unwrap(), root);
        assert!(
            dict.get(b"Resources").is_ok(),
            "resources on the page itself"
        );
        let fonts = doc.get_page_fonts(page).unwrap();
        assert!(fonts.contains_key(b"F1".as_slice()), "page keeps its font");
    }
    // Only the merged document's own catalog and page tree; the inputs' are not copied.
    let count_type = |name: &[u8]| {
        doc.objects
            .values()
            .filter(|object| {
                object
                    .as_dict()
                    .is_ok_and(|dict| dict.get_type().is_ok_and(|kind| kind == name))
            })
            .count()
    };
    assert_eq!(count_type(b"Catalog"), 1);
    assert_eq!(count_type(b"Pages"), 1);
}

#[test]
fn inputs_sharing_object_numbers_keep_their_own_objects() {
    // Both generators number their objects the same way (1 catalog, 2 tree, 3 font, ...).
    let inputs = [gls(&["A", "B"]), packeta(&["C", "D"]), gls(&["E", "F"])];
    let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let merged = merge(&refs).unwrap();
    assert_eq!(
        page_texts(&merged),
        ["GLS A", "GLS B", "Packeta C", "Packeta D", "GLS E", "GLS F"]
    );
    let reparsed = merge(&[merged.as_slice(), merged.as_slice()]).unwrap();
    assert_eq!(page_count(&reparsed).unwrap(), 12);
}

#[test]
fn a_single_readable_document_is_returned_as_is() {
    let only = gls(&["1", "2", "3"]);
    assert_eq!(merge(&[only.as_slice()]).unwrap(), only);
}

#[test]
fn no_documents_is_an_error() {
    let error = merge(&[]).unwrap_err();
    assert!(matches!(error, LabelError::Empty));
    assert_eq!(error.to_string(), "no label documents to merge");
}

#[test]
fn an_unreadable_document_is_named_by_its_index() {
    let good = gls(&["1"]);
    let garbage = b"<html>502 Bad Gateway</html>".as_slice();
    let error = merge(&[good.as_slice(), good.as_slice(), garbage]).unwrap_err();
    assert!(
        matches!(error, LabelError::Unreadable { index: 2, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("label document 2 is not a readable PDF")
    );

    let error = merge(&[b"".as_slice(), good.as_slice()]).unwrap_err();
    assert!(
        matches!(error, LabelError::Unreadable { index: 0, .. }),
        "{error:?}"
    );

    // The single-document fast path still parses what it passes through.
    let error = merge(&[b"%PDF-1.4\nnot really".as_slice()]).unwrap_err();
    assert!(
        matches!(error, LabelError::Unreadable { index: 0, .. }),
        "{error:?}"
    );

    assert!(matches!(
        page_count(garbage),
        Err(LabelError::Unreadable { index: 0, .. })
    ));
}

#[test]
fn a_document_without_pages_is_an_error() {
    let mut doc = Document::with_version("1.4");
    let pages = doc.add_object(
        dictionary! { "Type" => "Pages", "Kids" => Vec::<Object>::new(), "Count" => 0 },
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut empty = Vec::new();
    doc.save_to(&mut empty).unwrap();
    let good = gls(&["1"]);
    let error = merge(&[good.as_slice(), empty.as_slice()]).unwrap_err();
    assert!(
        matches!(error, LabelError::NoPages { index: 1 }),
        "{error:?}"
    );
}
