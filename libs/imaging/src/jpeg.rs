//! JPEG: the frame header (SOF) for the probe, a walk of the whole marker structure that
//! requires the end-of-image marker (decoders paint truncated scans without complaint), and
//! decoding with DCT scaling: when the variants need far fewer pixels than the file has, the
//! decoder runs its inverse DCT at 1/2, 1/4 or 1/8 size, which saves most of the time and memory.
//!
//! Bytes after EOI are allowed: phones put multi-picture (MPF) and maker data there. This module
//! reads EXIF only as bytes to hand to `exif`; it never writes metadata.

use crate::bitmap::{cmyk_to_rgb_in_place, Bitmap};
use crate::bytes::{be_u16, slice, u8_at};
use crate::geometry::MinimumSize;
use crate::{Decoded, Format, ImagingError, Limits};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP1: u8 = 0xE1;

fn truncated(detail: &'static str) -> ImagingError {
    ImagingError::truncated(Format::Jpeg, detail)
}

fn corrupt(detail: &'static str) -> ImagingError {
    ImagingError::corrupt(Format::Jpeg, detail)
}

/// SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn is_start_of_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub width: u32,
    pub height: u32,
}

/// What a walk of the marker structure found.
struct Structure<'a> {
    frame: FrameHeader,
    /// The first `Exif\0\0` APP1 payload, after that prefix.
    exif: Option<&'a [u8]>,
}

/// The frame size, reading only the segments before the first SOF.
pub(crate) fn header(bytes: &[u8]) -> Result<FrameHeader, ImagingError> {
    walk(bytes, true).map(|structure| structure.frame)
}

/// Walks the segments from SOI; with `stop_at_frame` it returns at the first SOF, otherwise it
/// skips every entropy-coded scan and returns at EOI, failing if the file ends first.
fn walk(bytes: &[u8], stop_at_frame: bool) -> Result<Structure<'_>, ImagingError> {
    if bytes.get(..2) != Some(&[0xFF, SOI]) {
        return Err(ImagingError::NotAnImage);
    }
    let mut pos = 2;
    let mut frame = None;
    let mut exif = None;
    loop {
        match u8_at(bytes, pos) {
            None => return Err(truncated("it ends before the end-of-image marker")),
            Some(0xFF) => {}
            Some(_) => return Err(corrupt("bytes where a marker should be")),
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while u8_at(bytes, pos) == Some(0xFF) {
            pos += 1;
        }
        let marker = u8_at(bytes, pos).ok_or_else(|| truncated("it ends inside a marker"))?;
        pos += 1;
        match marker {
            EOI => {
                let frame = frame.ok_or_else(|| corrupt("no frame header"))?;
                return Ok(Structure { frame, exif });
            }
            // Standalone markers without a length (TEM, RSTn outside a scan).
            0x01 | 0xD0..=0xD7 => continue,
            0x00 | SOI => return Err(corrupt("an invalid marker")),
            _ => {}
        }
        let length =
            usize::from(be_u16(bytes, pos).ok_or_else(|| truncated("it ends inside a segment"))?);
        if length < 2 {
            return Err(corrupt("a segment with an impossible length"));
        }
        let payload = slice(bytes, pos + 2, length - 2)
            .ok_or_else(|| truncated("a segment runs past the end of the file"))?;
        pos += length;
        if is_start_of_frame(marker) {
            if frame.is_some() {
                return Err(corrupt("two frame headers"));
            }
            let header = parse_frame(marker, payload)?;
            if stop_at_frame {
                return Ok(Structure {
                    frame: header,
                    exif,
                });
            }
            frame = Some(header);
        } else if marker == APP1 && exif.is_none() {
            exif = payload.strip_prefix(b"Exif\0\0");
        } else if marker == SOS {
            if frame.is_none() {
                return Err(corrupt("a scan before the frame header"));
            }
            pos = skip_entropy_coded_data(bytes, pos)?;
        }
    }
}

fn parse_frame(marker: u8, payload: &[u8]) -> Result<FrameHeader, ImagingError> {
    let short = || corrupt("a short frame header");
    let precision = u8_at(payload, 0).ok_or_else(short)?;
    let height = u32::from(be_u16(payload, 1).ok_or_else(short)?);
    let width = u32::from(be_u16(payload, 3).ok_or_else(short)?);
    let components = u8_at(payload, 5).ok_or_else(short)?;
    if width == 0 || height == 0 {
        // Height 0 means "defined later by a DNL marker", which almost nothing supports.
        return Err(ImagingError::ZeroSize {
            format: Format::Jpeg,
        });
    }
    if !matches!(components, 1 | 3 | 4) || payload.len() < 6 + 3 * usize::from(components) {
        return Err(corrupt("an invalid number of colour components"));
    }
    if matches!(marker, 0xC9..=0xCB | 0xCD..=0xCF) {
        return Err(ImagingError::Unsupported("arithmetic-coded JPEG".into()));
    }
    match precision {
        8 => {}
        // Lossless (SOF3) may be 2..=16 bits; the decoder hands those over as 16-bit gray.
        2..=16 if marker == 0xC3 => {}
        12 | 16 => return Err(ImagingError::Unsupported(format!("{precision}-bit JPEG"))),
        _ => return Err(corrupt("an invalid sample precision")),
    }
    Ok(FrameHeader { width, height })
}

/// The position of the next marker after entropy-coded data starting at `pos`. Inside a scan
/// 0xFF is followed by 0x00 (a stuffed byte), a restart marker, or more 0xFF fill bytes.
fn skip_entropy_coded_data(bytes: &[u8], mut pos: usize) -> Result<usize, ImagingError> {
    loop {
        let found = bytes
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&b| b == 0xFF))
            .ok_or_else(|| truncated("the image data ends before the end-of-image marker"))?;
        pos += found;
        match u8_at(bytes, pos + 1) {
            None => {
                return Err(truncated(
                    "the image data ends before the end-of-image marker",
                ))
            }
            Some(0x00 | 0xD0..=0xD7) => pos += 2,
            Some(0xFF) => pos += 1,
            Some(_) => return Ok(pos),
        }
    }
}

