//! WebP: the canvas size from the first chunk (VP8, VP8L or VP8X) for the probe; a walk of the
//! RIFF chunks that requires the file to be as long as its RIFF header says (a cut file still
//! claims its full length) and every chunk to fit; then decoding with `image-webp`, alpha
//! flattened onto white. It reads the `EXIF` chunk only to orient the picture.

use std::io::Cursor;

use crate::bitmap::{flatten_alpha_in_place, Bitmap};
use crate::bytes::{le_u16, le_u24, le_u32, slice, u8_at};
use crate::{Decoded, Format, ImagingError, Limits};

fn truncated(detail: &'static str) -> ImagingError {
    ImagingError::truncated(Format::WebP, detail)
}

fn corrupt(detail: &'static str) -> ImagingError {
    ImagingError::corrupt(Format::WebP, detail)
}

/// The canvas size from the first chunk after `WEBP`.
pub(crate) fn header(bytes: &[u8]) -> Result<(u32, u32), ImagingError> {
    if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WEBP") {
        return Err(ImagingError::NotAnImage);
    }
    let short = || truncated("it ends inside the header");
    let kind = slice(bytes, 12, 4).ok_or_else(short)?;
    let data = bytes.get(20..).ok_or_else(short)?;
    let (width, height) = match kind {
        b"VP8 " => {
            // Frame tag (3 bytes, bit 0 clear on a key frame), start code, then 14-bit sizes.
            let tag = u8_at(data, 0).ok_or_else(short)?;
            if tag & 1 != 0 || slice(data, 3, 3) != Some(&[0x9D, 0x01, 0x2A]) {
                return Err(corrupt("an invalid VP8 frame header"));
            }
            (
                u32::from(le_u16(data, 6).ok_or_else(short)? & 0x3FFF),
                u32::from(le_u16(data, 8).ok_or_else(short)? & 0x3FFF),
            )
        }
        b"VP8L" => {
            if u8_at(data, 0) != Some(0x2F) {
                return Err(corrupt("an invalid VP8L signature"));
            }
            let bits = le_u32(data, 1).ok_or_else(short)?;
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        b"VP8X" => (
            le_u24(data, 4).ok_or_else(short)? + 1,
            le_u24(data, 7).ok_or_else(short)? + 1,
        ),
        _ => return Err(corrupt("an unknown first chunk")),
    };
    if width == 0 || height == 0 {
        return Err(ImagingError::ZeroSize {
            format: Format::WebP,
        });
    }
    Ok((width, height))
}

/// Walks the RIFF chunks; returns the `EXIF` chunk's data.
fn check_structure(bytes: &[u8]) -> Result<Option<&[u8]>, ImagingError> {
    let riff_size =
        le_u32(bytes, 4).ok_or_else(|| truncated("it ends inside the header"))? as usize;
    let end = 8 + riff_size;
    if end > bytes.len() {
        return Err(truncated("the file is shorter than its RIFF header says"));
    }
    // The RIFF size should be even; tolerate the one pad byte a writer may add after an odd one.
    if bytes.len() > end + (riff_size & 1) {
        return Err(ImagingError::TrailingData {
            format: Format::WebP,
        });
    }
    let mut pos = 12;
    let mut exif = None;
    let mut has_image = false;
    while pos < end {
        let size = le_u32(bytes, pos + 4)
            .filter(|_| pos + 8 <= end)
            .ok_or_else(|| corrupt("a chunk header runs past the RIFF end"))?
            as usize;
        let data = slice(&bytes[..end], pos + 8, size)
            .ok_or_else(|| truncated("a chunk runs past the end of the file"))?;
        match &bytes[pos..pos + 4] {
            b"VP8 " | b"VP8L" | b"ANMF" => has_image = true,
            b"EXIF" if exif.is_none() => exif = Some(data),
            _ => {}
        }
        pos += 8 + size + (size & 1);
    }
    if !has_image {
        return Err(corrupt("no image data"));
    }
    Ok(exif)
}

pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, ImagingError> {
    let exif = check_structure(bytes)?;
    let orientation = match exif {
        Some(exif) => crate::exif::orientation(exif)?,
        None => Default::default(),
    };
    let map = |e: image_webp::DecodingError| ImagingError::decoder(Format::WebP, e);
    let mut decoder = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(map)?;
    decoder.set_memory_limit(limits.decoder_bytes());
    let (width, height) = decoder.dimensions();
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| corrupt("the image is too large to decode"))?;
    let mut pixels = vec![0; size];
    decoder.read_image(&mut pixels).map_err(map)?;
    if decoder.has_alpha() {
        flatten_alpha_in_place(&mut pixels, 3);
    }
    let icc = decoder.icc_profile().ok().flatten();
    Ok(Decoded {
        image: Bitmap::new(width, height, 3, pixels),
        full_width: width,
        full_height: height,
        orientation,
        icc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webp(chunks: &[(&[u8; 4], &[u8])], riff_extra: i64, tail: &[u8]) -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        for (kind, data) in chunks {
            body.extend_from_slice(*kind);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&((body.len() as i64 + riff_extra) as u32).to_le_bytes());
        b.extend(body);
        b.extend_from_slice(tail);
        b
    }

    #[test]
    fn header_reads_each_kind_of_first_chunk() {
        let vp8 = [0x10, 0, 0, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01];
        assert_eq!(
            header(&webp(&[(b"VP8 ", &vp8)], 0, &[])).unwrap(),
            (640, 480)
        );
        let bits: u32 = 299 | (199 << 14);
        let mut vp8l = vec![0x2F];
        vp8l.extend_from_slice(&bits.to_le_bytes());
        assert_eq!(
            header(&webp(&[(b"VP8L", &vp8l)], 0, &[])).unwrap(),
            (300, 200)
        );
        let vp8x = [0x08, 0, 0, 0, 0xDF, 0x01, 0, 0x7F, 0x02, 0];
        assert_eq!(
            header(&webp(&[(b"VP8X", &vp8x)], 0, &[])).unwrap(),
            (480, 640)
        );
        let zero = [0x10, 0, 0, 0x9D, 0x01, 0x2A, 0, 0, 0xE0, 0x01];
        assert!(matches!(
            header(&webp(&[(b"VP8 ", &zero)], 0, &[])),
            Err(ImagingError::ZeroSize { .. })
        ));
    }

    #[test]
    fn structure_checks_the_riff_length() {
        let chunks: [(&[u8; 4], &[u8]); 2] = [(b"VP8X", &[0; 10]), (b"VP8 ", &[1, 2, 3])];
        let good = webp(&chunks, 0, &[]);
        assert!(check_structure(&good).is_ok());
        // Cut files still claim their full length.
        for len in 12..good.len() {
            assert!(check_structure(&good[..len]).is_err(), "cut at {len}");
        }
        assert!(check_structure(&webp(&chunks, 0, b"junk")).is_err());
        assert!(check_structure(&webp(&chunks, 100, &[])).is_err());
        assert!(check_structure(&webp(&[(b"EXIF", b"II*\0")], 0, &[])).is_err());
        let with_exif = webp(&[(b"VP8 ", &[1]), (b"EXIF", b"II*\0")], 0, &[]);
        assert_eq!(check_structure(&with_exif).unwrap(), Some(&b"II*\0"[..]));
    }
}
