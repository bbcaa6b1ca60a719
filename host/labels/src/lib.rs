//! Shipping labels: merges the carriers' label PDFs into one printable PDF.
//!
//! Carriers hand labels back one document per shipment (or one per batch call), while
//! an operator shipping a batch wants to print it in one go: one document, every label
//! in order, one print job. [`merge`] takes the carriers' PDFs as bytes and gives back
//! one PDF with every page of every input, in input order; [`page_count`] tells how
//! many labels a document holds.
//!
//! Pure: bytes in, bytes out, no I/O. Inputs are parsed with `lopdf`, so classic
//! cross-reference tables as well as cross-reference streams and object streams
//! (PDF 1.5+) are read. Each input's objects are copied under fresh object numbers
//! (inputs routinely share numbers: every carrier's generator starts at `1 0 obj`), only
//! the objects its pages reach are copied (not its old catalog, page tree, outlines or
//! metadata), and the attributes a page inherits from its page-tree nodes (`MediaBox`,
//! `CropBox`, `Resources`, `Rotate`) are copied down onto the page itself, so every
//! label keeps its size, orientation and fonts under the merged document's flat tree.
//!
//! [`print`] merges and then lays the labels out for the paper at hand ([`Sheet`]):
//! as drawn for a label printer, or four to an A4 sheet ([`four_up_a4`]).

mod sheet;

pub use sheet::{A4, Cell, Matrix, Sheet, a4_quarters, four_up_a4, place};

use std::collections::{HashMap, HashSet, VecDeque};

use lopdf::{Dictionary, Document, Object, ObjectId};

/// Why label documents could not be merged or counted.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// [`merge`] was given no documents at all.
    #[error("no label documents to merge")]
    Empty,
    /// A document is not a PDF, is damaged beyond what the reader repairs, or is
    /// encrypted with a password. `index` is its 0-based position in the input.
    #[error("label document {index} is not a readable PDF: {message}")]
    Unreadable { index: usize, message: String },
    /// A document parsed but has no pages: a label is missing rather than merged away.
    #[error("label document {index} has no pages")]
    NoPages { index: usize },
    /// Serialising the merged document failed.
    #[error("could not write the merged PDF: {0}")]
    Write(#[source] std::io::Error),
}

/// Page attributes a page may inherit from its ancestors in the page tree
/// (PDF 32000-1:2008, 7.7.3.4).
const INHERITABLE: [&[u8]; 4] = [b"MediaBox", b"CropBox", b"Resources", b"Rotate"];

/// Deeper page trees than this are treated as cyclic (lopdf stops at the same depth).
const MAX_TREE_DEPTH: usize = 256;

/// Merges label PDFs into one: every page of every document, in order.
///
/// A single document is returned unchanged once it is known to parse and to have
/// pages. Several are combined under one flat page tree, each input's objects
/// renumbered and its inherited page attributes made explicit on each page.
///
/// # Errors
///
/// [`LabelError::Empty`] for no documents; [`LabelError::Unreadable`] or
/// [`LabelError::NoPages`] naming the first document (0-based) that cannot be used;
/// [`LabelError::Write`] if the result cannot be serialised.
pub fn merge(documents: &[&[u8]]) -> Result<Vec<u8>, LabelError> {
    match documents {
        [] => Err(LabelError::Empty),
        [only] => {
            let document = load(0, only)?;
            pages(0, &document)?;
            Ok(only.to_vec())
        }
        _ => merge_many(documents),
    }
}

/// Merges label PDFs into one (see [`merge`]) laid out on `sheet`.
///
/// # Errors
///
/// As [`merge`], and [`four_up_a4`] for a sheet of four.
pub fn print(documents: &[&[u8]], sheet: Sheet) -> Result<Vec<u8>, LabelError> {
    let merged = merge(documents)?;
    match sheet {
        Sheet::AsDrawn => Ok(merged),
        Sheet::A4FourUp => four_up_a4(&merged),
    }
}

/// Number of pages (labels) in a PDF.
///
/// # Errors
///
/// [`LabelError::Unreadable`] (with `index` 0) if the bytes are not a readable PDF.
pub fn page_count(pdf: &[u8]) -> Result<usize, LabelError> {
    Ok(load(0, pdf)?.page_iter().count())
}

