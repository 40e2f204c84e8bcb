//! Named parameters (`:name`) in Data API SQL → PostgreSQL's `$n`, outside quotes, comments,
//! dollar-quoted bodies and `::` casts, as the Data API does.

use std::collections::HashMap;

/// The SQL with `:name` replaced by `$n`, and the names in `$n` order. An error names a
/// parameter the SQL uses but the call did not send.
pub(crate) fn rewrite(sql: &str, known: &[String]) -> Result<(String, Vec<String>), String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut order: Vec<String> = Vec::new();
    let mut numbers: HashMap<String, usize> = HashMap::new();
    let mut i = 0;
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        // Copies from i up to and including the end of a quoted run.
        let copy_until = |end: usize, out: &mut String| {
            out.extend(&chars[i..end.min(chars.len())]);
            end
        };
        match c {
            '\'' | '"' => {
                let mut j = i + 1;
                while j < chars.len() {
                    if chars[j] == c {
                        if chars.get(j + 1) == Some(&c) {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                i = copy_until(j + 1, &mut out);
            }
            '-' if next == Some('-') => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |p| i + p + 1);
                i = copy_until(end, &mut out);
            }
            '/' if next == Some('*') => {
                let rest: String = chars[i + 2..].iter().collect();
                let end = rest
                    .find("*/")
                    .map_or(chars.len(), |p| i + 2 + rest[..p].chars().count() + 2);
                i = copy_until(end, &mut out);
            }
            '$' if next.is_some_and(|n| n == '$' || n.is_alphabetic() || n == '_') => {
                // A dollar tag `$tag$` … `$tag$`.
                let tag_end = chars[i + 1..].iter().position(|&c| !(ident(c)));
                match tag_end.map(|p| i + 1 + p) {
                    Some(t) if chars[t] == '$' => {
                        let tag: String = chars[i..=t].iter().collect();
                        let rest: String = chars[t + 1..].iter().collect();
                        let end = rest.find(&tag).map_or(chars.len(), |p| {
                            t + 1 + rest[..p].chars().count() + tag.chars().count()
                        });
                        i = copy_until(end, &mut out);
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            ':' if next == Some(':') => {
                out.push_str("::");
                i += 2;
            }
            ':' if next.is_some_and(|n| n.is_alphabetic() || n == '_') => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && ident(chars[j]) {
                    j += 1;
                }
                let name: String = chars[start..j].iter().collect();
                if !known.contains(&name) {
                    return Err(format!("No value specified for parameter: {name}"));
                }
                let n = *numbers.entry(name.clone()).or_insert_with(|| {
                    order.push(name.clone());
                    order.len()
                });
                out.push_str(&format!("${n}"));
                i = j;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok((out, order))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn rewrites_outside_quotes_and_casts() {
        let (sql, order) = rewrite(
            "SELECT ':x', \"a:b\", $$ :x $$, $t$ :y $t$, c::text, :y, :x, :y -- :z\n/* :z */",
            &names(&["x", "y"]),
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT ':x', \"a:b\", $$ :x $$, $t$ :y $t$, c::text, $1, $2, $1 -- :z\n/* :z */"
        );
        assert_eq!(order, names(&["y", "x"]));
    }

    #[test]
    fn an_unknown_name_is_an_error() {
        assert!(rewrite("SELECT :nope", &[]).unwrap_err().contains("nope"));
    }
}
