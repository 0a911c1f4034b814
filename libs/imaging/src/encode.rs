//! Writing a variant: a progressive JPEG of the pixels and nothing else. The encoder is given
//! no EXIF, XMP, ICC or comment, so nothing of the upload's metadata (GPS included) can reach
//! a variant; it writes only the JFIF header.

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder};

use crate::bitmap::Bitmap;

/// libjpeg's scale; ~82 is where photos stop gaining visibly for their bytes.
pub(crate) const QUALITY: u8 = 82;

pub(crate) fn jpeg(image: &Bitmap) -> Result<Vec<u8>, String> {
    let width = u16::try_from(image.width).map_err(|_| "too wide for JPEG".to_owned())?;
    let height = u16::try_from(image.height).map_err(|_| "too tall for JPEG".to_owned())?;
    let colour = if image.channels == 1 {
        ColorType::Luma
    } else {
        ColorType::Rgb
    };
    let mut out = Vec::with_capacity(image.data.len() / 8 + 1024);
    let mut encoder = Encoder::new(&mut out, QUALITY);
    encoder.set_progressive(true);
    encoder.set_optimized_huffman_tables(true);
    // Averaging the 2x2 chroma blocks (as libjpeg does) avoids jagged colour edges.
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    encoder
        .encode(&image.data, width, height, colour)
        .map_err(|e| e.to_string())?;
    Ok(out)
}
