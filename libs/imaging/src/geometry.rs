//! The size arithmetic of the variants, kept apart from pixels so it can be tested exactly:
//! which variants exist, how "fit inside" and "centre-cropped square" round, and how small a
//! decoder may make an image before a variant would have to be upscaled. Nothing is ever
//! upscaled. Sizes here are in the stored orientation; both rules are symmetric in width and
//! height, so a quarter turn afterwards gives the same sizes as computing upright.

/// How a variant is cut from the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The centred square of the short side, scaled down to at most this side.
    Square(u32),
    /// The whole picture scaled down to fit inside this square.
    Fit(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VariantSpec {
    pub name: &'static str,
    pub shape: Shape,
}

pub(crate) const THUMB: VariantSpec = VariantSpec {
    name: "thumb",
    shape: Shape::Square(150),
};
pub(crate) const MEDIUM: VariantSpec = VariantSpec {
    name: "medium",
    shape: Shape::Fit(640),
};
pub(crate) const LARGE: VariantSpec = VariantSpec {
    name: "large",
    shape: Shape::Fit(1080),
};

/// `width` x `height` scaled down to fit inside `max` x `max`, keeping the aspect ratio
/// (rounded to the nearest pixel, at least 1); unchanged when it already fits.
pub(crate) fn fit_within(width: u32, height: u32, max: u32) -> (u32, u32) {
    if width <= max && height <= max {
        return (width, height);
    }
    let scaled = |side: u32, long: u32| {
        let value = (u64::from(side) * u64::from(max) + u64::from(long) / 2) / u64::from(long);
        value.max(1) as u32
    };
    if width >= height {
        (max, scaled(height, width))
    } else {
        (scaled(width, height), max)
    }
}

/// The centred square crop of a `width` x `height` picture: its left and top edge (possibly
/// half a pixel in), its side, and the output side (at most `max`, never upscaled).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SquareCrop {
    pub left: f64,
    pub top: f64,
    pub side: u32,
    pub output: u32,
}

pub(crate) fn square_crop(width: u32, height: u32, max: u32) -> SquareCrop {
    let side = width.min(height);
    SquareCrop {
        left: f64::from(width - side) / 2.0,
        top: f64::from(height - side) / 2.0,
        side,
        output: side.min(max),
    }
}

/// The size of a variant of a `width` x `height` picture.
pub(crate) fn variant_size(spec: VariantSpec, width: u32, height: u32) -> (u32, u32) {
    match spec.shape {
        Shape::Fit(max) => fit_within(width, height, max),
        Shape::Square(max) => {
            let output = square_crop(width, height, max).output;
            (output, output)
        }
    }
}

/// The smallest picture a decoder may hand over (it may hand over more) for every variant to
/// be made by scaling down only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MinimumSize {
    pub width: u32,
    pub height: u32,
    pub short_side: u32,
}

impl MinimumSize {
    pub fn for_variants(width: u32, height: u32) -> MinimumSize {
        let (large_w, large_h) = variant_size(LARGE, width, height);
        let (medium_w, medium_h) = variant_size(MEDIUM, width, height);
        let thumb = variant_size(THUMB, width, height).0;
        MinimumSize {
            width: large_w.max(medium_w),
            height: large_h.max(medium_h),
            short_side: thumb,
        }
    }

    pub fn is_met_by(&self, width: u32, height: u32) -> bool {
        width >= self.width && height >= self.height && width.min(height) >= self.short_side
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_scales_the_long_side_and_rounds() {
        assert_eq!(fit_within(4032, 3024, 1080), (1080, 810));
        assert_eq!(fit_within(4032, 3024, 640), (640, 480));
        assert_eq!(fit_within(3024, 4032, 640), (480, 640));
        assert_eq!(fit_within(8000, 1000, 1080), (1080, 135));
        assert_eq!(fit_within(8000, 1000, 640), (640, 80));
        // 2566 * 1080 / 3313 = 836.47 -> 836; 2566 * 640 / 3313 = 495.7 -> 496
        assert_eq!(fit_within(2566, 3313, 1080), (836, 1080));
        assert_eq!(fit_within(2566, 3313, 640), (496, 640));
        assert_eq!(fit_within(1081, 1081, 1080), (1080, 1080));
        // Extreme aspect ratios keep at least one pixel.
        assert_eq!(fit_within(16000, 1, 640), (640, 1));
        assert_eq!(fit_within(1, 16000, 640), (1, 640));
    }

    #[test]
    fn fit_never_upscales() {
        assert_eq!(fit_within(100, 50, 640), (100, 50));
        assert_eq!(fit_within(640, 480, 640), (640, 480));
        assert_eq!(fit_within(1080, 1080, 1080), (1080, 1080));
        assert_eq!(fit_within(1, 1, 1080), (1, 1));
    }

    #[test]
    fn square_crop_is_centred_and_never_upscaled() {
        let crop = square_crop(4032, 3024, 150);
        assert_eq!(
            (crop.left, crop.top, crop.side, crop.output),
            (504.0, 0.0, 3024, 150)
        );
        let crop = square_crop(100, 50, 150);
        assert_eq!(
            (crop.left, crop.top, crop.side, crop.output),
            (25.0, 0.0, 50, 50)
        );
        let crop = square_crop(101, 200, 150);
        assert_eq!(
            (crop.left, crop.top, crop.side, crop.output),
            (0.0, 49.5, 101, 101)
        );
        assert_eq!(variant_size(THUMB, 1, 1), (1, 1));
        assert_eq!(variant_size(THUMB, 8000, 1000), (150, 150));
    }

    #[test]
    fn minimum_decode_size_keeps_every_variant_a_downscale() {
        let need = MinimumSize::for_variants(4032, 3024);
        assert_eq!((need.width, need.height, need.short_side), (1080, 810, 150));
        assert!(need.is_met_by(2016, 1512));
        assert!(!need.is_met_by(1008, 756));
        // A panorama: the thumb's 150 px short side needs more than the large variant's 135.
        let need = MinimumSize::for_variants(8000, 1000);
        assert_eq!((need.width, need.height, need.short_side), (1080, 135, 150));
        assert!(need.is_met_by(2000, 250));
        assert!(!need.is_met_by(1000, 125));
        let need = MinimumSize::for_variants(100, 50);
        assert!(need.is_met_by(100, 50));
        assert!(!need.is_met_by(50, 25));
    }
}
