//! Scaling down with `fast_image_resize` (SIMD convolution). It only ever shrinks or copies:
//! the sizes come from `geometry`, which never asks for more pixels than the source has.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::bitmap::Bitmap;
use crate::geometry::SquareCrop;

/// The region of the source to scale: all of it, or a centred square.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Region {
    Whole,
    Square(SquareCrop),
}

pub(crate) fn resize(
    resizer: &mut Resizer,
    source: &Bitmap,
    region: Region,
    width: u32,
    height: u32,
) -> Result<Bitmap, String> {
    if let Region::Whole = region {
        if (source.width, source.height) == (width, height) {
            return Ok(source.clone());
        }
    }
    let pixel_type = match source.channels {
        1 => PixelType::U8,
        _ => PixelType::U8x3,
    };
    let src = ImageRef::new(source.width, source.height, &source.data, pixel_type)
        .map_err(|e| e.to_string())?;
    let mut dst = Image::new(width, height, pixel_type);
    // Catmull-Rom: sharp enough for photos, and its kernel is half as wide as Lanczos3's.
    let mut options =
        ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    if let Region::Square(crop) = region {
        let side = f64::from(crop.side);
        options = options.crop(crop.left, crop.top, side, side);
    }
    resizer
        .resize(&src, &mut dst, &options)
        .map_err(|e| e.to_string())?;
    Ok(Bitmap::new(width, height, source.channels, dst.into_vec()))
}
