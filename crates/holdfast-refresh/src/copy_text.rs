//! PostgreSQL's `COPY … TEXT` format, one row at a time: fields split on tabs, `\N` for NULL,
//! backslash escapes decoded for the fields a rule rewrites and encoded again on the way out;
//! every other field passes through as the bytes it was.

/// The fields of one row (without its newline), as raw slices.
pub fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b'\t')
}

/// A field's value: `None` for `\N`, else the text with escapes decoded.
#[must_use]
pub fn decode(field: &[u8]) -> Option<String> {
    if field == b"\\N" {
        return None;
    }
    if !field.contains(&b'\\') {
        return Some(String::from_utf8_lossy(field).into_owned());
    }
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' || i + 1 == field.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let next = field[i + 1];
        i += 2;
        match next {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(next - b'0');
                let mut n = 1;
                while n < 3 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                    v = v * 8 + u32::from(field[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push(u8::try_from(v & 0xff).unwrap_or(0));
            }
            b'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                    v = v * 16 + char::from(field[i]).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                out.push(u8::try_from(v).unwrap_or(0));
            }
            other => out.push(other),
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Appends `value` as a field (`\N` for NULL, escapes for backslash, tab, newline, return).
pub fn encode(value: Option<&str>, out: &mut Vec<u8>) {
    let Some(value) = value else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for &b in value.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        for v in [
            "plain",
            "tab\there",
            "line\nbreak\r",
            "back\\slash",
            "",
            "\\N",
        ] {
            let mut out = Vec::new();
            encode(Some(v), &mut out);
            assert_eq!(decode(&out).as_deref(), Some(v), "{v:?}");
        }
        let mut out = Vec::new();
        encode(None, &mut out);
        assert_eq!(decode(&out), None);
        assert_eq!(decode(b"\\101\\x42").as_deref(), Some("AB"));
        let row: Vec<&[u8]> = fields(b"1\ta\\tb\t\\N").collect();
        assert_eq!(row.len(), 3);
    }
}
