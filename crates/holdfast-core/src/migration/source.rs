//! Loading a folder of migration files into a validated, ordered set.

use super::{checksum, parse_file_name, Directives, Kind, Version};
use crate::split::{split, Dialect, Statement};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One migration file, read, checked and split into statements.
#[derive(Debug, Clone)]
pub struct Migration {
    pub kind: Kind,
    /// `None` for repeatables.
    pub version: Option<Version>,
    pub description: String,
    /// The file's path relative to the migrations folder, with `/` separators.
    pub script: String,
    pub checksum: String,
    pub directives: Directives,
    pub statements: Vec<Statement>,
}

impl Migration {
    /// Versioned: the version; repeatable: the description. Identifies a migration in the history.
    pub fn key(&self) -> String {
        match &self.version {
            Some(v) => v.to_string(),
            None => self.description.clone(),
        }
    }

    /// A short label for messages: the script name.
    pub fn label(&self) -> &str {
        &self.script
    }
}

/// All migrations of a folder: versioned ones in version order, then repeatables by description.
#[derive(Debug, Clone, Default)]
pub struct MigrationSet {
    pub versioned: Vec<Migration>,
    pub repeatable: Vec<Migration>,
}

impl MigrationSet {
    /// Every migration, versioned first.
    pub fn iter(&self) -> impl Iterator<Item = &Migration> {
        self.versioned.iter().chain(self.repeatable.iter())
    }

    /// The highest version on disk.
    pub fn latest_version(&self) -> Option<&Version> {
        self.versioned.last().and_then(|m| m.version.as_ref())
    }
}

/// Why a migrations folder could not be loaded. Nothing has been run or created when this is
/// returned: loading happens before any connection is made.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: cannot read migrations folder: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{first} and {second} both have version {version}")]
    DuplicateVersion {
        version: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{first} and {second} are both repeatable migrations named `{description}`")]
    DuplicateRepeatable {
        description: String,
        first: PathBuf,
        second: PathBuf,
    },
}

impl crate::exit::Classify for SourceError {
    /// A folder or file that cannot be loaded is bad input: nothing was connected to yet.
    fn outcome(&self) -> crate::exit::Outcome {
        crate::exit::Outcome::Usage
    }
}

/// Reads every `*.sql` file under `dir` (recursively, in name order), splitting each for
/// `dialect`. Fails on the first malformed name, unreadable or non-UTF-8 file, bad directive,
/// unsplittable or empty file, or duplicate version.
pub fn load_dir(dir: &Path, dialect: Dialect) -> Result<MigrationSet, SourceError> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.sort();

    let mut set = MigrationSet::default();
    let mut versions: HashMap<Version, PathBuf> = HashMap::new();
    let mut repeatables: HashMap<String, PathBuf> = HashMap::new();
    for (script, path) in files {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(name) = parse_file_name(file_name).map_err(|message| SourceError::File {
            path: path.clone(),
            message: format!("not a valid migration name: {message}"),
        })?
        else {
            continue;
        };
        let bytes = std::fs::read(&path).map_err(|e| SourceError::File {
            path: path.clone(),
            message: format!("cannot read: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| SourceError::File {
            path: path.clone(),
            message: format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        })?;
        let directives = Directives::parse(&text).map_err(|(line, message)| SourceError::Line {
            path: path.clone(),
            line,
            message,
        })?;
        let statements = split(&text, dialect).map_err(|e| {
            let (line, message) = match &e {
                crate::split::SplitError::Unterminated { line, what } => {
                    (*line, format!("unterminated {what}"))
                }
                crate::split::SplitError::Unsupported { line, what } => {
                    (*line, format!("{what} is not supported"))
                }
            };
            SourceError::Line {
                path: path.clone(),
                line,
                message,
            }
        })?;
        // A file without statements loads (as `migrate new` writes it); the plan refuses to
        // apply it (`plan::Blocker::Empty`), so `status` still works meanwhile.
        match &name.version {
            Some(version) => {
                if let Some(first) = versions.insert(version.clone(), path.clone()) {
                    return Err(SourceError::DuplicateVersion {
                        version: version.to_string(),
                        first,
                        second: path,
                    });
                }
            }
            None => {
                if let Some(first) = repeatables.insert(name.description.clone(), path.clone()) {
                    return Err(SourceError::DuplicateRepeatable {
                        description: name.description,
                        first,
                        second: path,
                    });
                }
            }
        }
        let migration = Migration {
            kind: name.kind,
            version: name.version,
            description: name.description,
            script,
            checksum: checksum(&text),
            directives,
            statements,
        };
        match migration.kind {
            Kind::Repeatable => set.repeatable.push(migration),
            _ => set.versioned.push(migration),
        }
    }
    set.versioned.sort_by(|a, b| a.version.cmp(&b.version));
    set.repeatable
        .sort_by(|a, b| a.description.cmp(&b.description));
    Ok(set)
}

fn collect_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), SourceError> {
    let dir_error = |source| SourceError::Dir {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(dir_error)? {
        let entry = entry.map_err(dir_error)?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(dir_error)?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if file_type.is_dir() && !hidden {
            collect_files(root, &path, out)?;
        } else if !file_type.is_dir() {
            let script = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((script, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Classify as _;

    #[test]
    fn a_folder_that_cannot_be_loaded_is_bad_input() {
        let dir = std::env::temp_dir().join(format!("holdfast-source-{}", std::process::id()));
        let missing = load_dir(&dir.join("missing"), Dialect::Postgres).expect_err("no folder");
        assert_eq!(missing.outcome().code(), 2, "{missing}");
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("V1__open.sql"), "SELECT 'open").expect("write");
        let unsplittable = load_dir(&dir, Dialect::Postgres).expect_err("unterminated");
        assert_eq!(unsplittable.outcome().code(), 2, "{unsplittable}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
