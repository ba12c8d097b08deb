//! Backend decoder for `encoding: xml` (krakend-xml: `mxj.NewMapXmlReader`, no value casting).
//!
//! The tree follows mxj's `xmlToMapParser` step by step:
//! - the document becomes `{"<root>": <value>}`; only the first root element is read, whatever follows
//!   it (more elements, garbage) is never looked at, and stray text before it is ignored;
//! - an element with neither attributes nor children is its text, trimmed of `\t\r\b\n ` (`<a> 1 </a>` →
//!   `"1"`), or `""` when it has none (`<a/>`, `<a>  </a>`);
//! - otherwise it is an object: attributes as `-name`, children by name, its text as `#text`;
//! - a child name seen again turns that key into an array, in document order (`<a>1</a><b/><a>2</a>` →
//!   `"a":["1","2"]` even though `b` sits between them);
//! - every value is a string: mxj casts nothing unless asked to, and krakend-xml does not ask;
//! - names keep only their local part: Go's `encoding/xml` moves the prefix out of `Name.Local`, so
//!   `<atom:link>` is `link` and `xmlns:atom="…"` is `-atom`;
//! - text is one Go `CharData` token: a run of text and entity references. A comment, a processing
//!   instruction or a CDATA section ends the run and each run *replaces* the previous one (mxj assigns,
//!   it does not append): `<a>x<!--c-->y</a>` is `"y"`. Text seen before the first child wins over text
//!   after it (mxj writes the early text over `#text` when the element closes).
//!
//! Strictness is Go's default (`Strict: true`, no `CharsetReader`): only the five XML entities and
//! character references, end tags must match, quoted attribute values, characters legal in XML, and a
//! declared encoding other than UTF-8 is an error. Nesting is bounded by
//! [`MAX_NESTING_DEPTH`] and the parser keeps its own stack, so deep input cannot overflow the thread's.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use sonic_rs::Value;

use super::decode::{DecodeError, MAX_NESTING_DEPTH};

/// mxj's `attrPrefix`.
const ATTR_PREFIX: char = '-';
/// mxj's `textK`.
const TEXT_KEY: &str = "#text";
/// mxj's `trimRHS`, cut from both ends of every text run.
const TRIM: &[char] = &['\t', '\r', '\u{8}', '\n', ' '];
/// Above this many keys an element indexes them instead of scanning.
const INDEX_FROM: usize = 16;

/// `encoding: xml`: the document as an mxj map, inside `{"collection": …}` when `is_collection`.
///
/// Always `Some`; the `Option` mirrors [`super::decode_json`] so the backend pipe treats both alike.
pub fn decode_xml(body: &[u8], is_collection: bool) -> Result<Option<Value>, DecodeError> {
    let tree = parse(body)?;
    Ok(Some(if is_collection { super::decode::wrap("collection", tree) } else { tree }))
}

/// A value under construction, with the height of the JSON it will become (0 for a string).
enum Slot {
    One(Value, usize),
    Many(Vec<Value>, usize),
}

impl Slot {
    fn height(&self) -> usize {
        match self {
            Slot::One(_, h) => *h,
            Slot::Many(_, h) => h + 1,
        }
    }
}

/// An open element: mxj's `n` (`text`) and `na` (`entries`).
struct Frame {
    name: String,
    /// The element's own text while it has no attributes or children (mxj `n[skey]`).
    text: Option<String>,
    entries: Vec<(String, Slot)>,
    index: Option<HashMap<String, usize>>,
}

impl Frame {
    fn new(name: String) -> Self {
        Frame { name, text: None, entries: Vec::new(), index: None }
    }

