//! A small RFC 4180 reader for label files and CSV findings: it streams records with the
//! line each starts on, so errors can name the line.

/// Streams the records of CSV text: fields split on commas, `"` quoting with `""` as an
/// escaped quote, records ending in `\n` or `\r\n` (also inside quoted fields). A leading
/// UTF-8 byte-order mark is skipped and blank lines are skipped.
pub(crate) struct CsvReader<'a> {
    text: &'a str,
    pos: usize,
    line: u64,
}

/// A malformed record: the 1-based line and what is wrong.
pub(crate) type CsvError = (u64, String);

impl<'a> CsvReader<'a> {
    /// A reader over `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        CsvReader {
            text: text.strip_prefix('\u{feff}').unwrap_or(text),
            pos: 0,
            line: 1,
        }
    }

    /// Read the next record into `fields` (cleared first). Returns the 1-based line the
    /// record starts on, or `None` at the end of the text.
    pub(crate) fn next_record(
        &mut self,
        fields: &mut Vec<String>,
    ) -> Result<Option<u64>, CsvError> {
        let bytes = self.text.as_bytes();
        // Skip blank lines.
        loop {
            match bytes.get(self.pos) {
                None => return Ok(None),
                Some(b'\n') => self.newline(1),
                Some(b'\r') if bytes.get(self.pos + 1) == Some(&b'\n') => self.newline(2),
                Some(_) => break,
            }
        }
        let start = self.line;
        fields.clear();
        loop {
            let mut field = String::new();
            if bytes.get(self.pos) == Some(&b'"') {
                self.pos += 1;
                loop {
                    let rest = &self.text[self.pos..];
                    let Some(i) = rest.find('"') else {
                        return Err((start, "unterminated quoted field".into()));
                    };
                    let chunk = &rest[..i];
                    self.line += chunk.bytes().filter(|&b| b == b'\n').count() as u64;
                    field.push_str(chunk);
                    self.pos += i + 1;
                    if bytes.get(self.pos) == Some(&b'"') {
                        field.push('"');
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                match bytes.get(self.pos) {
                    None | Some(b',') | Some(b'\n') => {}
                    Some(b'\r') if bytes.get(self.pos + 1) == Some(&b'\n') => {}
                    Some(_) => {
                        return Err((self.line, "unexpected text after a closing quote".into()));
                    }
                }
            } else {
                let rest = &self.text[self.pos..];
                let end = rest.find([',', '\n']).unwrap_or(rest.len());
                let chunk = &rest[..end];
                let at_line_end = end == rest.len() || rest.as_bytes()[end] == b'\n';
                let chunk = if at_line_end {
                    chunk.strip_suffix('\r').unwrap_or(chunk)
                } else {
                    chunk
                };
                field.push_str(chunk);
                self.pos += end;
            }
            fields.push(field);
            match bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'\r') => {
                    self.newline(2);
                    return Ok(Some(start));
                }
                Some(b'\n') => {
                    self.newline(1);
                    return Ok(Some(start));
                }
                _ => return Ok(Some(start)),
            }
        }
    }

    fn newline(&mut self, bytes: usize) {
        self.pos += bytes;
        self.line += 1;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn all(text: &str) -> Result<Vec<(u64, Vec<String>)>, CsvError> {
        let mut r = CsvReader::new(text);
        let mut out = Vec::new();
        let mut fields = Vec::new();
        while let Some(line) = r.next_record(&mut fields)? {
            out.push((line, fields.clone()));
        }
        Ok(out)
    }

    fn rec(line: u64, f: &[&str]) -> (u64, Vec<String>) {
        (line, f.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn quotes_crlf_blank_lines_and_bom() {
        let text = "\u{feff}a,b,c\r\n\r\n1,\"x, \"\"y\"\"\",\n\"multi\nline\",2,\"\"\n3,4,5";
        assert_eq!(
            all(text).unwrap(),
            vec![
                rec(1, &["a", "b", "c"]),
                rec(3, &["1", "x, \"y\"", ""]),
                rec(4, &["multi\nline", "2", ""]),
                rec(6, &["3", "4", "5"]),
            ]
        );
        assert!(all("").unwrap().is_empty());
        assert_eq!(all("a\n\n").unwrap(), vec![rec(1, &["a"])]);
    }

    #[test]
    fn malformed_quotes_name_the_line() {
        assert_eq!(
            all("a,b\n1,\"open\n2,3\n").unwrap_err(),
            (2, "unterminated quoted field".to_string())
        );
        assert_eq!(all("a\n\"x\"y\n").unwrap_err().0, 2);
    }
}
