//! The image's own motion inside the face, as the 3-D test: textured points of the reference
//! frame are followed from frame to frame (pyramidal Lucas-Kanade), and how far their motion
//! is from one homography says whether the face is a plane.
//!
//! Why not the detector's five landmarks alone: YuNet *regresses* its landmarks with a
//! learned prior, so on a print tilted 30° it moves the nose as if a head had turned; its
//! nose "parallax" on the generated prints reached 0.09 eye distances, as much as a real turn
//! (README "Liveness"). Pixels of a flat picture, by contrast, move by one homography exactly,
//! whatever the detector believes.

use image::{imageops, GrayImage, RgbImage};

use crate::alignment::bilinear;
use crate::domain::Face;

use super::geometry::{eye_distance, fit_plane};

/// Points followed per attempt (the most textured of a grid over the face).
pub const POINTS: usize = 48;
/// Fewer points left than this and the motion is not judged.
pub const MIN_POINTS: usize = 16;
/// A point followed into the next frame and back must land this close to where it was: this
/// share of the eye distance (0.8 px on a 640×480 frame's face), and never under
/// [`MIN_ROUND_TRIP`] pixels (1.25 % of a 320×240 frame's 40 px eye distance).
const ROUND_TRIP_SHARE: f32 = 0.01;
/// The round trip's limit on the smallest faces, pixels.
const MIN_ROUND_TRIP: f32 = 0.5;
/// How far a point followed frame to frame may be moved to where its window in the reference
/// frame is found again: this share of the eye distance (1.6 px on a 640×480 frame's face).
/// Frame-to-frame following drifts in noise (a noisy webcam's points wandered off by more
/// than a return to the centre allows over three movements); matched against the reference
/// each frame, the drift cannot add up. A larger jump is not a correction but another place,
/// and is not taken.
const ANCHOR_SHARE: f32 = 0.02;
/// A coarser pyramid level is made only while its shorter side stays at least this, pixels.
const COARSEST_SIDE: usize = 60;
/// At most this many pyramid levels (each half the last): 4 follow a point that moves up to
/// about 40 px between frames, a turn at 8 frames/s.
const MAX_LEVELS: usize = 4;
/// Half the side of the tracking window, pixels.
const RADIUS: i32 = 5;
/// A nose point found again after it was lost is taken back only this close to where the plane
/// of the face points puts it, in eye distances: under half the 0.05 that counts a movement
/// ([`super::session::MOVE_PARALLAX`]), so a point found again lets the return to the centre be
/// seen but can never make a movement.
const REFOUND_OFF_PLANE: f32 = 0.02;

/// A grey frame as floats, for sub-pixel sampling.
#[derive(Debug, Clone)]
pub struct Grey {
    w: usize,
    h: usize,
    data: Vec<f32>,
}

impl Grey {
    /// The luma of an RGB frame.
    pub fn of(frame: &RgbImage) -> Grey {
        Grey::from_luma(&imageops::grayscale(frame))
    }

    fn from_luma(g: &GrayImage) -> Grey {
        Grey {
            w: g.width() as usize,
            h: g.height() as usize,
            data: g.pixels().map(|p| f32::from(p[0])).collect(),
        }
    }

    /// Smoothed by a 3×3 binomial kernel (edges repeated): a cheap webcam's sensor noise
    /// (σ 10 grey levels) falls to under 4, the face's features stay.
    fn smoothed(&self) -> Grey {
        let (w, h) = (self.w, self.h);
        if w < 3 || h < 3 {
            return self.clone();
        }
        let mut across = vec![0f32; w * h];
        for (src, dst) in self.data.chunks_exact(w).zip(across.chunks_exact_mut(w)) {
            dst[0] = (3.0 * src[0] + src[1]) / 4.0;
            for x in 1..w - 1 {
                dst[x] = (src[x - 1] + 2.0 * src[x] + src[x + 1]) / 4.0;
            }
            dst[w - 1] = (src[w - 2] + 3.0 * src[w - 1]) / 4.0;
        }
        let mut data = vec![0f32; w * h];
        for (y, row) in data.chunks_exact_mut(w).enumerate() {
            let (up, down) = (y.saturating_sub(1) * w, (y + 1).min(h - 1) * w);
            let here = y * w;
            for (x, out) in row.iter_mut().enumerate() {
                *out = (across[up + x] + 2.0 * across[here + x] + across[down + x]) / 4.0;
            }
        }
        Grey { w, h, data }
    }

