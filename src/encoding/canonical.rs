//! A backend's JSON object rewritten in KrakenD's wire form in one pass, without building a tree.
//!
//! With one `json` backend and nothing that reshapes its data, decoding into a `sonic_rs::Value` and writing it back
//! ([`decode_json`](super::decode_json) + [`write_value`](super::write_value)) only sorts keys, drops duplicates and
//! re-escapes strings. [`transcode`] does that while scanning: members are written in document order, and an object
//! whose keys were not already sorted and unique is reordered in place when it closes (a copy of that object's bytes;
//! backends that already sort their keys never pay it). Strings that change are written as [`write_str`] writes
//! them (the tree writer's); numbers are copied verbatim, as the raw-number tree keeps them. Most of a body goes out
//! as it came (a minified backend's whole document, but for reordering), so input is copied in runs: only
//! whitespace, strings that change and objects that close break a run, instead of every token being written on
//! its own.
//!
//! Anything unusual gives [`Fallback`]: a top level that is not an object (`null` included), a syntax error, invalid
//! UTF-8, a lone surrogate escape, nesting deeper than [`MAX_NESTING_DEPTH`]. The caller then takes the general
//! path, which gives exactly the answer or error it always gave; so this scanner only has to be as strict as
//! sonic-rs, never as lenient. `canonical_tests.rs` checks the equivalence on arbitrary documents.

use std::cell::RefCell;
use std::cmp::Ordering;

use super::decode::MAX_NESTING_DEPTH;
use super::json::{write_str_content, HEX};

/// A body written in wire form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canonical {
    /// The object has at least one member (lura's `len(Data) > 0`, which decides `X-Krakend-Completed`).
    pub has_content: bool,
}

/// The body needs the general decoder: it is not a plain JSON object, or not valid, or has text this scanner
/// leaves to sonic-rs (invalid UTF-8, lone surrogates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback;

thread_local! {
    static TRANSCODER: RefCell<Transcoder> = RefCell::new(Transcoder::default());
}

/// Appends `body`'s first JSON value, an object, to `out` in wire form, with this worker's reusable scratch space.
/// On [`Fallback`] `out` is left as it was.
pub fn transcode(body: &[u8], out: &mut Vec<u8>) -> Result<Canonical, Fallback> {
    TRANSCODER.with(|t| match t.try_borrow_mut() {
        Ok(mut t) => t.transcode(body, out),
        Err(_) => Transcoder::default().transcode(body, out),
    })
}

/// An open container.
#[derive(Debug, Clone, Copy)]
enum Frame {
    Array,
    /// `entries` and `keys` are where this object's members start in those buffers; `body` is where its members
    /// start in the output (after the `{`).
    Object {
        entries: usize,
        keys: usize,
        body: usize,
    },
}

/// Where a member's key bytes (decoded, as Go's map compares them) are found.
#[derive(Debug, Clone, Copy)]
enum Key {
    /// In the output, between the quotes: the key needed no escaping, so its wire form is its decoded form.
    Out(usize, usize),
    /// In [`Transcoder::keys`].
    Decoded(usize, usize),
}

/// One member of an open object: its key and the output range of `"key":value`.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: Key,
    start: usize,
    end: usize,
}

/// The transcoder's buffers; they grow to the largest document seen and are reused, so a warm transcoder allocates
/// nothing.
#[derive(Debug, Default)]
pub struct Transcoder {
    frames: Vec<Frame>,
    entries: Vec<Entry>,
    /// Decoded keys whose wire form has escapes.
    keys: Vec<u8>,
    /// One object's members while they are put in order.
    members: Vec<u8>,
    /// A string with escapes, decoded.
    text: String,
    /// Where in the input the run of bytes not yet copied to the output starts: the output is, at any point,
    /// `out` followed by `input[pending..i]` ([`Transcoder::at`]).
    pending: usize,
}

impl Transcoder {
    /// [`transcode`] with this transcoder's buffers.
    pub fn transcode(&mut self, body: &[u8], out: &mut Vec<u8>) -> Result<Canonical, Fallback> {
        self.frames.clear();
        self.entries.clear();
        self.keys.clear();
        self.pending = 0;
        let mark = out.len();
        out.reserve(body.len());
        let result = self.run(body, out);
        if result.is_err() {
            out.truncate(mark);
        }
        result
    }

