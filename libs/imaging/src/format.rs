//! Which image type a file is, from its first bytes only (magic numbers and, for the ISO-BMFF
//! family, the `ftyp` brands). It never trusts a file name or a declared content type, and it
//! does not check anything past the signature: that is the probe's job.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    WebP,
    /// HEIF with HEVC-coded images (iPhone photos).
    Heic,
    /// HEIF whose brands name no codec family this crate recognises; libheif decides.
    Heif,
    /// AV1 in HEIF. Recognised so that it is refused as unsupported, not as garbage.
    Avif,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::WebP => "image/webp",
            Format::Heic => "image/heic",
            Format::Heif => "image/heif",
            Format::Avif => "image/avif",
        }
    }

    /// The format a declared content type names (`image/jpeg`, `image/jpg`, parameters ignored).
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
        Some(match essence.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Format::Jpeg,
            "image/png" => Format::Png,
            "image/gif" => Format::Gif,
            "image/webp" => Format::WebP,
            "image/heic" | "image/heic-sequence" => Format::Heic,
            "image/heif" | "image/heif-sequence" => Format::Heif,
            "image/avif" => Format::Avif,
            _ => return None,
        })
    }

    /// Whether a file sniffed as `self` may be stored under the declared `content_type`.
    /// HEIC and HEIF are one container family: phones label HEVC files either way.
    pub fn matches_content_type(self, content_type: &str) -> bool {
        match Format::from_content_type(content_type) {
            Some(declared) => {
                declared == self || (self.is_heif_family() && declared.is_heif_family())
            }
            None => false,
        }
    }

    /// Whether [`crate::process`] can decode this format.
    pub fn is_supported(self) -> bool {
        !matches!(self, Format::Avif)
    }

    pub(crate) fn is_heif_family(self) -> bool {
        matches!(self, Format::Heic | Format::Heif)
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Gif => "GIF",
            Format::WebP => "WebP",
            Format::Heic => "HEIC",
            Format::Heif => "HEIF",
            Format::Avif => "AVIF",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The format of `bytes` from its magic numbers, or `None` for anything else (text, SVG, empty).
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Format::WebP)
    } else {
        sniff_ftyp(bytes)
    }
}

const HEVC_BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
];
const AV1_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];
const GENERIC_HEIF_BRANDS: [&[u8; 4]; 3] = [b"mif1", b"msf1", b"miaf"];

/// ISO-BMFF: the first box must be `ftyp`; its major brand decides, else its compatible brands.
fn sniff_ftyp(bytes: &[u8]) -> Option<Format> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes(bytes[..4].try_into().ok()?) as usize;
    if size < 16 || size > bytes.len() || (size - 16) & 3 != 0 {
        return None;
    }
    let major: &[u8; 4] = bytes[8..12].try_into().ok()?;
    let compatible: Vec<&[u8; 4]> = bytes[16..size]
        .chunks_exact(4)
        .filter_map(|brand| brand.try_into().ok())
        .collect();
    let is = |family: &[&[u8; 4]], brand: &[u8; 4]| family.contains(&brand);
    if is(&AV1_BRANDS, major) {
        return Some(Format::Avif);
    }
    if is(&HEVC_BRANDS, major) {
        return Some(Format::Heic);
    }
    if !is(&GENERIC_HEIF_BRANDS, major) && !compatible.iter().any(|b| is(&GENERIC_HEIF_BRANDS, b)) {
        // Some other ISO-BMFF file: MP4, QuickTime, JPEG 2000.
        return None;
    }
    if compatible.iter().any(|b| is(&HEVC_BRANDS, b)) {
        Some(Format::Heic)
    } else if compatible.iter().any(|b| is(&AV1_BRANDS, b)) {
        Some(Format::Avif)
    } else {
        Some(Format::Heif)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&((16 + 4 * compatible.len()) as u32).to_be_bytes());
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(major);
        b.extend_from_slice(&[0, 0, 0, 0]);
        for c in compatible {
            b.extend_from_slice(*c);
        }
        b.extend_from_slice(b"\0\0\0\x08meta");
        b
    }

    #[test]
    fn sniffs_magic_numbers() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some(Format::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"), Some(Format::Png));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Some(Format::Gif));
        assert_eq!(sniff(b"GIF87a\x01\0\x01\0"), Some(Format::Gif));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(Format::WebP));
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\xff\xd8"), None);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'>"), None);
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"hello, this is text\n"), None);
    }

    #[test]
    fn sniffs_heif_family_by_brand() {
        assert_eq!(
            sniff(&ftyp(b"heic", &[b"mif1", b"heic"])),
            Some(Format::Heic)
        );
        assert_eq!(sniff(&ftyp(b"mif1", &[b"heic"])), Some(Format::Heic));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"mif1"])), Some(Format::Heif));
        assert_eq!(
            sniff(&ftyp(b"avif", &[b"avif", b"mif1", b"miaf"])),
            Some(Format::Avif)
        );
        assert_eq!(sniff(&ftyp(b"mif1", &[b"avif"])), Some(Format::Avif));
        assert_eq!(sniff(&ftyp(b"isom", &[b"isom", b"mp41"])), None);
        let mut short = ftyp(b"heic", &[]);
        short[3] = 0xFF; // ftyp claims more than the file has
        assert_eq!(sniff(&short), None);
    }

    #[test]
    fn content_types() {
        assert_eq!(
            Format::from_content_type("image/JPEG; q=1"),
            Some(Format::Jpeg)
        );
        assert_eq!(Format::from_content_type("image/svg+xml"), None);
        assert!(Format::Heic.matches_content_type("image/heif"));
        assert!(Format::Heif.matches_content_type("image/heic"));
        assert!(!Format::Png.matches_content_type("image/jpeg"));
        assert!(!Format::Avif.is_supported());
    }
}