    /// Half the size, each pixel the mean of four.
    fn half(&self) -> Grey {
        let (w, h) = (self.w / 2, self.h / 2);
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let i = 2 * y * self.w + 2 * x;
                data.push(
                    (self.data[i]
                        + self.data[i + 1]
                        + self.data[i + self.w]
                        + self.data[i + self.w + 1])
                        / 4.0,
                );
            }
        }
        Grey { w, h, data }
    }

    fn inside(&self, x: f32, y: f32, margin: f32) -> bool {
        x >= margin
            && y >= margin
            && x < self.w as f32 - 1.0 - margin
            && y < self.h as f32 - 1.0 - margin
    }

    /// Bilinear sample; the caller keeps (x, y) inside.
    fn at(&self, x: f32, y: f32) -> f32 {
        bilinear(x, y, |xi, yi| [self.data[yi as usize * self.w + xi as usize]])[0]
    }

    /// The structure tensor's smaller eigenvalue around (x, y): how well a point can be followed.
    fn cornerness(&self, x: f32, y: f32) -> f32 {
        let (mut xx, mut xy, mut yy) = (0f32, 0f32, 0f32);
        for dy in -RADIUS..=RADIUS {
            for dx in -RADIUS..=RADIUS {
                let (px, py) = (x + dx as f32, y + dy as f32);
                let gx = (self.at(px + 1.0, py) - self.at(px - 1.0, py)) / 2.0;
                let gy = (self.at(px, py + 1.0) - self.at(px, py - 1.0)) / 2.0;
                xx += gx * gx;
                xy += gx * gy;
                yy += gy * gy;
            }
        }
        let trace = xx + yy;
        let det = xx * yy - xy * xy;
        trace / 2.0 - ((trace * trace / 4.0 - det).max(0.0)).sqrt()
    }
}

/// A frame, smoothed, and its copies at half, quarter, ... size: the finest first.
#[derive(Debug, Clone)]
struct Pyramid {
    levels: Vec<Grey>,
}

impl Pyramid {
    fn of(frame: &RgbImage) -> Pyramid {
        let mut levels = vec![Grey::of(frame).smoothed()];
        while levels.len() < MAX_LEVELS {
            let last = &levels[levels.len() - 1];
            if last.w.min(last.h) / 2 < COARSEST_SIDE {
                break;
            }
            levels.push(last.half());
        }
        Pyramid { levels }
    }

    fn full(&self) -> &Grey {
        &self.levels[0]
    }
}

/// Points of the reference frame followed through the attempt.
#[derive(Debug, Clone)]
pub struct Tracker {
    reference: Vec<[f32; 2]>,
    current: Vec<Option<[f32; 2]>>,
    /// Where each nose point was last followed to (its reference place before it is first moved).
    last_seen: Vec<[f32; 2]>,
    /// The first `nose` points sit on the nose; the rest cover the face.
    nose: usize,
    /// The reference frame, where each point's window is matched again.
    reference_frame: Grey,
    previous: Pyramid,
    eye_distance: f32,
}

