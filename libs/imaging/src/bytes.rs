//! Bounds-checked reads from untrusted bytes. Every container parser in this crate reads through
//! these helpers, so a length field that points past the end becomes `None`, never a panic or an
//! out-of-bounds slice. Nothing here allocates.

/// `len` bytes at `at`, if they are all there.
pub(crate) fn slice(data: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    data.get(at..at.checked_add(len)?)
}

pub(crate) fn u8_at(data: &[u8], at: usize) -> Option<u8> {
    data.get(at).copied()
}

pub(crate) fn be_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(slice(data, at, 2)?.try_into().ok()?))
}

pub(crate) fn le_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(slice(data, at, 2)?.try_into().ok()?))
}

pub(crate) fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(slice(data, at, 4)?.try_into().ok()?))
}

pub(crate) fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(slice(data, at, 4)?.try_into().ok()?))
}

pub(crate) fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(slice(data, at, 8)?.try_into().ok()?))
}

/// A 24-bit little-endian number (WebP VP8X canvas sizes, RIFF-style).
pub(crate) fn le_u24(data: &[u8], at: usize) -> Option<u32> {
    let b = slice(data, at, 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

/// A big-endian unsigned number of `size` bytes (0, 4 or 8: the ISO-BMFF `iloc` field widths).
pub(crate) fn be_uint(data: &[u8], at: usize, size: usize) -> Option<u64> {
    match size {
        0 => Some(0),
        4 => be_u32(data, at).map(u64::from),
        8 => be_u64(data, at),
        _ => None,
    }
}
