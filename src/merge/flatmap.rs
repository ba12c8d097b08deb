//! `proxy.flatmap_filter`: `move`, `del` and `append` over dot paths with array indexes and `*` wildcards
//! (krakend `flatmap/tree`, wired by lura `proxy/formatter.go`).
//!
//! The reference turns the data into a tree of labelled edges and moves subtrees positionally; the rules below
//! reproduce its observable results, including the "invalid" moves of the documentation's table (see `move_values`).
//! Unlike KrakenD, which skips unknown operation types and panics on missing arguments, a malformed filter is a
//! configuration error here.

use sonic_rs::{JsonValueMutTrait, JsonValueTrait, Object, Value};

use crate::config::namespaces::PROXY;
use crate::config::ExtraConfig;

/// The config key under `proxy`.
pub const FLATMAP_KEY: &str = "flatmap_filter";

/// One step of a path: a key, an array index written as a number, or `*` (any key or index).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seg {
    key: Box<str>,
    index: Option<usize>,
    wild: bool,
}

type Path = Vec<Seg>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Move(Path, Path),
    Del(Vec<Path>),
    Append(Path, Path),
}

/// A compiled `flatmap_filter`: operations run top-down, each on the output of the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flatmap {
    ops: Vec<Op>,
}

fn parse_path(text: &str) -> Path {
    text.split('.').map(|s| Seg { key: Box::from(s), index: s.parse().ok(), wild: s == "*" }).collect()
}

impl Flatmap {
    /// Reads `proxy.flatmap_filter` from an `extra_config`; `None` when absent or empty (lura then keeps the basic
    /// manipulation). Errors name the operation (`proxy.flatmap_filter[1]: …`).
    pub fn build(extra: &ExtraConfig) -> Result<Option<Flatmap>, String> {
        let Some(list) = extra.get(PROXY).and_then(|p| p.get(FLATMAP_KEY)) else { return Ok(None) };
        let at = format!("{PROXY}.{FLATMAP_KEY}");
        let items =
            list.as_array().ok_or_else(|| format!("{at}: expected an array of {{\"type\", \"args\"}} objects"))?;
        let mut ops = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("{at}[{i}]");
            let kind = item.get("type").and_then(|t| t.as_str()).ok_or_else(|| format!("{at}: missing \"type\""))?;
            let args = match item.get("args") {
                None => Vec::new(),
                Some(a) => a
                    .as_array()
                    .ok_or_else(|| format!("{at}.args: expected an array of strings"))?
                    .iter()
                    .map(|s| s.as_str().map(parse_path).ok_or_else(|| format!("{at}.args: expected strings, got {s}")))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            let op = match (kind, args.len()) {
                ("move", 2) | ("append", 2) => {
                    let mut args = args.into_iter();
                    let (src, dst) = (args.next().unwrap_or_default(), args.next().unwrap_or_default());
                    if kind == "move" {
                        Op::Move(src, dst)
                    } else {
                        Op::Append(src, dst)
                    }
                }
                ("del", n) if n >= 1 => Op::Del(args),
                ("move" | "append", n) => {
                    return Err(format!("{at}: {kind} takes 2 args (source, destination), got {n}"))
                }
                ("del", _) => return Err(format!("{at}: del takes at least 1 arg")),
                (other, _) => return Err(format!("{at}: unknown type {other:?} (want move, del or append)")),
            };
            ops.push(op);
        }
        Ok((!ops.is_empty()).then_some(Flatmap { ops }))
    }

    /// Runs the operations on `data` in place.
    pub fn apply(&self, data: &mut Value) {
        for op in &self.ops {
            match op {
                Op::Move(src, dst) => move_values(data, src, dst),
                Op::Del(paths) => {
                    for path in paths {
                        drop(remove_matches(data, path));
                    }
                }
                Op::Append(src, dst) => append(data, src, dst),
            }
        }
    }
}

/// Calls `f` on every node matching `path` (wildcards expand; indexes select array items).
fn for_each_match(v: &mut Value, path: &[Seg], f: &mut dyn FnMut(&mut Value)) {
    let Some((seg, rest)) = path.split_first() else {
        f(v);
        return;
    };
    if let Some(arr) = v.as_array_mut() {
        if seg.wild {
            for item in arr.iter_mut() {
                for_each_match(item, rest, f);
            }
        } else if let Some(item) = seg.index.and_then(|i| arr.get_mut(i)) {
            for_each_match(item, rest, f);
        }
    } else if let Some(obj) = v.as_object_mut() {
        if seg.wild {
            for (_, item) in obj.iter_mut() {
                for_each_match(item, rest, f);
            }
        } else if let Some(item) = obj.get_mut(&seg.key) {
            for_each_match(item, rest, f);
        }
    }
}