impl Tracker {
    /// Picks the most textured points of a grid over `face` (eyes to mouth, cheek to cheek) in
    /// the reference `frame`.
    pub fn start(frame: &RgbImage, face: &Face) -> Tracker {
        let pyramid = Pyramid::of(frame);
        let l = &face.landmarks;
        let iod = eye_distance(l).max(1.0);
        let (xs, ys) = (l.map(|p| p[0]), l.map(|p| p[1]));
        let (x0, x1) = (
            xs.iter().copied().fold(f32::MAX, f32::min) - 0.45 * iod,
            xs.iter().copied().fold(f32::MIN, f32::max) + 0.45 * iod,
        );
        let (y0, y1) = (
            ys.iter().copied().fold(f32::MAX, f32::min) - 0.45 * iod,
            ys.iter().copied().fold(f32::MIN, f32::max) + 0.35 * iod,
        );
        let mut candidates = Vec::new();
        let n = 12;
        for j in 0..n {
            for i in 0..n {
                let x = x0 + (x1 - x0) * (i as f32 + 0.5) / n as f32;
                let y = y0 + (y1 - y0) * (j as f32 + 0.5) / n as f32;
                if pyramid.full().inside(x, y, (2 * RADIUS + 2) as f32) {
                    candidates.push((pyramid.full().cornerness(x, y), [x, y]));
                }
            }
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        // The nose: a small grid over its tip and lower ridge, followed like the rest.
        let nose = l[2];
        let mut reference: Vec<[f32; 2]> = Vec::new();
        for j in -2..=1 {
            for i in -1..=1 {
                let p = [nose[0] + 0.1 * iod * i as f32, nose[1] + 0.1 * iod * j as f32];
                if pyramid.full().inside(p[0], p[1], (2 * RADIUS + 2) as f32) {
                    reference.push(p);
                }
            }
        }
        let nose_points = reference.len();
        let away_from_nose = |p: &[f32; 2]| (p[0] - nose[0]).hypot(p[1] - nose[1]) > 0.3 * iod;
        reference.extend(
            candidates
                .into_iter()
                .filter(|c| c.0 > 1.0 && away_from_nose(&c.1))
                .take(POINTS)
                .map(|c| c.1),
        );
        let current = reference.iter().map(|p| Some(*p)).collect();
        Tracker {
            last_seen: reference[..nose_points].to_vec(),
            reference,
            current,
            nose: nose_points,
            reference_frame: pyramid.full().clone(),
            previous: pyramid,
            eye_distance: iod,
        }
    }

    /// Follows the points into the next frame.
    pub fn track(&mut self, frame: &RgbImage) {
        let next = Pyramid::of(frame);
        let limit = (ROUND_TRIP_SHARE * self.eye_distance).max(MIN_ROUND_TRIP);
        let pull = ANCHOR_SHARE * self.eye_distance;
        // Nose points lost before this frame (not those that slip in it).
        let lost: Vec<usize> = (0..self.nose).filter(|&i| self.current[i].is_none()).collect();
        let moved_from: Vec<Option<[f32; 2]>> = self.current.clone();
        for (p, r) in self.current.iter_mut().zip(&self.reference) {
            *p = p.and_then(|at| {
                let there = followed_home(&self.previous, &next, at, [0.0, 0.0], limit)?;
                Some(anchored(&self.reference_frame, next.full(), *r, there, pull))
            });
        }
        // A point that slipped from where it was is tried once more from where the plane of the
        // face points followed in this frame puts it: a nod at 8 frames/s moves a small face
        // 15-20 px between frames, and the smooth nose is then followed forward but not home
        // again from so far. Started from the plane both ways, the round trip keeps its power,
        // and on a flat picture a search that stays where it started leans toward flat.
        let (from, to) = self.face_pairs();
        let plane = if from.len() >= MIN_POINTS { fit_plane(&from, &to) } else { None };
        if let Some(plane) = plane {
            for (i, r) in self.reference.iter().enumerate() {
                let Some(at) = moved_from[i].filter(|_| self.current[i].is_none()) else {
                    continue;
                };
                let Some(on_plane) = plane.apply(*r) else { continue };
                let start = [on_plane[0] - at[0], on_plane[1] - at[1]];
                if start[0].hypot(start[1]) < 1.0 {
                    continue;
                }
                self.current[i] = followed_home(&self.previous, &next, at, start, limit)
                    .map(|there| anchored(&self.reference_frame, next.full(), *r, there, pull));
            }
        }
        // A nose point lost in an earlier frame is looked for again near where the plane of the
        // face points puts it and where it was last seen, and taken back only on that plane (off
        // it by less than REFOUND_OFF_PLANE): the nose is smooth and its few points are all the
        // 3-D test has, so in a noisy feed they would otherwise run out one by one and the
        // return to the centre would never be seen. Taken back on the plane only, a point found
        // again can never show a movement, whatever it was matched to.
        if !lost.is_empty() {
            let (from, to) = self.face_pairs();
            if let Some(plane) = fit_plane(&from, &to) {
                let off_plane = REFOUND_OFF_PLANE * self.eye_distance;
                for i in lost {
                    let r = self.reference[i];
                    let Some(on_plane) = plane.apply(r) else { continue };
                    let found = found_again(
                        &self.reference_frame,
                        next.full(),
                        r,
                        [on_plane, self.last_seen[i]],
                        limit,
                    );
                    self.current[i] = found
                        .filter(|f| (f[0] - on_plane[0]).hypot(f[1] - on_plane[1]) < off_plane);
                }
            }
        }
        for (seen, p) in self.last_seen.iter_mut().zip(&self.current[..self.nose]) {
            if let Some(at) = *p {
                *seen = at;
            }
        }
        self.previous = next;
    }

    /// Points still followed.
    pub fn points(&self) -> usize {
        self.current.iter().flatten().count()
    }

    /// The face points (not the nose's) still followed: (reference, now).
    fn face_pairs(&self) -> (Vec<[f32; 2]>, Vec<[f32; 2]>) {
        self.reference[self.nose..]
            .iter()
            .zip(&self.current[self.nose..])
            .filter_map(|(r, c)| c.map(|c| (*r, c)))
            .unzip()
    }

    /// Where the nose went off the plane of the rest of the face since the reference frame:
    /// the face points' homography predicts where the nose points would be on a flat
    /// picture, and the median miss is returned in reference eye distances, x toward the
    /// image's right and y down. A head turning to its own left moves it toward +x, a chin
    /// going up toward -y; a flat picture leaves it near 0. `None` when too few points are left.
    pub fn nose_parallax(&self) -> Option<[f32; 2]> {
        let (from, to) = self.face_pairs();
        if from.len() < MIN_POINTS {
            return None;
        }
        let plane = fit_plane(&from, &to)?;
        let (mut dx, mut dy): (Vec<f32>, Vec<f32>) = self.reference[..self.nose]
            .iter()
            .zip(&self.current[..self.nose])
            .filter_map(|(r, c)| {
                let (c, predicted) = ((*c)?, plane.apply(*r)?);
                Some((c[0] - predicted[0], c[1] - predicted[1]))
            })
            .unzip();
        if dx.len() < 3 {
            return None;
        }
        let iod = self.eye_distance;
        Some([median(&mut dx) / iod, median(&mut dy) / iod])
    }
}

/// Where the point `at` of `previous` is in `next`: solved on the coarsest level first, each
/// finer level starting from the coarser one's answer. A coarse level where the point's window
/// leaves the picture passes its guess on; the full-size level must follow it. `None` when it
/// leaves the frame or cannot be followed.
fn follow(previous: &Pyramid, next: &Pyramid, at: [f32; 2], start: [f32; 2]) -> Option<[f32; 2]> {
    let levels = previous.levels.len().min(next.levels.len());
    let coarsest = (1u32 << (levels - 1)) as f32;
    let mut guess = [start[0] / coarsest, start[1] / coarsest];
    for level in (1..levels).rev() {
        let scale = (1u32 << level) as f32;
        let p = [at[0] / scale, at[1] / scale];
        let v =
            lucas_kanade(&previous.levels[level], &next.levels[level], p, guess).unwrap_or(guess);
        guess = [v[0] * 2.0, v[1] * 2.0];
    }
    let fine = lucas_kanade(previous.full(), next.full(), at, guess)?;
    Some([at[0] + fine[0], at[1] + fine[1]])
}

/// Where the point `at` of `previous` is in `next`, searched from `start` pixels away, when
/// following it back from `start` pixels the other way lands within `limit` pixels of `at`: a
/// point that does not come home slipped.
fn followed_home(
    previous: &Pyramid,
    next: &Pyramid,
    at: [f32; 2],
    start: [f32; 2],
    limit: f32,
) -> Option<[f32; 2]> {
    let there = follow(previous, next, at, start)?;
    let back = follow(next, previous, there, [-start[0], -start[1]])?;
    ((back[0] - at[0]).hypot(back[1] - at[1]) < limit).then_some(there)
}

/// `there`, where the reference point `r` was followed to frame by frame, moved to where the
/// reference frame's window around `r` is found in `next` when that is within `pull` pixels.
fn anchored(first: &Grey, next: &Grey, r: [f32; 2], there: [f32; 2], pull: f32) -> [f32; 2] {
    let guess = [there[0] - r[0], there[1] - r[1]];
    match lucas_kanade(first, next, r, guess) {
        Some(v) if (v[0] - guess[0]).hypot(v[1] - guess[1]) < pull => [r[0] + v[0], r[1] + v[1]],
        _ => there,
    }
}

/// The reference point `r`'s window found in `next`, searched from each of `near` in turn,
/// when matching it back from where the search started lands within `limit` pixels of `r`.
fn found_again(
    first: &Grey,
    next: &Grey,
    r: [f32; 2],
    near: [[f32; 2]; 2],
    limit: f32,
) -> Option<[f32; 2]> {
    near.into_iter().find_map(|start| {
        let guess = [start[0] - r[0], start[1] - r[1]];
        let v = lucas_kanade(first, next, r, guess)?;
        let there = [r[0] + v[0], r[1] + v[1]];
        // Back from the search's start, not from its answer: a match the window does not
        // really make does not come home from there.
        let back = lucas_kanade(next, first, there, [-guess[0], -guess[1]])?;
        ((v[0] + back[0]).hypot(v[1] + back[1]) < limit).then_some(there)
    })
}

/// The displacement of the window around `p` from `a` to `b`, starting from `guess`
/// (iterative Lucas-Kanade).
fn lucas_kanade(a: &Grey, b: &Grey, p: [f32; 2], guess: [f32; 2]) -> Option<[f32; 2]> {
    let margin = (RADIUS + 2) as f32;
    if !a.inside(p[0], p[1], margin) {
        return None;
    }
    let side = (2 * RADIUS + 1) as usize;
    let mut grads = Vec::with_capacity(side * side);
    let (mut xx, mut xy, mut yy) = (0f32, 0f32, 0f32);
    for dy in -RADIUS..=RADIUS {
        for dx in -RADIUS..=RADIUS {
            let (x, y) = (p[0] + dx as f32, p[1] + dy as f32);
            let gx = (a.at(x + 1.0, y) - a.at(x - 1.0, y)) / 2.0;
            let gy = (a.at(x, y + 1.0) - a.at(x, y - 1.0)) / 2.0;
            grads.push((gx, gy, a.at(x, y)));
            xx += gx * gx;
            xy += gx * gy;
            yy += gy * gy;
        }
    }
    let det = xx * yy - xy * xy;
    if det.abs() < 1e-3 {
        return None;
    }
    let mut v = guess;
    for _ in 0..12 {
        if !b.inside(p[0] + v[0], p[1] + v[1], margin) {
            return None;
        }
        let (mut bx, mut by) = (0f32, 0f32);
        let mut k = 0;
        for dy in -RADIUS..=RADIUS {
            for dx in -RADIUS..=RADIUS {
                let (gx, gy, va) = grads[k];
                k += 1;
                let diff = b.at(p[0] + v[0] + dx as f32, p[1] + v[1] + dy as f32) - va;
                bx += diff * gx;
                by += diff * gy;
            }
        }
        let step = [-(yy * bx - xy * by) / det, -(-xy * bx + xx * by) / det];
        v = [v[0] + step[0], v[1] + step[1]];
        if step[0].hypot(step[1]) < 0.02 {
            break;
        }
    }
    (v[0].is_finite() && v[1].is_finite()).then_some(v)
}

fn median(v: &mut [f32]) -> f32 {
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage};

