//! A print that is not flat, turned in front of the camera as the solid it is: bent round an
//! upright cylinder, or folded along the upright through the nose with each half turned back.
//! Unlike a flat picture, such a print moves its parts off one plane as it turns, which is
//! what the movement test measures; rendering it as a flat photograph of a bent print would
//! test nothing.

use image::{imageops, Rgb, RgbImage};

/// How a print leaves its plane, about an upright column of the picture (picture pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PrintShape {
    /// Bent round an upright cylinder of this radius, its crest toward the camera.
    Bent {
        /// The upright the crest runs along.
        column: f32,
        /// The cylinder's radius.
        radius: f32,
    },
    /// Folded along an upright, the ridge toward the camera, each half turned back by `angle`
    /// radians.
    Folded {
        /// The upright of the fold.
        column: f32,
        /// How far each half is turned back from the flat, radians.
        angle: f32,
    },
}

impl PrintShape {
    /// The print as the camera sees it from straight in front: each column of `picture` where
    /// the shape puts it (a column at arc length u from the upright lands at r·sin(u / r) on
    /// the cylinder, at u·cos(angle) on the fold).
    pub fn front(&self, picture: &RgbImage, fill: Rgb<u8>) -> RgbImage {
        RgbImage::from_fn(picture.width(), picture.height(), |x, y| {
            let d = x as f32 - self.column();
            let Some(u) = self.unrolled(d) else { return fill };
            imageops::interpolate_bilinear(picture, self.column() + u, y as f32).unwrap_or(fill)
        })
    }

    fn column(&self) -> f32 {
        match *self {
            PrintShape::Bent { column, .. } | PrintShape::Folded { column, .. } => column,
        }
    }

    /// Arc length from the upright of the point seen `d` pixels from it, from in front.
    fn unrolled(&self, d: f32) -> Option<f32> {
        match *self {
            PrintShape::Bent { radius, .. } => {
                (d.abs() < radius).then(|| radius * (d / radius).asin())
            }
            PrintShape::Folded { angle, .. } => Some(d / angle.cos()),
        }
    }

    /// Toward the camera, picture pixels, of the point seen at front-view column `x`: 0 on the
    /// upright, less away from it.
    pub fn depth(&self, x: f32) -> f32 {
        let d = x - self.column();
        match *self {
            PrintShape::Bent { radius, .. } => (radius * radius - d * d).max(0.0).sqrt() - radius,
            PrintShape::Folded { angle, .. } => -d.abs() * angle.tan(),
        }
    }

    /// How far the surface at front-view column `x` is turned about the upright from facing
    /// the camera, radians (toward +x on the right of the upright).
    pub fn slope(&self, x: f32) -> f32 {
        let d = x - self.column();
        match *self {
            PrintShape::Bent { radius, .. } => (d / radius).clamp(-1.0, 1.0).asin(),
            PrintShape::Folded { angle, .. } => angle.copysign(d),
        }
    }
}

/// Where a point of the print lands in the frame: the print's front view held with `pivot`
/// (picture pixels) at `at` (frame pixels), `scale` frame pixels per picture pixel, rolled by
/// `roll` radians and turned to `pose` ((yaw, pitch) in degrees, as a head turns), seen by a
/// pinhole camera `distance` frame pixels away.
#[derive(Debug, Clone, Copy)]
pub struct Held {
    /// The picture point the hand holds at `at`.
    pub pivot: (f32, f32),
    /// Where in the frame that point is.
    pub at: (f32, f32),
    /// Frame pixels per picture pixel.
    pub scale: f32,
    /// Roll in the picture's plane, radians.
    pub roll: f32,
    /// (yaw, pitch), degrees.
    pub pose: (f32, f32),
    /// The camera's focal length and distance, frame pixels.
    pub distance: f32,
}

impl Held {
    fn project(&self, shape: &PrintShape, u: f32, v: f32) -> (f32, f32) {
        let (x, y) = ((u - self.pivot.0) * self.scale, (v - self.pivot.1) * self.scale);
        let z = shape.depth(u) * self.scale;
        let (sr, cr) = self.roll.sin_cos();
        let (x, y) = (x * cr - y * sr, x * sr + y * cr);
        let (sy, cy) = self.pose.0.to_radians().sin_cos();
        let (sp, cp) = self.pose.1.to_radians().sin_cos();
        let (x, z) = (x * cy + z * sy, -x * sy + z * cy);
        let (y, z) = (y * cp - z * sp, y * sp + z * cp);
        let depth = self.distance - z;
        (self.at.0 + self.distance * x / depth, self.at.1 + self.distance * y / depth)
    }
}

/// Draws `front` (the print from in front, [`PrintShape::front`]) of `shape` into `frame`, held
/// as `held` says: each frame pixel looks up the print point that lands on it (Newton's method
/// on the projection, from the flat print's answer).
pub fn draw_turned(frame: &mut RgbImage, front: &RgbImage, shape: &PrintShape, held: &Held) {
    let (pw, ph) = (front.width() as f32, front.height() as f32);
    // The frame pixels the print can cover: its outline sampled, with a margin.
    let mut bounds = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for i in 0..=32 {
        let t = i as f32 / 32.0;
        for (u, v) in [(t * pw, 0.0), (t * pw, ph), (0.0, t * ph), (pw, t * ph)] {
            let (x, y) = held.project(shape, u, v);
            bounds = (bounds.0.min(x), bounds.1.min(y), bounds.2.max(x), bounds.3.max(y));
        }
    }
    let clamp = |v: f32, hi: u32| (v.max(0.0) as u32).min(hi);
    let (x0, y0) = (clamp(bounds.0 - 2.0, frame.width()), clamp(bounds.1 - 2.0, frame.height()));
    let (x1, y1) = (clamp(bounds.2 + 3.0, frame.width()), clamp(bounds.3 + 3.0, frame.height()));
    for ty in y0..y1 {
        for tx in x0..x1 {
            let target = (tx as f32, ty as f32);
            let Some((u, v)) = solve(shape, held, target) else { continue };
            let on_print = (0.0..pw - 1.0).contains(&u) && (0.0..ph - 1.0).contains(&v);
            if !on_print || shape.unrolled(u - shape.column()).is_none() {
                continue;
            }
            if let Some(p) = imageops::interpolate_bilinear(front, u, v) {
                frame.put_pixel(tx, ty, p);
            }
        }
    }
}

