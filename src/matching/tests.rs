//! The matching rules on a table of cases in many scripts, and the automata
//! against the direct search.

use super::{keyword_occurs, nfc, Folded, Pattern, Patterns};

/// `(keyword, text, matches)`: every example of the rules, and cases in
/// Latin, Cyrillic, Greek, Arabic, Devanagari, Han, Kana, Hangul, Thai and
/// mixed text.
const CASES: &[(&str, &str, bool)] = &[
    // The examples of the rules.
    ("Straße", "STRASSE", true),
    ("STRASSE", "die straße", true),
    ("张三", "张三你好", true),
    ("张三", "请张三看", true),
    ("bob", "hi bob!", true),
    ("bob", "请看bob", true),
    ("bob", "bobby", false),
    ("bob", "kabob", false),
    ("bob", "bob\u{301}", false),
    ("राम", "रामायण", false),
    ("c++", "I like c++.", true),
    ("김철수", "김철수가", true),
    // Latin: case, boundaries, digits and `_` are word characters.
    ("Bob", "BOB, come here", true),
    ("bob", "bob_smith", false),
    ("bob", "bob2", false),
    ("bob", "2bob", false),
    ("bob", "(bob)", true),
    ("bob", "bob", true),
    ("bob", "", false),
    ("release", "Release-notes", true),
    ("e", "é", false),
    ("café", "CAFE\u{301} au lait", true),
    ("cafe", "café", false),
    ("ﬁle", "FILE", true),
    ("s", "ß", false),
    ("ss", "ß", true),
    ("ǰ", "J\u{30C}", true),
    ("#dev", "join #DEV now", true),
    ("#dev", "join#dev", true),
    ("dev#", "dev#ops", true),
    ("🚀", "launch🚀now", true),
    // Cyrillic.
    ("привет", "ПРИВЕТ, мир", true),
    ("мир", "мировой", false),
    ("ёж", "ЁЖ", true),
    // Greek: final sigma folds with sigma.
    ("σοφος", "ΣΟΦΟΣ", true),
    ("σοφός", "ΣΟΦΟΣ", false),
    ("λόγος", "ο ΛΌΓΟΣ.", true),
    ("λογ", "λόγος", false),
    // Arabic: letters of a spaced script.
    ("سلام", "قال سلام عليكم", true),
    ("سلام", "السلام", false),
    // Devanagari: vowel signs are marks that belong to their base.
    ("राम", "श्री राम जी", true),
    ("नमस्ते", "नमस्ते दुनिया", true),
    ("राम", "रामू", false),
    // Han.
    ("会议", "明天的会议取消了", true),
    ("會議", "会议", false),
    // Kana: Hiragana and Katakana, the prolonged sound mark.
    ("すし", "おすしをたべる", true),
    ("コーヒー", "コーヒーを飲む", true),
    ("ラーメン", "とんこつラーメン大好き", true),
    // Hangul.
    ("회의", "오늘회의는", true),
    // Thai.
    ("สวัสดี", "คุณสวัสดีครับ", true),
    // Mixed scripts.
    ("bob", "张三和bob开会", true),
    ("ok", "ok了", true),
    ("bob", "bobкот", false),
    ("bob", "bobκ", false),
    ("bob", "bobعلي", false),
    ("bob", "bobराम", false),
    ("张三", "bob张三bob", true),
    ("iphone", "买了iPhone15", false),
    ("iphone15", "买了iPhone15", true),
];

#[test]
fn every_case_of_the_table() {
    for &(keyword, text, expected) in CASES {
        assert_eq!(keyword_occurs(keyword, text), expected, "{keyword:?} in {text:?}");
        let mut patterns = Patterns::default();
        let id = patterns.hold(Pattern::of(keyword));
        patterns.commit();
        let mut found = Vec::new();
        patterns.scan(&Folded::new(text), &mut found);
        assert_eq!(found == [id], expected, "the automaton: {keyword:?} in {text:?}");
    }
}

#[test]
fn folding_is_full_and_keeps_each_bytes_class() {
    let f = Folded::new("Straße İ");
    assert_eq!(f.text(), "strasse i\u{307}");
    // `ss` came from ß, a letter; the space is not; the dot is the I's.
    assert!((0..7).all(|i| f.word_at(i)));
    assert!(!f.word_at(7));
    assert!(f.word_at(8) && f.word_at(9) && f.word_at(10));
    assert!(!f.word_at(11));
    assert_eq!(
        Folded::new("ΣΟΦΟΣ").text(),
        Folded::new("σοφός").text().replace('ό', "ο")
    );
    assert_eq!(nfc("e\u{301}"), "é");
    // A mark after a Han character is not a word character; after a Latin one it is.
    let f = Folded::new("张\u{301}b\u{301}");
    assert!(!f.word_at(3) && !f.word_at(4));
    assert!(f.word_at(6) && f.word_at(7));
}

