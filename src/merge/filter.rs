//! Basic manipulation: `target`, `allow`, `deny`, `mapping` and `group` (lura `proxy/formatter.go`).
//!
//! Dot paths descend into objects only; a path that meets an array or a scalar stops there (flatmap handles arrays).

use sonic_rs::{JsonValueMutTrait, JsonValueTrait, Object, Value};

use crate::config::BackendConfig;

/// One level of an `allow` list: each listed key keeps its whole value, or only the listed children.
#[derive(Debug, Clone, Default, PartialEq)]
struct AllowTree(Vec<(Box<str>, Allow)>);

#[derive(Debug, Clone, PartialEq)]
enum Allow {
    Whole,
    Children(AllowTree),
}

/// What filters the keys: `allow` wins over `deny` when both are set (lura builds only the allow filter then).
#[derive(Debug, Clone, Default)]
enum Shape {
    #[default]
    None,
    Allow(AllowTree),
    Deny(Vec<Vec<Box<str>>>),
}

/// The compiled `target`, `allow`/`deny`, `mapping` and `group` of one backend.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    target: Option<Vec<Box<str>>>,
    shape: Shape,
    /// `mapping` in key order (lura ranges over a Go map, so chained renames have no defined order there).
    mapping: Vec<(Box<str>, Box<str>)>,
    group: Option<Box<str>>,
}

fn split(path: &str) -> Vec<Box<str>> {
    path.split('.').map(Box::from).collect()
}

impl Filter {
    pub fn build(backend: &BackendConfig) -> Filter {
        let shape = if !backend.allow.is_empty() {
            Shape::Allow(AllowTree::build(&backend.allow))
        } else if !backend.deny.is_empty() {
            Shape::Deny(backend.deny.iter().map(|p| split(p)).collect())
        } else {
            Shape::None
        };
        Filter {
            target: backend.target.as_deref().filter(|t| !t.is_empty()).map(split),
            shape,
            mapping: backend.mapping.iter().map(|(k, v)| (Box::from(k.as_str()), Box::from(v.as_str()))).collect(),
            group: backend.group.as_deref().filter(|g| !g.is_empty()).map(Box::from),
        }
    }

    /// The same filter without allow, deny and mapping (a backend flatmap replaces them).
    pub fn without_shape(self) -> Filter {
        Filter { shape: Shape::None, mapping: Vec::new(), ..self }
    }

    pub fn is_identity(&self) -> bool {
        self.target.is_none() && matches!(self.shape, Shape::None) && self.mapping.is_empty() && self.group.is_none()
    }

    /// `target`: the object at the dot path, `{}` when a step is missing or not an object (lura `extractTarget`).
    pub fn target(&self, data: Option<Value>) -> Option<Value> {
        let Some(path) = &self.target else { return data };
        let mut current = data.unwrap_or_else(|| Object::new().into_value());
        for key in path {
            match current.as_object_mut().and_then(|o| o.remove(key)) {
                Some(next) if next.is_object() => current = next,
                _ => return Some(Object::new().into_value()),
            }
        }
        Some(current)
    }

    /// `allow` or `deny`, then `mapping`.
    pub fn shape(&self, data: &mut Value) {
        let Some(obj) = data.as_object_mut() else { return };
        match &self.shape {
            Shape::None => {}
            Shape::Allow(tree) => {
                let kept = tree.prune(obj);
                *obj = kept;
            }
            Shape::Deny(paths) => {
                for path in paths {
                    deny(obj, path);
                }
            }
        }
        for (from, to) in &self.mapping {
            if let Some(v) = obj.remove(from) {
                obj.insert(to, v);
            }
        }
    }

    /// `group`: `{"<group>": data}` (a backend `null` becomes `{"<group>": null}`, as Go wraps a nil map).
    pub fn group(&self, data: Option<Value>) -> Option<Value> {
        let Some(group) = &self.group else { return data };
        let mut wrapped = Object::with_capacity(1);
        wrapped.insert(group, data.unwrap_or_default());
        Some(wrapped.into_value())
    }
}

/// Removes the value at `path`; a path through a missing key, an array or a scalar removes nothing.
fn deny(obj: &mut Object, path: &[Box<str>]) {
    match path {
        [] => {}
        [last] => {
            obj.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(child) = obj.get_mut(first).and_then(|v| v.as_object_mut()) {
                deny(child, rest);
            }
        }
    }
}

// === impl AllowTree ===

impl AllowTree {
    /// Builds the tree as lura's `buildDictPath` does: a later entry replaces an earlier one on the same key, so
    /// `["a", "a.b"]` keeps only `a.b` and `["a.b", "a"]` keeps all of `a`.
    fn build(paths: &[String]) -> AllowTree {
        let mut root = AllowTree::default();
        for path in paths {
            let keys = split(path);
            let Some((last, parents)) = keys.split_last() else { continue };
            let mut level = &mut root;
            for key in parents {
                let i = match level.0.iter().position(|(k, _)| k == key) {
                    Some(i) => {
                        if !matches!(level.0[i].1, Allow::Children(_)) {
                            level.0[i].1 = Allow::Children(AllowTree::default());
                        }
                        i
                    }
                    None => {
                        level.0.push((key.clone(), Allow::Children(AllowTree::default())));
                        level.0.len() - 1
                    }
                };
                let Allow::Children(next) = &mut level.0[i].1 else { unreachable!("set to Children just above") };
                level = next;
            }
            match level.0.iter_mut().find(|(k, _)| k == last) {
                Some(entry) => entry.1 = Allow::Whole,
                None => level.0.push((last.clone(), Allow::Whole)),
            }
        }
        root
    }

    /// Moves the allowed entries of `obj` into a new object. A key whose listed children are all missing, or whose
    /// value is not an object, is dropped (lura `whitelistPrune`).
    fn prune(&self, obj: &mut Object) -> Object {
        let mut kept = Object::with_capacity(self.0.len());
        for (key, rule) in &self.0 {
            let Some(mut value) = obj.remove(key) else { continue };
            match rule {
                Allow::Whole => {
                    kept.insert(key, value);
                }
                Allow::Children(sub) => {
                    if let Some(child) = value.as_object_mut() {
                        let inner = sub.prune(child);
                        if !inner.is_empty() {
                            kept.insert(key, inner.into_value());
                        }
                    }
                }
            }
        }
        kept
    }
}