fn merge_many(documents: &[&[u8]]) -> Result<Vec<u8>, LabelError> {
    let mut merged = Document::with_version("1.4");
    let root_pages: ObjectId = (1, 0);
    let mut next_id: u32 = 2;
    let mut kids: Vec<Object> = Vec::new();

    for (index, bytes) in documents.iter().enumerate() {
        let document = load(index, bytes)?;
        // Versions are "major.minor" with single digits, so they order as strings.
        if document.version > merged.version {
            merged.version.clone_from(&document.version);
        }
        let page_ids = pages(index, &document)?;
        let mut copier = Copier::new(&document, next_id);
        // Number every page before copying any, so that a reference from one page to a
        // later one (a link annotation, say) finds the page's own number.
        let new_ids: Vec<ObjectId> = page_ids.iter().map(|id| copier.number_page(*id)).collect();
        for (page_id, new_id) in page_ids.into_iter().zip(new_ids) {
            copier.copy_page(page_id, new_id, root_pages, &mut merged);
            kids.push(Object::Reference(new_id));
        }
        copier.copy_reachable(&mut merged);
        next_id = copier.next_id;
    }

    let count = i64::try_from(kids.len()).unwrap_or(i64::MAX);
    let mut tree = Dictionary::new();
    tree.set("Type", Object::Name(b"Pages".to_vec()));
    tree.set("Kids", Object::Array(kids));
    tree.set("Count", Object::Integer(count));
    merged.objects.insert(root_pages, Object::Dictionary(tree));

    let catalog_id: ObjectId = (next_id, 0);
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(root_pages));
    merged
        .objects
        .insert(catalog_id, Object::Dictionary(catalog));
    merged.trailer.set("Root", Object::Reference(catalog_id));
    merged.max_id = next_id;

    let mut out = Vec::new();
    merged.save_to(&mut out).map_err(LabelError::Write)?;
    Ok(out)
}

fn load(index: usize, bytes: &[u8]) -> Result<Document, LabelError> {
    let unreadable = |message: String| LabelError::Unreadable { index, message };
    // lopdf's lenient loader scans for objects anywhere in the buffer; insist on a header
    // near the start (readers allow leading junk within the first 1024 bytes).
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or_default();
    if !head.windows(5).any(|window| window == b"%PDF-") {
        return Err(unreadable("no %PDF- header: not a PDF".into()));
    }
    let document = Document::load_mem(bytes).map_err(|error| unreadable(error.to_string()))?;
    // lopdf opens documents encrypted with an empty user password by itself; anything
    // still encrypted after loading needs a password we do not have.
    if document.is_encrypted() && !document.was_encrypted() {
        return Err(unreadable("encrypted with a password".into()));
    }
    Ok(document)
}

/// The document's pages in order, each checked to be a dictionary.
fn pages(index: usize, document: &Document) -> Result<Vec<ObjectId>, LabelError> {
    let ids: Vec<ObjectId> = document.page_iter().collect();
    if ids.is_empty() {
        return Err(LabelError::NoPages { index });
    }
    for (number, id) in ids.iter().enumerate() {
        if document.get_dictionary(*id).is_err() {
            return Err(LabelError::Unreadable {
                index,
                message: format!(
                    "page {} (object {} {}) is missing or not a dictionary",
                    number + 1,
                    id.0,
                    id.1
                ),
            });
        }
    }
    Ok(ids)
}

/// Copies one input's pages and every object they reach into the merged document,
/// under fresh object numbers starting at `next_id`.
struct Copier<'a> {
    source: &'a Document,
    /// Source object → its number in the merged document.
    renumbered: HashMap<ObjectId, ObjectId>,
    /// Source objects numbered but not yet copied.
    pending: VecDeque<ObjectId>,
    next_id: u32,
}

impl<'a> Copier<'a> {
    fn new(source: &'a Document, next_id: u32) -> Self {
        Self {
            source,
            renumbered: HashMap::new(),
            pending: VecDeque::new(),
            next_id,
        }
    }

    fn fresh_id(&mut self) -> ObjectId {
        let id = (self.next_id, 0);
        self.next_id += 1;
        id
    }

