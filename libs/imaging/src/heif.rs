//! HEIC/HEIF: the primary item's size from its `ispe` property (reading only the `meta` box)
//! for the probe, and the refusal of AV1 items (AVIF behind a generic brand); a check that every
//! top-level box and every `iloc` extent lies inside the file (a cut `mdat` decodes to garbage
//! or crashes decoders otherwise); then decoding through libheif, which applies the file's own
//! rotation, mirroring and crop (`irot`, `imir`, `clap`).
//!
//! EXIF in a HEIF file is checked for hostile structure, but its Orientation is not applied:
//! HEIF carries orientation in `irot`/`imir`, which libheif has already applied, and applying
//! EXIF too would turn iPhone photos twice.

use std::sync::OnceLock;

use libheif_rs::{ColorSpace, DecodingOptions, HeifContext, ItemId, LibHeif, RgbChroma};

use crate::bitmap::{flatten_alpha_in_place, Bitmap};
use crate::bytes::{be_u16, be_u32, be_u64, be_uint, slice, u8_at};
use crate::{Decoded, Format, ImagingError, Limits};

fn corrupt(format: Format, detail: &'static str) -> ImagingError {
    ImagingError::corrupt(format, detail)
}

/// One ISO-BMFF box: its type, its payload, and where it ends in the enclosing data.
struct Mp4Box<'a> {
    kind: [u8; 4],
    body: &'a [u8],
    end: usize,
}

/// The box at `pos` in `data`, or `None` if its header or body runs past the end of `data`.
fn box_at(data: &[u8], pos: usize) -> Option<Mp4Box<'_>> {
    let size = be_u32(data, pos)? as usize;
    let kind: [u8; 4] = slice(data, pos + 4, 4)?.try_into().ok()?;
    let (header, size) = match size {
        0 => (8, data.len() - pos),
        1 => (16, usize::try_from(be_u64(data, pos + 8)?).ok()?),
        n => (8, n),
    };
    if size < header {
        return None;
    }
    let body = slice(data, pos + header, size - header)?;
    Some(Mp4Box {
        kind,
        body,
        end: pos + size,
    })
}

/// The child boxes of `data`; stops (with an error) at the first box that does not fit.
fn children(data: &[u8]) -> impl Iterator<Item = Option<Mp4Box<'_>>> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= data.len() {
            return None;
        }
        let found = box_at(data, pos);
        pos = found.as_ref().map_or(data.len(), |b| b.end);
        Some(found)
    })
}

fn find<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<Mp4Box<'a>> {
    children(data).map_while(|b| b).find(|b| &b.kind == kind)
}

/// A full box's version and its body after the version and flags.
fn full_box<'a>(b: &Mp4Box<'a>) -> Option<(u8, u32, &'a [u8])> {
    let word = be_u32(b.body, 0)?;
    Some(((word >> 24) as u8, word & 0x00FF_FFFF, b.body.get(4..)?))
}

/// The `meta` box's body after its version and flags.
fn meta(bytes: &[u8], format: Format) -> Result<&[u8], ImagingError> {
    let mut pos = 0;
    while pos < bytes.len() {
        let b = box_at(bytes, pos).ok_or_else(|| {
            ImagingError::truncated(format, "a box runs past the end of the file")
        })?;
        if &b.kind == b"meta" {
            return full_box(&b)
                .map(|(_, _, body)| body)
                .ok_or_else(|| corrupt(format, "a short meta box"));
        }
        pos = b.end;
    }
    Err(corrupt(format, "no meta box"))
}

fn primary_item(meta: &[u8]) -> Option<u32> {
    let (version, _, body) = full_box(&find(meta, b"pitm")?)?;
    if version == 0 {
        be_u16(body, 0).map(u32::from)
    } else {
        be_u32(body, 0)
    }
}

/// The four-character type of item `item` from `iinf`.
fn item_type(meta: &[u8], item: u32) -> Option<[u8; 4]> {
    let (version, _, body) = full_box(&find(meta, b"iinf")?)?;
    let entries = body.get(if version == 0 { 2 } else { 4 }..)?;
    for infe in children(entries).map_while(|b| b) {
        let (version, _, body) = full_box(&infe)?;
        let (id, kind_at) = match version {
            2 => (u32::from(be_u16(body, 0)?), 4),
            3 => (be_u32(body, 0)?, 6),
            _ => continue,
        };
        if id == item {
            return slice(body, kind_at, 4)?.try_into().ok();
        }
    }
    None
}

