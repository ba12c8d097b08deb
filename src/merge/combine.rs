//! Lura's merge of an endpoint's backend answers (`proxy/merging.go` `combineData`).

use sonic_rs::{JsonValueMutTrait, Value};

/// Shallow merge in arrival order: the first answer is taken as is; every top-level key of a later answer
/// overwrites the accumulated one (so on collisions the slowest backend wins). Values are moved, not cloned.
/// A later answer that is not an object (a backend `null`) contributes nothing.
pub fn merge_into(acc: &mut Option<Value>, mut data: Value) {
    let Some(existing) = acc else {
        *acc = Some(data);
        return;
    };
    let (Some(dst), Some(src)) = (existing.as_object_mut(), data.as_object_mut()) else { return };
    if dst.is_empty() {
        std::mem::swap(dst, src);
        return;
    }
    for (k, v) in src.iter_mut() {
        dst.insert(k, v.take());
    }
}
