//! Every user's folded keywords as one set of patterns, searched by a few
//! Aho–Corasick automata at once.
//!
//! The scheme (amortized, so that setting one user's keywords costs about
//! what their keywords cost, not a rebuild of everyone's):
//! - A pattern is a distinct folded keyword, numbered by a [`PatternId`] and
//!   counted by its holders (the users whose keywords fold to it).
//! - The patterns live in *levels*, each an automaton over its own
//!   patterns, largest first. The patterns a change brings are built into a
//!   new level of their own (cost: their bytes); then, while the newest level
//!   is at least an eighth of the one before it (or that one is small, under
//!   [`MIN_LEVEL`] patterns), the two are rebuilt as one. So level sizes fall
//!   by a factor of at least 8, there are at most `2 + log₈(n / MIN_LEVEL)`
//!   levels (8 for a million patterns), and a pattern is rebuilt at most
//!   about 8 times per level it passes through: `O(log n)` rebuilds of its
//!   bytes over its life, against `n` if every change rebuilt everything.
//! - A pattern whose last holder leaves stays in its automaton, dead (a scan
//!   skips it), until its level is next rebuilt; when the dead outnumber the
//!   live (and [`MIN_LEVEL`]), every level is rebuilt from the live ones, so
//!   removals cost `O(1)` rebuilds each, amortized. A dead pattern's number
//!   is reused once no automaton holds it.
//! - A level never grows past [`MAX_LEVEL_BYTES`] bytes of patterns, which
//!   keeps each automaton's states far below what its state ids can number,
//!   so that building one cannot fail.
//! - A level is a DFA (one row of transitions per state: one load a byte)
//!   when its estimated size is within [`MAX_DFA_BYTES`], else the crate's
//!   contiguous NFA (a fraction of the memory, a few loads a byte). The DFA
//!   costs more to build (a row per state), still in proportion to the
//!   level's bytes, so the amortized bound holds.
//!
//! A scan walks each level over the folded text (a DFA in pieces of the
//! text side by side, [`scan_dfa`], so that its cache misses overlap), and
//! keeps the live patterns whose occurrence keeps the boundary
//! rule, checked from bits kept beside each level's patterns before the
//! pattern itself is read.

use std::sync::Arc;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored, MatchKind, StartKind};
use hashbrown::HashMap;

use super::{Folded, Pattern};

/// A pattern's number.
pub(crate) type PatternId = u32;

/// Levels under this many patterns are merged into the level before them.
pub(crate) const MIN_LEVEL: usize = 64;
/// How much smaller each level is than the one before it, at least.
const RATIO: usize = 8;
/// The most bytes of patterns one automaton is built over.
const MAX_LEVEL_BYTES: usize = 1 << 26;

/// Which sides of a pattern the boundary rule checks ([`Pattern::fits`]):
/// bit 0 its start, bit 1 its end.
type Bounds = u8;

fn bounds_of(p: &Pattern) -> Bounds {
    u8::from(p.word_start()) | u8::from(p.word_end()) << 1
}

/// Whether an occurrence at `start..end` of a pattern with `bounds` keeps
/// the boundary rule in `text`: [`Pattern::fits`] from the bits.
#[inline(always)]
fn fits(bounds: Bounds, text: &Folded, start: usize, end: usize) -> bool {
    let blocked_before = bounds & 1 != 0 && start > 0 && text.word_at(start - 1);
    let blocked_after = bounds & 2 != 0 && text.word_at(end);
    !blocked_before && !blocked_after
}

/// The most bytes a level's DFA may take, estimated before building it.
const MAX_DFA_BYTES: usize = 1 << 26;

/// Whether a DFA over `patterns` (`bytes` bytes in all) is within
/// [`MAX_DFA_BYTES`]: at most one state per byte, each a row of 4-byte
/// transitions, one per class of bytes (the distinct bytes of the
/// patterns, and one for every other), the row's length a power of two.
fn dfa_fits<'p>(patterns: impl Iterator<Item = &'p str>, bytes: usize) -> bool {
    let mut seen = [false; 256];
    patterns.for_each(|p| p.bytes().for_each(|b| seen[b as usize] = true));
    let classes = seen.iter().filter(|&&s| s).count() + 1;
    (bytes + 1)
        .saturating_mul(classes.next_power_of_two())
        .saturating_mul(4)
        <= MAX_DFA_BYTES
}

/// One automaton and the patterns it was built over, in its order.
#[derive(Clone, Debug)]
struct Level {
    ids: Vec<PatternId>,
    /// Each pattern's [`Bounds`], in the same order.
    bounds: Vec<Bounds>,
    /// Whether every pattern's last character is a word character: then
    /// no occurrence ends before a word character, and a match state
    /// entered there is passed over without reading its patterns.
    word_ends: bool,
    bytes: usize,
    automaton: Searcher,
}

