//! The eight EXIF orientations and how to turn stored pixels upright. The pipeline resizes in
//! the stored orientation and turns only the small variants upright, which is the same picture
//! (resizing and centre-cropping commute with flips and quarter turns) for a fraction of the
//! memory traffic. This module does not read EXIF; `exif` does.

use crate::bitmap::Bitmap;

/// EXIF Orientation: how the stored pixels must be transformed to display upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Orientation {
    /// 1: stored upright.
    #[default]
    Normal,
    /// 2: mirrored left-right.
    FlipHorizontal,
    /// 3: upside down.
    Rotate180,
    /// 4: mirrored top-bottom.
    FlipVertical,
    /// 5: mirrored along the top-left to bottom-right diagonal.
    Transpose,
    /// 6: turn 90° clockwise to display.
    Rotate90,
    /// 7: mirrored along the top-right to bottom-left diagonal.
    Transverse,
    /// 8: turn 90° counter-clockwise (270° clockwise) to display.
    Rotate270,
}

impl Orientation {
    /// The orientation for an EXIF value; anything outside 1..=8 counts as 1.
    pub fn from_exif(value: u32) -> Orientation {
        match value {
            2 => Orientation::FlipHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }

    /// Whether displaying upright swaps width and height.
    pub fn swaps_axes(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }

    /// The upright size of a stored `width` x `height` image.
    pub fn upright(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_axes() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Where the upright pixel (`x`, `y`) comes from in a stored `width` x `height` image.
    fn source(self, x: u32, y: u32, width: u32, height: u32) -> (u32, u32) {
        let (right, bottom) = (width - 1, height - 1);
        match self {
            Orientation::Normal => (x, y),
            Orientation::FlipHorizontal => (right - x, y),
            Orientation::Rotate180 => (right - x, bottom - y),
            Orientation::FlipVertical => (x, bottom - y),
            Orientation::Transpose => (y, x),
            Orientation::Rotate90 => (y, bottom - x),
            Orientation::Transverse => (right - y, bottom - x),
            Orientation::Rotate270 => (right - y, x),
        }
    }

    /// The upright copy of `image` (or `image` itself when it is stored upright).
    pub fn apply(self, image: Bitmap) -> Bitmap {
        if self == Orientation::Normal {
            return image;
        }
        let (width, height) = self.upright(image.width, image.height);
        let channels = usize::from(image.channels);
        let mut data = vec![0; image.data.len()];
        let mut out = 0;
        for y in 0..height {
            for x in 0..width {
                let (sx, sy) = self.source(x, y, image.width, image.height);
                let at = (sy as usize * image.width as usize + sx as usize) * channels;
                data[out..out + channels].copy_from_slice(&image.data[at..at + channels]);
                out += channels;
            }
        }
        Bitmap::new(width, height, image.channels, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x2 gray image:  1 2 3
    ///                    4 5 6
    fn sample() -> Bitmap {
        Bitmap::new(3, 2, 1, vec![1, 2, 3, 4, 5, 6])
    }

    #[test]
    fn all_eight_orientations() {
        let cases: [(u32, u32, u32, Vec<u8>); 8] = [
            (1, 3, 2, vec![1, 2, 3, 4, 5, 6]),
            (2, 3, 2, vec![3, 2, 1, 6, 5, 4]),
            (3, 3, 2, vec![6, 5, 4, 3, 2, 1]),
            (4, 3, 2, vec![4, 5, 6, 1, 2, 3]),
            (5, 2, 3, vec![1, 4, 2, 5, 3, 6]),
            (6, 2, 3, vec![4, 1, 5, 2, 6, 3]),
            (7, 2, 3, vec![6, 3, 5, 2, 4, 1]),
            (8, 2, 3, vec![3, 6, 2, 5, 1, 4]),
        ];
        for (value, width, height, data) in cases {
            let upright = Orientation::from_exif(value).apply(sample());
            assert_eq!(
                (upright.width, upright.height, upright.data),
                (width, height, data),
                "orientation {value}"
            );
        }
    }

    #[test]
    fn rgb_pixels_move_whole() {
        let image = Bitmap::new(2, 1, 3, vec![1, 2, 3, 4, 5, 6]);
        let turned = Orientation::Rotate90.apply(image);
        assert_eq!((turned.width, turned.height), (1, 2));
        assert_eq!(turned.data, vec![1, 2, 3, 4, 5, 6]);
        let mirrored =
            Orientation::FlipHorizontal.apply(Bitmap::new(2, 1, 3, vec![1, 2, 3, 4, 5, 6]));
        assert_eq!(mirrored.data, vec![4, 5, 6, 1, 2, 3]);
    }

    #[test]
    fn exif_values_outside_the_range_are_upright() {
        for value in [0, 9, 255, u32::MAX] {
            assert_eq!(Orientation::from_exif(value), Orientation::Normal);
        }
        assert_eq!(Orientation::Rotate90.upright(600, 450), (450, 600));
        assert_eq!(Orientation::Rotate180.upright(600, 450), (600, 450));
    }
}
