//! The keyword prefilter: which rules are worth trying on a text. As in gitleaks, a rule with
//! keywords is tried only on a text that contains one of them, in any case; one automaton
//! (Aho-Corasick) finds every keyword of every rule in one pass over the text.

use aho_corasick::{AhoCorasick, MatchKind};

use super::rules::Rule;

/// The keywords of a rule set, each with the rules it admits.
pub(crate) struct Prefilter {
    automaton: AhoCorasick,
    /// For each keyword (the automaton's pattern ids), the rules that have it.
    rules_of: Vec<Vec<usize>>,
    /// Rules without keywords: always tried.
    always: Vec<usize>,
    rule_count: usize,
}

impl Prefilter {
    pub(crate) fn new(rules: &[Rule]) -> Result<Prefilter, aho_corasick::BuildError> {
        let mut words: Vec<&str> = Vec::new();
        let mut rules_of: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if rule.keywords().is_empty() {
                always.push(index);
            }
            for word in rule.keywords() {
                match words.iter().position(|w| w == word) {
                    Some(at) => rules_of[at].push(index),
                    None => {
                        words.push(word);
                        rules_of.push(vec![index]);
                    }
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&words)?;
        Ok(Prefilter {
            automaton,
            rules_of,
            always,
            rule_count: rules.len(),
        })
    }

    /// The indexes of the rules to try on `text`, in rule order.
    pub(crate) fn candidates(&self, text: &str) -> Vec<usize> {
        let mut admitted: Vec<u64> = Vec::new();
        for found in self.automaton.find_overlapping_iter(text) {
            if admitted.is_empty() {
                admitted = vec![0; self.rule_count.div_ceil(64)];
            }
            for &rule in &self.rules_of[found.pattern().as_usize()] {
                admitted[rule / 64] |= 1 << (rule % 64);
            }
        }
        if admitted.is_empty() {
            return self.always.clone();
        }
        for &rule in &self.always {
            admitted[rule / 64] |= 1 << (rule % 64);
        }
        (0..self.rule_count)
            .filter(|&rule| admitted[rule / 64] & (1 << (rule % 64)) != 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Prefilter;
    use crate::secrets::rules::{compile, Origin, RuleSource};

    fn prefilter(text: &str) -> Prefilter {
        let rules = compile(&[RuleSource {
            name: "test.toml",
            origin: Origin::Holdfast,
            text,
        }])
        .unwrap();
        Prefilter::new(&rules).unwrap()
    }

    const RULES: &str = "\
        [[rules]]\nid = \"a\"\ndescription = \"d\"\nregex = 'x'\nkeywords = ['sk_live', 'xoxb']\n\
        [[rules]]\nid = \"b\"\ndescription = \"d\"\nregex = 'x'\nkeywords = ['xoxb']\n\
        [[rules]]\nid = \"c\"\ndescription = \"d\"\nregex = 'x'\nkeywords = ['live']\n";

    #[test]
    fn admits_the_rules_whose_keywords_occur_in_any_case() {
        let filter = prefilter(RULES);
        assert_eq!(filter.candidates("nothing here"), Vec::<usize>::new());
        assert_eq!(filter.candidates("SK_LIVE_abc"), vec![0, 2]);
        assert_eq!(filter.candidates("xoxb-1"), vec![0, 1]);
        assert_eq!(filter.candidates("xoxb sk_live"), vec![0, 1, 2]);
    }

    #[test]
    fn rules_without_keywords_are_always_tried() {
        let filter = prefilter(&format!(
            "{RULES}[[rules]]\nid = \"d\"\ndescription = \"d\"\nregex = 'x'\n"
        ));
        assert_eq!(filter.candidates("nothing here"), vec![3]);
        assert_eq!(filter.candidates("live"), vec![2, 3]);
    }
}