/// Takes every value matching `path` out of its parent, in document order for arrays.
fn remove_matches(v: &mut Value, path: &[Seg]) -> Vec<Value> {
    let mut out = Vec::new();
    let Some((parent, last)) = path.split_last().map(|(l, p)| (p, l)) else { return out };
    for_each_match(v, parent, &mut |node| {
        if let Some(arr) = node.as_array_mut() {
            if last.wild {
                out.extend(arr.iter_mut().map(Value::take));
                arr.clear();
            } else if let Some(i) = last.index.filter(|&i| i < arr.len()) {
                out.push(arr[i].take());
                arr.remove(i);
            }
        } else if let Some(obj) = node.as_object_mut() {
            if last.wild {
                let mut entries: Vec<(String, Value)> = obj.iter_mut().map(|(k, v)| (k.to_owned(), v.take())).collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                obj.clear();
                out.extend(entries.into_iter().map(|(_, v)| v));
            } else if let Some(value) = obj.remove(&last.key) {
                out.push(value);
            }
        }
    });
    out
}

/// `move src dst`. With `k = min(len(src), len(dst)) - 1`, each node matching `src[..k]` (the parent) loses the
/// values at `src[k..]` and gets the last of them under `dst[k]`, wrapped in objects for `dst[k+1..]`.
///
/// `dst[..k]` is not read, exactly as in the reference: a rename of a non-last segment (`a.*.b1.*.c` →
/// `a.*.x.*.c`) changes nothing, `a.*.b1.*.c` → `a.*.x.*.c.d.e.f.g` adds levels below each `c`, a shorter `dst`
/// pulls values up to the matching ancestor (`a.*.b1.*.c` → `a.*.c`, last wins) and extra wildcards in `dst` become
/// literal `*` keys. A moved value replaces an existing key of the same name (the reference keeps both and which
/// one is written is undefined).
fn move_values(data: &mut Value, src: &[Seg], dst: &[Seg]) {
    let k = src.len().min(dst.len()).saturating_sub(1);
    let (Some(key), Some(_)) = (dst.get(k), src.get(k)) else { return };
    for_each_match(data, &src[..k], &mut |parent| {
        let Some(value) = remove_matches(parent, &src[k..]).pop() else { return };
        let value = dst[k + 1..].iter().rev().fold(value, |inner, seg| {
            let mut obj = Object::with_capacity(1);
            obj.insert(&seg.key, inner);
            obj.into_value()
        });
        put(parent, key, value);
    });
}

fn put(parent: &mut Value, key: &Seg, value: Value) {
    if let Some(obj) = parent.as_object_mut() {
        obj.insert(&key.key, value);
    } else if let Some(arr) = parent.as_array_mut() {
        match key.index {
            Some(i) if i < arr.len() => arr[i] = value,
            Some(i) if i == arr.len() => arr.push(value),
            _ => {}
        }
    }
}

/// `append src dst`: both must be arrays; `dst` becomes `dst ++ src` and `src` is removed (krakend `flatmap`
/// appends after the destination; the documentation's example shows the other order). Paths are resolved under
/// each node matching `src[..k]` as for `move`; when `src` matches several arrays they are appended in document
/// order, to the first array matching `dst`. Anything else (a missing side, a non-array) changes nothing.
fn append(data: &mut Value, src: &[Seg], dst: &[Seg]) {
    if src == dst || src.is_empty() || dst.is_empty() {
        return;
    }
    let k = src.len().min(dst.len()) - 1;
    for_each_match(data, &src[..k], &mut |parent| {
        if !all_arrays(parent, &src[k..]) || !all_arrays(parent, &dst[k..]) {
            return;
        }
        let mut sources = remove_matches(parent, &src[k..]);
        let mut done = false;
        for_each_match(parent, &dst[k..], &mut |target| {
            let Some(to) = target.as_array_mut().filter(|_| !done) else { return };
            for from in sources.iter_mut().filter_map(Value::as_array_mut) {
                to.append(from);
            }
            done = true;
        });
    });
}

/// Whether `path` matches at least one node and every match is an array.
fn all_arrays(v: &mut Value, path: &[Seg]) -> bool {
    let (mut any, mut all) = (false, true);
    for_each_match(v, path, &mut |node| {
        any = true;
        all &= node.is_array();
    });
    any && all
}
