//! A fanout split over threads: the recipients in consecutive parts, each
//! decided on a scoped thread of its own (the `parallel` feature).

use super::CHUNK;
use crate::decide::{Decision, PreparedMessage};
use crate::error::Error;
use crate::store::interner::UserHandle;

impl PreparedMessage<'_> {
    /// As [`decide_into`](Self::decide_into), the recipients split into
    /// `threads` consecutive parts, each decided on a scoped thread of its
    /// own (the calling thread waits for all of them). For very large
    /// recipient lists: starting the threads costs some tens of
    /// microseconds and allocates their stacks, so below about 100,000
    /// recipients the single-threaded call is as quick. The decisions are
    /// those of `decide_into`, in the same order; so is the error for a
    /// handle that is not these settings' (the first such, in order), which
    /// leaves `out` empty.
    pub fn decide_into_parallel(
        &self,
        recipients: &[UserHandle],
        out: &mut Vec<Decision>,
        threads: std::num::NonZeroUsize,
    ) -> Result<(), Error> {
        out.clear();
        out.resize(recipients.len(), Decision::SENDER);
        let part = recipients
            .len()
            .div_ceil(threads.get())
            .next_multiple_of(CHUNK)
            .max(CHUNK);
        let outcome = std::thread::scope(|s| {
            let parts: Vec<_> = recipients
                .chunks(part)
                .zip(out.chunks_mut(part))
                .map(|(recipients, out)| {
                    s.spawn(move || {
                        let mut decided = 0;
                        let mut buffer = Vec::with_capacity(CHUNK);
                        for chunk in recipients.chunks(CHUNK) {
                            self.decide_into(chunk, &mut buffer)?;
                            out[decided..decided + chunk.len()].copy_from_slice(&buffer);
                            decided += chunk.len();
                        }
                        Ok(())
                    })
                })
                .collect();
            // In order, so that the error is the first refused handle's.
            parts
                .into_iter()
                .try_for_each(|part| part.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        });
        if outcome.is_err() {
            out.clear();
        }
        outcome
    }
}