/// The print point (u, v) that `held` projects onto `target`, if the search converges.
fn solve(shape: &PrintShape, held: &Held, target: (f32, f32)) -> Option<(f32, f32)> {
    let (mut u, mut v) = (
        held.pivot.0 + (target.0 - held.at.0) / held.scale,
        held.pivot.1 + (target.1 - held.at.1) / held.scale,
    );
    for _ in 0..12 {
        let p = held.project(shape, u, v);
        let (ex, ey) = (target.0 - p.0, target.1 - p.1);
        if ex.abs() < 0.05 && ey.abs() < 0.05 {
            return Some((u, v));
        }
        let pu = held.project(shape, u + 0.5, v);
        let pv = held.project(shape, u, v + 0.5);
        let (a, c) = ((pu.0 - p.0) * 2.0, (pu.1 - p.1) * 2.0);
        let (b, d) = ((pv.0 - p.0) * 2.0, (pv.1 - p.1) * 2.0);
        let det = a * d - b * c;
        if det.abs() < 1e-4 {
            return None;
        }
        u += (d * ex - b * ey) / det;
        v += (a * ey - c * ex) / det;
    }
    let p = held.project(shape, u, v);
    ((target.0 - p.0).abs() < 0.5 && (target.1 - p.1).abs() < 0.5).then_some((u, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(pose: (f32, f32)) -> Held {
        Held {
            pivot: (100.0, 80.0),
            at: (320.0, 216.0),
            scale: 0.8,
            roll: 0.0,
            pose,
            distance: 600.0,
        }
    }

    #[test]
    fn a_folded_print_moves_its_fold_off_the_plane_of_its_sides_as_it_turns() {
        let fold = PrintShape::Folded { column: 100.0, angle: 30f32.to_radians() };
        // Two points either side of the fold and the fold between them: turned, the fold
        // leaves the line through the sides' points by about its depth times sin(yaw).
        let h = held((30.0, 0.0));
        let (l, r) = (
            fold.column() - 40.0 * 30f32.to_radians().cos(),
            fold.column() + 40.0 * 30f32.to_radians().cos(),
        );
        let (pl, pr, pm) =
            (h.project(&fold, l, 80.0), h.project(&fold, r, 80.0), h.project(&fold, 100.0, 80.0));
        let off = pm.0 - (pl.0 + pr.0) / 2.0;
        let expected = -fold.depth(l) * 0.8 * 30f32.to_radians().sin();
        assert!((off - expected).abs() < 0.15 * expected, "{off} against {expected}");
        // Facing the camera, the fold is where a flat print would put it.
        let h = held((0.0, 0.0));
        let (pl, pr, pm) =
            (h.project(&fold, l, 80.0), h.project(&fold, r, 80.0), h.project(&fold, 100.0, 80.0));
        assert!((pm.0 - (pl.0 + pr.0) / 2.0).abs() < 0.01);
    }

    #[test]
    fn the_front_view_and_the_turned_drawing_agree_facing_the_camera() {
        let picture =
            RgbImage::from_fn(200, 160, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        for shape in [
            PrintShape::Bent { column: 100.0, radius: 120.0 },
            PrintShape::Folded { column: 100.0, angle: 25f32.to_radians() },
        ] {
            let front = shape.front(&picture, Rgb([0, 0, 0]));
            // The front view squeezes the columns toward the upright; unrolled, they are the
            // picture's own: the red ramp (x) is back where it was 40 columns right of it.
            let d = match shape {
                PrintShape::Bent { radius, .. } => radius * (40.0 / radius).sin(),
                PrintShape::Folded { angle, .. } => 40.0 * angle.cos(),
            };
            let seen = front.get_pixel((100.0 + d).round() as u32, 50)[0];
            assert!((i32::from(seen) - 140).abs() <= 1, "{shape:?}: {seen}");
            let mut frame = RgbImage::new(640, 480);
            draw_turned(&mut frame, &front, &shape, &held((0.0, 0.0)));
            // The pivot lands at `at`; the front view is drawn at 0.8 (perspective aside).
            let p = frame.get_pixel(320, 216);
            assert_eq!(p, front.get_pixel(100, 80), "{shape:?}");
            // Turned 30°, a point of the print is drawn where its projection says.
            let turned = held((30.0, 0.0));
            let mut frame = RgbImage::new(640, 480);
            draw_turned(&mut frame, &front, &shape, &turned);
            let (px, py) = turned.project(&shape, 130.0, 80.0);
            let drawn = frame.get_pixel(px.round() as u32, py.round() as u32)[0];
            let want = front.get_pixel(130, 80)[0];
            assert!((i32::from(drawn) - i32::from(want)).abs() <= 3, "{shape:?}: {drawn} {want}");
        }
    }
}