    fn find(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    fn push(&mut self, key: String, slot: Slot) {
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.entries.len());
        } else if self.entries.len() >= INDEX_FROM {
            let mut index: HashMap<String, usize> =
                self.entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
            index.insert(key.clone(), self.entries.len());
            self.index = Some(index);
        }
        self.entries.push((key, slot));
    }

    /// `na[key] = value`: attributes and `#text` replace what is there.
    fn set(&mut self, key: String, value: String) {
        let slot = Slot::One(Value::copy_str(&value), 0);
        match self.find(&key) {
            Some(i) => self.entries[i].1 = slot,
            None => self.push(key, slot),
        }
    }

    /// A child element: a second one of the same name makes the key a list.
    fn add_child(&mut self, key: String, value: Value, height: usize) {
        let Some(i) = self.find(&key) else {
            self.push(key, Slot::One(value, height));
            return;
        };
        let slot = &mut self.entries[i].1;
        *slot = match std::mem::replace(slot, Slot::Many(Vec::new(), 0)) {
            Slot::One(first, h) => Slot::Many(vec![first, value], h.max(height)),
            Slot::Many(mut all, h) => {
                all.push(value);
                Slot::Many(all, h.max(height))
            }
        };
    }

    /// A text run inside this element (mxj's `xml.CharData` case).
    fn char_data(&mut self, run: &str) {
        let text = run.trim_matches(TRIM);
        if text.is_empty() {
            return;
        }
        if self.entries.is_empty() {
            self.text = Some(text.to_owned());
        } else {
            self.set(TEXT_KEY.to_owned(), text.to_owned());
        }
    }

    /// The element's value once it closes (mxj's `xml.EndElement` case), with its height.
    fn finish(mut self) -> (Value, usize) {
        match self.text.take() {
            None if self.entries.is_empty() => (Value::copy_str(""), 0),
            Some(text) if self.entries.is_empty() => (Value::copy_str(&text), 0),
            text => {
                if let Some(text) = text {
                    self.set(TEXT_KEY.to_owned(), text);
                }
                let height = 1 + self.entries.iter().map(|(_, s)| s.height()).max().unwrap_or(0);
                let mut obj = sonic_rs::Object::with_capacity(self.entries.len());
                for (key, slot) in self.entries {
                    let value = match slot {
                        Slot::One(v, _) => v,
                        Slot::Many(all, _) => {
                            let mut array = sonic_rs::Array::with_capacity(all.len());
                            for v in all {
                                array.push(v);
                            }
                            array.into_value()
                        }
                    };
                    obj.insert(&key, value);
                }
                (obj.into_value(), height)
            }
        }
    }
}

fn parse(body: &[u8]) -> Result<Value, DecodeError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Frame> = Vec::new();
    // The text run being read (Go returns text and entity references up to the next `<` as one token).
    let mut run = String::new();
    let mut in_run = false;
    loop {
        let event = reader.read_event().map_err(|e| syntax(body, reader.error_position(), &e.to_string()))?;
        match &event {
            Event::Text(_) | Event::GeneralRef(_) => {}
            _ => {
                if in_run {
                    if let Some(top) = stack.last_mut() {
                        top.char_data(&run);
                    }
                    run.clear();
                    in_run = false;
                }
            }
        }
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_NESTING_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                stack.push(open(body, &reader, &start)?);
            }
            Event::Empty(start) => {
                if stack.len() >= MAX_NESTING_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                let frame = open(body, &reader, &start)?;
                if let Some(done) = close(&mut stack, frame)? {
                    return Ok(done);
                }
            }
            Event::End(_) => {
                // quick-xml checks that the name matches the open element.
                let Some(frame) = stack.pop() else {
                    return Err(syntax(body, reader.buffer_position(), "unexpected end element"));
                };
                if let Some(done) = close(&mut stack, frame)? {
                    return Ok(done);
                }
            }
            Event::Text(text) => {
                let s = text.xml10_content().map_err(|e| syntax(body, reader.buffer_position(), &e.to_string()))?;
                legal_chars(body, &reader, &s)?;
                run.push_str(&s);
                in_run = true;
            }
            Event::GeneralRef(r) => {
                let ch = r.resolve_char_ref().map_err(|e| syntax(body, reader.buffer_position(), &e.to_string()))?;
                match ch {
                    Some(c) => {
                        let mut b = [0u8; 4];
                        let s = c.encode_utf8(&mut b);
                        legal_chars(body, &reader, s)?;
                        run.push_str(s);
                    }
                    None => {
                        let name = r.decode().map_err(|e| syntax(body, reader.buffer_position(), &e.to_string()))?;
                        let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) else {
                            return Err(syntax(
                                body,
                                reader.buffer_position(),
                                &format!("invalid character entity &{name};"),
                            ));
                        };
                        run.push_str(s);
                    }
                }
                in_run = true;
            }
            Event::CData(data) => {
                let s = data.xml10_content().map_err(|e| syntax(body, reader.buffer_position(), &e.to_string()))?;
                legal_chars(body, &reader, &s)?;
                if let Some(top) = stack.last_mut() {
                    top.char_data(&s);
                }
            }
            Event::Decl(decl) => {
                if let Some(Ok(enc)) = decl.encoding() {
                    let enc = String::from_utf8_lossy(&enc);
                    if !enc.is_empty() && !enc.eq_ignore_ascii_case("utf-8") {
                        return Err(DecodeError::Xml(format!(
                            "xml: encoding {enc:?} declared but Decoder.CharsetReader is nil"
                        )));
                    }
                }
            }
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => {
                return Err(if stack.is_empty() {
                    DecodeError::Xml("EOF".to_owned())
                } else {
                    syntax(body, body.len() as u64, "unexpected EOF")
                });
            }
        }
    }
}

