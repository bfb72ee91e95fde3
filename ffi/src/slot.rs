//! Where a batch writes its results: a slice of values, or of slots not
//! yet written.
//!
//! A C caller's output buffer holds whatever bytes it held before; read
//! as `DndDecision`s they would be garbage, and zeroing 1M of them first
//! costs a pass over memory as long as the batch's own. So the batch
//! writes each result once into a [`MaybeUninit`] slot, and reads none:
//! the same work as the core's batch writing into a `Vec`'s spare
//! capacity. Rust callers that hold initialized values (the Python
//! binding's `Vec`s) pass those.

use std::mem::MaybeUninit;

/// A place one result is written to, once.
pub trait Slot<T> {
    /// Writes `value` here.
    fn put(&mut self, value: T);
}

impl<T> Slot<T> for T {
    #[inline(always)]
    fn put(&mut self, value: T) {
        *self = value;
    }
}

impl<T> Slot<T> for MaybeUninit<T> {
    #[inline(always)]
    fn put(&mut self, value: T) {
        self.write(value);
    }
}

/// Writes `value` into every slot of `out`.
pub fn fill<T: Copy, S: Slot<T>>(out: &mut [S], value: T) {
    for slot in out {
        slot.put(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_of_slot_take_the_value() {
        let mut values = [0i64; 3];
        fill(&mut values, 7);
        assert_eq!(values, [7; 3]);
        let mut slots = [MaybeUninit::<i64>::uninit(); 3];
        fill(&mut slots, 9);
        assert!(slots.iter().all(|s| format!("{s:?}").starts_with("MaybeUninit")));
    }
}
