//! Just enough `multipart/form-data` (RFC 7578) to read a media upload (contract §10: the fields `file`,
//! `type` and `messaging_product`). Written here rather than pulled in as a dependency: the simulator only
//! needs named parts with their bytes, an optional filename and an optional content type, and the whole
//! body is already in memory.

/// One part of the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) body: &'a [u8],
}

impl Part<'_> {
    /// The body of a plain field, as text.
    pub(crate) fn text(&self) -> Option<&str> {
        std::str::from_utf8(self.body).ok()
    }
}

/// The boundary of a `multipart/form-data` content type (quoted or not); `None` for any other type.
pub(crate) fn boundary(content_type: &str) -> Option<&str> {
    let mut parameters = content_type.split(';');
    let essence = parameters.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parameters.find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        let value = value.trim();
        let value = value.strip_prefix('"').and_then(|value| value.strip_suffix('"')).unwrap_or(value);
        (name.trim().eq_ignore_ascii_case("boundary") && !value.is_empty()).then_some(value)
    })
}

/// The parts of `body`, split on `boundary`. An error says what is malformed.
pub(crate) fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, String> {
    let delimiter = format!("--{boundary}").into_bytes();
    // Each part starts after "--boundary\r\n" and ends at "\r\n--boundary"; the last delimiter ends in "--".
    let first = find(body, &delimiter, 0).ok_or("the body has no boundary line")?;
    let mut position = first + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body[position..].starts_with(b"--") {
            return Ok(parts);
        }
        let start = skip_line_break(body, position).ok_or("a boundary line does not end in CRLF")?;
        let closing = [b"\r\n".as_slice(), &delimiter].concat();
        let end = find(body, &closing, start).ok_or("the body does not end with the closing boundary")?;
        parts.push(part(&body[start..end])?);
        position = end + closing.len();
    }
}

fn part(raw: &[u8]) -> Result<Part<'_>, String> {
    let split = find(raw, b"\r\n\r\n", 0).ok_or("a part has no blank line after its headers")?;
    let headers = std::str::from_utf8(&raw[..split]).map_err(|_| "a part's headers are not UTF-8")?;
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in headers.split("\r\n") {
        let Some((header, value)) = line.split_once(':') else {
            continue;
        };
        let header = header.trim();
        if header.eq_ignore_ascii_case("content-disposition") {
            for parameter in value.split(';').skip(1) {
                let Some((key, value)) = parameter.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"').to_owned();
                match key.trim() {
                    "name" => name = Some(value),
                    "filename" => filename = Some(value),
                    _ => {}
                }
            }
        } else if header.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    let name = name.ok_or("a part has no name in its Content-Disposition")?;
    Ok(Part { name, filename, content_type, body: &raw[split + 4..] })
}

fn skip_line_break(body: &[u8], position: usize) -> Option<usize> {
    body[position..].starts_with(b"\r\n").then_some(position + 2)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|window| window == needle).map(|found| from + found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_boundary_of_form_data_only() {
        assert_eq!(boundary("multipart/form-data; boundary=abc123"), Some("abc123"));
        assert_eq!(boundary("Multipart/Form-Data;boundary=\"a b\""), Some("a b"));
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("application/json"), None);
    }

    #[test]
    fn splits_fields_and_files_keeping_binary_bytes() {
        let body = b"--XyZ\r\n\
            Content-Disposition: form-data; name=\"messaging_product\"\r\n\r\n\
            whatsapp\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
            Content-Type: image/png\r\n\r\n\
            \x89PNG\r\n--X\x00\r\n\
            --XyZ--\r\n";
        let parts = parse(body, "XyZ").expect("well-formed");
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].text()), ("messaging_product", Some("whatsapp")));
        assert_eq!(parts[1].filename.as_deref(), Some("a.png"));
        assert_eq!(parts[1].content_type.as_deref(), Some("image/png"));
        assert_eq!(parts[1].body, b"\x89PNG\r\n--X\x00", "a near-boundary inside the file is kept");
    }

    #[test]
    fn refuses_malformed_bodies() {
        assert!(parse(b"no boundary here", "XyZ").is_err());
        assert!(parse(b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated", "XyZ").is_err());
        assert!(parse(b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--", "XyZ").is_err());
    }
}