/// A start tag: its local name and its attributes (`-local` = value; a repeated one wins, as in Go).
fn open(body: &[u8], reader: &Reader<&[u8]>, start: &BytesStart<'_>) -> Result<Frame, DecodeError> {
    let name = local_name(body, reader, start.name().as_ref())?;
    let mut frame = Frame::new(name);
    let mut attrs = start.attributes();
    attrs.with_checks(false);
    for attr in attrs {
        let attr = attr.map_err(|e| syntax(body, reader.buffer_position(), &e.to_string()))?;
        let key = local_name(body, reader, attr.key.as_ref())?;
        let raw =
            std::str::from_utf8(&attr.value).map_err(|_| syntax(body, reader.buffer_position(), "invalid UTF-8"))?;
        let normalized = normalize_eols(raw);
        let value = quick_xml::escape::unescape(&normalized)
            .map_err(|e| syntax(body, reader.buffer_position(), &e.to_string()))?;
        legal_chars(body, reader, &value)?;
        frame.set(format!("{ATTR_PREFIX}{key}"), value.into_owned());
    }
    Ok(frame)
}

/// Closes `frame`; returns the document when it was the root.
fn close(stack: &mut [Frame], frame: Frame) -> Result<Option<Value>, DecodeError> {
    let name = frame.name.clone();
    let (value, height) = frame.finish();
    match stack.last_mut() {
        Some(parent) => {
            parent.add_child(name, value, height);
            Ok(None)
        }
        None => {
            if height + 1 > MAX_NESTING_DEPTH {
                return Err(DecodeError::TooDeep);
            }
            Ok(Some(super::decode::wrap(&name, value)))
        }
    }
}

/// Go's `encoding/xml` name split: the part after the first `:` when both sides are non-empty.
fn local_name(body: &[u8], reader: &Reader<&[u8]>, raw: &[u8]) -> Result<String, DecodeError> {
    let name = std::str::from_utf8(raw).map_err(|_| syntax(body, reader.buffer_position(), "invalid UTF-8"))?;
    let local = match name.find(':') {
        Some(i) if i >= 1 && i + 1 < name.len() => &name[i + 1..],
        _ => name,
    };
    Ok(local.to_owned())
}

