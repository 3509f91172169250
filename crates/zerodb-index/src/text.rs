//! Full-text search over the documents a namespace index holds: an inverted index from
//! stemmed English words to the keys whose document has them, ranked by Okapi BM25.
//!
//! Written here rather than taken from a search library (tantivy, for one) because it must
//! follow the namespace index's own keys, change sequence and snapshots, so that text
//! search keeps exactly the consistency promises of vector search; the analysis (word
//! splitting, stop words, Snowball stemming) comes from `rust-stemmers`. PostgreSQL's
//! ranking of the same documents (`ts_rank_cd` over every match) took 115 ms at the median
//! over 100,000 documents; this takes about a millisecond (docs/benchmarks.md).

use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashMap;
use std::sync::OnceLock;

/// BM25's term-frequency saturation and length normalisation (Lucene's and rank_bm25's).
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Longer words are not indexed (they are rarely searched for, and bound memory).
const MAX_WORD_BYTES: usize = 64;

/// Words too common to rank by (PostgreSQL's english stop list, shortened).
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// The indexed terms of a text, in order, repeats kept.
pub(crate) fn analyze(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() <= MAX_WORD_BYTES)
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| stemmer().stem(&w).into_owned())
        .collect()
}

#[derive(Default)]
pub(crate) struct TextIndex {
    /// Term → (key, occurrences), keys ascending. Keys of removed documents stay until the
    /// next rebuild; `lengths` says which are live.
    terms: HashMap<Box<str>, Vec<(u32, u16)>>,
    /// Terms of each key's document; 0 for none or removed (keys are never reused).
    lengths: Vec<u32>,
    documents: u32,
    total_terms: u64,
    postings: usize,
    stale: usize,
}

impl TextIndex {
    pub fn add(&mut self, key: u64, text: &str) {
        let words = analyze(text);
        if words.is_empty() {
            return;
        }
        let key = key as u32;
        let mut counts: HashMap<String, u16> = HashMap::new();
        for w in &words {
            let c = counts.entry(w.clone()).or_default();
            *c = c.saturating_add(1);
        }
        for (term, count) in counts {
            self.terms.entry(term.into_boxed_str()).or_default().push((key, count));
            self.postings += 1;
        }
        if self.lengths.len() <= key as usize {
            self.lengths.resize(key as usize + 1, 0);
        }
        self.lengths[key as usize] = words.len() as u32;
        self.documents += 1;
        self.total_terms += words.len() as u64;
    }

    pub fn remove(&mut self, key: u64) {
        let Some(length) = self.lengths.get_mut(key as usize) else { return };
        if *length > 0 {
            self.documents -= 1;
            self.total_terms -= u64::from(*length);
            // Distinct terms are at most the length: a bound is enough to time the rebuild.
            self.stale += *length as usize;
            *length = 0;
        }
    }

    /// Whether removed documents hold more postings than live ones.
    pub fn needs_rebuild(&self) -> bool {
        self.stale > 1024 && self.stale > self.postings.saturating_sub(self.stale)
    }

    pub fn memory_bytes(&self) -> usize {
        self.terms.iter().map(|(t, p)| t.len() + p.capacity() * 8 + 48).sum::<usize>()
            + self.lengths.capacity() * 4
    }

    /// Live keys matching any of the query's terms, best BM25 score first, for `keep` to
    /// accept until `limit` are found.
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        mut keep: impl FnMut(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        if self.documents == 0 {
            return Vec::new();
        }
        let mut terms = analyze(query);
        terms.sort();
        terms.dedup();
        let n = self.documents as f32;
        let average = self.total_terms as f32 / n;
        let live = |key: u32| self.lengths.get(key as usize).copied().unwrap_or(0);
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for term in &terms {
            let Some(postings) = self.terms.get(term.as_str()) else { continue };
            let df = postings.iter().filter(|(k, _)| live(*k) > 0).count() as f32;
            if df == 0.0 {
                continue;
            }
            // Lucene's idf, never negative however common the term.
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(key, count) in postings {
                let length = live(key);
                if length == 0 {
                    continue;
                }
                let tf = f32::from(count);
                let norm = K1 * (1.0 - B + B * length as f32 / average);
                *scores.entry(key).or_default() += idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        let mut ranked: Vec<(u32, f32)> = scores.into_iter().collect();
        // Ties by key: the order the documents were written in.
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.into_iter().filter(|(k, _)| keep(*k)).take(limit).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_stemmed_and_stop_words_dropped() {
        assert_eq!(analyze("The Foxes were JUMPING over dogs!"), ["fox", "jump", "dog"]);
        assert!(analyze("the of and").is_empty());
    }

    #[test]
    fn bm25_prefers_rare_words_and_short_documents_and_forgets_removed_ones() {
        let mut index = TextIndex::default();
        index.add(0, "apple banana");
        index.add(1, "apple cherry cherry");
        index.add(2, "apple banana cherry date elderberry fig grape");
        index.add(3, "nothing in common");
        let top = index.search("banana", 10, |_| true);
        assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), [0, 2], "shorter first");
        let both = index.search("cherries apples", 10, |_| true);
        assert_eq!(both[0].0, 1, "two cherries: {both:?}");
        assert_eq!(index.search("apple", 10, |k| k != 0).len(), 2, "the filter is applied");
        assert_eq!(index.search("apple", 1, |_| true).len(), 1, "the limit");
        index.remove(1);
        assert!(index.search("cherry", 10, |_| true).iter().all(|t| t.0 != 1));
        assert!(index.search("zebra", 10, |_| true).is_empty());
    }
}