    fn run(&mut self, b: &[u8], out: &mut Vec<u8>) -> Result<Canonical, Fallback> {
        let mut i = self.skip_ws(b, 0, out);
        if b.get(i) != Some(&b'{') {
            return Err(Fallback);
        }
        let mut has_content = false;
        'value: loop {
            // A value starts at `b[i]`. Structural characters, numbers and literals go out as they are: they stay
            // in the pending run.
            match *b.get(i).ok_or(Fallback)? {
                b'{' => {
                    if self.frames.len() >= MAX_NESTING_DEPTH {
                        return Err(Fallback);
                    }
                    i = self.skip_ws(b, i + 1, out);
                    if b.get(i) == Some(&b'}') {
                        i += 1;
                    } else {
                        let body = self.at(out, i);
                        self.frames.push(Frame::Object { entries: self.entries.len(), keys: self.keys.len(), body });
                        i = self.key(b, i, out)?;
                        continue 'value;
                    }
                }
                b'[' => {
                    if self.frames.len() >= MAX_NESTING_DEPTH {
                        return Err(Fallback);
                    }
                    i = self.skip_ws(b, i + 1, out);
                    if b.get(i) == Some(&b']') {
                        i += 1;
                    } else {
                        self.frames.push(Frame::Array);
                        continue 'value;
                    }
                }
                b'"' => i = self.string(b, i, out)?.0,
                b't' => i = literal(b, i, b"true")?,
                b'f' => i = literal(b, i, b"false")?,
                b'n' => i = literal(b, i, b"null")?,
                b'-' | b'0'..=b'9' => i = number(b, i)?,
                _ => return Err(Fallback),
            }
            // After a value: close what ends here, up to the start of the next value.
            loop {
                let Some(&frame) = self.frames.last() else {
                    // The top-level object was empty; what follows it is ignored, as Go's `Decoder.Decode` does.
                    self.flush(b, i, out);
                    return Ok(Canonical { has_content });
                };
                i = self.skip_ws(b, i, out);
                match (frame, b.get(i)) {
                    (Frame::Object { .. }, Some(b',')) => {
                        self.end_member(self.at(out, i));
                        i = self.skip_ws(b, i + 1, out);
                        i = self.key(b, i, out)?;
                        continue 'value;
                    }
                    (Frame::Object { entries, keys, body }, Some(b'}')) => {
                        self.end_member(self.at(out, i));
                        // The object's members are written out before they are put in order; its `}` starts the
                        // next run.
                        self.flush(b, i, out);
                        let kept = self.close_object(entries, keys, body, out);
                        i += 1;
                        self.frames.pop();
                        if self.frames.is_empty() {
                            has_content = kept > 0;
                            self.flush(b, i, out);
                            return Ok(Canonical { has_content });
                        }
                    }
                    (Frame::Array, Some(b',')) => {
                        i = self.skip_ws(b, i + 1, out);
                        continue 'value;
                    }
                    (Frame::Array, Some(b']')) => {
                        i += 1;
                        self.frames.pop();
                    }
                    _ => return Err(Fallback),
                }
            }
        }
    }

    /// Where input position `i` lands in the output, once the pending run is copied.
    fn at(&self, out: &[u8], i: usize) -> usize {
        out.len() + (i - self.pending)
    }

    /// Copies the pending run up to input position `i`.
    fn flush(&mut self, b: &[u8], i: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&b[self.pending..i]);
        self.pending = i;
    }

    /// Skips JSON whitespace (Go's scanner's set) at `b[i]`: what came before it is copied, the whitespace is not.
    fn skip_ws(&mut self, b: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
        let j = skip_ws(b, i);
        if j != i {
            self.flush(b, i, out);
            self.pending = j;
        }
        j
    }

    fn end_member(&mut self, end: usize) {
        if let Some(e) = self.entries.last_mut() {
            e.end = end;
        }
    }

    /// Writes a member's key and `:`, records the member, and returns where its value starts.
    fn key(&mut self, b: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize, Fallback> {
        if b.get(i) != Some(&b'"') {
            return Err(Fallback);
        }
        let start = self.at(out, i);
        let (next, decoded) = self.string(b, i, out)?;
        let end = self.at(out, next);
        // Escaping only ever lengthens a string: a wire form as long as the input text (plus quotes) with no
        // escapes in the input is the decoded text itself. Its output position is final once the object closes
        // (written out before it is put in order), which is when keys are compared.
        let key = match decoded {
            Decoded::Input(s, e) if end - start == e - s + 2 => Key::Out(start + 1, end - 1),
            Decoded::Input(s, e) => {
                let k = self.keys.len();
                self.keys.extend_from_slice(&b[s..e]);
                Key::Decoded(k, self.keys.len())
            }
            Decoded::Escaped(s, e) => {
                unescape(&b[s..e], &mut self.text)?;
                let k = self.keys.len();
                self.keys.extend_from_slice(self.text.as_bytes());
                Key::Decoded(k, self.keys.len())
            }
        };
        let i = self.skip_ws(b, next, out);
        if b.get(i) != Some(&b':') {
            return Err(Fallback);
        }
        self.entries.push(Entry { key, start, end: start });
        Ok(self.skip_ws(b, i + 1, out))
    }

    /// Puts the members of the object that starts at `body` in key order, keeping the last of equal keys;
    /// returns how many are kept.
    fn close_object(&mut self, entries: usize, keys: usize, body: usize, out: &mut Vec<u8>) -> usize {
        let members = &mut self.entries[entries..];
        let arena = &self.keys;
        let key_of = |e: &Entry| -> &[u8] {
            match e.key {
                Key::Out(s, e) => &out[s..e],
                Key::Decoded(s, e) => &arena[s..e],
            }
        };
        let in_order = members.windows(2).all(|w| key_cmp(key_of(&w[0]), key_of(&w[1])) == Ordering::Less);
        let mut kept = members.len();
        if !in_order {
            // Stable, so among equal keys document order survives and the last one is the Go map's value.
            members.sort_by(|a, c| key_cmp(key_of(a), key_of(c)));
            kept = 0;
            for n in 0..members.len() {
                if n + 1 < members.len() && key_of(&members[n]) == key_of(&members[n + 1]) {
                    continue;
                }
                members[kept] = members[n];
                kept += 1;
            }
            self.members.clear();
            self.members.extend_from_slice(&out[body..]);
            out.truncate(body);
            for (n, m) in members[..kept].iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&self.members[m.start - body..m.end - body]);
            }
        }
        self.entries.truncate(entries);
        self.keys.truncate(keys);
        kept
    }

    /// Scans the string that starts at `b[i]` (a `"`) for its wire form, in one pass: plain bytes stay in the
    /// pending run, escapes are decoded and written again as [`write_str`] writes them; returns where the string
    /// ends in the input and where its decoded text is.
    fn string(&mut self, b: &[u8], i: usize, out: &mut Vec<u8>) -> Result<(usize, Decoded), Fallback> {
        let start = i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            j += b[j.min(b.len())..].iter().position(|&c| CLASS[usize::from(c)] != PLAIN).ok_or(Fallback)?;
            let c = b[j];
            match CLASS[usize::from(c)] {
                QUOTE => break,
                BACKSLASH => {
                    escaped = true;
                    self.flush(b, j, out);
                    let (ch, len) = unescape_one(&b[j..])?;
                    write_str_content(out, ch.encode_utf8(&mut [0; 4]));
                    j += len;
                    self.pending = j;
                }
                HTML => {
                    self.flush(b, j, out);
                    out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(c >> 4)],
                        HEX[usize::from(c & 0xF)],
                    ]);
                    j += 1;
                    self.pending = j;
                }
                LEAD => {
                    let len = utf8_len(&b[j..]).ok_or(Fallback)?;
                    // U+2028 and U+2029 are escaped for JavaScript, as `write_str` does.
                    if c == 0xE2 && b[j + 1] == 0x80 && (b[j + 2] == 0xA8 || b[j + 2] == 0xA9) {
                        self.flush(b, j, out);
                        out.extend_from_slice(if b[j + 2] == 0xA8 { b"\\u2028" } else { b"\\u2029" });
                        self.pending = j + len;
                    }
                    j += len;
                }
                // A raw control character (or a byte that starts no UTF-8 sequence) is left to the decoder.
                _ => return Err(Fallback),
            }
        }
        if !escaped {
            return Ok((j + 1, Decoded::Input(start, j)));
        }
        Ok((j + 1, Decoded::Escaped(start, j)))
    }
}