    use super::{Grey, Tracker};
    use crate::domain::{Face, FaceBox};

    /// A frame textured everywhere (two crossed waves), moved `shift` pixels to the right, with
    /// the square around the nose (130, 130) flat grey (`None`) or its texture moved `Some(d)`
    /// pixels further (a nose off the plane of the rest).
    fn frame(shift: f32, nose: Option<f32>) -> RgbImage {
        RgbImage::from_fn(260, 240, |x, y| {
            let on_nose = (105..155).contains(&x) && (105..155).contains(&y);
            let fx = x as f32 - shift - if on_nose { nose.unwrap_or(0.0) } else { 0.0 };
            let fy = y as f32;
            if on_nose && nose.is_none() {
                return Rgb([128; 3]);
            }
            let v = 128.0
                + 60.0 * (0.45 * fx + 0.3 * fy).sin() * (0.37 * fy - 0.2 * fx).sin()
                + 30.0 * (0.21 * fx - 0.53 * fy).sin();
            Rgb([v as u8; 3])
        })
    }

    /// The face of the test frames: nose at (130, 130), 60 px between the eyes.
    fn face() -> Face {
        let landmarks =
            [[100.0, 100.0], [160.0, 100.0], [130.0, 130.0], [108.0, 160.0], [152.0, 160.0]];
        Face { bbox: FaceBox { x: 70.0, y: 60.0, w: 120.0, h: 140.0 }, score: 0.9, landmarks }
    }

