//! A strict, bounded reader of EXIF (TIFF) structure that extracts one thing, the Orientation,
//! and refuses EXIF whose structure is broken: an IFD offset that points back to an IFD already
//! read, or an IFD, offset or count that runs past the end of the block.
//!
//! It must never loop and never allocate in proportion to the input: it follows at most
//! [`MAX_IFDS`] IFDs, each once, and only the pointers that lead to IFDs (next-IFD, Exif, GPS,
//! Interoperability). It does not interpret maker notes, which are opaque vendor data. The
//! EXIF itself is never copied into the output images.

use crate::bytes::{be_u16, be_u32, le_u16, le_u32};
use crate::orientation::Orientation;
use crate::ImagingError;

/// IFD0, IFD1, Exif, GPS and Interoperability, with room for the odd extra chained IFD.
const MAX_IFDS: usize = 16;

const TAG_ORIENTATION: u16 = 0x0112;
const TAG_EXIF_IFD: u16 = 0x8769;
const TAG_GPS_IFD: u16 = 0x8825;
const TAG_INTEROP_IFD: u16 = 0xA005;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ifd {
    /// IFD0, IFD1, …: linked by their next-IFD pointers.
    Chain(usize),
    /// Exif, GPS, Interoperability: reached by a tag; their next-IFD pointer means nothing.
    Sub,
}

/// The Orientation in a block of EXIF (a TIFF header and IFDs, optionally behind `Exif\0\0`).
/// Values outside 1..=8, or no Orientation tag, mean upright.
pub(crate) fn orientation(exif: &[u8]) -> Result<Orientation, ImagingError> {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    let little_endian = match tiff.get(..4) {
        Some(b"II*\0") => true,
        Some(b"MM\0*") => false,
        _ => return Err(ImagingError::BadExif("no TIFF header")),
    };
    let u16_at = |at: usize| {
        if little_endian {
            le_u16(tiff, at)
        } else {
            be_u16(tiff, at)
        }
    };
    let u32_at = |at: usize| {
        if little_endian {
            le_u32(tiff, at)
        } else {
            be_u32(tiff, at)
        }
    };
    let past_end = || ImagingError::BadExif("an IFD runs past the end of the block");

    let first = u32_at(4).ok_or_else(past_end)? as usize;
    let mut pending: Vec<(usize, Ifd)> = vec![(first, Ifd::Chain(0))];
    let mut visited: Vec<usize> = Vec::new();
    let mut orientation = Orientation::Normal;

    while let Some((offset, ifd)) = pending.pop() {
        if visited.contains(&offset) {
            return Err(ImagingError::BadExif(
                "an IFD offset points back to an IFD already read",
            ));
        }
        if visited.len() == MAX_IFDS {
            return Err(ImagingError::BadExif("too many IFDs"));
        }
        // The header takes bytes 0..8; an IFD inside it would overlap the header.
        if offset < 8 {
            return Err(ImagingError::BadExif(
                "an IFD offset points into the header",
            ));
        }
        visited.push(offset);

        let count = usize::from(u16_at(offset).ok_or_else(past_end)?);
        let entries = offset + 2;
        let end = entries + 12 * count;
        if end > tiff.len() {
            return Err(past_end());
        }
        for index in 0..count {
            let entry = entries + 12 * index;
            let (Some(tag), Some(kind), Some(values)) =
                (u16_at(entry), u16_at(entry + 2), u32_at(entry + 4))
            else {
                return Err(past_end());
            };
            let Some(unit) = type_size(kind) else {
                // Readers must skip types they do not know; their size cannot be checked.
                continue;
            };
            let size = u64::from(values) * unit;
            if size > 4 {
                let at = u64::from(u32_at(entry + 8).ok_or_else(past_end)?);
                if at + size > tiff.len() as u64 {
                    return Err(ImagingError::BadExif(
                        "a value runs past the end of the block",
                    ));
                }
            }
            match (tag, ifd) {
                (TAG_ORIENTATION, Ifd::Chain(0)) if values >= 1 => {
                    let value = match kind {
                        3 => u16_at(entry + 8).map(u32::from),
                        4 => u32_at(entry + 8),
                        _ => None,
                    };
                    orientation = value.map(Orientation::from_exif).unwrap_or_default();
                }
                (TAG_EXIF_IFD | TAG_GPS_IFD, Ifd::Chain(0)) | (TAG_INTEROP_IFD, Ifd::Sub) => {
                    let target = u32_at(entry + 8).ok_or_else(past_end)? as usize;
                    if target != 0 {
                        pending.push((target, Ifd::Sub));
                    }
                }
                _ => {}
            }
        }
        if let Ifd::Chain(position) = ifd {
            let next = u32_at(end).ok_or_else(past_end)? as usize;
            if next != 0 {
                pending.push((next, Ifd::Chain(position + 1)));
            }
        }
    }
    Ok(orientation)
}