/// A level's automaton: a DFA, walked by [`scan_dfa`], when one fits in
/// [`MAX_DFA_BYTES`]; else the crate's contiguous NFA and its own search.
#[derive(Clone, Debug)]
enum Searcher {
    /// Shared between copies of the settings: never changed once built.
    Dfa(Arc<DFA>),
    /// The crate's contiguous NFA and its own search, for a level too
    /// large for a DFA.
    Crate(AhoCorasick),
}

/// How many walks of a DFA [`scan_dfa`] runs side by side.
const LANES: usize = 8;

/// Calls `found(state, end)` for every match state that a walk of `dfa`
/// over `text` enters (`end` is the byte after the occurrences that end
/// there).
///
/// A walk of a DFA over a text is a chain of dependent loads, and each row
/// of a large DFA is a cache miss: one walk waits for one miss at a time.
/// So the text is cut into [`LANES`] pieces, walked side by side in one
/// loop: their loads are independent and their misses overlap. Each piece
/// starts the DFA's longest pattern's length less one byte early, so that
/// every occurrence ending in it is found whole, and reports only the
/// occurrences that end in it.
#[inline]
fn scan_dfa(dfa: &DFA, text: &[u8], mut found: impl FnMut(StateID, usize)) {
    let Ok(start) = dfa.start_state(Anchored::No) else {
        return;
    };
    let overlap = dfa.max_pattern_len().saturating_sub(1);
    let piece = text.len().div_ceil(LANES);
    if piece < 4 * overlap.max(4) {
        // Too short to share out: one walk.
        let mut sid = start;
        for (i, &b) in text.iter().enumerate() {
            sid = dfa.next_state(Anchored::No, sid, b);
            if dfa.is_match(sid) {
                found(sid, i + 1);
            }
        }
        return;
    }
    // Lane k reports the occurrences ending in text[own[k]..own[k + 1]]; it
    // walks from `overlap` bytes before (the first, from the start), each
    // the same number of steps: past the end of its piece (into the next
    // one's, or past the text, read as zeros) it walks on reporting
    // nothing.
    let own: [usize; LANES] = std::array::from_fn(|k| k * piece);
    let from: [usize; LANES] = std::array::from_fn(|k| own[k].saturating_sub(overlap));
    let mut sid = [start; LANES];
    for step in 0..piece + overlap {
        for k in 0..LANES {
            let b = text.get(from[k] + step).copied().unwrap_or(0);
            sid[k] = dfa.next_state(Anchored::No, sid[k], b);
        }
        for k in 0..LANES {
            let i = from[k] + step;
            if dfa.is_match(sid[k]) && i >= own[k] && i < own[k] + piece && i < text.len() {
                found(sid[k], i + 1);
            }
        }
    }
}

/// Every user's folded keywords: see the module's documentation.
#[derive(Clone, Debug, Default)]
pub(crate) struct Patterns {
    /// Each pattern by number; `None` for a free number.
    patterns: Vec<Option<Pattern>>,
    /// How many users hold each pattern.
    holders: Vec<u32>,
    /// Each pattern's boundary rule ([`Bounds`]), beside `holders`: a scan
    /// checks an occurrence without reading the pattern.
    bounds: Vec<Bounds>,
    /// The numbers of the patterns, live or dead, by folded text.
    index: HashMap<Box<str>, PatternId>,
    free: Vec<PatternId>,
    /// Patterns held since the last [`commit`](Self::commit), in no level yet.
    pending: Vec<PatternId>,
    levels: Vec<Level>,
    /// Patterns with no holder that a level still holds.
    dead: usize,
    /// Patterns in levels, live and dead.
    in_levels: usize,
    /// Whether every level is an NFA, even where a DFA fits (for tests).
    nfa_only: bool,
}

impl Patterns {
    /// No patterns yet; every level that will be built is an NFA: the
    /// search used for a level too large for a DFA, checked by the tests
    /// on small ones.
    #[cfg(test)]
    pub(crate) fn without_dfas() -> Patterns {
        Patterns {
            nfa_only: true,
            ..Patterns::default()
        }
    }

