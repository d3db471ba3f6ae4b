//! A map whose entries each carry the second they may be forgotten, swept in time order: a
//! sweep costs what it removes, never a walk of the whole map (the stores' write lock is the
//! one every protected request's check waits on).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

pub(crate) struct Expiring<V> {
    map: HashMap<Box<str>, (V, i64)>,
    /// `(until, key)`, earliest first. An entry whose end was raised has a stale item here
    /// too; popped, it finds the entry live and leaves it.
    queue: BinaryHeap<Reverse<(i64, Box<str>)>>,
}

impl<V> Default for Expiring<V> {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            queue: BinaryHeap::new(),
        }
    }
}

impl<V> Expiring<V> {
    /// The value under `key`, if it is still live at `now`.
    pub(crate) fn get(&self, key: &str, now: i64) -> Option<&V> {
        self.map
            .get(key)
            .filter(|(_, until)| now < *until)
            .map(|(value, _)| value)
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Every entry with its end (for writing the mirror back to a store that lost it).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V, i64)> {
        self.map
            .iter()
            .map(|(key, (value, until))| (&**key, value, *until))
    }

    /// Records `value` under `key` until `until`; an entry already there is combined with it
    /// by `merge` (old, new) and keeps the later of the two ends.
    pub(crate) fn merge(&mut self, key: &str, value: V, until: i64, merge: impl FnOnce(&mut V, V)) {
        if let Some((old, end)) = self.map.get_mut(key) {
            merge(old, value);
            if until > *end {
                *end = until;
                self.queue.push(Reverse((until, key.into())));
            }
        } else {
            self.map.insert(key.into(), (value, until));
            self.queue.push(Reverse((until, key.into())));
        }
    }

    pub(crate) fn remove(&mut self, key: &str) {
        self.map.remove(key);
    }

    /// Forgets every entry whose end has come.
    pub(crate) fn sweep(&mut self, now: i64) {
        while let Some(Reverse((until, _))) = self.queue.peek() {
            if *until > now {
                break;
            }
            let Some(Reverse((_, key))) = self.queue.pop() else {
                break;
            };
            if self.map.get(&key).is_some_and(|(_, end)| *end <= now) {
                self.map.remove(&key);
            }
        }
        // Stale items (raised or removed entries) cannot outnumber the live ones for long.
        if self.queue.len() > 2 * self.map.len() + 1024 {
            self.queue = self
                .map
                .iter()
                .map(|(key, (_, until))| Reverse((*until, key.clone())))
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Expiring;

    #[test]
    fn entries_leave_at_their_end_and_a_raised_end_is_kept() {
        let mut map = Expiring::default();
        map.merge("a", 1, 10, |_, _| {});
        map.merge("b", 1, 20, |_, _| {});
        map.merge("a", 1, 30, |_, _| {});
        map.sweep(15);
        assert!(map.contains("a") && map.contains("b"));
        map.sweep(20);
        assert!(map.contains("a") && !map.contains("b"));
        assert_eq!(map.get("a", 29), Some(&1));
        assert_eq!(map.get("a", 30), None);
        map.sweep(30);
        assert_eq!(map.len(), 0);
    }

    #[test]
    fn merge_combines_values() {
        let mut map = Expiring::default();
        map.merge("v", 5_u64, 10, |old, new| *old = (*old).max(new));
        map.merge("v", 3, 10, |old, new| *old = (*old).max(new));
        assert_eq!(map.get("v", 0), Some(&5));
    }
}
