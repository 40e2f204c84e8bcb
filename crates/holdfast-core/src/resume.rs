//! Whether an operation continues work that an earlier run left part-done.

use std::fmt;

/// What to do with part-done work (a failed or interrupted migration, a copy's checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resume {
    /// Never continue: part-done work stops the run, saying how to resume.
    #[default]
    Never,
    /// Continue part-done work if there is any; otherwise start.
    IfPresent,
    /// Continue part-done work; where the operation keeps a record of its own (a copy's
    /// checkpoint), having none is an error.
    Required,
}

impl Resume {
    /// Whether part-done work may be continued.
    pub fn allows(self) -> bool {
        self != Resume::Never
    }

    /// Parses `never` / `if-present` / `required` (also `false` / `true`, as a flag is written).
    pub fn parse(text: &str) -> Option<Resume> {
        match text.trim().to_ascii_lowercase().as_str() {
            "never" | "false" | "no" => Some(Resume::Never),
            "if-present" | "ifpresent" | "if_present" => Some(Resume::IfPresent),
            "required" | "true" | "yes" => Some(Resume::Required),
            _ => None,
        }
    }

    /// A flag's value: set → [`Resume::Required`], unset → [`Resume::Never`].
    pub fn from_flag(set: bool) -> Resume {
        if set {
            Resume::Required
        } else {
            Resume::Never
        }
    }
}

impl fmt::Display for Resume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resume::Never => "never",
            Resume::IfPresent => "if-present",
            Resume::Required => "required",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_its_names_and_flag_values() {
        for (text, want) in [
            ("never", Some(Resume::Never)),
            ("false", Some(Resume::Never)),
            ("If-Present", Some(Resume::IfPresent)),
            ("required", Some(Resume::Required)),
            ("true", Some(Resume::Required)),
            ("sometimes", None),
        ] {
            assert_eq!(Resume::parse(text), want, "{text}");
        }
        for r in [Resume::Never, Resume::IfPresent, Resume::Required] {
            assert_eq!(Resume::parse(&r.to_string()), Some(r));
        }
        assert!(!Resume::Never.allows() && Resume::IfPresent.allows());
    }
}
