//! Backend decoder for `encoding: rss` (krakend-rss: gofeed's universal parser).
//!
//! krakend-rss answers `{"items","author","categories","custom","copyright","description","type","language",
//! "title","published","updated"}` plus `"img_url"` when the feed has an image. The feed kind is detected
//! as gofeed does: skipping whitespace and BOM bytes, `{` starts a JSON Feed, `<` an XML document whose
//! root (lower-cased local name) is `rss`/`rdf` (RSS) or `feed` (Atom); anything else fails with
//! `Failed to detect feed type`.
//!
//! The fields follow gofeed's default translators for the common elements (see each `*_feed` function).
//! `author` is `{"name","email"}` (empty parts left out) or `null`; `categories` and `custom` are `null`
//! when empty (`custom` always is: gofeed fills it only for callers that ask). Items carry gofeed's
//! `Item` fields with its JSON names, empty ones left out (`omitempty`): `title`, `description`,
//! `content`, `link`, `links`, `updated`, `updatedParsed`, `published`, `publishedParsed`, `author`,
//! `authors`, `guid`, `image`, `categories`, `enclosures`. The `*Parsed` dates are RFC 3339 in UTC, from
//! the common RSS (RFC 822/1123) and Atom (RFC 3339) layouts; a named zone other than `UTC`/`GMT` counts
//! as UTC+0, as Go's `time.Parse` does in KrakenD's UTC container. Not produced: the extension trees
//! (`dcExt`, `itunesExt`, `extensions`) and `custom` of items.
//!
//! Text fields are read as gofeed's `ParseText` does: the element's raw inner XML, trimmed; with a CDATA
//! section the CDATA contents (text before it dropped, as gofeed's `StripCDATA`), otherwise the five XML
//! entities and numeric references decoded, an unknown entity (`&nbsp;`) or a lone `&` being a feed error.
//! So markup inside a description stays markup: `<description><b>x</b></description>` is `"<b>x</b>"`.

use std::ops::Range;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::decode::{DecodeError, MAX_NESTING_DEPTH};

const NOT_DETECTED: &str = "Failed to detect feed type";

/// `encoding: rss`: an RSS, Atom or JSON feed as krakend-rss's map.
pub fn decode_rss(body: &[u8]) -> Result<Value, DecodeError> {
    let start = body.iter().position(|&b| !(b.is_ascii_whitespace() || b == 0x0B || matches!(b, 0xEF | 0xBB | 0xBF)));
    let Some(start) = start else {
        return Err(DecodeError::Feed(NOT_DETECTED.to_owned()));
    };
    let feed = match body[start] {
        b'<' => {
            let doc = Doc::parse(body)?;
            match doc.nodes[0].name.to_ascii_lowercase().as_str() {
                "rss" | "rdf" => rss_feed(&doc)?,
                "feed" => atom_feed(&doc)?,
                _ => return Err(DecodeError::Feed(NOT_DETECTED.to_owned())),
            }
        }
        b'{' => {
            let json: Value =
                sonic_rs::from_slice(&body[start..]).map_err(|_| DecodeError::Feed(NOT_DETECTED.to_owned()))?;
            json_feed(&json)?
        }
        _ => return Err(DecodeError::Feed(NOT_DETECTED.to_owned())),
    };
    Ok(feed.into_value())
}

/// gofeed's universal `Feed`, reduced to what krakend-rss puts in its map.
#[derive(Default)]
struct Feed {
    kind: &'static str,
    title: String,
    description: String,
    language: String,
    copyright: String,
    published: String,
    updated: String,
    author: Option<Person>,
    categories: Vec<String>,
    image: Option<String>,
    items: Vec<Item>,
}

#[derive(Default)]
struct Person {
    name: String,
    email: String,
}

#[derive(Default)]
struct Enclosure {
    url: String,
    length: String,
    kind: String,
}

#[derive(Default)]
struct Item {
    title: String,
    description: String,
    content: String,
    link: String,
    links: Vec<String>,
    updated: String,
    published: String,
    authors: Vec<Person>,
    guid: String,
    image: Option<String>,
    categories: Vec<String>,
    enclosures: Vec<Enclosure>,
}

impl Feed {
    fn into_value(self) -> Value {
        let mut obj = sonic_rs::Object::new();
        let items: Vec<Value> = self.items.into_iter().map(Item::into_value).collect();
        obj.insert("items", Value::from_iter(items));
        obj.insert("author", self.author.map_or_else(Value::new, Person::into_value));
        obj.insert("categories", strings_or_null(self.categories));
        obj.insert("custom", Value::new());
        obj.insert("copyright", Value::copy_str(&self.copyright));
        obj.insert("description", Value::copy_str(&self.description));
        obj.insert("type", Value::copy_str(self.kind));
        obj.insert("language", Value::copy_str(&self.language));
        obj.insert("title", Value::copy_str(&self.title));
        obj.insert("published", Value::copy_str(&self.published));
        obj.insert("updated", Value::copy_str(&self.updated));
        if let Some(url) = self.image {
            obj.insert("img_url", Value::copy_str(&url));
        }
        obj.into_value()
    }
}

impl Person {
    fn into_value(self) -> Value {
        let mut obj = sonic_rs::Object::new();
        put(&mut obj, "name", &self.name);
        put(&mut obj, "email", &self.email);
        obj.into_value()
    }
}