#[test]
fn a_pattern_knows_its_word_ends() {
    let p = Pattern::of("c++");
    assert!(p.word_start && !p.word_end);
    let p = Pattern::of("张三");
    assert!(!p.word_start && !p.word_end);
    let p = Pattern::of("राम");
    assert!(p.word_start && p.word_end);
}

/// A small deterministic generator, so that the test needs nothing more.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "a", "b", "ab", "ß", "SS", "s", " ", "_", "1", "张", "三", "\u{301}", "é", "E", "к", "К", "ा", "र", "+", ".", "ー",
    "カ", "가",
];

#[test]
fn the_automata_find_what_the_direct_search_finds_through_holds_releases_and_merges() {
    for dfas in [true, false] {
        holds_releases_and_merges(dfas);
    }
}

/// Holds and releases keywords of [`PIECES`] round after round, and checks
/// every few rounds that a scan finds what the direct search finds, in DFAs
/// or (`dfas` false) in NFAs only.
fn holds_releases_and_merges(dfas: bool) {
    let mut rng = Lcg(7);
    let mut patterns = Patterns::default();
    if !dfas {
        patterns = Patterns::without_dfas();
    }
    let mut held: Vec<(String, u32)> = Vec::new();
    for round in 0..3000 {
        // Add a few keywords, drop a few.
        for _ in 0..rng.next(4) {
            let keyword: String = (0..1 + rng.next(3)).map(|_| PIECES[rng.next(PIECES.len())]).collect();
            let id = patterns.hold(Pattern::of(&keyword));
            held.push((keyword, id));
        }
        for _ in 0..rng.next(4) {
            if !held.is_empty() {
                let (_, id) = held.swap_remove(rng.next(held.len()));
                patterns.release(id);
            }
        }
        patterns.commit();
        if round % 50 == 0 {
            let text: String = (0..rng.next(12)).map(|_| PIECES[rng.next(PIECES.len())]).collect();
            let mut found = Vec::new();
            patterns.scan(&Folded::new(&text), &mut found);
            let mut expected: Vec<u32> = held
                .iter()
                .filter(|(k, _)| keyword_occurs(k, &text))
                .map(|&(_, id)| id)
                .collect();
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(found, expected, "round {round}, text {text:?}");
        }
    }
    assert!(patterns.levels() <= 4, "{} levels", patterns.levels());
}

#[test]
fn levels_stay_few_as_patterns_grow() {
    let mut patterns = Patterns::default();
    for user in 0..800 {
        for k in 0..10 {
            let _ = patterns.hold(Pattern::of(&format!("w{user}x{k}")));
        }
        patterns.commit();
        // At most 2 + log8(n / MIN_LEVEL) levels, plus the newest.
        let n = (user + 1) * 10;
        let bound = 3 + (n / super::automaton::MIN_LEVEL).max(1).ilog(8) as usize;
        assert!(
            patterns.levels() <= bound,
            "{} levels for {n} patterns",
            patterns.levels()
        );
    }
    let mut found = Vec::new();
    patterns.scan(&Folded::new("hi W799X9 and w0x0!"), &mut found);
    assert_eq!(found.len(), 2);
}

/// Texts long enough to be walked in pieces side by side, with occurrences
/// across the pieces' edges everywhere: a scan finds every keyword the
/// direct search finds, through levels of DFAs and of NFAs alike, and
/// nothing else.
#[test]
fn a_long_text_walked_in_pieces_finds_what_the_direct_search_finds() {
    let mut rng = Lcg(11);
    for dfas in [true, false] {
        let mut patterns = if dfas {
            Patterns::default()
        } else {
            Patterns::without_dfas()
        };
        let mut held: Vec<(String, u32)> = Vec::new();
        // A level of about 600 patterns, then one of about 40, which 3
        // more join (levels under 64 patterns merge).
        for batch in [600, 40, 3] {
            for _ in 0..batch {
                let keyword: String = (0..1 + rng.next(6)).map(|_| PIECES[rng.next(PIECES.len())]).collect();
                held.push((keyword.clone(), patterns.hold(Pattern::of(&keyword))));
            }
            patterns.commit();
        }
        assert_eq!(patterns.levels(), 2);
        for round in 0..12 {
            let text: String = (0..200 + rng.next(600))
                .map(|_| PIECES[rng.next(PIECES.len())])
                .collect();
            let mut found = Vec::new();
            patterns.scan(&Folded::new(&text), &mut found);
            let mut expected: Vec<u32> = held
                .iter()
                .filter(|(k, _)| keyword_occurs(k, &text))
                .map(|&(_, id)| id)
                .collect();
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(found, expected, "dfas {dfas}, round {round}, text {text:?}");
        }
    }
}
