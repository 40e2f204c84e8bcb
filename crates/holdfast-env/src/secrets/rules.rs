//! Rule files in gitleaks' format, read and compiled: `[[rules]]` tables with an `id`, a
//! `description`, a `regex`, `keywords`, an `entropy` floor, a `secretGroup`, and
//! `[[rules.allowlists]]` whose `regexes` are tested against the secret.
//!
//! Any other field is refused, so a rule whose meaning depends on something this reader does
//! not do (a `path`, an allowlist on the whole line or with stopwords) fails its file's tests
//! instead of being half-applied. Regexes are compiled as gitleaks' Go (RE2) compiles them as
//! far as classes go: `\w`, `\d`, `\s` and `\b` are ASCII-only (matched on the text's bytes).

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use holdfast_core::exit::{Classify, Outcome};
use regex::bytes::{Captures, Regex, RegexBuilder};
use serde::Deserialize;

use super::entropy::shannon_entropy;

/// Where a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// gitleaks' rule set (`rules/gitleaks.toml`, MIT license).
    Gitleaks,
    /// Holdfast's own rules (`rules/holdfast.toml`).
    Holdfast,
}

/// One file of rules.
#[derive(Clone, Copy)]
pub struct RuleSource<'a> {
    /// The file's name, for errors.
    pub name: &'a str,
    /// Whose rules they are.
    pub origin: Origin,
    /// The TOML text.
    pub text: &'a str,
}

impl fmt::Debug for RuleSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSource")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The rule files built into Holdfast.
pub const BUILTIN_SOURCES: [RuleSource<'static>; 2] = [
    RuleSource {
        name: "rules/gitleaks.toml",
        origin: Origin::Gitleaks,
        text: include_str!("../../rules/gitleaks.toml"),
    },
    RuleSource {
        name: "rules/holdfast.toml",
        origin: Origin::Holdfast,
        text: include_str!("../../rules/holdfast.toml"),
    },
];

/// A rule file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file is not TOML of the rule format.
    #[error("{file}:{line}: {message}")]
    Format {
        /// The file's name.
        file: String,
        /// Where, 1-based.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// One rule is unusable.
    #[error("{file}: rule {rule}: {message}")]
    Rule {
        /// The file's name.
        file: String,
        /// The rule's id.
        rule: String,
        /// What is wrong.
        message: String,
    },
}