/// A string's text in the input: as it is (no escapes), or with escapes still to decode.
#[derive(Debug, Clone, Copy)]
enum Decoded {
    Input(usize, usize),
    Escaped(usize, usize),
}

const PLAIN: u8 = 0;
const QUOTE: u8 = 1;
const BACKSLASH: u8 = 2;
/// `<` `>` `&`: written as `\u00XX`.
const HTML: u8 = 3;
/// The lead byte of a multi-byte UTF-8 sequence.
const LEAD: u8 = 4;
/// A control character, a continuation byte or a byte UTF-8 never uses: left to the decoder.
const INVALID: u8 = 5;

/// What each input byte inside a string is.
static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            0..=0x1F | 0x80..=0xC1 | 0xF5..=0xFF => INVALID,
            b'"' => QUOTE,
            b'\\' => BACKSLASH,
            b'<' | b'>' | b'&' => HTML,
            0xC2..=0xF4 => LEAD,
            _ => PLAIN,
        };
        i += 1;
    }
    t
};

/// The length of the valid UTF-8 sequence at the start of `s` (its first byte is a lead byte), as `str::from_utf8`
/// accepts it: no overlong forms, no surrogates, nothing past U+10FFFF.
fn utf8_len(s: &[u8]) -> Option<usize> {
    let cont = |i: usize| s.get(i).is_some_and(|&c| (0x80..=0xBF).contains(&c));
    let (len, second) = match s[0] {
        0xC2..=0xDF => (2, 0x80..=0xBF),
        0xE0 => (3, 0xA0..=0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80..=0xBF),
        0xED => (3, 0x80..=0x9F),
        0xF0 => (4, 0x90..=0xBF),
        0xF1..=0xF3 => (4, 0x80..=0xBF),
        0xF4 => (4, 0x80..=0x8F),
        _ => return None,
    };
    (s.get(1).is_some_and(|c| second.contains(c)) && (2..len).all(cont)).then_some(len)
}