/// Every `ispe` in `ipco`, in property order (1-based indices map to `index - 1`).
fn properties<'a>(iprp: &'a [u8]) -> Vec<Option<Mp4Box<'a>>> {
    find(iprp, b"ipco")
        .map(|ipco| children(ipco.body).collect())
        .unwrap_or_default()
}

fn ispe_size(property: &Mp4Box<'_>) -> Option<(u32, u32)> {
    if &property.kind != b"ispe" {
        return None;
    }
    let (_, _, body) = full_box(property)?;
    Some((be_u32(body, 0)?, be_u32(body, 4)?))
}

/// The property indices associated with `item` in `ipma`.
fn associations(iprp: &[u8], item: u32) -> Option<Vec<usize>> {
    let (version, flags, body) = full_box(&find(iprp, b"ipma")?)?;
    let count = be_u32(body, 0)?;
    let mut pos = 4;
    for _ in 0..count {
        let id = if version < 1 {
            let id = u32::from(be_u16(body, pos)?);
            pos += 2;
            id
        } else {
            let id = be_u32(body, pos)?;
            pos += 4;
            id
        };
        let n = usize::from(u8_at(body, pos)?);
        pos += 1;
        let mut indices = Vec::with_capacity(n);
        for _ in 0..n {
            if flags & 1 != 0 {
                indices.push(usize::from(be_u16(body, pos)? & 0x7FFF));
                pos += 2;
            } else {
                indices.push(usize::from(u8_at(body, pos)? & 0x7F));
                pos += 1;
            }
        }
        if id == item {
            return Some(indices);
        }
    }
    None
}

/// The primary image's size from its `ispe`, reading nothing past the `meta` box.
pub(crate) fn header(bytes: &[u8], format: Format) -> Result<(u32, u32), ImagingError> {
    let meta = meta(bytes, format)?;
    let primary = primary_item(meta).ok_or_else(|| corrupt(format, "no primary item"))?;
    if let Some(kind) = item_type(meta, primary) {
        if &kind == b"av01" {
            return Err(ImagingError::Unsupported("AVIF (AV1 in HEIF)".into()));
        }
    }
    let iprp = find(meta, b"iprp").ok_or_else(|| corrupt(format, "no item properties"))?;
    let properties = properties(iprp.body);
    let primary_size = associations(iprp.body, primary).and_then(|indices| {
        indices
            .iter()
            .filter_map(|&i| properties.get(i.checked_sub(1)?)?.as_ref())
            .find_map(ispe_size)
    });
    // A file whose primary item has no ispe breaks the spec; the largest ispe in it is the
    // safe bound for the limits then.
    let size = primary_size.or_else(|| {
        properties
            .iter()
            .filter_map(|p| p.as_ref().and_then(ispe_size))
            .max_by_key(|&(w, h)| u64::from(w) * u64::from(h))
    });
    match size {
        Some((0, _) | (_, 0)) => Err(ImagingError::ZeroSize { format }),
        Some(size) => Ok(size),
        None => Err(corrupt(format, "no image size (ispe)")),
    }
}

