//! The image pipeline of photoshare's image worker, as a pure library: bytes in, finished
//! variants out. It sniffs the real type from magic bytes ([`sniff`]), reads the picture size
//! from the header alone and enforces [`Limits`] before any large allocation ([`probe`]), then
//! ([`process`]) checks that the file is whole and not hostile, decodes it, turns it upright
//! by its EXIF orientation, and re-encodes pixels only (no EXIF, GPS, XMP, ICC or comments) as
//! three progressive JPEG variants: `thumb` (150x150, centre-cropped), `medium` (fits in 640),
//! `large` (fits in 1080), never upscaled, plus a BlurHash. It must not know Kafka, S3, HTTP or
//! the database: the worker service does that.
//!
//! Refusals are [`ImagingError`]s whose text is a short reason for a person (a photo's
//! `failure_reason`) and whose [`ErrorKind`] says how an API answers. Refused: more bytes or
//! pixels than the limits (the pixel count comes from the header, so a decompression bomb
//! costs nothing); AVIF and other types; truncated files (JPEG without EOI, PNG without IEND,
//! WebP shorter than its RIFF size, HEIF whose boxes or item extents run past the end: decoders
//! happily paint such files); PNG chunks with a bad CRC; bytes after a GIF trailer or PNG IEND
//! (polyglots; not for JPEG, where phones store data after EOI); EXIF whose IFDs loop or point
//! past the end; zero sizes; garbage after magic bytes.
//!
//! Every decoder runs behind the same [`Limits`]: the probe's checks first, then each codec's
//! own allocation limit. Decoders run in this process, inside `catch_unwind` so that a decoder
//! panic is a refusal rather than a crash. A separate decoder process would add what this
//! cannot: a hard memory cap (`setrlimit`/cgroup) and a CPU-time limit the kernel enforces, a
//! seccomp sandbox around the C code in libheif/libde265, and containment of memory-safety bugs
//! there (a segfault kills the helper, not the worker). It is not needed for the Rust codecs.
//!
//! Speed: JPEGs decode with DCT scaling (1/2, 1/4 or 1/8 size when the large variant needs no
//! more), resizing is SIMD (`fast_image_resize`), and each smaller variant is made from the one
//! before. A 12 MP JPEG peaks well under 128 MB.

mod bitmap;
mod bytes;
mod color;
mod encode;
mod error;
mod exif;
mod format;
mod geometry;
mod gif;
mod heif;
mod jpeg;
mod orientation;
mod pipeline;
mod png;
mod resize;
mod webp;

use std::panic::{catch_unwind, AssertUnwindSafe};

pub use error::{ErrorKind, ImagingError};
pub use format::{sniff, Format};

use bitmap::Bitmap;
use orientation::Orientation;

/// What an upload may cost. The defaults are the product's: 20 MiB, 50 megapixels, and 16384
/// pixels a side (the largest WebP, and more than any camera or phone panorama under 50 MP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_pixels: u64,
    pub max_side: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_side: 16_384,
        }
    }
}

impl Limits {
    /// Refuses a `width` x `height` picture over the pixel or side limit.
    pub fn check(&self, width: u32, height: u32) -> Result<(), ImagingError> {
        if width > self.max_side || height > self.max_side {
            // A bomb is reported by its pixel count when that is over too: it is the real cost.
            if u64::from(width) * u64::from(height) <= self.max_pixels {
                return Err(ImagingError::SideTooLong {
                    width,
                    height,
                    limit: self.max_side,
                });
            }
        }
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(ImagingError::TooManyPixels {
                width,
                height,
                limit: self.max_pixels,
            });
        }
        Ok(())
    }

    /// The most any one decoder may allocate for pixels: the pixel limit at 8 bytes a pixel
    /// (16-bit RGBA), plus room for small images' fixed overheads.
    pub(crate) fn decoder_bytes(&self) -> usize {
        let bytes = self.max_pixels.saturating_mul(8).saturating_add(16 << 20);
        usize::try_from(bytes).unwrap_or(usize::MAX)
    }
}

/// What the header says, before anything is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub format: Format,
    /// Stored size, before EXIF orientation.
    pub width: u32,
    pub height: u32,
}

/// One re-encoded picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// `thumb`, `medium` or `large`.
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The result of [`process`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The sniffed type of the upload.
    pub format: Format,
    /// The upright size of the original, after EXIF orientation.
    pub width: u32,
    pub height: u32,
    /// `thumb`, `medium`, `large`, in that order.
    pub variants: Vec<Variant>,
    pub blurhash: String,
}

/// Decoded pixels and what the rest of the pipeline needs to know about them.
pub(crate) struct Decoded {
    /// Possibly smaller than the original (JPEG DCT scaling), in the stored orientation.
    pub image: Bitmap,
    /// The original's stored size.
    pub full_width: u32,
    pub full_height: u32,
    pub orientation: Orientation,
    pub icc: Option<Vec<u8>>,
}

/// Sniffs the type, enforces the byte limit, and reads the size from the header only (PNG IHDR,
/// JPEG SOF, GIF screen and first frame, WebP VP8/VP8L/VP8X, HEIF `ispe`), enforcing the pixel
/// and side limits. It allocates nothing in proportion to the input.
pub fn probe(bytes: &[u8], limits: &Limits) -> Result<Probe, ImagingError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImagingError::TooManyBytes {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let format = sniff(bytes).ok_or(ImagingError::NotAnImage)?;
    let (width, height) = match format {
        Format::Avif => return Err(ImagingError::Unsupported("AVIF".into())),
        Format::Jpeg => {
            let frame = jpeg::header(bytes)?;
            (frame.width, frame.height)
        }
        Format::Png => png::header(bytes)?,
        Format::Gif => {
            let header = gif::header(bytes)?;
            limits.check(header.first_frame.0, header.first_frame.1)?;
            header.screen
        }
        Format::WebP => webp::header(bytes)?,
        Format::Heic | Format::Heif => heif::header(bytes, format)?,
    };
    limits.check(width, height)?;
    Ok(Probe {
        format,
        width,
        height,
    })
}

/// Probes, validates, decodes and makes the three variants and the BlurHash.
pub fn process(bytes: &[u8], limits: &Limits) -> Result<Processed, ImagingError> {
    let probe = probe(bytes, limits)?;
    let format = probe.format;
    let decoded = catch_unwind(AssertUnwindSafe(|| match format {
        Format::Jpeg => jpeg::decode(bytes, limits),
        Format::Png => png::decode(bytes, limits),
        Format::Gif => gif::decode(bytes, limits),
        Format::WebP => webp::decode(bytes, limits),
        Format::Heic | Format::Heif => heif::decode(bytes, format, limits),
        Format::Avif => Err(ImagingError::Unsupported("AVIF".into())),
    }))
    .map_err(|_| ImagingError::corrupt(format, "the decoder failed on this file"))??;
    limits.check(decoded.full_width, decoded.full_height)?;
    catch_unwind(AssertUnwindSafe(|| pipeline::run(format, decoded))).map_err(|_| {
        ImagingError::Internal {
            variant: "all",
            detail: "the pipeline panicked".into(),
        }
    })?
}
