//! Token counting with OpenAI's cl100k_base tokenizer (GPT-4 and GPT-3.5), whose vocabulary
//! tiktoken-rs carries inside the crate: nothing is downloaded.

use zerodb_domain::memory::TokenCounter;

pub struct Cl100kTokenCounter {
    bpe: tiktoken_rs::CoreBPE,
}

impl Cl100kTokenCounter {
    pub fn new() -> Result<Self, String> {
        tiktoken_rs::cl100k_base().map(|bpe| Self { bpe }).map_err(|e| e.to_string())
    }
}

impl TokenCounter for Cl100kTokenCounter {
    fn count(&self, text: &str) -> usize {
        self.bpe.encode_ordinary(text).len()
    }

    fn name(&self) -> &'static str {
        "cl100k_base"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_real_tokens() {
        let counter = Cl100kTokenCounter::new().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(counter.count("hello world"), 2);
        assert_eq!(counter.count(""), 0);
        assert!(counter.count("antidisestablishmentarianism") > 1);
    }
}