impl Item {
    fn into_value(self) -> Value {
        let mut obj = sonic_rs::Object::new();
        put(&mut obj, "title", &self.title);
        put(&mut obj, "description", &self.description);
        put(&mut obj, "content", &self.content);
        put(&mut obj, "link", &self.link);
        if !self.links.is_empty() {
            obj.insert("links", strings_or_null(self.links));
        }
        put(&mut obj, "updated", &self.updated);
        if let Some(d) = parse_date(&self.updated) {
            obj.insert("updatedParsed", Value::copy_str(&d));
        }
        put(&mut obj, "published", &self.published);
        if let Some(d) = parse_date(&self.published) {
            obj.insert("publishedParsed", Value::copy_str(&d));
        }
        let mut authors = self.authors.into_iter();
        if let Some(first) = authors.next() {
            let first_copy = Person { name: first.name.clone(), email: first.email.clone() };
            obj.insert("author", first_copy.into_value());
            let all: Vec<Value> = std::iter::once(first).chain(authors).map(Person::into_value).collect();
            obj.insert("authors", Value::from_iter(all));
        }
        put(&mut obj, "guid", &self.guid);
        if let Some(url) = self.image {
            let mut image = sonic_rs::Object::new();
            put(&mut image, "url", &url);
            obj.insert("image", image.into_value());
        }
        if !self.categories.is_empty() {
            obj.insert("categories", strings_or_null(self.categories));
        }
        if !self.enclosures.is_empty() {
            let all: Vec<Value> = self
                .enclosures
                .into_iter()
                .map(|e| {
                    let mut o = sonic_rs::Object::new();
                    put(&mut o, "url", &e.url);
                    put(&mut o, "length", &e.length);
                    put(&mut o, "type", &e.kind);
                    o.into_value()
                })
                .collect();
            obj.insert("enclosures", Value::from_iter(all));
        }
        obj.into_value()
    }
}

/// `omitempty` for a string field.
fn put(obj: &mut sonic_rs::Object, key: &str, value: &str) {
    if !value.is_empty() {
        obj.insert(key, Value::copy_str(value));
    }
}

fn strings_or_null(list: Vec<String>) -> Value {
    if list.is_empty() {
        return Value::new();
    }
    Value::from_iter(list.iter().map(|s| Value::copy_str(s)))
}