/// Checks the structure, reads the EXIF orientation and decodes at the smallest DCT scale that
/// still meets `minimum`.
pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, ImagingError> {
    let structure = walk(bytes, false)?;
    let orientation = match structure.exif {
        Some(exif) => crate::exif::orientation(exif)?,
        None => Default::default(),
    };
    let FrameHeader { width, height } = structure.frame;
    let minimum = MinimumSize::for_variants(width, height);

    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(limits.decoder_bytes());
    decoder.read_info().map_err(map_error)?;
    let scaled = |side: u32, eighths: u32| (side * eighths - 1) / 8 + 1;
    let eighths = [1, 2, 4]
        .into_iter()
        .find(|&e| minimum.is_met_by(scaled(width, e), scaled(height, e)))
        .unwrap_or(8);
    if eighths < 8 {
        // The decoder picks the smallest scale at which *either* side reaches the request;
        // asking for the exact scaled size of both sides makes that the scale chosen above.
        let (out_w, out_h) = decoder
            .scale(
                scaled(width, eighths) as u16,
                scaled(height, eighths) as u16,
            )
            .map_err(map_error)?;
        if !minimum.is_met_by(u32::from(out_w), u32::from(out_h)) {
            decoder
                .scale(width as u16, height as u16)
                .map_err(map_error)?;
        }
    }
    let mut pixels = decoder.decode().map_err(map_error)?;
    let info = decoder.info().ok_or_else(|| corrupt("no frame header"))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::CMYK32 => {
            cmyk_to_rgb_in_place(&mut pixels);
            3
        }
        jpeg_decoder::PixelFormat::L16 => {
            // Lossless or 12-bit gray, native-endian 16-bit: keep the high byte.
            pixels = pixels
                .chunks_exact(2)
                .map(|b| (u16::from_ne_bytes([b[0], b[1]]) >> 8) as u8)
                .collect();
            1
        }
    };
    if pixels.len() != w as usize * h as usize * channels {
        return Err(corrupt("the decoder returned the wrong number of pixels"));
    }
    let icc = if info.pixel_format == jpeg_decoder::PixelFormat::CMYK32 {
        // A CMYK profile cannot describe our RGB output.
        None
    } else {
        decoder.icc_profile()
    };
    Ok(Decoded {
        image: Bitmap::new(w, h, channels as u8, pixels),
        full_width: width,
        full_height: height,
        orientation,
        icc,
    })
}

fn map_error(error: jpeg_decoder::Error) -> ImagingError {
    match error {
        jpeg_decoder::Error::Unsupported(feature) => {
            ImagingError::Unsupported(format!("JPEG feature {feature:?}"))
        }
        other => ImagingError::decoder(Format::Jpeg, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, an APP1 EXIF segment, SOF0 for `width` x `height`, SOS, `scan`, then `tail`.
    fn jpeg(width: u16, height: u16, scan: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut b = vec![0xFF, SOI];
        b.extend_from_slice(&[0xFF, APP1, 0, 10]);
        b.extend_from_slice(b"Exif\0\0II");
        b.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&[1, 1, 0x11, 0]);
        b.extend_from_slice(&[0xFF, SOS, 0, 8, 1, 1, 0, 0, 63, 0]);
        b.extend_from_slice(scan);
        b.extend_from_slice(tail);
        b
    }

    #[test]
    fn header_reads_the_frame_size() {
        let file = jpeg(640, 480, &[1, 2, 3], &[0xFF, EOI]);
        assert_eq!(
            header(&file).unwrap(),
            FrameHeader {
                width: 640,
                height: 480
            }
        );
        let zero = jpeg(0, 480, &[], &[0xFF, EOI]);
        assert!(matches!(header(&zero), Err(ImagingError::ZeroSize { .. })));
    }

    #[test]
    fn walk_requires_the_end_of_image_marker() {
        // Stuffed bytes and restart markers inside the scan are not the end.
        let scan = [1, 0xFF, 0x00, 2, 0xFF, 0xD0, 3, 0xFF, 0xFF, 0xD1, 4];
        let whole = jpeg(8, 8, &scan, &[0xFF, EOI]);
        let structure = walk(&whole, false).unwrap();
        assert_eq!(structure.exif, Some(&b"II"[..]));
        for len in 0..whole.len() {
            assert!(walk(&whole[..len], false).is_err(), "cut at {len}");
        }
        // Data after EOI (MPF, maker data) is allowed.
        let with_tail = jpeg(8, 8, &scan, &[0xFF, EOI, 0xFF, SOI, 1, 2, 3]);
        assert!(walk(&with_tail, false).is_ok());
    }

    #[test]
    fn walk_refuses_garbage() {
        let mut garbage = vec![0xFF, SOI, 0xFF, 0xE0, 0x00, 0x04, 1, 2, 0x42, 0x42];
        assert!(walk(&garbage, false).is_err());
        garbage.truncate(4);
        assert!(walk(&garbage, false).is_err());
        assert!(matches!(
            walk(b"\xff\xd8", false),
            Err(ImagingError::Truncated { .. })
        ));
        let arithmetic = {
            let mut b = jpeg(8, 8, &[], &[0xFF, EOI]);
            b[15] = 0xC9;
            b
        };
        assert!(matches!(
            header(&arithmetic),
            Err(ImagingError::Unsupported(_))
        ));
    }
}