    /// A page's number in the merged document. A page listed twice in the source tree
    /// gets two numbers (two copies, each with a parent of its own); references to it
    /// from elsewhere go to the first.
    fn number_page(&mut self, page_id: ObjectId) -> ObjectId {
        let new_id = self.fresh_id();
        self.renumbered.entry(page_id).or_insert(new_id);
        new_id
    }

    /// Copies a page as `new_id`, with its inherited attributes made explicit and its
    /// parent set to the merged page tree.
    fn copy_page(
        &mut self,
        page_id: ObjectId,
        new_id: ObjectId,
        parent: ObjectId,
        merged: &mut Document,
    ) {
        let mut page = self
            .source
            .get_dictionary(page_id)
            .cloned()
            .unwrap_or_default();
        for key in INHERITABLE {
            if !has_value(&page, key)
                && let Some(value) = inherited_value(self.source, &page, key)
            {
                page.set(key, value);
            }
        }
        page.remove(b"Parent");
        let mut page = Object::Dictionary(page);
        self.rewrite(&mut page);
        if let Object::Dictionary(page) = &mut page {
            page.set("Parent", Object::Reference(parent));
        }
        merged.objects.insert(new_id, page);
    }

    /// Copies every object reached so far, and what those reach in turn.
    fn copy_reachable(&mut self, merged: &mut Document) {
        while let Some(old_id) = self.pending.pop_front() {
            let Some(new_id) = self.renumbered.get(&old_id).copied() else {
                continue;
            };
            let Some(object) = self.source.objects.get(&old_id) else {
                continue;
            };
            let mut object = object.clone();
            self.rewrite(&mut object);
            if let Object::Stream(stream) = &mut object {
                // The length may have been an indirect object; state it directly.
                let length = i64::try_from(stream.content.len()).unwrap_or(i64::MAX);
                stream.dict.set("Length", Object::Integer(length));
            }
            merged.objects.insert(new_id, object);
        }
    }

    /// Points every reference in `object` at the merged document's numbering, queueing
    /// objects seen for the first time. References to objects that are absent, or that
    /// belong to the source's own document structure (catalog, page-tree nodes), become
    /// null: the merged document has its own.
    fn rewrite(&mut self, object: &mut Object) {
        match object {
            Object::Reference(id) => {
                *object = match self.target(*id) {
                    Some(new_id) => Object::Reference(new_id),
                    None => Object::Null,
                };
            }
            Object::Array(items) => items.iter_mut().for_each(|item| self.rewrite(item)),
            Object::Dictionary(dictionary) => self.rewrite_dictionary(dictionary),
            Object::Stream(stream) => self.rewrite_dictionary(&mut stream.dict),
            _ => {}
        }
    }

    fn rewrite_dictionary(&mut self, dictionary: &mut Dictionary) {
        for (_, value) in dictionary.iter_mut() {
            self.rewrite(value);
        }
    }

    fn target(&mut self, id: ObjectId) -> Option<ObjectId> {
        if let Some(new_id) = self.renumbered.get(&id) {
            return Some(*new_id);
        }
        let object = self.source.objects.get(&id)?;
        if let Object::Dictionary(dictionary) = object
            && matches!(dictionary.get_type(), Ok(b"Catalog" | b"Pages"))
        {
            return None;
        }
        let new_id = self.fresh_id();
        self.renumbered.insert(id, new_id);
        self.pending.push_back(id);
        Some(new_id)
    }
}

fn has_value(dictionary: &Dictionary, key: &[u8]) -> bool {
    matches!(dictionary.get(key), Ok(value) if !matches!(value, Object::Null))
}

/// The nearest ancestor's value for an inheritable page attribute.
fn inherited_value(document: &Document, page: &Dictionary, key: &[u8]) -> Option<Object> {
    let mut parent = page.get(b"Parent").and_then(Object::as_reference).ok();
    let mut visited = HashSet::new();
    while let Some(id) = parent {
        if !visited.insert(id) || visited.len() > MAX_TREE_DEPTH {
            return None;
        }
        let node = document.get_dictionary(id).ok()?;
        if has_value(node, key) {
            return node.get(key).ok().cloned();
        }
        parent = node.get(b"Parent").and_then(Object::as_reference).ok();
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