fn first_non_empty(options: impl IntoIterator<Item = String>) -> String {
    options.into_iter().find(|s| !s.is_empty()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------
// RSS 0.9x / 1.0 (RDF) / 2.0

/// gofeed's `DefaultRSSTranslator` for the fields krakend-rss keeps.
fn rss_feed(doc: &Doc<'_>) -> Result<Feed, DecodeError> {
    let root = 0;
    let channel = doc.child(root, "channel");
    let ch = channel.unwrap_or(root);
    let text = |name: &str| -> Result<String, DecodeError> { doc.last_text(ch, name) };
    let mut feed = Feed {
        kind: "rss",
        title: first_non_empty([text("title")?, doc.ext_text(ch, "dc", "title")]),
        description: text("description")?,
        language: first_non_empty([text("language")?, doc.ext_text(ch, "dc", "language")]),
        copyright: first_non_empty([text("copyright")?, doc.ext_text(ch, "dc", "rights")]),
        published: text("pubdate")?,
        updated: first_non_empty([text("lastbuilddate")?, doc.ext_text(ch, "dc", "date")]),
        ..Feed::default()
    };
    let author = first_non_empty([
        text("managingeditor")?,
        text("webmaster")?,
        doc.ext_text(ch, "dc", "author"),
        doc.ext_text(ch, "dc", "creator"),
        doc.ext_text(ch, "itunes", "author"),
    ]);
    if !author.is_empty() {
        feed.author = Some(parse_name_address(&author));
    }
    for c in doc.children(ch, "category") {
        feed.categories.push(parse_text(doc.inner(c))?);
    }
    let keywords = doc.ext_text(ch, "itunes", "keywords");
    if !keywords.is_empty() {
        feed.categories.extend(keywords.split(',').map(str::to_owned));
    }
    for c in doc.ext_children(ch, "itunes", "category") {
        feed.categories.push(doc.attr(c, "text").to_owned());
        if let Some(sub) = doc.ext_children(c, "itunes", "category").next() {
            feed.categories.push(doc.attr(sub, "text").to_owned());
        }
    }
    feed.categories.extend(doc.ext_children(ch, "dc", "subject").map(|c| doc.plain_text(c)));
    if let Some(image) = doc.children(ch, "image").last() {
        feed.image = Some(doc.last_text(image, "url")?);
    } else if let Some(image) = doc.ext_children(ch, "itunes", "image").last() {
        let href = doc.attr(image, "href");
        if !href.is_empty() {
            feed.image = Some(href.to_owned());
        }
    }
    // RSS 2.0 keeps items in the channel, RSS 1.0 beside it.
    let mut items: Vec<usize> = doc.children(ch, "item").collect();
    if channel.is_some() {
        items.extend(doc.children(root, "item"));
        items.sort_unstable();
    }
    for i in items {
        feed.items.push(rss_item(doc, i)?);
    }
    Ok(feed)
}

fn rss_item(doc: &Doc<'_>, i: usize) -> Result<Item, DecodeError> {
    let text = |name: &str| -> Result<String, DecodeError> { doc.last_text(i, name) };
    let mut item = Item {
        title: first_non_empty([text("title")?, doc.ext_text(i, "dc", "title")]),
        description: first_non_empty([text("description")?, doc.ext_text(i, "dc", "description")]),
        content: match doc.ext_children(i, "content", "encoded").last() {
            Some(c) => parse_text(doc.inner(c))?,
            None => String::new(),
        },
        published: first_non_empty([text("pubdate")?, doc.ext_text(i, "dc", "date")]),
        guid: text("guid")?,
        ..Item::default()
    };
    for l in doc.children(i, "link") {
        let link = parse_text(doc.inner(l))?;
        if !link.is_empty() {
            item.link = link.clone();
            item.links.push(link);
        }
    }
    let author = first_non_empty([
        text("author")?,
        doc.ext_text(i, "dc", "author"),
        doc.ext_text(i, "dc", "creator"),
        doc.ext_text(i, "itunes", "author"),
    ]);
    if !author.is_empty() {
        item.authors.push(parse_name_address(&author));
    }
    if let Some(image) = doc.ext_children(i, "itunes", "image").last() {
        let href = doc.attr(image, "href");
        if !href.is_empty() {
            item.image = Some(href.to_owned());
        }
    }
    for c in doc.children(i, "category") {
        item.categories.push(parse_text(doc.inner(c))?);
    }
    item.categories.extend(doc.ext_children(i, "dc", "subject").map(|c| doc.plain_text(c)));
    for e in doc.children(i, "enclosure") {
        item.enclosures.push(Enclosure {
            url: doc.attr(e, "url").to_owned(),
            length: doc.attr(e, "length").to_owned(),
            kind: doc.attr(e, "type").to_owned(),
        });
    }
    Ok(item)
}

/// gofeed's `ParseNameAddress`: `mail@host (Name)`, `Name (mail@host)`, a bare name or a bare address.
fn parse_name_address(s: &str) -> Person {
    let mut person = Person::default();
    let paren = s.strip_suffix(')').and_then(|head| {
        let open = head.rfind('(')?;
        let before = &head[..open];
        let trimmed = before.trim_end_matches(|c: char| c.is_whitespace());
        (trimmed.len() < before.len() && !trimmed.is_empty()).then(|| (trimmed, &head[open + 1..]))
    });
    if let Some((outer, inner)) = paren {
        // ^([^@]+@[^\s]+)\s+\(([^@]+)\)$
        if email_like(outer, false) && !inner.contains('@') && !inner.is_empty() && !inner.contains(')') {
            person.email = outer.to_owned();
            person.name = inner.to_owned();
            return person;
        }
        // ^([^@]+)\s+\(([^@]+@[^)]+)\)$
        if !outer.contains('@') && email_like(inner, true) {
            person.name = outer.to_owned();
            person.email = inner.to_owned();
            return person;
        }
    }
    if !s.contains(['@', '(', ')']) {
        person.name = s.to_owned();
    } else if !s.contains(['(', ')']) && s.matches('@').count() == 1 && !s.starts_with('@') && !s.ends_with('@') {
        person.email = s.to_owned();
    }
    person
}

/// `[^@]+@[^\s]+` (or `[^@]+@[^)]+` when `in_parens`).
fn email_like(s: &str, in_parens: bool) -> bool {
    let Some(at) = s.find('@') else { return false };
    let (user, host) = (&s[..at], &s[at + 1..]);
    !user.is_empty()
        && !host.is_empty()
        && if in_parens { !host.contains([')', '@']) } else { !host.contains(char::is_whitespace) }
}

// ---------------------------------------------------------------------------------------------------
// Atom

/// gofeed's `DefaultAtomTranslator` for the fields krakend-rss keeps.
fn atom_feed(doc: &Doc<'_>) -> Result<Feed, DecodeError> {
    let root = 0;
    let mut feed = Feed {
        kind: "atom",
        title: atom_text(doc, doc.children(root, "title").last())?,
        description: atom_text(doc, doc.children(root, "subtitle").last())?,
        language: first_non_empty([doc.xml_attr(root, "lang").to_owned(), doc.ext_text(root, "dc", "language")]),
        copyright: first_non_empty([
            atom_text(doc, doc.children(root, "rights").last())?,
            doc.ext_text(root, "dc", "rights"),
        ]),
        updated: doc.last_text(root, "updated")?,
        ..Feed::default()
    };
    if let Some(a) = doc.children(root, "author").next() {
        feed.author = Some(atom_person(doc, a)?);
    }
    feed.categories = doc.children(root, "category").map(|c| doc.attr(c, "term").to_owned()).collect();
    let logo = doc.last_text(root, "logo")?;
    if !logo.is_empty() {
        feed.image = Some(logo);
    }
    for e in doc.children(root, "entry") {
        feed.items.push(atom_entry(doc, e)?);
    }
    Ok(feed)
}

fn atom_entry(doc: &Doc<'_>, e: usize) -> Result<Item, DecodeError> {
    let mut item = Item {
        title: atom_text(doc, doc.children(e, "title").last())?,
        description: atom_text(doc, doc.children(e, "summary").last())?,
        content: atom_text(doc, doc.children(e, "content").last())?,
        updated: doc.last_text(e, "updated")?,
        published: doc.last_text(e, "published")?,
        guid: doc.last_text(e, "id")?,
        ..Item::default()
    };
    for l in doc.children(e, "link") {
        let (href, rel) = (doc.attr(l, "href"), doc.attr(l, "rel"));
        if item.link.is_empty() && matches!(rel, "" | "alternate" | "self") {
            item.link = href.to_owned();
        }
        if !href.is_empty() {
            item.links.push(href.to_owned());
        }
        if rel == "enclosure" {
            item.enclosures.push(Enclosure {
                url: href.to_owned(),
                length: doc.attr(l, "length").to_owned(),
                kind: doc.attr(l, "type").to_owned(),
            });
        }
    }
    for a in doc.children(e, "author") {
        item.authors.push(atom_person(doc, a)?);
    }
    item.categories = doc.children(e, "category").map(|c| doc.attr(c, "term").to_owned()).collect();
    Ok(item)
}

fn atom_person(doc: &Doc<'_>, p: usize) -> Result<Person, DecodeError> {
    Ok(Person { name: doc.last_text(p, "name")?, email: doc.last_text(p, "email")? })
}

/// gofeed's `parseAtomText`: by `type` (`text`, `html`, `xhtml`, or base64 for other types with a
/// `mode`); relative URLs are not resolved against `xml:base`.
fn atom_text(doc: &Doc<'_>, node: Option<usize>) -> Result<String, DecodeError> {
    let Some(node) = node else { return Ok(String::new()) };
    let raw = doc.inner(node).trim();
    let kind = doc.attr(node, "type").to_ascii_lowercase();
    let mode = doc.attr(node, "mode").to_ascii_lowercase();
    if raw.contains(CDATA_START) {
        return Ok(strip_cdata(raw));
    }
    if kind == "text" || kind.starts_with("text/") || (kind.is_empty() && mode.is_empty()) {
        decode_entities(raw)
    } else if kind.contains("xhtml") {
        Ok(strip_wrapping_div(raw).to_owned())
    } else if kind == "html" {
        decode_entities(strip_wrapping_div(raw))
    } else {
        Ok(base64_decode(raw).and_then(|b| String::from_utf8(b).ok()).unwrap_or_else(|| raw.to_owned()))
    }
}

/// An approximation of gofeed's goquery-based `stripWrappingDiv`: one `<div …>…</div>` around
/// everything is removed.
fn strip_wrapping_div(s: &str) -> &str {
    if s.starts_with("<div") && s.ends_with("</div>") && s.matches("<div").count() == 1 {
        if let Some(gt) = s.find('>') {
            if gt < s.len() - 6 {
                return &s[gt + 1..s.len() - 6];
            }
        }
    }
    s
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = s.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (n, chunk) in bytes.chunks(4).enumerate() {
        let last = n + 1 == bytes.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = (acc << 6) | val(c)?;
        }
        acc <<= 6 * pad as u32;
        let got = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&got[..3 - pad]);
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------------
// JSON Feed

/// gofeed's `DefaultJSONTranslator` for the fields krakend-rss keeps.
fn json_feed(json: &Value) -> Result<Feed, DecodeError> {
    let s = |v: &Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_owned();
    let items: Vec<&Value> =
        json.get("items").and_then(|i| i.as_array()).map(|a| a.iter().collect()).unwrap_or_default();
    let mut feed = Feed {
        kind: "json",
        title: s(json, "title"),
        description: s(json, "description"),
        language: s(json, "language"),
        // gofeed takes the feed's dates from its first item.
        published: items.first().map(|i| s(i, "date_published")).unwrap_or_default(),
        updated: items.first().map(|i| s(i, "date_modified")).unwrap_or_default(),
        author: json_author(json),
        ..Feed::default()
    };
    let icon = s(json, "icon");
    if !icon.is_empty() {
        feed.image = Some(icon);
    }
    for i in items {
        let mut item = Item {
            title: s(i, "title"),
            description: s(i, "summary"),
            content: first_non_empty([s(i, "content_html"), s(i, "content_text")]),
            link: s(i, "url"),
            updated: s(i, "date_modified"),
            published: s(i, "date_published"),
            guid: s(i, "id"),
            ..Item::default()
        };
        if !item.link.is_empty() {
            item.links.push(item.link.clone());
        }
        item.authors.extend(json_author(i));
        let image = s(i, "image");
        if !image.is_empty() {
            item.image = Some(image);
        }
        if let Some(tags) = i.get("tags").and_then(|t| t.as_array()) {
            item.categories = tags.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect();
        }
        if let Some(attachments) = i.get("attachments").and_then(|t| t.as_array()) {
            for a in attachments.iter() {
                item.enclosures.push(Enclosure {
                    url: s(a, "url"),
                    kind: s(a, "mime_type"),
                    length: a.get("size_in_bytes").and_then(|n| n.as_i64()).map(|n| n.to_string()).unwrap_or_default(),
                });
            }
        }
        feed.items.push(item);
    }
    Ok(feed)
}

/// `author`, or the first of `authors` (JSON Feed 1.1): a name only.
fn json_author(v: &Value) -> Option<Person> {
    let author = v.get("author").filter(|a| a.is_object()).or_else(|| v.get("authors").and_then(|a| a.get(0)))?;
    let name = author.get("name").and_then(|n| n.as_str()).unwrap_or_default().to_owned();
    Some(Person { name, email: String::new() })
}

// ---------------------------------------------------------------------------------------------------
// Text as gofeed reads it

const CDATA_START: &str = "<![CDATA[";
const CDATA_END: &str = "]]>";

/// gofeed's `shared.ParseText` over an element's raw inner XML.
fn parse_text(raw: &str) -> Result<String, DecodeError> {
    let raw = raw.trim();
    if raw.contains(CDATA_START) {
        return Ok(strip_cdata(raw));
    }
    decode_entities(raw)
}

/// gofeed's `shared.StripCDATA`, quirks included: text before a CDATA section is dropped, text after
/// the last one is entity-decoded (or dropped when that fails).
fn strip_cdata(s: &str) -> String {
    let mut out = String::new();
    let mut curr = 0;
    while curr < s.len() {
        let Some(start) = s[curr..].find(CDATA_START).map(|i| i + curr) else {
            out.push_str(&decode_entities(&s[curr..]).unwrap_or_default());
            return out;
        };
        let Some(end) = s[start..].find(CDATA_END).map(|i| i + start) else {
            out.push_str(&decode_entities(&s[curr..]).unwrap_or_default());
            return out;
        };
        out.push_str(&s[start + CDATA_START.len()..end]);
        curr = curr + end + CDATA_END.len();
    }
    out
}

/// gofeed's `shared.DecodeEntities`: the five XML entities and `&#N;`/`&#xN;`; anything else fails.
fn decode_entities(s: &str) -> Result<String, DecodeError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        let end = rest.find(';').ok_or_else(|| DecodeError::Feed("truncated entity".to_owned()))?;
        let name = &rest[..end];
        if let Some(num) = name.strip_prefix('#') {
            let (digits, radix) = match num.strip_prefix('x') {
                Some(hex) => (hex, 16),
                None => (num, 10),
            };
            let n = u32::from_str_radix(digits, radix)
                .ok()
                .filter(|_| !digits.starts_with('+'))
                .ok_or_else(|| DecodeError::Feed("invalid numeric entity".to_owned()))?;
            out.push(char::from_u32(n).unwrap_or('\u{FFFD}'));
        } else {
            out.push(match name {
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "amp" => '&',
                _ => return Err(DecodeError::Feed(format!("unknown predefined entity &{name};"))),
            });
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Lenient decoding for attribute values and extension text (Go's non-strict decoder): XML entities
/// and character references decoded, anything else kept as written.
fn decode_lenient(s: &str) -> String {
    match quick_xml::escape::unescape(s) {
        Ok(v) => v.into_owned(),
        Err(_) => s.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------------
// Dates

/// gofeed's `ParseDate` for the common layouts, as RFC 3339 in UTC (Go's `time.Time` JSON form after
/// gofeed's `.UTC()`); `None` when no layout fits.
fn parse_date(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let dt = parse_rfc3339ish(s).or_else(|| parse_rfc822ish(s))?;
    let utc = dt.with_timezone(&Utc);
    let mut out = utc.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = utc.timestamp_subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    Some(out)
}

/// `2006-01-02`, `2006-01-02T15:04:05Z07:00` and its variants (space for `T`, no seconds, fractions,
/// `Z`/`±hh:mm`/`±hhmm`/no zone = UTC).
fn parse_rfc3339ish(s: &str) -> Option<DateTime<FixedOffset>> {
    if s.len() < 10 || !s.is_char_boundary(10) {
        return None;
    }
    let date = NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok()?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(DateTime::from_naive_utc_and_offset(date.and_hms_opt(0, 0, 0)?, utc_offset()));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let time = NaiveTime::parse_from_str(clock.trim_end(), "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(clock.trim_end(), "%H:%M"))
        .ok()?;
    let offset = match zone {
        "" | "Z" | "z" => utc_offset(),
        z => numeric_offset(z)?,
    };
    NaiveDateTime::new(date, time).and_local_timezone(offset).single()
}

/// `Mon, 02 Jan 2006 15:04:05 -0700` and its relatives: optional weekday, one- or two-digit day, short
/// or long month, two- or four-digit year, optional seconds, numeric or named zone (or none = UTC).
fn parse_rfc822ish(s: &str) -> Option<DateTime<FixedOffset>> {
    let mut parts: Vec<&str> = s.split([' ', ',']).filter(|p| !p.is_empty()).collect();
    if parts.first().is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic())) {
        parts.remove(0);
    }
    if !(3..=5).contains(&parts.len()) {
        return None;
    }
    let day: u32 = parts[0].parse().ok().filter(|_| parts[0].len() <= 2)?;
    let month = month_number(parts[1])?;
    let year: i32 = match parts[2].len() {
        2 => {
            let yy: i32 = parts[2].parse().ok()?;
            if yy >= 69 {
                1900 + yy
            } else {
                2000 + yy
            }
        }
        4 => parts[2].parse().ok()?,
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = match parts.get(3) {
        Some(t) => NaiveTime::parse_from_str(t, "%H:%M:%S").or_else(|_| NaiveTime::parse_from_str(t, "%H:%M")).ok()?,
        None => NaiveTime::from_hms_opt(0, 0, 0)?,
    };
    let offset = match parts.get(4) {
        None => utc_offset(),
        Some(z) if z.starts_with(['+', '-']) => numeric_offset(z)?,
        Some(z) if (1..=5).contains(&z.len()) && z.chars().all(|c| c.is_ascii_uppercase()) => utc_offset(),
        Some(_) => return None,
    };
    NaiveDateTime::new(date, time).and_local_timezone(offset).single()
}

fn month_number(m: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let m = m.to_ascii_lowercase();
    MONTHS.iter().position(|full| m == *full || (m.len() == 3 && full.starts_with(&m))).map(|i| i as u32 + 1)
}

fn utc_offset() -> FixedOffset {
    FixedOffset::east_opt(0).expect("zero offset")
}

/// `+hh:mm`, `+hhmm` or `+hh`.
fn numeric_offset(z: &str) -> Option<FixedOffset> {
    let sign = match z.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = z[1..].chars().filter(|&c| c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

// ---------------------------------------------------------------------------------------------------
// A lenient element tree with the raw inner XML of each element

struct Node {
    /// Namespace prefix as written (`dc` in `dc:creator`), empty when none.
    prefix: String,
    name: String,
    /// (prefix, local name, decoded value).
    attrs: Vec<(String, String, String)>,
    children: Vec<usize>,
    /// Byte range of the inner XML in the body.
    inner: Range<usize>,
}

struct Doc<'a> {
    body: &'a str,
    nodes: Vec<Node>,
}

/// Prefixes gofeed does not treat as extensions (`shared.IsExtension`).
fn is_default(prefix: &str) -> bool {
    matches!(prefix, "" | "rss" | "rdf" | "content")
}

impl<'a> Doc<'a> {
    /// Reads the first root element into a tree (node 0). Go's non-strict decoder is approximated: an
    /// end tag closes the open element whatever its name, unknown entities are kept as written.
    fn parse(body: &'a [u8]) -> Result<Self, DecodeError> {
        let body = std::str::from_utf8(body).map_err(|_| DecodeError::Feed("invalid UTF-8".to_owned()))?;
        // quick-xml skips a BOM without counting it in its positions, which index `body`.
        let body = body.strip_prefix('\u{feff}').unwrap_or(body);
        let mut reader = Reader::from_str(body);
        let config = reader.config_mut();
        config.check_end_names = false;
        config.allow_dangling_amp = true;
        config.allow_unmatched_ends = true;
        let mut nodes: Vec<Node> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        loop {
            let before = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(|e| DecodeError::Feed(format!("XML syntax error: {e}")))?;
            let after = reader.buffer_position() as usize;
            let (start, empty) = match event {
                Event::Start(start) => (start, false),
                Event::Empty(start) => (start, true),
                Event::End(_) => {
                    if let Some(id) = stack.pop() {
                        nodes[id].inner.end = before;
                        if stack.is_empty() {
                            break;
                        }
                    }
                    continue;
                }
                Event::Eof => {
                    return Err(DecodeError::Feed(if nodes.is_empty() {
                        NOT_DETECTED.to_owned()
                    } else {
                        "XML syntax error: unexpected EOF".to_owned()
                    }));
                }
                _ => continue,
            };
            if stack.len() >= MAX_NESTING_DEPTH {
                return Err(DecodeError::TooDeep);
            }
            let id = nodes.len();
            nodes.push(node(&start, after..after));
            if let Some(&parent) = stack.last() {
                nodes[parent].children.push(id);
            }
            if !empty {
                stack.push(id);
            } else if stack.is_empty() {
                break;
            }
        }
        Ok(Doc { body, nodes })
    }

    fn inner(&self, id: usize) -> &'a str {
        let r = &self.nodes[id].inner;
        self.body.get(r.start..r.end.max(r.start)).unwrap_or_default()
    }

    /// Default-namespace children named `name` (compared lower-cased, as gofeed does).
    fn children<'s>(&'s self, id: usize, name: &'s str) -> impl Iterator<Item = usize> + 's {
        self.nodes[id]
            .children
            .iter()
            .copied()
            .filter(move |&c| is_default(&self.nodes[c].prefix) && self.nodes[c].name.eq_ignore_ascii_case(name))
    }

    fn child(&self, id: usize, name: &str) -> Option<usize> {
        self.children(id, name).next()
    }

    /// Extension children `prefix:name`.
    fn ext_children<'s>(&'s self, id: usize, prefix: &'s str, name: &'s str) -> impl Iterator<Item = usize> + 's {
        self.nodes[id]
            .children
            .iter()
            .copied()
            .filter(move |&c| self.nodes[c].prefix == prefix && self.nodes[c].name == name)
    }

    /// `ParseText` of the last child named `name` (gofeed assigns each one in turn); `""` when none.
    fn last_text(&self, id: usize, name: &str) -> Result<String, DecodeError> {
        match self.children(id, name).last() {
            Some(c) => parse_text(self.inner(c)),
            None => Ok(String::new()),
        }
    }

    /// The text of the first `prefix:name` extension child; `""` when none.
    fn ext_text(&self, id: usize, prefix: &str, name: &str) -> String {
        self.ext_children(id, prefix, name).next().map(|c| self.plain_text(c)).unwrap_or_default()
    }

    /// Extension text: trimmed, CDATA unwrapped, entities decoded leniently.
    fn plain_text(&self, id: usize) -> String {
        let raw = self.inner(id).trim();
        if raw.contains(CDATA_START) {
            return strip_cdata(raw);
        }
        decode_lenient(raw).trim().to_owned()
    }

    /// An unprefixed attribute's value; `""` when absent.
    fn attr(&self, id: usize, name: &str) -> &str {
        self.nodes[id].attrs.iter().find(|(p, n, _)| p.is_empty() && n == name).map_or("", |(_, _, v)| v)
    }

    /// An `xml:` attribute's value (`xml:lang`).
    fn xml_attr(&self, id: usize, name: &str) -> &str {
        self.nodes[id].attrs.iter().find(|(p, n, _)| p == "xml" && n == name).map_or("", |(_, _, v)| v)
    }
}

fn node(start: &BytesStart<'_>, inner: Range<usize>) -> Node {
    let (prefix, name) = split_name(start.name().as_ref());
    let mut attrs = Vec::new();
    let mut iter = start.attributes();
    iter.with_checks(false);
    for attr in iter.flatten() {
        let (p, n) = split_name(attr.key.as_ref());
        let value = decode_lenient(&String::from_utf8_lossy(&attr.value));
        attrs.push((p, n, value));
    }
    Node { prefix, name, attrs, children: Vec::new(), inner }
}

fn split_name(raw: &[u8]) -> (String, String) {
    let name = String::from_utf8_lossy(raw);
    match name.find(':') {
        Some(i) if i >= 1 && i + 1 < name.len() => (name[..i].to_owned(), name[i + 1..].to_owned()),
        _ => (String::new(), name.into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(body: &str) -> String {
        let v = decode_rss(body.as_bytes()).expect("decodes");
        let mut out = Vec::new();
        crate::encoding::write_value(&mut out, &v);
        String::from_utf8(out).expect("utf-8")
    }

    fn err(body: &str) -> String {
        decode_rss(body.as_bytes()).expect_err("fails").to_string()
    }

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>News &amp; Views</title>
    <link>https://example.com/</link>
    <atom:link href="https://example.com/rss" rel="self"/>
    <description><![CDATA[All the <b>news</b>]]></description>
    <language>en-us</language>
    <copyright>2024 Example</copyright>
    <managingEditor>editor@example.com (Jane Doe)</managingEditor>
    <pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate>
    <lastBuildDate>Tue, 10 Jun 2003 09:41:01 +0200</lastBuildDate>
    <category>Tech</category>
    <image><url>https://example.com/logo.png</url><title>Logo</title></image>
    <item>
      <title>First</title>
      <link>https://example.com/1</link>
      <description>Hello <b>world</b></description>
      <content:encoded><![CDATA[<p>Full</p>]]></content:encoded>
      <author>bob@example.com (Bob)</author>
      <guid isPermaLink="false">id-1</guid>
      <pubDate>Mon, 2 Jan 2006 15:04:05 -0700</pubDate>
      <category>a</category><category>b</category>
      <enclosure url="https://example.com/a.mp3" length="123" type="audio/mpeg"/>
    </item>
    <item>
      <title>Second</title>
      <dc:creator>Carol</dc:creator>
      <dc:date>2006-01-02T15:04:05.120Z</dc:date>
    </item>
  </channel>
</rss>"#;

    #[test]
    fn rss_2_feed() {
        assert_eq!(
            wire(RSS),
            concat!(
                r#"{"author":{"email":"editor@example.com","name":"Jane Doe"},"categories":["Tech"],"copyright":"2024 Example","#,
                r#""custom":null,"description":"All the \u003cb\u003enews\u003c/b\u003e","img_url":"https://example.com/logo.png","#,
                r#""items":[{"author":{"email":"bob@example.com","name":"Bob"},"authors":[{"email":"bob@example.com","name":"Bob"}],"#,
                r#""categories":["a","b"],"content":"\u003cp\u003eFull\u003c/p\u003e","description":"Hello \u003cb\u003eworld\u003c/b\u003e","#,
                r#""enclosures":[{"length":"123","type":"audio/mpeg","url":"https://example.com/a.mp3"}],"guid":"id-1","#,
                r#""link":"https://example.com/1","links":["https://example.com/1"],"published":"Mon, 2 Jan 2006 15:04:05 -0700","#,
                r#""publishedParsed":"2006-01-02T22:04:05Z","title":"First"},"#,
                r#"{"author":{"name":"Carol"},"authors":[{"name":"Carol"}],"published":"2006-01-02T15:04:05.120Z","#,
                r#""publishedParsed":"2006-01-02T15:04:05.12Z","title":"Second"}],"#,
                r#""language":"en-us","published":"Tue, 10 Jun 2003 04:00:00 GMT","title":"News \u0026 Views","#,
                r#""type":"rss","updated":"Tue, 10 Jun 2003 09:41:01 +0200"}"#
            )
        );
    }

    #[test]
    fn minimal_rss_has_every_key() {
        assert_eq!(
            wire("<rss><channel><title>T</title></channel></rss>"),
            r#"{"author":null,"categories":null,"copyright":"","custom":null,"description":"","items":[],"language":"","published":"","title":"T","type":"rss","updated":""}"#
        );
    }

    #[test]
    fn rss_1_rdf_items_sit_beside_the_channel() {
        let body = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
            <channel><title>R</title></channel><item><title>I1</title><link>l</link></item></rdf:RDF>"#;
        let out = wire(body);
        assert!(out.contains(r#""items":[{"link":"l","links":["l"],"title":"I1"}]"#), "{out}");
        assert!(out.contains(r#""title":"R","type":"rss""#), "{out}");
    }

    #[test]
    fn atom_feed() {
        let body = r#"<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title type="text">Atom &amp; Co</title>
  <subtitle type="html">&lt;i&gt;sub&lt;/i&gt;</subtitle>
  <updated>2003-12-13T18:30:02Z</updated>
  <author><name>John</name><email>j@example.com</email></author>
  <rights>CC</rights>
  <logo>https://example.com/l.png</logo>
  <category term="x"/>
  <entry>
    <title>E1</title>
    <link rel="alternate" href="https://example.com/e1"/>
    <link rel="enclosure" href="https://example.com/e1.mp3" type="audio/mpeg" length="9"/>
    <id>urn:uuid:1</id>
    <updated>2003-12-13T18:30:02+01:00</updated>
    <summary>Sum</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi</p></div></content>
  </entry>
</feed>"#;
        assert_eq!(
            wire(body),
            concat!(
                r#"{"author":{"email":"j@example.com","name":"John"},"categories":["x"],"copyright":"CC","custom":null,"#,
                r#""description":"\u003ci\u003esub\u003c/i\u003e","img_url":"https://example.com/l.png","#,
                r#""items":[{"content":"\u003cp\u003eHi\u003c/p\u003e","description":"Sum","#,
                r#""enclosures":[{"length":"9","type":"audio/mpeg","url":"https://example.com/e1.mp3"}],"guid":"urn:uuid:1","#,
                r#""link":"https://example.com/e1","links":["https://example.com/e1","https://example.com/e1.mp3"],"#,
                r#""title":"E1","updated":"2003-12-13T18:30:02+01:00","updatedParsed":"2003-12-13T17:30:02Z"}],"#,
                r#""language":"en","published":"","title":"Atom \u0026 Co","type":"atom","updated":"2003-12-13T18:30:02Z"}"#
            )
        );
    }

    #[test]
    fn json_feed() {
        let body = r#" {"version":"https://jsonfeed.org/version/1.1","title":"J","description":"D","icon":"i.png",
            "authors":[{"name":"Ann"}],"items":[{"id":"1","url":"u","content_text":"txt","date_published":"2020-01-02T03:04:05-01:00",
            "tags":["t"],"attachments":[{"url":"a.mp3","mime_type":"audio/mpeg","size_in_bytes":42}]}]}"#;
        assert_eq!(
            wire(body),
            concat!(
                r#"{"author":{"name":"Ann"},"categories":null,"copyright":"","custom":null,"description":"D","img_url":"i.png","#,
                r#""items":[{"categories":["t"],"content":"txt","enclosures":[{"length":"42","type":"audio/mpeg","url":"a.mp3"}],"#,
                r#""guid":"1","link":"u","links":["u"],"published":"2020-01-02T03:04:05-01:00","publishedParsed":"2020-01-02T04:04:05Z"}],"#,
                r#""language":"","published":"2020-01-02T03:04:05-01:00","title":"J","type":"json","updated":""}"#
            )
        );
    }

    #[test]
    fn undetected_and_broken_feeds_are_errors() {
        for body in ["", "  ", "hello", "<html><body/></html>", "{not json", "[1]"] {
            assert_eq!(err(body), NOT_DETECTED, "{body:?}");
        }
        assert!(err("<rss><channel><title>x").contains("unexpected EOF"));
        assert_eq!(err("<rss><channel><title>A &nbsp; B</title></channel></rss>"), "unknown predefined entity &nbsp;");
        assert_eq!(err("<rss><channel><title>AT&amp;T &</title></channel></rss>"), "truncated entity");
        assert!(matches!(
            decode_rss(format!("<rss>{}", "<a>".repeat(MAX_NESTING_DEPTH + 5)).as_bytes()),
            Err(DecodeError::TooDeep)
        ));
    }

    #[test]
    fn bom_and_prolog_before_the_root() {
        let out = wire(
            "\u{feff}<?xml version=\"1.0\"?><!-- c --><!DOCTYPE rss><rss><channel><title>T</title></channel></rss>",
        );
        assert!(out.contains(r#""title":"T","type":"rss""#), "{out}");
        let out = wire("\u{feff} {\"title\":\"J\"}");
        assert!(out.contains(r#""title":"J","type":"json""#), "{out}");
        let out = wire("<feed/>");
        assert!(out.contains(r#""type":"atom""#), "{out}");
    }

    #[test]
    fn gofeed_text_quirks() {
        assert_eq!(parse_text("  a &lt;b&gt; &#65;&#x42;  ").unwrap(), "a <b> AB");
        assert_eq!(parse_text("before<![CDATA[in]]>after &amp;").unwrap(), "inafter &");
        assert!(parse_text("&#X41;").is_err());
    }

    #[test]
    fn name_address_forms() {
        let p = |s: &str| {
            let p = parse_name_address(s);
            (p.name, p.email)
        };
        assert_eq!(p("a@b.c (Ann)"), ("Ann".into(), "a@b.c".into()));
        assert_eq!(p("Ann (a@b.c)"), ("Ann".into(), "a@b.c".into()));
        assert_eq!(p("Ann Lee"), ("Ann Lee".into(), String::new()));
        assert_eq!(p("a@b.c"), (String::new(), "a@b.c".into()));
        assert_eq!(p("a@b (c@d)"), (String::new(), String::new()));
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("Mon, 02 Jan 2006 15:04:05 MST").as_deref(), Some("2006-01-02T15:04:05Z"));
        assert_eq!(parse_date("02 Jan 06 15:04 +0100").as_deref(), Some("2006-01-02T14:04:00Z"));
        assert_eq!(parse_date("Monday, 2 January 1999 23:59:59 -0030").as_deref(), Some("1999-01-03T00:29:59Z"));
        assert_eq!(parse_date("2006-01-02").as_deref(), Some("2006-01-02T00:00:00Z"));
        assert_eq!(parse_date("2006-01-02 15:04:05").as_deref(), Some("2006-01-02T15:04:05Z"));
        assert_eq!(
            parse_date("2006-01-02T15:04:05.000000001+00:00").as_deref(),
            Some("2006-01-02T15:04:05.000000001Z")
        );
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("Mon, 32 Jan 2006 15:04:05 GMT"), None);
    }
}
