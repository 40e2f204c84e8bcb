//! What is wrong with a configuration: every problem, each naming its variable, none quoting
//! a value.

use std::fmt;

/// What is wrong with one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// Not set, and no default.
    Missing,
    /// Required, but set to the empty string (or only whitespace).
    Empty,
    /// Set, but not a value of the field's type: what was expected (`a whole number from 0 to
    /// 65535`, `true or false`, `one of: debug, info`…), never the value itself.
    Invalid(String),
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Missing => f.write_str("missing"),
            ProblemKind::Empty => f.write_str("empty"),
            ProblemKind::Invalid(expected) => f.write_str(expected),
        }
    }
}

/// One variable's problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The variable, as named in the environment (`APP_PORT`).
    pub variable: String,
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.kind)
    }
}

/// Every problem of a configuration, by variable name. Values never appear: a variable may
/// hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    problems: Vec<Problem>,
}

impl ConfigErrors {
    pub(crate) fn new(mut problems: Vec<Problem>) -> ConfigErrors {
        problems.sort_by(|a, b| a.variable.cmp(&b.variable));
        ConfigErrors { problems }
    }

    /// The problems, sorted by variable name.
    #[must_use]
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The problem of `variable`, if it has one.
    #[must_use]
    pub fn of(&self, variable: &str) -> Option<&ProblemKind> {
        self.problems
            .iter()
            .find(|p| p.variable == variable)
            .map(|p| &p.kind)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.len() {
            1 => f.write_str("1 configuration problem: ")?,
            n => write!(f, "{n} configuration problems: ")?,
        }
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// A set of problems, one per variable (the first recorded wins).
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub(crate) fn add(&mut self, variable: &str, kind: ProblemKind) {
        if !self.has(variable) {
            self.0.push(Problem {
                variable: variable.to_owned(),
                kind,
            });
        }
    }

    pub(crate) fn has(&self, variable: &str) -> bool {
        self.0.iter().any(|p| p.variable == variable)
    }

    pub(crate) fn extend(&mut self, problems: Vec<Problem>) {
        for problem in problems {
            self.add(&problem.variable, problem.kind);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn into_errors(self) -> ConfigErrors {
        ConfigErrors::new(self.0)
    }
}
