//! Small but valid media files, generated so that no binary blobs live in the repository: a PNG
//! (a colour gradient, so it is visible when Baton shows it), a one-page PDF, an Ogg Opus stream header
//! (what a voice note starts with), an MP4 header and a 1×1 WebP sticker. Each has the right magic bytes
//! for its mime type; their sha256 is computed by [`crate::media`].

/// A `width` × `height` RGB gradient PNG with uncompressed ("stored") deflate blocks.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut pixels = Vec::new();
    for row in 0..height {
        pixels.push(0); // filter type: none
        for column in 0..width {
            let red = scale(column, width);
            let green = scale(row, height);
            pixels.extend_from_slice(&[red, green, 0xc0]);
        }
    }
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits per channel, RGB, deflate, no filter, no interlace

    let mut image = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut image, b"IHDR", &header);
    png_chunk(&mut image, b"IDAT", &zlib_stored(&pixels));
    png_chunk(&mut image, b"IEND", &[]);
    image
}

fn scale(position: u32, size: u32) -> u8 {
    u8::try_from(position * 255 / size.max(1)).unwrap_or(u8::MAX)
}

fn png_chunk(image: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    image.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    let start = image.len();
    image.extend_from_slice(kind);
    image.extend_from_slice(data);
    let crc = crc32(&image[start..]);
    image.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of stored deflate blocks (no compression: simple and still valid).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 65_535;
    let mut stream = vec![0x78, 0x01];
    let mut chunks = data.chunks(BLOCK).peekable();
    if chunks.peek().is_none() {
        stream.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        stream.push(u8::from(chunks.peek().is_none()));
        let length = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
        stream.extend_from_slice(&length.to_le_bytes());
        stream.extend_from_slice(&(!length).to_le_bytes());
        stream.extend_from_slice(chunk);
    }
    stream.extend_from_slice(&adler32(data).to_be_bytes());
    stream
}

/// CRC-32 as PNG (and zip) use it: reflected polynomial 0xEDB88320.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut low, mut high) = (1_u32, 0_u32);
    for byte in data {
        low = (low + u32::from(*byte)) % 65_521;
        high = (high + low) % 65_521;
    }
    (high << 16) | low
}

/// A one-page PDF showing `text` (ASCII; other characters become `?`), with a correct cross-reference table.
pub(crate) fn pdf(text: &str) -> Vec<u8> {
    let safe: String = text
        .chars()
        .map(|character| match character {
            '(' | ')' | '\\' => ' ',
            ' '..='~' => character,
            _ => '?',
        })
        .collect();
    let content = format!("BT /F1 18 Tf 40 100 Td ({safe}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut document = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(document.len());
        document.push_str(&format!("{} 0 obj\n{object}\nendobj\n", index + 1));
    }
    let cross_reference = document.len();
    document.push_str(&format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1));
    for offset in offsets {
        document.push_str(&format!("{offset:010} 00000 n \n"));
    }
    document.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{cross_reference}\n%%EOF\n",
        objects.len() + 1
    ));
    document.into_bytes()
}

/// The two header pages of an Ogg Opus stream (`OpusHead`, `OpusTags`), as a voice note begins. Players
/// accept it as an empty recording.
pub(crate) fn ogg_opus() -> Vec<u8> {
    const SERIAL: u32 = 0x4241_544f; // "BATO"
    let mut head = b"OpusHead".to_vec();
    head.extend_from_slice(&[1, 1]); // version 1, mono
    head.extend_from_slice(&312_u16.to_le_bytes()); // pre-skip
    head.extend_from_slice(&48_000_u32.to_le_bytes()); // input sample rate
    head.extend_from_slice(&0_u16.to_le_bytes()); // output gain
    head.push(0); // channel mapping family

    let vendor = b"baton-simulator";
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&u32::try_from(vendor.len()).unwrap_or(0).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0_u32.to_le_bytes()); // no user comments

    let mut stream = ogg_page(0x02, SERIAL, 0, &head); // beginning of stream
    stream.extend(ogg_page(0x04, SERIAL, 1, &tags)); // end of stream
    stream
}

fn ogg_page(flags: u8, serial: u32, sequence: u32, packet: &[u8]) -> Vec<u8> {
    let mut page = b"OggS".to_vec();
    page.push(0); // version
    page.push(flags);
    page.extend_from_slice(&0_u64.to_le_bytes()); // granule position
    page.extend_from_slice(&serial.to_le_bytes());
    page.extend_from_slice(&sequence.to_le_bytes());
    let checksum_at = page.len();
    page.extend_from_slice(&[0; 4]);
    // Lacing: 255-byte segments, then the remainder (packets here are short: one segment).
    let mut lacing = vec![255_u8; packet.len() / 255];
    lacing.push(u8::try_from(packet.len() % 255).unwrap_or(0));
    page.push(u8::try_from(lacing.len()).unwrap_or(u8::MAX));
    page.extend_from_slice(&lacing);
    page.extend_from_slice(packet);
    let checksum = ogg_crc(&page);
    page[checksum_at..checksum_at + 4].copy_from_slice(&checksum.to_le_bytes());
    page
}

/// Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final inversion.
fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0_u32;
    for byte in data {
        crc ^= u32::from(*byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04c1_1db7 } else { crc << 1 };
        }
    }
    crc
}

/// An MP4 `ftyp` box followed by an empty `mdat`: enough for anything that sniffs the type.
pub(crate) fn mp4() -> Vec<u8> {
    let mut video = Vec::new();
    video.extend_from_slice(&24_u32.to_be_bytes());
    video.extend_from_slice(b"ftypisom");
    video.extend_from_slice(&0x200_u32.to_be_bytes());
    video.extend_from_slice(b"isommp41");
    video.extend_from_slice(&8_u32.to_be_bytes());
    video.extend_from_slice(b"mdat");
    video
}

/// A 1×1 lossless WebP (the image commonly used to detect WebP support).
pub(crate) fn webp() -> Vec<u8> {
    let mut sticker = b"RIFF".to_vec();
    sticker.extend_from_slice(&26_u32.to_le_bytes());
    sticker.extend_from_slice(b"WEBPVP8L");
    sticker.extend_from_slice(&13_u32.to_le_bytes());
    sticker.extend_from_slice(&[0x2f, 0x00, 0x00, 0x00, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0x00]);
    sticker
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        // The CRC of "IEND" with no data, as every PNG ends with.
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
    }

    #[test]
    fn files_start_with_their_magic_bytes() {
        assert!(png(4, 3).starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(pdf("Invoice").starts_with(b"%PDF-1.4"));
        assert!(pdf("Invoice").ends_with(b"%%EOF\n"));
        assert!(ogg_opus().starts_with(b"OggS"));
        assert_eq!(&mp4()[4..8], b"ftyp");
        let sticker = webp();
        assert_eq!(&sticker[8..12], b"WEBP");
        // RIFF size = file length - 8.
        assert_eq!(sticker.len() - 8, 26);
    }
}