/// JSON whitespace, as Go's scanner defines it.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// Checks a literal; it goes out as it is, with the pending run.
fn literal(b: &[u8], i: usize, word: &[u8]) -> Result<usize, Fallback> {
    if !b[i..].starts_with(word) {
        return Err(Fallback);
    }
    Ok(i + word.len())
}

/// Checks a number against JSON's grammar; it goes out verbatim with the pending run (the raw-number tree keeps
/// the literal too).
fn number(b: &[u8], i: usize) -> Result<usize, Fallback> {
    let digits = |mut j: usize| {
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        j
    };
    let mut j = i + usize::from(b[i] == b'-');
    match b.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j = digits(j + 1),
        _ => return Err(Fallback),
    }
    if b.get(j) == Some(&b'.') {
        if !b.get(j + 1).is_some_and(u8::is_ascii_digit) {
            return Err(Fallback);
        }
        j = digits(j + 1);
    }
    if let Some(b'e' | b'E') = b.get(j) {
        j += 1;
        if let Some(b'+' | b'-') = b.get(j) {
            j += 1;
        }
        if !b.get(j).is_some_and(u8::is_ascii_digit) {
            return Err(Fallback);
        }
        j = digits(j);
    }
    Ok(j)
}

/// Byte order of two keys, as `<[u8]>::cmp`, without a call to `memcmp` per comparison: keys are short and
/// usually differ in their first bytes, and an object is sorted with several comparisons per member.
fn key_cmp(a: &[u8], b: &[u8]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// Decodes a string's escapes into `text`. Lone surrogates and invalid UTF-8 are left to the general decoder (which
/// replaces them with U+FFFD).
fn unescape(raw: &[u8], text: &mut String) -> Result<(), Fallback> {
    text.clear();
    let mut i = 0;
    while i < raw.len() {
        let run = raw[i..].iter().position(|&c| c == b'\\').unwrap_or(raw.len() - i);
        // Cutting at an ASCII backslash never splits a UTF-8 sequence.
        text.push_str(std::str::from_utf8(&raw[i..i + run]).map_err(|_| Fallback)?);
        i += run;
        if i == raw.len() {
            break;
        }
        let (c, len) = unescape_one(&raw[i..])?;
        text.push(c);
        i += len;
    }
    Ok(())
}

/// The character of the escape at the start of `s` (a `\`) and the escape's length; a surrogate pair is one.
fn unescape_one(s: &[u8]) -> Result<(char, usize), Fallback> {
    let c = match s.get(1).ok_or(Fallback)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let high = hex4(s, 2)?;
            return match high {
                0xD800..=0xDBFF => {
                    if s.get(6..8) != Some(b"\\u") {
                        return Err(Fallback);
                    }
                    let low = hex4(s, 8)?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return Err(Fallback);
                    }
                    let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)).ok_or(Fallback)?;
                    Ok((c, 12))
                }
                _ => Ok((char::from_u32(high).ok_or(Fallback)?, 6)),
            };
        }
        _ => return Err(Fallback),
    };
    Ok((c, 2))
}

fn hex4(raw: &[u8], at: usize) -> Result<u32, Fallback> {
    let digits = raw.get(at..at + 4).ok_or(Fallback)?;
    let mut v = 0;
    for &d in digits {
        v = v * 16 + char::from(d).to_digit(16).ok_or(Fallback)?;
    }
    Ok(v)
}