    /// Counts one more holder of `pattern` and answers its number; a new
    /// pattern waits for [`commit`](Self::commit) to be searched.
    pub(crate) fn hold(&mut self, pattern: Pattern) -> PatternId {
        if let Some(&id) = self.index.get(pattern.folded()) {
            let holders = &mut self.holders[id as usize];
            if *holders == 0 && !self.pending.contains(&id) {
                self.dead -= 1;
            }
            *holders += 1;
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.patterns.push(None);
                self.holders.push(0);
                self.bounds.push(0);
                (self.patterns.len() - 1) as PatternId
            }
        };
        self.index.insert(pattern.folded().into(), id);
        self.bounds[id as usize] = bounds_of(&pattern);
        self.patterns[id as usize] = Some(pattern);
        self.holders[id as usize] = 1;
        self.pending.push(id);
        id
    }

    /// Counts one holder of pattern `id` less.
    pub(crate) fn release(&mut self, id: PatternId) {
        let holders = &mut self.holders[id as usize];
        *holders -= 1;
        if *holders == 0 {
            if let Some(at) = self.pending.iter().position(|&p| p == id) {
                // Never searched: forget it at once.
                self.pending.swap_remove(at);
                self.forget(id);
            } else {
                self.dead += 1;
            }
        }
    }

    /// Builds what was held since the last commit into the levels, merging
    /// and compacting as the scheme says.
    pub(crate) fn commit(&mut self) {
        let live = self.in_levels - self.dead;
        if self.dead > MIN_LEVEL && self.dead > live {
            let mut all: Vec<PatternId> = self.levels.drain(..).flat_map(|l| l.ids).collect();
            all.append(&mut self.pending);
            self.in_levels = 0;
            self.add_level(all);
            return;
        }
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        self.add_level(pending);
        while let [.., before, last] = &self.levels[..] {
            let fits = before.bytes + last.bytes <= MAX_LEVEL_BYTES;
            let small = last.ids.len() * RATIO >= before.ids.len() || before.ids.len() < MIN_LEVEL;
            if !(fits && small) {
                break;
            }
            let (Some(last), Some(before)) = (self.levels.pop(), self.levels.pop()) else {
                break;
            };
            self.in_levels -= before.ids.len() + last.ids.len();
            let mut ids = before.ids;
            ids.extend(last.ids);
            self.add_level(ids);
        }
    }

    /// Builds `ids` (dropping the dead, whose numbers are freed) into levels
    /// of at most [`MAX_LEVEL_BYTES`] each, after the others.
    fn add_level(&mut self, ids: Vec<PatternId>) {
        let mut chunk = Vec::new();
        let mut bytes = 0;
        for id in ids {
            if self.holders[id as usize] == 0 {
                self.dead -= 1;
                self.forget(id);
                continue;
            }
            let len = self.pattern(id).folded().len();
            if bytes + len > MAX_LEVEL_BYTES && !chunk.is_empty() {
                self.build(std::mem::take(&mut chunk), bytes);
                bytes = 0;
            }
            chunk.push(id);
            bytes += len;
        }
        if !chunk.is_empty() {
            self.build(chunk, bytes);
        }
    }

    fn build(&mut self, ids: Vec<PatternId>, bytes: usize) {
        let patterns = || ids.iter().map(|&id| self.pattern(id).folded());
        let dfa = (!self.nfa_only && dfa_fits(patterns(), bytes))
            .then(|| {
                DFA::builder()
                    .match_kind(MatchKind::Standard)
                    .start_kind(StartKind::Unanchored)
                    .prefilter(false)
                    .build(patterns())
                    .ok()
            })
            .flatten();
        let automaton = match dfa {
            Some(dfa) => Searcher::Dfa(Arc::new(dfa)),
            None => Searcher::Crate(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(patterns())
                    // A level's patterns are at most MAX_LEVEL_BYTES bytes, so its
                    // states are far fewer than the automaton's ids can number.
                    .expect("a level's automaton fits its state ids"),
            ),
        };
        self.in_levels += ids.len();
        let bounds: Vec<Bounds> = ids.iter().map(|&id| self.bounds[id as usize]).collect();
        self.levels.push(Level {
            ids,
            word_ends: bounds.iter().all(|b| b & 2 != 0),
            bounds,
            bytes,
            automaton,
        });
    }

    fn forget(&mut self, id: PatternId) {
        if let Some(p) = self.patterns[id as usize].take() {
            self.index.remove(p.folded());
        }
        self.free.push(id);
    }

    fn pattern(&self, id: PatternId) -> &Pattern {
        self.patterns[id as usize].as_ref().expect("a held pattern is stored")
    }

    /// How many automata a scan runs.
    #[cfg(test)]
    pub(crate) fn levels(&self) -> usize {
        self.levels.len()
    }

    /// Replaces `out` with the live patterns that occur in `text` under the
    /// boundary rule, sorted, each once.
    pub(crate) fn scan(&self, text: &Folded, out: &mut Vec<PatternId>) {
        out.clear();
        let mut keep = |level: &Level, p: usize, start: usize, end: usize| {
            let id = level.ids[p];
            if fits(level.bounds[p], text, start, end) && self.holders[id as usize] > 0 {
                out.push(id);
            }
        };
        for level in &self.levels {
            if let Searcher::Crate(searcher) = &level.automaton {
                searcher
                    .find_overlapping_iter(text.text())
                    .for_each(|m| keep(level, m.pattern().as_usize(), m.start(), m.end()));
            }
        }
        for level in &self.levels {
            let Searcher::Dfa(dfa) = &level.automaton else {
                continue;
            };
            scan_dfa(dfa, text.text().as_bytes(), |sid, end| {
                // Every pattern that ends here: the text after them is the
                // same (checked first, it rules most out), their starts differ.
                let after_word = text.word_at(end);
                if after_word && level.word_ends {
                    return;
                }
                for m in 0..dfa.match_len(sid) {
                    let p = dfa.match_pattern(sid, m);
                    if level.bounds[p.as_usize()] & 2 != 0 && after_word {
                        continue;
                    }
                    keep(level, p.as_usize(), end - dfa.pattern_len(p), end);
                }
            });
        }
        out.sort_unstable();
        out.dedup();
    }
}