    /// A tracker whose nose points all slipped in its last frame.
    fn tracker() -> Tracker {
        let face = face();
        let mut tracker = Tracker::start(&frame(0.0, Some(0.0)), &face);
        tracker.track(&frame(0.0, Some(0.0)));
        assert!(tracker.nose_parallax().is_some_and(|n| n[0].hypot(n[1]) < 0.01));
        // The nose goes flat for a frame (a noisy frame, a colour change): its points slip.
        tracker.track(&frame(0.0, None));
        assert_eq!(tracker.nose_parallax(), None);
        tracker
    }

    #[test]
    fn nose_points_lost_are_found_again_on_the_plane_of_the_face() {
        // Back in view, where the rest of the face moved to: the nose is measured again, flat.
        let mut tracker = tracker();
        tracker.track(&frame(3.0, Some(0.0)));
        let nose = tracker.nose_parallax().expect("the nose points are found again");
        assert!(nose[0].hypot(nose[1]) < 0.01, "{nose:?}");
    }

    #[test]
    fn nose_points_found_again_never_show_a_movement() {
        // Back in view 6 px (0.1 eye distances) off the plane of the rest: a followed nose
        // would show that, but a point found again is taken back on the plane only.
        let mut tracker = tracker();
        tracker.track(&frame(0.0, Some(6.0)));
        let nose = tracker.nose_parallax();
        assert!(nose.is_none_or(|n| n[0].hypot(n[1]) < 0.02), "{nose:?}");
        // Back on the plane, it is found.
        tracker.track(&frame(0.0, Some(0.0)));
        assert!(tracker.nose_parallax().is_some());
    }

