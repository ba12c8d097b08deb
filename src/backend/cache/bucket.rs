//! One cache bucket: stored responses by key (their `Vary` variants together), least recently used first.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::config::CacheCaps;

use super::{Stored, MAX_VARIANTS};

/// One bucket: keys → variants, least recently used first in `order`.
#[derive(Debug)]
pub struct Bucket {
    caps: Option<CacheCaps>,
    map: HashMap<String, Slot>,
    /// Use tick → key; the first entry is the least recently used.
    pub(super) order: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
}

#[derive(Debug)]
struct Slot {
    variants: Vec<Rc<Stored>>,
    tick: u64,
}

impl Bucket {
    pub fn new(caps: Option<CacheCaps>) -> Self {
        Bucket { caps, map: HashMap::new(), order: BTreeMap::new(), tick: 0, bytes: 0 }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The variants stored under `key`, which becomes the most recently used.
    pub fn get(&mut self, key: &str) -> Vec<Rc<Stored>> {
        let Some(slot) = self.map.get_mut(key) else {
            return Vec::new();
        };
        self.tick += 1;
        if let Some(k) = self.order.remove(&slot.tick) {
            self.order.insert(self.tick, k);
        }
        slot.tick = self.tick;
        slot.variants.clone()
    }

    /// Stores `new` under `key`, in place of the variant `same` picks (or beside the others); then evicts down to
    /// the caps. An entry larger than the whole bucket is not stored, and the variant it would replace goes.
    pub fn put(&mut self, key: &str, new: Rc<Stored>, same: impl Fn(&Stored) -> bool) {
        if self.caps.is_some_and(|c| new.size > c.max_size) {
            let old = self.map.get(key).and_then(|slot| slot.variants.iter().find(|v| same(v)).cloned());
            if let Some(old) = old {
                self.remove(key, &old);
            }
            return;
        }
        self.tick += 1;
        let tick = self.tick;
        self.bytes += new.size;
        match self.map.get_mut(key) {
            Some(slot) => {
                let replaced = match slot.variants.iter().position(|v| same(v)) {
                    Some(i) => Some(std::mem::replace(&mut slot.variants[i], new)),
                    None if slot.variants.len() >= MAX_VARIANTS => {
                        let first = slot.variants.remove(0);
                        slot.variants.push(new);
                        Some(first)
                    }
                    None => {
                        slot.variants.push(new);
                        None
                    }
                };
                if let Some(r) = replaced {
                    self.bytes -= r.size;
                }
                if let Some(k) = self.order.remove(&slot.tick) {
                    self.order.insert(tick, k);
                }
                slot.tick = tick;
            }
            None => {
                self.map.insert(key.to_owned(), Slot { variants: vec![new], tick });
                self.order.insert(tick, key.to_owned());
            }
        }
        self.evict();
    }

    /// Drops the variant `old` of `key` (the key too when it was the last).
    pub fn remove(&mut self, key: &str, old: &Rc<Stored>) {
        let Some(slot) = self.map.get_mut(key) else { return };
        let Some(i) = slot.variants.iter().position(|v| Rc::ptr_eq(v, old)) else { return };
        let gone = slot.variants.remove(i);
        self.bytes -= gone.size;
        if slot.variants.is_empty() {
            let tick = slot.tick;
            self.map.remove(key);
            self.order.remove(&tick);
        }
    }

    fn evict(&mut self) {
        let Some(caps) = self.caps else { return };
        while self.map.len() > caps.max_items || self.bytes > caps.max_size {
            let Some((_, key)) = self.order.pop_first() else { return };
            if let Some(slot) = self.map.remove(&key) {
                self.bytes -= slot.variants.iter().map(|v| v.size).sum::<usize>();
            }
        }
    }
}
