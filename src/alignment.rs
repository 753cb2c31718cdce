//! Five-point face alignment: the similarity transform (rotation, uniform scale,
//! translation; no reflection) that best maps the detected landmarks onto the
//! ArcFace 112×112 template, and the bilinear warp that applies it. SFace was
//! trained on crops made this way.

use image::{Rgb, RgbImage};

use crate::domain::Landmarks;

/// Side of the aligned crop.
pub const ALIGNED_SIDE: u32 = 112;

/// Where the five landmarks sit in a 112×112 ArcFace crop.
pub const TEMPLATE: Landmarks = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// `dst = [a -b; b a] · src + [tx ty]`: a similarity transform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// scale · cos(angle)
    pub a: f32,
    /// scale · sin(angle)
    pub b: f32,
    /// x translation
    pub tx: f32,
    /// y translation
    pub ty: f32,
}

impl Similarity {
    /// Applies the transform to a point.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [self.a * p[0] - self.b * p[1] + self.tx, self.b * p[0] + self.a * p[1] + self.ty]
    }

    /// The inverse transform; `None` when the scale is zero.
    pub fn inverse(&self) -> Option<Similarity> {
        let d = self.a * self.a + self.b * self.b;
        if d <= f32::EPSILON {
            return None;
        }
        let (a, b) = (self.a / d, -self.b / d);
        Some(Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        })
    }

    /// Uniform scale factor.
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }
}

/// The least-squares similarity mapping `src` onto `dst` (Umeyama's method in 2-D,
/// which in the plane has this closed form).
pub fn estimate(src: &Landmarks, dst: &Landmarks) -> Similarity {
    let n = src.len() as f32;
    let mean = |pts: &Landmarks| {
        let s = pts.iter().fold([0f32; 2], |acc, p| [acc[0] + p[0], acc[1] + p[1]]);
        [s[0] / n, s[1] / n]
    };
    let (ms, md) = (mean(src), mean(dst));
    let (mut dot, mut cross, mut var) = (0f32, 0f32, 0f32);
    for (s, d) in src.iter().zip(dst) {
        let (sx, sy) = (s[0] - ms[0], s[1] - ms[1]);
        let (dx, dy) = (d[0] - md[0], d[1] - md[1]);
        dot += sx * dx + sy * dy;
        cross += sx * dy - sy * dx;
        var += sx * sx + sy * sy;
    }
    if var <= f32::EPSILON {
        return Similarity { a: 0.0, b: 0.0, tx: md[0], ty: md[1] };
    }
    let (a, b) = (dot / var, cross / var);
    Similarity { a, b, tx: md[0] - (a * ms[0] - b * ms[1]), ty: md[1] - (b * ms[0] + a * ms[1]) }
}

/// The 112×112 crop of `image` with the face's landmarks moved onto [`TEMPLATE`].
/// Pixels that fall outside the image are black.
pub fn align(image: &RgbImage, landmarks: &Landmarks) -> RgbImage {
    let to_crop = estimate(landmarks, &TEMPLATE);
    let Some(to_image) = to_crop.inverse() else {
        return RgbImage::new(ALIGNED_SIDE, ALIGNED_SIDE);
    };
    RgbImage::from_fn(ALIGNED_SIDE, ALIGNED_SIDE, |u, v| {
        let [x, y] = to_image.apply([u as f32, v as f32]);
        sample(image, x, y)
    })
}

/// The head's roll in degrees: the angle of the line from the image-left eye to the image-right eye.
pub fn roll_degrees(landmarks: &Landmarks) -> f32 {
    let [l, r] = [landmarks[0], landmarks[1]];
    (r[1] - l[1]).atan2(r[0] - l[0]).to_degrees()
}

/// `image` at (x, y), interpolated; black outside it.
fn sample(image: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (w, h) = (i64::from(image.width()), i64::from(image.height()));
    let value = bilinear(x, y, |xi, yi| {
        if xi < 0 || yi < 0 || xi >= w || yi >= h {
            [0.0; 3]
        } else {
            image.get_pixel(xi as u32, yi as u32).0.map(f32::from)
        }
    });
    Rgb(value.map(|v| v.round().clamp(0.0, 255.0) as u8))
}

/// The bilinear interpolation at (x, y) of the `N` channels `pixel` gives at whole
/// coordinates: the one sampler of the face crop's warp and the liveness point tracker.
pub fn bilinear<const N: usize>(x: f32, y: f32, pixel: impl Fn(i64, i64) -> [f32; N]) -> [f32; N] {
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let (p00, p10) = (pixel(x0, y0), pixel(x0 + 1, y0));
    let (p01, p11) = (pixel(x0, y0 + 1), pixel(x0 + 1, y0 + 1));
    std::array::from_fn(|c| {
        let top = p00[c] * (1.0 - fx) + p10[c] * fx;
        let bottom = p01[c] * (1.0 - fx) + p11[c] * fx;
        top * (1.0 - fy) + bottom * fy
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32, tol: f32) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn recovers_a_known_similarity() {
        let truth = Similarity { a: 1.3 * 0.5f32.cos(), b: 1.3 * 0.5f32.sin(), tx: 12.0, ty: -7.0 };
        let moved = TEMPLATE.map(|p| truth.apply(p));
        let got = estimate(&TEMPLATE, &moved);
        for (g, t) in [(got.a, truth.a), (got.b, truth.b), (got.tx, truth.tx), (got.ty, truth.ty)] {
            assert!(close(g, t, 1e-3), "{got:?} vs {truth:?}");
        }
        assert!(close(got.scale(), 1.3, 1e-4));
    }

    #[test]
    fn inverse_undoes_the_transform() {
        let t = Similarity { a: 0.8, b: -0.3, tx: 5.0, ty: 40.0 };
        let inv = t.inverse().unwrap();
        for p in TEMPLATE {
            let back = inv.apply(t.apply(p));
            assert!(close(back[0], p[0], 1e-3) && close(back[1], p[1], 1e-3));
        }
        assert_eq!(Similarity { a: 0.0, b: 0.0, tx: 1.0, ty: 1.0 }.inverse(), None);
    }

    #[test]
    fn align_moves_a_marked_landmark_onto_the_template() {
        // Landmarks = template scaled by 2 and shifted; mark the nose with a white dot.
        let lm = TEMPLATE.map(|p| [p[0] * 2.0 + 30.0, p[1] * 2.0 + 10.0]);
        let mut image = RgbImage::new(300, 300);
        let [nx, ny] = lm[2];
        for dy in -2..=2 {
            for dx in -2..=2 {
                image.put_pixel(
                    (nx as i32 + dx) as u32,
                    (ny as i32 + dy) as u32,
                    Rgb([255, 255, 255]),
                );
            }
        }
        let crop = align(&image, &lm);
        assert_eq!(crop.dimensions(), (112, 112));
        let [tx, ty] = TEMPLATE[2];
        assert!(crop.get_pixel(tx.round() as u32, ty.round() as u32)[0] > 200);
        assert_eq!(crop.get_pixel(10, 10)[0], 0);
    }

    #[test]
    fn roll_of_level_and_tilted_eyes() {
        assert!(close(roll_degrees(&TEMPLATE), -0.32, 0.05));
        let mut tilted = TEMPLATE;
        tilted[1] = [tilted[0][0] + 10.0, tilted[0][1] + 10.0];
        assert!(close(roll_degrees(&tilted), 45.0, 1e-3));
    }
}