/// Bytes per value of a TIFF field type, or `None` for a type this reader does not know.
fn type_size(kind: u16) -> Option<u64> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),   // BYTE, ASCII, SBYTE, UNDEFINED
        3 | 8 => Some(2),           // SHORT, SSHORT
        4 | 9 | 11 | 13 => Some(4), // LONG, SLONG, FLOAT, IFD
        5 | 10 | 12 => Some(8),     // RATIONAL, SRATIONAL, DOUBLE
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF block: IFD0 at 8 with `entries`, then `next` as the next-IFD pointer.
    fn tiff(entries: &[(u16, u16, u32, u32)], next: u32) -> Vec<u8> {
        let mut b = b"II*\0\x08\0\0\0".to_vec();
        b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for &(tag, kind, count, value) in entries {
            b.extend_from_slice(&tag.to_le_bytes());
            b.extend_from_slice(&kind.to_le_bytes());
            b.extend_from_slice(&count.to_le_bytes());
            b.extend_from_slice(&value.to_le_bytes());
        }
        b.extend_from_slice(&next.to_le_bytes());
        b
    }

    #[test]
    fn reads_orientation_in_both_byte_orders() {
        for value in 1..=8u32 {
            let block = tiff(&[(TAG_ORIENTATION, 3, 1, value)], 0);
            assert_eq!(orientation(&block).unwrap(), Orientation::from_exif(value));
        }
        // Big-endian: MM, IFD0 at 8, one entry Orientation=6 (SHORT in the high half).
        let big = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
        assert_eq!(orientation(big).unwrap(), Orientation::Rotate90);
        let mut prefixed = b"Exif\0\0".to_vec();
        prefixed.extend_from_slice(big);
        assert_eq!(orientation(&prefixed).unwrap(), Orientation::Rotate90);
    }

    #[test]
    fn out_of_range_or_missing_orientation_is_upright() {
        for value in [0, 9, 0xFFFF] {
            let block = tiff(&[(TAG_ORIENTATION, 3, 1, value)], 0);
            assert_eq!(orientation(&block).unwrap(), Orientation::Normal);
        }
        assert_eq!(orientation(&tiff(&[], 0)).unwrap(), Orientation::Normal);
    }

    #[test]
    fn refuses_loops() {
        // IFD0 at 8 pointing to itself as Exif IFD, as GPS IFD and as next IFD.
        let looped = tiff(
            &[
                (TAG_ORIENTATION, 3, 1, 1),
                (TAG_EXIF_IFD, 4, 1, 8),
                (TAG_GPS_IFD, 4, 1, 8),
            ],
            8,
        );
        assert!(matches!(
            orientation(&looped),
            Err(ImagingError::BadExif(_))
        ));
        assert!(matches!(
            orientation(&tiff(&[], 8)),
            Err(ImagingError::BadExif(_))
        ));
        // Two IFDs pointing at each other through their next pointers.
        let mut pair = tiff(&[], 14);
        pair.extend_from_slice(&[0, 0, 8, 0, 0, 0]); // IFD at 14: no entries, next = 8
        assert!(matches!(orientation(&pair), Err(ImagingError::BadExif(_))));
    }

    #[test]
    fn refuses_offsets_and_counts_past_the_end() {
        let far_ifd = tiff(&[(TAG_EXIF_IFD, 4, 1, 0x0100_0000)], 0);
        assert!(orientation(&far_ifd).is_err());
        let far_next = tiff(&[], 0xFFFF_FFF0);
        assert!(orientation(&far_next).is_err());
        // An ASCII value of 4 billion bytes.
        let huge_count = tiff(&[(0x010F, 2, u32::MAX, 26)], 0);
        assert!(orientation(&huge_count).is_err());
        // An IFD claiming 1000 entries in a 30-byte block.
        let mut many = b"II*\0\x08\0\0\0".to_vec();
        many.extend_from_slice(&1000u16.to_le_bytes());
        many.extend_from_slice(&[0; 20]);
        assert!(orientation(&many).is_err());
        assert!(orientation(b"II*\0").is_err());
        assert!(orientation(b"not exif at all").is_err());
        // Every truncation of a valid block is refused or read, never a panic.
        let valid = tiff(&[(TAG_ORIENTATION, 3, 1, 6), (0x010F, 2, 6, 0)], 0);
        for len in 0..valid.len() {
            let _ = orientation(&valid[..len]);
        }
    }

    #[test]
    fn skips_unknown_types_and_accepts_values_inside_the_block() {
        let block = tiff(&[(0x9999, 99, u32::MAX, 0xFFFF_FFFF), (0x010F, 2, 4, 0)], 0);
        assert_eq!(orientation(&block).unwrap(), Orientation::Normal);
        // An 8-byte value stored at offset 8 (inside the block).
        let rational = tiff(&[(0x011A, 5, 1, 8)], 0);
        assert_eq!(orientation(&rational).unwrap(), Orientation::Normal);
    }
}
