//! GIF: the logical screen and the first frame's size for the probe (both must pass the
//! limits: a 1x1 frame on a 65535x65535 screen is still a bomb to anything that allocates the
//! canvas); a walk of every block that requires the trailer and refuses any byte after it (that
//! is how GIF/JavaScript polyglots are caught); then the first frame, composed onto a white
//! screen-sized canvas. Later frames of an animation are ignored.

use std::io::Cursor;
use std::num::NonZeroU64;

use crate::bitmap::Bitmap;
use crate::bytes::{le_u16, u8_at};
use crate::{Decoded, Format, ImagingError, Limits};

const EXTENSION: u8 = 0x21;
const IMAGE: u8 = 0x2C;
const TRAILER: u8 = 0x3B;

fn truncated(detail: &'static str) -> ImagingError {
    ImagingError::truncated(Format::Gif, detail)
}

fn corrupt(detail: &'static str) -> ImagingError {
    ImagingError::corrupt(Format::Gif, detail)
}

/// The size of a colour table announced by a packed flags byte (0 when there is none).
fn colour_table_size(flags: u8) -> usize {
    if flags & 0x80 != 0 {
        3 << ((flags & 0x07) + 1)
    } else {
        0
    }
}

/// Skips a chain of data sub-blocks starting at `pos`; returns the position after its
/// zero-length terminator.
fn skip_sub_blocks(bytes: &[u8], mut pos: usize) -> Result<usize, ImagingError> {
    loop {
        let size =
            usize::from(u8_at(bytes, pos).ok_or_else(|| truncated("it ends inside a block"))?);
        pos += 1 + size;
        if size == 0 {
            return Ok(pos);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub screen: (u32, u32),
    pub first_frame: (u32, u32),
}

/// Walks the blocks. With `whole` false it returns at the first image descriptor; with `whole`
/// true it walks to the trailer and requires the trailer to be the last byte.
fn walk(bytes: &[u8], whole: bool) -> Result<Header, ImagingError> {
    if !(bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a")) {
        return Err(ImagingError::NotAnImage);
    }
    let short = || truncated("it ends inside the header");
    let screen = (
        u32::from(le_u16(bytes, 6).ok_or_else(short)?),
        u32::from(le_u16(bytes, 8).ok_or_else(short)?),
    );
    let flags = u8_at(bytes, 10).ok_or_else(short)?;
    let mut pos = 13 + colour_table_size(flags);
    let mut first_frame = None;
    loop {
        match u8_at(bytes, pos) {
            None => return Err(truncated("it ends before the trailer")),
            Some(EXTENSION) => {
                // Introducer, label, then sub-blocks.
                pos = skip_sub_blocks(bytes, pos + 2)?;
            }
            Some(IMAGE) => {
                let short = || truncated("it ends inside an image descriptor");
                let frame = (
                    u32::from(le_u16(bytes, pos + 5).ok_or_else(short)?),
                    u32::from(le_u16(bytes, pos + 7).ok_or_else(short)?),
                );
                let flags = u8_at(bytes, pos + 9).ok_or_else(short)?;
                if first_frame.is_none() {
                    first_frame = Some(frame);
                    if !whole {
                        return Ok(Header {
                            screen,
                            first_frame: frame,
                        });
                    }
                }
                // Descriptor, local colour table, LZW minimum code size, then sub-blocks.
                pos = skip_sub_blocks(bytes, pos + 10 + colour_table_size(flags) + 1)?;
            }
            Some(TRAILER) => {
                let first_frame = first_frame.ok_or_else(|| corrupt("no image in the file"))?;
                if pos + 1 != bytes.len() {
                    return Err(ImagingError::TrailingData {
                        format: Format::Gif,
                    });
                }
                return Ok(Header {
                    screen,
                    first_frame,
                });
            }
            Some(_) => return Err(corrupt("an unknown block")),
        }
    }
}

pub(crate) fn header(bytes: &[u8]) -> Result<Header, ImagingError> {
    let header = walk(bytes, false)?;
    let (screen, frame) = (header.screen, header.first_frame);
    if screen.0 == 0 || screen.1 == 0 || frame.0 == 0 || frame.1 == 0 {
        return Err(ImagingError::ZeroSize {
            format: Format::Gif,
        });
    }
    Ok(header)
}

pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, ImagingError> {
    walk(bytes, true)?;
    let map = |e: gif::DecodingError| ImagingError::decoder(Format::Gif, e);
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    if let Some(limit) = NonZeroU64::new(limits.decoder_bytes() as u64) {
        options.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    let mut decoder = options.read_info(Cursor::new(bytes)).map_err(map)?;
    let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
    let frame = decoder
        .read_next_frame()
        .map_err(map)?
        .ok_or_else(|| corrupt("no image in the file"))?;

    // The first frame over a white canvas: transparent pixels and any part of the screen the
    // frame does not cover show white, as on a page.
    let mut canvas = vec![255u8; width as usize * height as usize * 3];
    let (left, top) = (u32::from(frame.left), u32::from(frame.top));
    let (frame_w, frame_h) = (u32::from(frame.width), u32::from(frame.height));
    if frame.buffer.len() != frame_w as usize * frame_h as usize * 4 {
        return Err(corrupt("the decoder returned the wrong number of pixels"));
    }
    for y in 0..frame_h {
        let cy = top + y;
        if cy >= height {
            break;
        }
        for x in 0..frame_w {
            let cx = left + x;
            if cx >= width {
                break;
            }
            let src = (y as usize * frame_w as usize + x as usize) * 4;
            let rgba = &frame.buffer[src..src + 4];
            let dst = (cy as usize * width as usize + cx as usize) * 3;
            if rgba[3] != 0 {
                canvas[dst..dst + 3].copy_from_slice(&rgba[..3]);
            }
        }
    }
    Ok(Decoded {
        image: Bitmap::new(width, height, 3, canvas),
        full_width: width,
        full_height: height,
        orientation: Default::default(),
        icc: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GIF89a with a 2-entry global table, a comment extension and one 1x1 image.
    fn gif(screen: (u16, u16), tail: &[u8]) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&screen.0.to_le_bytes());
        b.extend_from_slice(&screen.1.to_le_bytes());
        b.extend_from_slice(&[0x80, 0, 0]);
        b.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        b.extend_from_slice(&[EXTENSION, 0xFE, 3, b'h', b'i', b'!', 0]);
        b.extend_from_slice(&[IMAGE, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        b.extend_from_slice(&[2, 2, 0x44, 0x01, 0]);
        b.push(TRAILER);
        b.extend_from_slice(tail);
        b
    }

    #[test]
    fn header_reads_screen_and_first_frame() {
        let header = header(&gif((65535, 65535), &[])).unwrap();
        assert_eq!(header.screen, (65535, 65535));
        assert_eq!(header.first_frame, (1, 1));
        assert!(matches!(
            super::header(&gif((0, 10), &[])),
            Err(ImagingError::ZeroSize { .. })
        ));
    }

    #[test]
    fn walk_requires_the_trailer_last() {
        let good = gif((1, 1), &[]);
        assert!(walk(&good, true).is_ok());
        for len in 0..good.len() {
            assert!(walk(&good[..len], true).is_err(), "cut at {len}");
        }
        assert!(matches!(
            walk(&gif((1, 1), b"*/=alert(1);\n"), true),
            Err(ImagingError::TrailingData { .. })
        ));
        let mut unknown = good.clone();
        let trailer = unknown.len() - 1;
        unknown[trailer] = 0x42;
        assert!(walk(&unknown, true).is_err());
    }

    #[test]
    fn decodes_the_first_frame_onto_white() {
        let decoded = decode(&gif((2, 1), &[]), &Limits::default()).unwrap();
        assert_eq!((decoded.image.width, decoded.image.height), (2, 1));
        // Pixel 0 is palette entry 0 (black); pixel 1 is outside the 1x1 frame (white).
        assert_eq!(decoded.image.data, vec![0, 0, 0, 255, 255, 255]);
    }
}