/// `\r\n` and lone `\r` become `\n`, as Go does while reading text and attribute values.
fn normalize_eols(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\r') {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Go rejects characters outside XML's `Char` production in text and attribute values.
fn legal_chars(body: &[u8], reader: &Reader<&[u8]>, s: &str) -> Result<(), DecodeError> {
    match s
        .chars()
        .find(|&c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
    {
        None => Ok(()),
        Some(c) => Err(syntax(body, reader.buffer_position(), &format!("illegal character code U+{:04X}", c as u32))),
    }
}

/// mxj's error text: `xml.Decoder.Token() - XML syntax error on line N: …`.
fn syntax(body: &[u8], pos: u64, msg: &str) -> DecodeError {
    let end = usize::try_from(pos).unwrap_or(usize::MAX).min(body.len());
    let line = 1 + body[..end].iter().filter(|&&b| b == b'\n').count();
    DecodeError::Xml(format!("xml.Decoder.Token() - XML syntax error on line {line}: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};

    fn wire(body: &str) -> String {
        wire_with(body, false)
    }

    fn wire_with(body: &str, is_collection: bool) -> String {
        let v = decode_xml(body.as_bytes(), is_collection).expect("decodes").expect("some");
        let mut out = Vec::new();
        crate::encoding::write_value(&mut out, &v);
        String::from_utf8(out).expect("utf-8")
    }

    fn err(body: &str) -> DecodeError {
        decode_xml(body.as_bytes(), false).expect_err("fails")
    }

    #[test]
    fn text_only_elements_are_strings_and_nothing_is_cast() {
        assert_eq!(
            wire("<user><id>42</id><name> Ann </name><admin>true</admin><score>1.50</score></user>"),
            r#"{"user":{"admin":"true","id":"42","name":"Ann","score":"1.50"}}"#
        );
        assert_eq!(wire("<a>1</a>"), r#"{"a":"1"}"#);
    }

    #[test]
    fn empty_elements_are_empty_strings() {
        assert_eq!(wire("<a/>"), r#"{"a":""}"#);
        assert_eq!(wire("<r><a></a><b> \n\t </b><c/></r>"), r#"{"r":{"a":"","b":"","c":""}}"#);
    }

    #[test]
    fn attributes_get_a_dash_and_text_goes_to_hash_text() {
        assert_eq!(wire(r#"<p id="7" lang="en">Hi</p>"#), r##"{"p":{"#text":"Hi","-id":"7","-lang":"en"}}"##);
        assert_eq!(wire(r#"<p id="7"/>"#), r#"{"p":{"-id":"7"}}"#);
        assert_eq!(wire(r#"<p id="7">  </p>"#), r#"{"p":{"-id":"7"}}"#);
        // A repeated attribute: the last one wins (Go's decoder does not reject it).
        assert_eq!(wire(r#"<p a="1" a="2"/>"#), r#"{"p":{"-a":"2"}}"#);
    }

    #[test]
    fn repeated_children_become_arrays_in_document_order() {
        assert_eq!(wire("<r><i>1</i><x/><i>2</i><i><k>v</k></i></r>"), r#"{"r":{"i":["1","2",{"k":"v"}],"x":""}}"#);
    }

    #[test]
    fn mixed_content_follows_mxj() {
        // Text after a child goes to #text.
        assert_eq!(wire("<a><b>1</b>tail</a>"), r##"{"a":{"#text":"tail","b":"1"}}"##);
        // Text before the first child wins over text after it.
        assert_eq!(wire("<a>head<b>1</b>tail</a>"), r##"{"a":{"#text":"head","b":"1"}}"##);
        // Each text run replaces the previous one; comments and CDATA end a run.
        assert_eq!(wire("<a>x<!-- c -->y</a>"), r#"{"a":"y"}"#);
        assert_eq!(wire("<a>x<![CDATA[<b>]]></a>"), r#"{"a":"\u003cb\u003e"}"#);
        assert_eq!(wire("<a><![CDATA[ c ]]>  </a>"), r#"{"a":"c"}"#);
    }

    #[test]
    fn entities_and_line_ends() {
        assert_eq!(wire("<a>x &amp; y &lt;&#65;&#x42;&gt;</a>"), r#"{"a":"x \u0026 y \u003cAB\u003e"}"#);
        assert_eq!(wire("<a b=\"1&quot;2\r\n3\">l1\r\nl2\rl3</a>"), r##"{"a":{"#text":"l1\nl2\nl3","-b":"1\"2\n3"}}"##);
        assert!(matches!(err("<a>&nbsp;</a>"), DecodeError::Xml(m) if m.contains("invalid character entity &nbsp;")));
    }

    #[test]
    fn namespace_prefixes_are_dropped() {
        assert_eq!(
            wire(
                r#"<rss xmlns:atom="http://www.w3.org/2005/Atom" xmlns="urn:x"><atom:link href="h"/><x:y:z>1</x:y:z></rss>"#
            ),
            r#"{"rss":{"-atom":"http://www.w3.org/2005/Atom","-xmlns":"urn:x","link":{"-href":"h"},"y:z":"1"}}"#
        );
    }

    #[test]
    fn prolog_stray_text_and_trailing_bytes() {
        assert_eq!(
            wire("\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE r>\n<!-- c -->stray<r>1</r><r>2</r> garbage <<<"),
            r#"{"r":"1"}"#
        );
    }

    #[test]
    fn collection_wraps_the_tree() {
        assert_eq!(wire_with("<l><i>1</i><i>2</i></l>", true), r#"{"collection":{"l":{"i":["1","2"]}}}"#);
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert_eq!(err(""), DecodeError::Xml("EOF".to_owned()));
        assert_eq!(err("  <?xml version=\"1.0\"?> "), DecodeError::Xml("EOF".to_owned()));
        assert_eq!(err("just text"), DecodeError::Xml("EOF".to_owned()));
        for body in ["<a>", "<a><b></a>", "<a b=1/>", "<a>\u{1}</a>", "<a b='&#0;'/>", "<a><b>x</a>"] {
            assert!(
                matches!(err(body), DecodeError::Xml(m) if m.starts_with("xml.Decoder.Token() - XML syntax error on line 1")),
                "{body}"
            );
        }
        assert!(matches!(err("<a>\n\n<b></c></a>"), DecodeError::Xml(m) if m.contains("on line 3")));
        assert_eq!(
            err("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"),
            DecodeError::Xml("xml: encoding \"ISO-8859-1\" declared but Decoder.CharsetReader is nil".to_owned())
        );
        assert!(decode_xml(b"<a>\xff</a>", false).is_err());
    }

    #[test]
    fn depth_is_bounded() {
        let ok = format!("{}x{}", "<a>".repeat(MAX_NESTING_DEPTH - 1), "</a>".repeat(MAX_NESTING_DEPTH - 1));
        assert!(decode_xml(ok.as_bytes(), false).is_ok());
        let deep = "<a>".repeat(MAX_NESTING_DEPTH + 1);
        assert_eq!(decode_xml(deep.as_bytes(), false), Err(DecodeError::TooDeep));
        let huge = "<a>".repeat(1_000_000);
        assert_eq!(decode_xml(huge.as_bytes(), false), Err(DecodeError::TooDeep));
        // Arrays count as a level: 600 elements, each repeated, nest 1,200 deep in JSON.
        let n = 600;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str("<a><b/>");
        }
        for _ in 0..n {
            s.push_str("</a><a/>");
        }
        let s = format!("<r>{s}</r>");
        assert_eq!(decode_xml(s.as_bytes(), false), Err(DecodeError::TooDeep));
    }

    #[test]
    fn wide_elements_index_their_keys() {
        let mut s = String::from("<r>");
        for i in 0..100 {
            s.push_str(&format!("<k{i}>{i}</k{i}><k0>again</k0>"));
        }
        s.push_str("</r>");
        let v = decode_xml(s.as_bytes(), false).unwrap().unwrap();
        let r = v.get("r").unwrap();
        assert_eq!(r.get("k0").unwrap().as_array().unwrap().len(), 101);
        assert_eq!(r.get("k99").unwrap().as_str(), Some("99"));
    }
}
