//! value (in progress)
