//! Exit codes and the classification of errors. The table and [`Outcome`] are part of the
//! output contract (`holdfast_report::outcome`, re-exported here); what is Holdfast's own is
//! [`Classify`]: every error type says which outcome it deserves and what the user can do.

pub use holdfast_report::outcome::{
    Outcome, BUSY, CHECK_FAILED, FAILED, STOPPED_RESUMABLE, SUCCESS, USAGE,
};

/// Errors that know which exit code they deserve, and what the user can do about them.
pub trait Classify {
    /// The outcome class of this error.
    fn outcome(&self) -> Outcome;
    /// What to do next, for the front end to render in its own words (never part of the
    /// error's message, which names no front end's setting).
    fn remedy(&self) -> Option<crate::remedy::Remedy> {
        None
    }
}
