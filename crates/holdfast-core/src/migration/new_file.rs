//! The name of a new migration file.

use super::Version;

/// The file name for a new migration described by `description`.
///
/// Versioned: after the highest existing version: timestamps (`20240101120000`) continue with
/// the current time `now` (RFC 3339, UTC); integers and dotted versions continue with the next
/// integer; an empty folder starts at 1.
pub fn new_file_name(
    existing: &[Version],
    description: &str,
    repeatable: bool,
    now: &str,
) -> Result<String, String> {
    let slug = description
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if slug.is_empty() {
        return Err("the description must contain letters or digits".into());
    }
    if repeatable {
        return Ok(format!("R__{slug}.sql"));
    }
    let highest = existing.iter().max();
    let timestamps = highest.is_some_and(|v| v.parts().len() == 1 && v.parts()[0] >= 1_000_000_000);
    let version = match highest {
        None => 1,
        Some(h) if timestamps => {
            let stamp: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
            let stamp: u64 = stamp
                .parse()
                .map_err(|_| format!("`{now}` is not a time"))?;
            stamp.max(h.parts()[0] + 1)
        }
        Some(h) => h.parts()[0] + 1,
    };
    Ok(format!("V{version}__{slug}.sql"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn names_follow_the_existing_scheme() {
        let now = "2026-11-21T10:35:21Z";
        let table: &[(&[&str], &str, bool, &str)] = &[
            (&[], "create users", false, "V1__create_users.sql"),
            (&["1", "2"], "Add index!", false, "V3__Add_index.sql"),
            (&["1.1", "1.2"], "x", false, "V2__x.sql"),
            (&["20240101120000"], "x", false, "V20261121103521__x.sql"),
            (&["20991231235959"], "x", false, "V20991231235960__x.sql"),
            (&["1"], "refresh views", true, "R__refresh_views.sql"),
        ];
        for (existing, desc, repeatable, want) in table {
            let versions: Vec<Version> = existing.iter().map(|s| v(s)).collect();
            assert_eq!(
                new_file_name(&versions, desc, *repeatable, now).unwrap(),
                *want
            );
        }
        assert!(new_file_name(&[], " -- ", false, now).is_err());
    }
}