impl Classify for RuleError {
    /// Rules that do not compile are bad input, wherever they were read from.
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRule {
    id: String,
    description: String,
    regex: String,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    entropy: f64,
    #[serde(default)]
    secret_group: usize,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllowlist {
    /// Read for gitleaks' format, not used.
    #[serde(default, rename = "description")]
    _description: Option<String>,
    regexes: Vec<String>,
}

/// A compiled rule.
pub struct Rule {
    id: String,
    description: String,
    origin: Origin,
    keywords: Vec<String>,
    regex: Regex,
    /// The capture group that is the secret; `None`: the first non-empty group, or the whole
    /// match when there is none (as gitleaks does).
    secret_group: Option<usize>,
    /// The secret must have more entropy than this (gitleaks: `entropy`, 0 for none).
    min_entropy: Option<f64>,
    /// A secret matching one of these is not reported.
    allow: Vec<Regex>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Rule {
    /// The rule's id (gitleaks' for its rules, e.g. `stripe-access-token`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the rule found, in a sentence.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Whose rule it is.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Lower-case words one of which a text must contain (in any case) for the rule to be
    /// tried on it; none: always tried.
    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }

    /// The byte range of the first secret this rule finds in `text` that starts at or after
    /// `from`, passes the entropy floor and is not allowed.
    pub(crate) fn find_secret(&self, text: &str, from: usize) -> Option<Range<usize>> {
        self.regex
            .captures_iter(text.as_bytes())
            .filter_map(|caps| self.secret_of(&caps))
            .find(|range| range.start >= from && self.reportable(&text.as_bytes()[range.clone()]))
    }

    fn secret_of(&self, caps: &Captures<'_>) -> Option<Range<usize>> {
        match self.secret_group {
            Some(group) => caps.get(group).map(|m| m.range()),
            None => caps
                .iter()
                .skip(1)
                .flatten()
                .find(|m| !m.is_empty())
                .or_else(|| caps.get(0))
                .map(|m| m.range()),
        }
    }

    fn reportable(&self, secret: &[u8]) -> bool {
        let entropy_ok = self.min_entropy.is_none_or(|floor| {
            let text: Cow<'_, str> = String::from_utf8_lossy(secret);
            shannon_entropy(&text) > floor
        });
        entropy_ok && !self.allow.iter().any(|allow| allow.is_match(secret))
    }
}

/// Read and compile every rule of `sources`, in order; ids must be unique across them.
pub(crate) fn compile(sources: &[RuleSource<'_>]) -> Result<Vec<Rule>, RuleError> {
    let mut rules: Vec<Rule> = Vec::new();
    for source in sources {
        let file: RuleFile = toml::from_str(source.text).map_err(|e| RuleError::Format {
            file: source.name.to_owned(),
            line: e.span().map_or(1, |span| {
                1 + source.text[..span.start]
                    .bytes()
                    .filter(|&b| b == b'\n')
                    .count()
            }),
            message: e.message().to_owned(),
        })?;
        for raw in file.rules {
            let rule_error = |message: String| RuleError::Rule {
                file: source.name.to_owned(),
                rule: raw.id.clone(),
                message,
            };
            if raw.id.is_empty() {
                return Err(rule_error("the id is empty".into()));
            }
            if rules.iter().any(|rule| rule.id == raw.id) {
                return Err(rule_error("the id is used by another rule".into()));
            }
            let regex = build(&raw.regex).map_err(|e| rule_error(format!("regex: {e}")))?;
            let groups = regex.captures_len() - 1;
            if raw.secret_group > groups {
                return Err(rule_error(format!(
                    "secretGroup {} but the regex has {groups} groups",
                    raw.secret_group
                )));
            }
            if raw.keywords.iter().any(|k| k.is_empty()) {
                return Err(rule_error("an empty keyword".into()));
            }
            if !(raw.entropy.is_finite() && raw.entropy >= 0.0) {
                return Err(rule_error("entropy must be a number ≥ 0".into()));
            }
            let mut allow = Vec::new();
            for list in &raw.allowlists {
                for pattern in &list.regexes {
                    allow.push(build(pattern).map_err(|e| rule_error(format!("allowlist: {e}")))?);
                }
            }
            rules.push(Rule {
                keywords: raw.keywords.iter().map(|k| k.to_lowercase()).collect(),
                regex,
                secret_group: (raw.secret_group > 0).then_some(raw.secret_group),
                min_entropy: (raw.entropy > 0.0).then_some(raw.entropy),
                allow,
                origin: source.origin,
                description: raw.description,
                id: raw.id,
            });
        }
    }
    Ok(rules)
}

/// A regex with RE2's ASCII classes, matched on bytes.
fn build(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).unicode(false).build()
}

#[cfg(test)]
mod tests {
    use super::{compile, Origin, RuleError, RuleSource, BUILTIN_SOURCES};

    fn source(text: &str) -> RuleSource<'_> {
        RuleSource {
            name: "test.toml",
            origin: Origin::Holdfast,
            text,
        }
    }

    fn error(text: &str) -> String {
        match compile(&[source(text)]) {
            Ok(_) => panic!("compiled"),
            Err(e) => e.to_string(),
        }
    }

    /// Every built-in rule compiles: a rule that does not fails here, never at run time.
    #[test]
    fn every_builtin_rule_compiles() {
        let rules = compile(&BUILTIN_SOURCES).unwrap_or_else(|e| panic!("{e}"));
        assert!((30..=65).contains(&rules.len()), "{} rules", rules.len());
        for rule in &rules {
            assert!(!rule.description().is_empty(), "{}", rule.id());
            assert!(!rule.keywords().is_empty(), "{} has no keyword", rule.id());
        }
        let gitleaks = rules
            .iter()
            .filter(|r| r.origin() == Origin::Gitleaks)
            .count();
        assert!(gitleaks >= 30, "{gitleaks} gitleaks rules");
    }

    #[test]
    fn a_regex_that_does_not_compile_is_an_error() {
        let e = error("[[rules]]\nid = \"x\"\ndescription = \"d\"\nregex = '''(unclosed'''\n");
        assert!(e.starts_with("test.toml: rule x: regex:"), "{e}");
        let e = error(
            "[[rules]]\nid = \"x\"\ndescription = \"d\"\nregex = '''a'''\n\
             [[rules.allowlists]]\nregexes = ['''[z-a]''']\n",
        );
        assert!(e.starts_with("test.toml: rule x: allowlist:"), "{e}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = error("[[rules]]\nid = \"x\"\ndescription = \"d\"\nregex = 'a'\npath = 'b'\n");
        assert!(e.starts_with("test.toml:5: "), "{e}");
        assert!(e.contains("path"), "{e}");
        let e = error(
            "[[rules]]\nid = \"x\"\ndescription = \"d\"\nregex = 'a'\n\
             [[rules.allowlists]]\nregexTarget = \"line\"\nregexes = ['b']\n",
        );
        assert!(e.contains("regexTarget"), "{e}");
    }

    #[test]
    fn ids_are_unique_and_groups_exist() {
        let rule = "[[rules]]\nid = \"x\"\ndescription = \"d\"\nregex = '(a)'\n";
        let e = error(&format!("{rule}{rule}"));
        assert_eq!(e, "test.toml: rule x: the id is used by another rule");
        let e = error(&format!("{rule}secretGroup = 2\n"));
        assert_eq!(
            e,
            "test.toml: rule x: secretGroup 2 but the regex has 1 groups"
        );
        let e = error("[[rules]]\nid = \"\"\ndescription = \"d\"\nregex = 'a'\n");
        assert_eq!(e, "test.toml: rule : the id is empty");
        let e = error(&format!("{rule}keywords = ['']\n"));
        assert_eq!(e, "test.toml: rule x: an empty keyword");
    }

    #[test]
    fn the_secret_is_the_chosen_group_entropy_and_allowlists_apply() {
        let rules = compile(&[source(
            "[[rules]]\nid = \"first\"\ndescription = \"d\"\nregex = '''k=(x*)(\\w+)'''\n\
             [[rules]]\nid = \"second\"\ndescription = \"d\"\nregex = '''k=(\\w+)-(\\w+)'''\n\
             secretGroup = 2\nentropy = 2\n\
             [[rules.allowlists]]\nregexes = ['''^zzz''']\n",
        )])
        .unwrap();
        // The first non-empty group.
        assert_eq!(rules[0].find_secret("k=abc", 0), Some(2..5));
        assert_eq!(rules[0].find_secret("k=abc", 3), None);
        // Group 2, with more entropy than 2 bits.
        assert_eq!(rules[1].find_secret("k=aa-abcde", 0), Some(5..10));
        assert_eq!(rules[1].find_secret("k=aa-abab", 0), None);
        assert_eq!(rules[1].find_secret("k=aa-zzzabcde", 0), None);
    }

    #[test]
    fn a_file_that_is_not_the_format_is_an_error() {
        assert!(matches!(
            compile(&[source("rules = 3")]),
            Err(RuleError::Format { .. })
        ));
    }
}
