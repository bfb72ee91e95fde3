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
//!
//! A scan runs every level's automaton over the folded text (overlapping
//! matches: every occurrence of every pattern) and keeps the live patterns
//! whose occurrence keeps the boundary rule.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
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

/// One automaton and the patterns it was built over, in its order.
#[derive(Clone, Debug)]
struct Level {
    ids: Vec<PatternId>,
    bytes: usize,
    automaton: AhoCorasick,
}

/// Every user's folded keywords: see the module's documentation.
#[derive(Clone, Debug, Default)]
pub(crate) struct Patterns {
    /// Each pattern by number; `None` for a free number.
    patterns: Vec<Option<Pattern>>,
    /// How many users hold each pattern.
    holders: Vec<u32>,
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
}

impl Patterns {
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
                (self.patterns.len() - 1) as PatternId
            }
        };
        self.index.insert(pattern.folded().into(), id);
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
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(ids.iter().map(|&id| self.pattern(id).folded()))
            // A level's patterns are at most MAX_LEVEL_BYTES bytes, so its
            // states are far fewer than the automaton's ids can number.
            .expect("a level's automaton fits its state ids");
        self.in_levels += ids.len();
        self.levels.push(Level { ids, bytes, automaton });
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
        for level in &self.levels {
            for m in level.automaton.find_overlapping_iter(text.text()) {
                let id = level.ids[m.pattern().as_usize()];
                if self.holders[id as usize] > 0 && self.pattern(id).fits(text, m.start(), m.end()) {
                    out.push(id);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}