/// Every top-level box and every file-based `iloc` extent must lie inside the file.
fn check_structure(bytes: &[u8], format: Format) -> Result<(), ImagingError> {
    let cut = || ImagingError::truncated(format, "image data runs past the end of the file");
    let mut pos = 0;
    while pos < bytes.len() {
        pos = box_at(bytes, pos).ok_or_else(cut)?.end;
    }
    let meta = meta(bytes, format)?;
    let Some(iloc) = find(meta, b"iloc") else {
        return Err(corrupt(format, "no item locations (iloc)"));
    };
    let bad = || corrupt(format, "a malformed item location box");
    let (version, _, body) = full_box(&iloc).ok_or_else(bad)?;
    let sizes = be_u16(body, 0).ok_or_else(bad)?;
    let offset_size = usize::from(sizes >> 12);
    let length_size = usize::from((sizes >> 8) & 0xF);
    let base_offset_size = usize::from((sizes >> 4) & 0xF);
    let index_size = if version == 1 || version == 2 {
        usize::from(sizes & 0xF)
    } else {
        0
    };
    let mut at = 2;
    let item_count = if version < 2 {
        at += 2;
        be_u16(body, 2).map(u32::from)
    } else {
        at += 4;
        be_u32(body, 2)
    }
    .ok_or_else(bad)?;
    for _ in 0..item_count {
        at += if version < 2 { 2 } else { 4 }; // item ID
        let mut method = 0;
        if version == 1 || version == 2 {
            method = be_u16(body, at).ok_or_else(bad)? & 0xF;
            at += 2;
        }
        at += 2; // data reference index
        let base = be_uint(body, at, base_offset_size).ok_or_else(bad)?;
        at += base_offset_size;
        let extents = be_u16(body, at).ok_or_else(bad)?;
        at += 2;
        for _ in 0..extents {
            at += index_size;
            let offset = be_uint(body, at, offset_size).ok_or_else(bad)?;
            at += offset_size;
            let length = be_uint(body, at, length_size).ok_or_else(bad)?;
            at += length_size;
            let end = base
                .checked_add(offset)
                .and_then(|start| start.checked_add(length))
                .ok_or_else(bad)?;
            // Method 0 addresses the file; 1 (`idat`) and 2 (other items) are checked by libheif.
            if method == 0 && end > bytes.len() as u64 {
                return Err(cut());
            }
        }
    }
    Ok(())
}

fn library() -> &'static LibHeif {
    static LIBRARY: OnceLock<LibHeif> = OnceLock::new();
    LIBRARY.get_or_init(LibHeif::new)
}

