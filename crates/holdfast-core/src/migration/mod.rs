//! Migration files: names, versions, checksums, directives, and loading a folder of them.

mod checksum;
mod directives;
mod name;
mod new_file;
mod source;

pub use checksum::{checksum, prefix_checksum, sha256_hex, PrefixChecksum};
pub use directives::Directives;
pub use name::{parse_file_name, FileName, Kind, Version};
pub use new_file::new_file_name;
pub use source::{load_dir, Migration, MigrationSet, SourceError};
