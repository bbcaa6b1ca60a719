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

/// Each A4 sheet's labels: the text of each Form XObject it draws, in drawing order,
/// with the translation (`e`, `f`) it is drawn at.
fn sheet_labels(pdf: &[u8]) -> Vec<Vec<(String, f64, f64)>> {
    let doc = Document::load_mem(pdf).unwrap();
    doc.page_iter()
        .map(|page| {
            let content = Content::decode(&doc.get_page_content(page)).unwrap();
            let (resources, _) = doc.get_page_resources(page).unwrap();
            let xobjects = resources
                .unwrap()
                .get(b"XObject")
                .unwrap()
                .as_dict()
                .unwrap();
            let mut placed = Vec::new();
            let mut matrix = (0.0, 0.0);
            for op in &content.operations {
                match op.operator.as_str() {
                    "cm" => {
                        matrix = (
                            f64::from(op.operands[4].as_float().unwrap()),
                            f64::from(op.operands[5].as_float().unwrap()),
                        );
                    }
                    "Do" => {
                        let name = op.operands[0].as_name().unwrap();
                        let id = xobjects.get(name).unwrap().as_reference().unwrap();
                        let form = doc.get_object(id).unwrap().as_stream().unwrap();
                        let bytes = form
                            .decompressed_content()
                            .unwrap_or_else(|_| form.content.clone());
                        let text = Content::decode(&bytes)
                            .unwrap()
                            .operations
                            .iter()
                            .filter(|op| op.operator == "Tj")
                            .filter_map(|op| op.operands.first())
                            .map(|operand| {
                                String::from_utf8_lossy(operand.as_str().unwrap()).into_owned()
                            })
                            .collect::<Vec<_>>()
                            .join(" ");
                        placed.push((text, matrix.0, matrix.1));
                    }
                    _ => {}
                }
            }
            placed
        })
        .collect()
}

#[test]
fn four_labels_go_on_each_a4_sheet_in_reading_order() {
    let numbers = ["1", "2", "3", "4", "5"];
    let merged = crate::print(&[&gls(&numbers)], crate::Sheet::A4FourUp).unwrap();
    assert_eq!(page_count(&merged).unwrap(), 2);
    for (media_box, rotate) in page_boxes(&merged) {
        assert_eq!(rotate, 0);
        assert!((media_box[2] - 595.276).abs() < 0.01 && (media_box[3] - 841.89).abs() < 0.01);
    }
    let sheets = sheet_labels(&merged);
    let texts: Vec<Vec<&str>> = sheets
        .iter()
        .map(|sheet| sheet.iter().map(|(text, _, _)| text.as_str()).collect())
        .collect();
    assert_eq!(
        texts,
        [vec!["GLS 1", "GLS 2", "GLS 3", "GLS 4"], vec!["GLS 5"]]
    );
    // Top left, top right, bottom left, bottom right.
    let first = &sheets[0];
    assert!(first[0].1 < 297.0 && first[0].2 >= 420.0, "{first:?}");
    assert!(first[1].1 >= 297.0 && first[1].2 >= 420.0, "{first:?}");
    assert!(first[2].1 < 297.0 && first[2].2 < 420.0, "{first:?}");
    assert!(first[3].1 >= 297.0 && first[3].2 < 420.0, "{first:?}");
}