    /// A smooth random texture: random grey levels every `cell` pixels, bilinear in between.
    fn value_noise(x: f32, y: f32, cell: f32, seed: u32) -> f32 {
        let (gx, gy) = ((x / cell).floor(), (y / cell).floor());
        let (fx, fy) = (x / cell - gx, y / cell - gy);
        let at = |i: f32, j: f32| {
            let mut v = (i as i32 as u32).wrapping_mul(73_856_093)
                ^ (j as i32 as u32).wrapping_mul(19_349_663)
                ^ seed;
            v ^= v >> 13;
            v = v.wrapping_mul(0x5bd1_e995);
            v ^= v >> 15;
            (v & 0xff) as f32
        };
        let top = at(gx, gy) * (1.0 - fx) + at(gx + 1.0, gy) * fx;
        let bottom = at(gx, gy + 1.0) * (1.0 - fx) + at(gx + 1.0, gy + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// A face of random texture, fine and coarse, with a smoother, fainter nose square around
    /// (130, 130), all moved `down` pixels.
    fn nodding_frame(down: f32) -> RgbImage {
        flat_frame(down, 1.0)
    }

    /// [`nodding_frame`]'s picture moved `down` pixels and enlarged `zoom` times about (130, 130).
    fn flat_frame(down: f32, zoom: f32) -> RgbImage {
        RgbImage::from_fn(260, 240, |x, y| {
            let fx = 130.0 + (x as f32 - 130.0) / zoom;
            let fy = 130.0 + (y as f32 - down - 130.0) / zoom;
            let on_nose = (105.0..155.0).contains(&fx) && (105.0..155.0).contains(&fy);
            let v = if on_nose {
                96.0 + 0.25 * value_noise(fx, fy, 8.0, 7)
            } else {
                0.4 * value_noise(fx, fy, 5.0, 1)
                    + 0.3 * value_noise(fx, fy, 12.0, 2)
                    + 0.3 * value_noise(fx, fy, 24.0, 3)
            };
            Rgb([v as u8; 3])
        })
    }

    #[test]
    fn a_nose_that_moves_far_between_frames_is_still_followed() {
        // A nod at 8 frames/s: the face 14 px lower in the next frame. The smooth nose, followed
        // from where it was, comes home for 5 of its 12 points; followed from where the plane of
        // the rest of the face puts it, for all.
        let face = face();
        let mut tracker = Tracker::start(&nodding_frame(0.0), &face);
        for down in [0.0, 14.0, 28.0] {
            tracker.track(&nodding_frame(down));
            let followed = tracker.current[..tracker.nose].iter().flatten().count();
            assert_eq!(followed, tracker.nose, "{down} px");
            let nose = tracker.nose_parallax().expect("the nose is measured");
            assert!(nose[0].hypot(nose[1]) < 0.01, "{down} px: {nose:?}");
        }
    }

    #[test]
    fn a_flat_picture_moved_far_and_brought_closer_stays_flat() {
        // Brought 6 % closer in each frame as it moves 14 px: where the nose points slip, they
        // are looked for again where the plane of the picture puts them, not merely shifted.
        let face = face();
        let mut tracker = Tracker::start(&flat_frame(0.0, 1.0), &face);
        for (down, zoom) in [(14.0, 1.06), (28.0, 1.12), (42.0, 1.19)] {
            tracker.track(&flat_frame(down, zoom));
            let nose = tracker.nose_parallax().expect("the nose is measured");
            assert!(nose[0].hypot(nose[1]) < 0.01, "{down} px, {zoom}: {nose:?}");
        }
    }

    #[test]
    fn smoothing_spreads_a_point_by_the_binomial_kernel_and_keeps_edges_and_flat_areas() {
        let mut data = vec![16.0; 25];
        data[12] = 32.0;
        data[4] = 0.0;
        let smooth = Grey { w: 5, h: 5, data }.smoothed();
        let at = |x: usize, y: usize| smooth.data[y * 5 + x];
        // The centre's extra 16 spreads 4/16, 2/16 and 1/16 over its neighbours.
        assert_eq!((at(2, 2), at(1, 2), at(1, 1)), (20.0, 18.0, 17.0));
        assert_eq!(at(4, 4), 16.0);
        // The dark corner pixel, repeated past the edge: 9/16 of it stays in its place.
        assert_eq!(at(4, 0), 16.0 - 9.0);
        let tiny = Grey { w: 2, h: 1, data: vec![1.0, 2.0] };
        assert_eq!(tiny.smoothed().data, vec![1.0, 2.0]);
    }
}
