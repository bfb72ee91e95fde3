//! The nonces one app key used within the timestamp window.
//!
//! A nonce must be refused while its request's timestamp is inside the
//! window, and may be forgotten after. So each nonce is kept until then,
//! grouped by the slot (a sixteenth of the window, at least a second) in
//! which it may be forgotten, and whole slots are dropped as time passes.
//!
//! A nonce is held as a 64-bit keyed hash (SipHash with this process's
//! random key), not as its text: about 30 bytes each, whatever its length,
//! instead of the two strings and heap entries before. Two nonces share a
//! hash with a chance of about n²/2⁶⁵ (one in 37 million for a million live
//! nonces); the second would be refused as a replay (1002), and a client
//! cannot aim at it without the key. Nothing is forgotten before its time:
//! when an app key holds its limit, its new requests are refused (1008)
//! until slots expire. General caches (moka, quick_cache) bound their size
//! by evicting entries, which would forget live nonces and let a replay
//! through, so this bound is kept by hand.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use crate::auth::Refusal;

/// The nonces of one app key.
#[derive(Debug)]
pub struct Nonces {
    /// Hash of a nonce → the slot after which it may be forgotten.
    seen: HashMap<u64, u32>,
    /// Slot → the hashes forgotten after it.
    slots: BTreeMap<u32, Vec<u64>>,
    keys: RandomState,
    start: Instant,
    slot: Duration,
    cap: usize,
}

impl Nonces {
    /// Room for `cap` nonces of requests signed within `window`.
    pub fn new(cap: usize, window: Duration) -> Nonces {
        Nonces {
            seen: HashMap::new(),
            slots: BTreeMap::new(),
            keys: RandomState::new(),
            start: Instant::now(),
            slot: (window / 16).max(Duration::from_secs(1)),
            cap,
        }
    }

    fn slot_of(&self, at: Instant) -> u32 {
        let since = at.saturating_duration_since(self.start);
        u32::try_from(since.as_nanos() / self.slot.as_nanos()).unwrap_or(u32::MAX)
    }

    /// Remembers `nonce`, seen at `now`, for `left` more (at least), or
    /// refuses it: used within the window (1002), or the app key holds its
    /// limit (1008).
    pub fn insert(&mut self, nonce: &str, left: Duration, now: Instant) -> Result<(), Refusal> {
        let current = self.slot_of(now);
        while let Some(entry) = self.slots.first_entry() {
            if *entry.key() >= current {
                break;
            }
            for hash in entry.remove() {
                self.seen.remove(&hash);
            }
        }
        let hash = self.keys.hash_one(nonce);
        if self.seen.contains_key(&hash) {
            return Err(Refusal {
                code: 1002,
                message: "header Nonce: already used within the timestamp window".into(),
            });
        }
        if self.seen.len() >= self.cap {
            return Err(Refusal {
                code: 1008,
                message: "too many requests of this app key within the timestamp window".into(),
            });
        }
        // Forgotten once the slot holding `now + left` is over.
        let until = self.slot_of(now + left);
        self.seen.insert(hash, until);
        self.slots.entry(until).or_default().push(hash);
        Ok(())
    }

    /// How many nonces are held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_kept_at_least_as_long_as_asked_and_then_forgotten() {
        let window = Duration::from_secs(160);
        let mut n = Nonces::new(10, window);
        let t = n.start;
        n.insert("a", Duration::from_secs(25), t).unwrap();
        assert_eq!(n.insert("a", Duration::from_secs(25), t).unwrap_err().code, 1002);
        for later in [1, 10, 25] {
            let at = t + Duration::from_secs(later);
            assert_eq!(n.insert("a", Duration::ZERO, at).unwrap_err().code, 1002, "{later} s");
        }
        // Past the end of the slot holding its time: forgotten.
        n.insert("a", Duration::ZERO, t + Duration::from_secs(31)).unwrap();
        assert_eq!(n.len(), 1);
    }

    #[test]
    fn past_the_limit_new_nonces_are_refused_never_old_ones_forgotten() {
        let mut n = Nonces::new(2, Duration::from_secs(300));
        let t = n.start;
        let long = Duration::from_secs(600);
        n.insert("a", long, t).unwrap();
        n.insert("b", long, t).unwrap();
        assert_eq!(n.insert("c", long, t).unwrap_err().code, 1008);
        assert_eq!(n.insert("a", long, t).unwrap_err().code, 1002, "still remembered");
    }
}