pub(crate) fn decode(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<Decoded, ImagingError> {
    check_structure(bytes, format)?;
    // libheif's own message is the readable part; its codes are for programs.
    let map = |e: libheif_rs::HeifError| match e.message.is_empty() {
        true => ImagingError::decoder(format, format!("{:?}", e.code)),
        false => ImagingError::decoder(format, e.message),
    };
    let context = HeifContext::read_from_bytes(bytes).map_err(map)?;
    let handle = context.primary_image_handle().map_err(map)?;
    let (width, height) = (handle.width(), handle.height());
    if width == 0 || height == 0 {
        return Err(ImagingError::ZeroSize { format });
    }
    // The displayed size can differ from the `ispe` the probe checked (crop, rotation), so the
    // limits are checked again before libheif allocates the picture.
    limits.check(width, height)?;

    let mut exif_ids: [ItemId; 1] = [0];
    if handle.metadata_block_ids(&mut exif_ids, b"Exif") == 1 {
        let block = handle.metadata(exif_ids[0]).map_err(map)?;
        // The block starts with a 32-bit offset from its end to the TIFF header.
        let skip = be_u32(&block, 0).ok_or(ImagingError::BadExif("a short EXIF block"))? as usize;
        let tiff = block
            .get(4usize.saturating_add(skip)..)
            .ok_or(ImagingError::BadExif(
                "the TIFF header offset runs past the end",
            ))?;
        crate::exif::orientation(tiff)?;
    }

    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let mut options = DecodingOptions::new();
    if let Some(options) = options.as_mut() {
        options.set_convert_hdr_to_8bit(true);
    }
    let image = library()
        .decode(&handle, ColorSpace::Rgb(chroma), options)
        .map_err(map)?;
    let planes = image.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| corrupt(format, "libheif returned no interleaved plane"))?;
    let channels = if alpha { 4 } else { 3 };
    let row = plane.width as usize * channels;
    if plane.storage_bits_per_pixel as usize != 8 * channels || plane.stride < row {
        return Err(corrupt(
            format,
            "libheif returned an unexpected pixel layout",
        ));
    }
    let mut pixels = Vec::with_capacity(row * plane.height as usize);
    for y in 0..plane.height as usize {
        let line = plane
            .data
            .get(y * plane.stride..y * plane.stride + row)
            .ok_or_else(|| corrupt(format, "libheif returned a short plane"))?;
        pixels.extend_from_slice(line);
    }
    if alpha {
        flatten_alpha_in_place(&mut pixels, 3);
    }
    let icc = handle.color_profile_raw().map(|profile| profile.data);
    Ok(Decoded {
        image: Bitmap::new(plane.width, plane.height, 3, pixels),
        full_width: plane.width,
        full_height: plane.height,
        orientation: Default::default(),
        icc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
        let mut b = (u32::from(version) << 24 | flags).to_be_bytes().to_vec();
        b.extend_from_slice(body);
        mp4box(kind, &b)
    }

    /// ftyp, then meta (pitm=1, iinf, iprp with two ispe, ipma: item 1 -> property 2, iloc
    /// with one extent of `extent` bytes at `mdat`'s body), then mdat of `mdat_len` bytes.
    fn heif(item_kind: &[u8; 4], extent: u32, mdat_len: usize) -> Vec<u8> {
        let ftyp = mp4box(b"ftyp", b"heic\0\0\0\0mif1heic");
        let pitm = full(b"pitm", 0, 0, &1u16.to_be_bytes());
        let mut infe_body = 1u16.to_be_bytes().to_vec();
        infe_body.extend_from_slice(&[0, 0]);
        infe_body.extend_from_slice(item_kind);
        infe_body.push(0);
        let mut iinf_body = 1u16.to_be_bytes().to_vec();
        iinf_body.extend(full(b"infe", 2, 0, &infe_body));
        let iinf = full(b"iinf", 0, 0, &iinf_body);
        let mut sizes = Vec::new();
        for (w, h) in [(512u32, 512u32), (25_000, 25_000)] {
            let mut body = w.to_be_bytes().to_vec();
            body.extend_from_slice(&h.to_be_bytes());
            sizes.extend(full(b"ispe", 0, 0, &body));
        }
        let ipco = mp4box(b"ipco", &sizes);
        let ipma = full(b"ipma", 0, 0, &[0, 0, 0, 1, 0, 1, 1, 0x82]);
        let mut iprp_body = ipco;
        iprp_body.extend(ipma);
        let iprp = mp4box(b"iprp", &iprp_body);
        // iloc v0, offset/length 4 bytes, no base offset; offset filled in below.
        let iloc_body_len = 2 + 2 + 2 + 2 + 2 + 8;
        let mut meta_body = Vec::new();
        meta_body.extend(pitm);
        meta_body.extend(iinf);
        meta_body.extend(iprp);
        let meta_len = 8 + 4 + meta_body.len() + 12 + iloc_body_len;
        let mdat_body_at = ftyp.len() + meta_len + 8;
        let mut iloc_body = vec![0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
        iloc_body.extend_from_slice(&(mdat_body_at as u32).to_be_bytes());
        iloc_body.extend_from_slice(&extent.to_be_bytes());
        meta_body.extend(full(b"iloc", 0, 0, &iloc_body));
        let mut file = ftyp;
        file.extend(full(b"meta", 0, 0, &meta_body));
        assert_eq!(file.len() + 8, mdat_body_at);
        file.extend(mp4box(b"mdat", &vec![0; mdat_len]));
        file
    }

    #[test]
    fn header_reads_the_primary_items_ispe() {
        let file = heif(b"hvc1", 10, 10);
        assert_eq!(header(&file, Format::Heic).unwrap(), (25_000, 25_000));
        assert!(matches!(
            header(&heif(b"av01", 10, 10), Format::Heif),
            Err(ImagingError::Unsupported(_))
        ));
    }

    #[test]
    fn structure_requires_boxes_and_extents_inside_the_file() {
        assert!(check_structure(&heif(b"hvc1", 10, 10), Format::Heic).is_ok());
        // mdat cut in half: the top-level box runs past the end.
        let whole = heif(b"hvc1", 10, 10);
        assert!(check_structure(&whole[..whole.len() - 5], Format::Heic).is_err());
        // An extent longer than the file.
        assert!(check_structure(&heif(b"hvc1", 1000, 10), Format::Heic).is_err());
    }
}
