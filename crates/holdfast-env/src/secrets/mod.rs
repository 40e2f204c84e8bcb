//! Credentials recognised in a literal value.
