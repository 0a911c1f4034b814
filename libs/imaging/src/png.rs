//! PNG: the IHDR size for the probe; a walk of every chunk that checks every CRC (Pillow skips
//! IDAT CRCs), requires IEND and refuses any byte after it (polyglots hide there); then
//! decoding with the `png` crate, expanded to 8 bits and flattened onto white. It reads the
//! `eXIf` chunk only to orient the picture.

use std::io::Cursor;

use crate::bitmap::{flatten_alpha_in_place, Bitmap};
use crate::bytes::{be_u32, slice, u8_at};
use crate::{Decoded, Format, ImagingError, Limits};

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

fn truncated(detail: &'static str) -> ImagingError {
    ImagingError::truncated(Format::Png, detail)
}

/// One chunk: its type, its data, and where the next one starts.
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    next: usize,
}

/// The chunk at `pos`, with its CRC checked.
fn chunk_at(bytes: &[u8], pos: usize) -> Result<Chunk<'_>, ImagingError> {
    let length = be_u32(bytes, pos).ok_or_else(|| truncated("it ends before the IEND chunk"))?;
    if length > i32::MAX as u32 {
        return Err(ImagingError::corrupt(
            Format::Png,
            "a chunk length over 2^31",
        ));
    }
    let kind: [u8; 4] = slice(bytes, pos + 4, 4)
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| truncated("it ends inside a chunk header"))?;
    if !kind.iter().all(u8::is_ascii_alphabetic) {
        return Err(ImagingError::corrupt(Format::Png, "an invalid chunk type"));
    }
    let data = slice(bytes, pos + 8, length as usize)
        .ok_or_else(|| truncated("a chunk runs past the end of the file"))?;
    let end = pos + 8 + length as usize;
    let stored = be_u32(bytes, end).ok_or_else(|| truncated("it ends before a chunk's CRC"))?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&kind);
    crc.update(data);
    if crc.finalize() != stored {
        return Err(ImagingError::corrupt(
            Format::Png,
            format!("bad CRC in the {} chunk", String::from_utf8_lossy(&kind)),
        ));
    }
    Ok(Chunk {
        kind,
        data,
        next: end + 4,
    })
}

/// The image size from IHDR, which must be the first chunk and valid.
pub(crate) fn header(bytes: &[u8]) -> Result<(u32, u32), ImagingError> {
    if !bytes.starts_with(SIGNATURE) {
        return Err(ImagingError::NotAnImage);
    }
    let ihdr = chunk_at(bytes, SIGNATURE.len())?;
    if &ihdr.kind != b"IHDR" || ihdr.data.len() != 13 {
        return Err(ImagingError::corrupt(
            Format::Png,
            "the first chunk is not IHDR",
        ));
    }
    let width = be_u32(ihdr.data, 0).unwrap_or(0);
    let height = be_u32(ihdr.data, 4).unwrap_or(0);
    if width == 0 || height == 0 {
        return Err(ImagingError::ZeroSize {
            format: Format::Png,
        });
    }
    let depth = u8_at(ihdr.data, 8).unwrap_or(0);
    let colour = u8_at(ihdr.data, 9).unwrap_or(0);
    let valid = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !valid || width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(ImagingError::corrupt(Format::Png, "an invalid IHDR"));
    }
    Ok((width, height))
}

/// Walks every chunk; returns the first `eXIf` chunk's data.
fn check_structure(bytes: &[u8]) -> Result<Option<&[u8]>, ImagingError> {
    let mut pos = SIGNATURE.len();
    let mut exif = None;
    let mut has_data = false;
    loop {
        let chunk = chunk_at(bytes, pos)?;
        match &chunk.kind {
            b"IDAT" => has_data = true,
            b"eXIf" if exif.is_none() => exif = Some(chunk.data),
            b"IEND" => {
                if !has_data {
                    return Err(ImagingError::corrupt(Format::Png, "no image data"));
                }
                if chunk.next != bytes.len() {
                    return Err(ImagingError::TrailingData {
                        format: Format::Png,
                    });
                }
                return Ok(exif);
            }
            _ => {}
        }
        pos = chunk.next;
    }
}

pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, ImagingError> {
    let exif = check_structure(bytes)?;
    let orientation = match exif {
        Some(exif) => crate::exif::orientation(exif)?,
        None => Default::default(),
    };
    let map = |e: png::DecodingError| ImagingError::decoder(Format::Png, e);
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: limits.decoder_bytes(),
        },
    );
    // Palette and low bit depths expand to 8 bits, tRNS to alpha, 16 bits are cut to 8.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.set_ignore_text_chunk(true);
    let mut reader = decoder.read_info().map_err(map)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| ImagingError::corrupt(Format::Png, "the image is too large to decode"))?;
    let mut pixels = vec![0; size];
    let frame = reader.next_frame(&mut pixels).map_err(map)?;
    pixels.truncate(frame.buffer_size());
    let (width, height) = (frame.width, frame.height);
    if frame.bit_depth != png::BitDepth::Eight
        || frame.line_size != width as usize * frame.color_type.samples()
    {
        return Err(ImagingError::corrupt(
            Format::Png,
            "an unexpected pixel layout",
        ));
    }
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::Rgb => 3,
        png::ColorType::GrayscaleAlpha => {
            flatten_alpha_in_place(&mut pixels, 1);
            1
        }
        png::ColorType::Rgba => {
            flatten_alpha_in_place(&mut pixels, 3);
            3
        }
        png::ColorType::Indexed => {
            return Err(ImagingError::corrupt(Format::Png, "an unexpanded palette"));
        }
    };
    let icc = reader.info().icc_profile.as_ref().map(|p| p.to_vec());
    Ok(Decoded {
        image: Bitmap::new(width, height, channels, pixels),
        full_width: width,
        full_height: height,
        orientation,
        icc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut b = (data.len() as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        b.extend_from_slice(&crc.finalize().to_be_bytes());
        b
    }

    fn png(width: u32, height: u32, tail: &[u8]) -> Vec<u8> {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut b = SIGNATURE.to_vec();
        b.extend(chunk(b"IHDR", &ihdr));
        b.extend(chunk(b"eXIf", b"MM\0*"));
        b.extend(chunk(b"IDAT", &[1, 2, 3]));
        b.extend(chunk(b"IEND", &[]));
        b.extend_from_slice(tail);
        b
    }

    #[test]
    fn header_reads_ihdr() {
        assert_eq!(header(&png(25_000, 25_000, &[])).unwrap(), (25_000, 25_000));
        assert!(matches!(
            header(&png(0, 100, &[])),
            Err(ImagingError::ZeroSize { .. })
        ));
        let mut bad_crc = png(10, 10, &[]);
        bad_crc[29] ^= 0xFF;
        assert!(matches!(
            header(&bad_crc),
            Err(ImagingError::Corrupt { .. })
        ));
    }

    /// A 4x4 8-bit gray PNG whose IDAT holds `rows` rows in one stored (uncompressed) deflate
    /// block: every chunk and checksum valid, the pixel data complete only when `rows` is 4.
    fn gray_png(rows: usize) -> Vec<u8> {
        let raw: Vec<u8> = (0..rows)
            .flat_map(|r| [0, 10, 20, 30, r as u8 * 40])
            .collect();
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in &raw {
            a = (a + u32::from(byte)) % 65521;
            b = (b + a) % 65521;
        }
        let mut zlib = vec![0x78, 0x01, 0x01];
        zlib.extend_from_slice(&(raw.len() as u16).to_le_bytes());
        zlib.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
        zlib.extend_from_slice(&raw);
        zlib.extend_from_slice(&(b << 16 | a).to_be_bytes());
        let mut b = SIGNATURE.to_vec();
        b.extend(chunk(b"IHDR", &[0, 0, 0, 4, 0, 0, 0, 4, 8, 0, 0, 0, 0]));
        b.extend(chunk(b"IDAT", &zlib));
        b.extend(chunk(b"IEND", &[]));
        b
    }

    #[test]
    fn decode_refuses_incomplete_image_data() {
        let whole = decode(&gray_png(4), &Limits::default()).unwrap();
        assert_eq!(
            (whole.image.width, whole.image.height, whole.image.channels),
            (4, 4, 1)
        );
        assert_eq!(&whole.image.data[12..], &[10, 20, 30, 120]);
        assert!(decode(&gray_png(2), &Limits::default()).is_err());
    }

    #[test]
    fn structure_checks_crc_end_and_trailer() {
        let good = png(10, 10, &[]);
        assert_eq!(check_structure(&good).unwrap(), Some(&b"MM\0*"[..]));
        for len in SIGNATURE.len()..good.len() {
            assert!(check_structure(&good[..len]).is_err(), "cut at {len}");
        }
        let trailing = png(10, 10, b"<script>");
        assert!(matches!(
            check_structure(&trailing),
            Err(ImagingError::TrailingData { .. })
        ));
        let mut bad_idat = good.clone();
        let idat_data = bad_idat.len() - 12 - 4 - 3;
        bad_idat[idat_data] ^= 1;
        assert!(matches!(
            check_structure(&bad_idat),
            Err(ImagingError::Corrupt { .. })
        ));
    }
}