#[test]
fn inherited_boxes_resources_and_rotation_travel_with_each_label() {
    let sheet = crate::four_up_a4(&nested_tree_pdf(["a", "b", "c"])).unwrap();
    assert_eq!(page_count(&sheet).unwrap(), 1);
    let doc = Document::load_mem(&sheet).unwrap();
    let page = doc.page_iter().next().unwrap();
    let (resources, _) = doc.get_page_resources(page).unwrap();
    let xobjects = resources
        .unwrap()
        .get(b"XObject")
        .unwrap()
        .as_dict()
        .unwrap();
    assert_eq!(xobjects.len(), 3);
    for (_, form) in xobjects.iter() {
        let form = doc
            .get_object(form.as_reference().unwrap())
            .unwrap()
            .as_stream()
            .unwrap();
        // The fonts the page inherited are the form's own.
        let resources = form.dict.get(b"Resources").unwrap();
        let resources = match resources {
            Object::Reference(id) => doc.get_dictionary(*id).unwrap(),
            other => other.as_dict().unwrap(),
        };
        assert!(resources.get(b"Font").is_ok());
        assert!(form.dict.get(b"BBox").is_ok());
    }
    assert_eq!(
        sheet_labels(&sheet)[0]
            .iter()
            .map(|(text, _, _)| text.as_str())
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}

#[test]
fn compressed_object_streams_are_laid_out_too() {
    let sheet = crate::four_up_a4(&object_stream_pdf(&["x", "y"])).unwrap();
    let texts: Vec<String> = sheet_labels(&sheet)[0]
        .iter()
        .map(|(text, _, _)| text.clone())
        .collect();
    assert_eq!(texts, ["x", "y"]);
}

#[test]
fn an_unreadable_document_is_not_laid_out() {
    assert!(matches!(
        crate::print(&[b"not a pdf"], crate::Sheet::A4FourUp),
        Err(LabelError::Unreadable { index: 0, .. })
    ));
}

mod placement {
    use proptest::prelude::*;

    use crate::{Cell, a4_quarters, place};

    const QUARTER: Cell = Cell {
        x: 0.0,
        y: 0.0,
        width: 297.638,
        height: 420.945,
    };

    fn corners(bounds: [f64; 4]) -> [(f64, f64); 4] {
        let [x0, y0, x1, y1] = bounds;
        [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
    }

    fn scale(matrix: &crate::Matrix) -> f64 {
        let [a, b, ..] = matrix.0;
        a.hypot(b)
    }

    #[test]
    fn an_a6_label_keeps_its_size_centred_in_its_quarter() {
        let matrix = place([0.0, 0.0, 297.0, 420.0], 0, QUARTER);
        assert!((scale(&matrix) - 1.0).abs() < 1e-9);
        let (x, y) = matrix.apply(0.0, 0.0);
        assert!(
            (x - 0.319).abs() < 1e-3 && (y - 0.4725).abs() < 1e-3,
            "{x} {y}"
        );
    }

    #[test]
    fn a_4x6_inch_label_shrinks_just_enough() {
        let matrix = place([0.0, 0.0, 288.0, 432.0], 0, QUARTER);
        assert!((scale(&matrix) - 420.945 / 432.0).abs() < 1e-9);
    }

    #[test]
    fn a_landscape_label_is_turned_rather_than_shrunk_to_a_third() {
        let matrix = place([0.0, 0.0, 420.0, 297.0], 0, QUARTER);
        assert!((scale(&matrix) - 1.0).abs() < 1e-9);
        let [a, b, c, d, ..] = matrix.0;
        assert!(
            a.abs() < 1e-9
                && d.abs() < 1e-9
                && (b.abs() - 1.0).abs() < 1e-9
                && (c.abs() - 1.0).abs() < 1e-9
        );
    }

    #[test]
    fn the_quarters_tile_the_sheet_in_reading_order() {
        let [top_left, top_right, bottom_left, bottom_right] = a4_quarters();
        assert!(top_left.y > bottom_left.y && top_left.x < top_right.x);
        assert_eq!(top_right.y, top_left.y);
        assert_eq!(bottom_right.x, top_right.x);
        let area: f64 = a4_quarters()
            .iter()
            .map(|cell| cell.width * cell.height)
            .sum();
        assert!((area - crate::A4.0 * crate::A4.1).abs() < 1e-6);
    }

    proptest! {
        /// Whatever its size, offset and rotation, a label lands wholly inside its
        /// quarter and is never enlarged.
        #[test]
        fn every_label_lands_inside_its_quarter_never_enlarged(
            x0 in -500.0f64..500.0,
            y0 in -500.0f64..500.0,
            width in 1.0f64..2000.0,
            height in 1.0f64..2000.0,
            rotate in prop::sample::select(vec![-90i64, 0, 90, 180, 270, 360, 450]),
            quarter in 0usize..4,
        ) {
            let cell = a4_quarters()[quarter];
            let bounds = [x0, y0, x0 + width, y0 + height];
            let matrix = place(bounds, rotate, cell);
            prop_assert!(scale(&matrix) <= 1.0 + 1e-9);
            for (x, y) in corners(bounds) {
                let (sx, sy) = matrix.apply(x, y);
                prop_assert!(sx >= cell.x - 1e-6 && sx <= cell.x + cell.width + 1e-6, "x {sx}");
                prop_assert!(sy >= cell.y - 1e-6 && sy <= cell.y + cell.height + 1e-6, "y {sy}");
            }
        }
    }
}
