//! Every user's keywords: as set (for the get and the snapshot), as one set
//! of patterns for the scan (`matching`), and as a presence bitmap by handle
//! number, so that the fanout asks about a recipient's keywords only when
//! they have some.

use hashbrown::HashMap;

use super::level_map::HandleHasher;
use super::policy_store::Bits;
use crate::matching::{Folded, Pattern, PatternId, Patterns};
use crate::model::keyword::Keywords;

/// One user's keywords and their patterns' numbers, in the same order.
#[derive(Clone, Debug)]
struct UserKeywords {
    keywords: Keywords,
    patterns: Vec<PatternId>,
}

/// Every user's keywords.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeywordStore {
    patterns: Patterns,
    users: HashMap<u32, UserKeywords, std::hash::BuildHasherDefault<HandleHasher>>,
    holders: Bits,
}

impl KeywordStore {
    /// Replaces user `user`'s keywords (an empty list clears them). Costs
    /// what their keywords cost, amortized (`matching/automaton.rs`).
    pub(crate) fn set(&mut self, user: u32, keywords: &Keywords) {
        if let Some(old) = self.users.remove(&user) {
            old.patterns.iter().for_each(|&id| self.patterns.release(id));
        }
        if keywords.is_empty() {
            self.holders.clear(user);
        } else {
            let patterns = keywords
                .as_slice()
                .iter()
                .map(|k| self.patterns.hold(Pattern::of(k)))
                .collect();
            self.users.insert(
                user,
                UserKeywords {
                    keywords: keywords.clone(),
                    patterns,
                },
            );
            self.holders.set(user);
        }
        self.patterns.commit();
    }

    /// User `user`'s keywords, if they have any.
    pub(crate) fn get(&self, user: u32) -> Option<&Keywords> {
        self.users.get(&user).map(|u| &u.keywords)
    }

    /// Whether anybody has keywords.
    pub(crate) fn anyone(&self) -> bool {
        !self.users.is_empty()
    }

    /// The presence bitmap of the users with keywords.
    pub(crate) fn holders(&self) -> &[u64] {
        &self.holders.0
    }

    /// The patterns found in `text` (sorted, each once): the one scan of a
    /// message's text.
    pub(crate) fn scan(&self, text: &str) -> Vec<PatternId> {
        let mut found = Vec::new();
        if self.anyone() && !text.is_empty() {
            self.patterns.scan(&Folded::new(text), &mut found);
        }
        found
    }

    /// The first of user `user`'s keywords (in their order) whose pattern is
    /// in `found`.
    #[inline]
    pub(crate) fn first_found(&self, user: u32, found: &[PatternId]) -> Option<&str> {
        if found.is_empty() || !self.holders.contains(user) {
            return None;
        }
        let u = self.users.get(&user)?;
        u.patterns
            .iter()
            .position(|id| found.binary_search(id).is_ok())
            .map(|i| &*u.keywords.as_slice()[i])
    }
}

impl super::Settings {
    /// Replaces the keywords of user `user` (`docs/rules.md` §11); an empty
    /// list clears them.
    pub fn set_keywords(
        &mut self,
        user: &crate::model::UserId,
        keywords: &Keywords,
    ) -> Result<(), crate::error::Error> {
        if keywords.is_empty() {
            if let Some(h) = self.user(user.as_str()) {
                self.keywords.set(h.number(), keywords);
            }
            return Ok(());
        }
        let h = self.intern_user(user)?;
        self.keywords.set(h.number(), keywords);
        Ok(())
    }

    /// The keywords of user `user` (empty when none).
    pub fn keywords(&self, user: &str) -> Keywords {
        self.user(user)
            .and_then(|h| self.keywords.get(h.number()))
            .cloned()
            .unwrap_or_default()
    }
}
