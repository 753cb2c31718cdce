//! Plane geometry for the liveness checks: homographies (exact from four points, or the
//! least-squares fit to many, [`fit_plane`]: the plane a set of tracked points moved with,
//! against which [`super::flow`] measures the nose), and where the detector's nose landmark
//! sits between the eyes and mouth corners ([`nose_offset`]).
//!
//! A flat picture (a print, a phone screen, the ID card) moves all its points by one
//! homography however it is tilted; a turning head moves its nose and cheeks by different
//! amounts, which no homography reproduces. Offsets work on raw camera frames (not
//! mirrored): the person's own left is the image's right. The linear algebra (the 8×8
//! solves, 3×3 products) is nalgebra's.

use nalgebra::{Matrix3, SMatrix, SVector, Vector3};

use crate::domain::Landmarks;

/// The eight unknowns of a homography with `h33` fixed at 1, and their systems.
type Vector8 = SVector<f64, 8>;
type Matrix8 = SMatrix<f64, 8, 8>;

/// A 3×3 projective map of the plane, `h33` fixed at 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(Matrix3<f64>);

impl Homography {
    /// The map taking each `from[i]` onto `to[i]`; `None` when three of the points are
    /// (nearly) on one line, so no unique map exists.
    pub fn fit(from: &[[f32; 2]; 4], to: &[[f32; 2]; 4]) -> Option<Homography> {
        let mut a = Matrix8::zeros();
        let mut b = Vector8::zeros();
        for (i, (p, q)) in from.iter().zip(to).enumerate() {
            let widen = |p: &[f32; 2]| (f64::from(p[0]), f64::from(p[1]));
            for (k, (row, rhs)) in dlt_rows(widen(p), widen(q)).into_iter().enumerate() {
                a.set_row(2 * i + k, &row.transpose());
                b[2 * i + k] = rhs;
            }
        }
        solve(a, b).map(Homography::from_unknowns)
    }

    /// Where the map sends `p`; `None` for a point it sends to infinity.
    pub fn apply(&self, p: [f32; 2]) -> Option<[f32; 2]> {
        let r = self.0 * Vector3::new(f64::from(p[0]), f64::from(p[1]), 1.0);
        if r.z.abs() < 1e-9 {
            return None;
        }
        Some([(r.x / r.z) as f32, (r.y / r.z) as f32])
    }

    /// The least-squares map that best takes `from` onto `to` (at least four pairs, not all
    /// on a line); the points are centred and scaled first so the normal equations stay well
    /// conditioned.
    pub fn fit_least_squares(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<Homography> {
        if from.len() != to.len() || from.len() < 4 {
            return None;
        }
        let (nf, nt) = (Normaliser::of(from)?, Normaliser::of(to)?);
        let mut ata = Matrix8::zeros();
        let mut atb = Vector8::zeros();
        for (p, q) in from.iter().zip(to) {
            for (row, rhs) in dlt_rows(nf.apply(*p), nt.apply(*q)) {
                ata += row * row.transpose();
                atb += row * rhs;
            }
        }
        let inner = Homography::from_unknowns(solve(ata, atb)?).0;
        // Undo the normalisations: H = Nt^-1 · inner · Nf.
        let m = nt.inverse() * inner * nf.matrix();
        (m.m33.abs() > 1e-12).then(|| Homography(m / m.m33))
    }

    fn from_unknowns(h: Vector8) -> Homography {
        Homography(Matrix3::new(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0))
    }
}

/// The two rows of the direct linear transform (`h33` = 1) that say `p` goes to `q`, each
/// with its right-hand side.
fn dlt_rows((x, y): (f64, f64), (u, v): (f64, f64)) -> [(Vector8, f64); 2] {
    [
        (Vector8::from([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y]), u),
        (Vector8::from([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y]), v),
    ]
}

/// `a · h = b` solved by LU with partial pivoting; `None` when a pivot is (nearly) zero, the
/// points being (nearly) on one line.
fn solve(a: Matrix8, b: Vector8) -> Option<Vector8> {
    let lu = a.lu();
    if lu.u().diagonal().iter().any(|d| d.abs() < 1e-12) {
        return None;
    }
    lu.solve(&b).filter(|h| h.iter().all(|v| v.is_finite()))
}

/// Centres points on their mean and scales them to a mean distance of √2 (Hartley).
struct Normaliser {
    cx: f64,
    cy: f64,
    s: f64,
}

impl Normaliser {
    fn of(points: &[[f32; 2]]) -> Option<Normaliser> {
        let n = points.len() as f64;
        let cx = points.iter().map(|p| f64::from(p[0])).sum::<f64>() / n;
        let cy = points.iter().map(|p| f64::from(p[1])).sum::<f64>() / n;
        let spread =
            points.iter().map(|p| (f64::from(p[0]) - cx).hypot(f64::from(p[1]) - cy)).sum::<f64>()
                / n;
        (spread > 1e-9).then(|| Normaliser { cx, cy, s: std::f64::consts::SQRT_2 / spread })
    }
    fn apply(&self, p: [f32; 2]) -> (f64, f64) {
        ((f64::from(p[0]) - self.cx) * self.s, (f64::from(p[1]) - self.cy) * self.s)
    }
    fn matrix(&self) -> Matrix3<f64> {
        Matrix3::new(self.s, 0.0, -self.s * self.cx, 0.0, self.s, -self.s * self.cy, 0.0, 0.0, 1.0)
    }
    fn inverse(&self) -> Matrix3<f64> {
        Matrix3::new(1.0 / self.s, 0.0, self.cx, 0.0, 1.0 / self.s, self.cy, 0.0, 0.0, 1.0)
    }
}

/// The plane that best explains points that moved from `from` to `to`, leaving out the 20 %
/// that fit it worst (slipped points); `None` with fewer than 8 points.
pub fn fit_plane(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<Homography> {
    (from.len() >= 8).then(|| fit_trimmed(from, to, TRIM)).flatten()
}

/// Share of the points left out of a plane's second fit.
const TRIM: f32 = 0.2;

fn kept(n: usize, trim: f32) -> usize {
    ((n as f32 * (1.0 - trim)).ceil() as usize).clamp(4, n)
}

fn misses(h: &Homography, from: &[[f32; 2]], to: &[[f32; 2]]) -> Vec<f32> {
    from.iter()
        .zip(to)
        .map(|(p, q)| h.apply(*p).map_or(f32::INFINITY, |r| (r[0] - q[0]).hypot(r[1] - q[1])))
        .collect()
}

/// Fit once, leave out the worst `trim` share, fit again on the rest: a few slipped points
/// must not bend the plane.
fn fit_trimmed(from: &[[f32; 2]], to: &[[f32; 2]], trim: f32) -> Option<Homography> {
    let first = misses(&Homography::fit_least_squares(from, to)?, from, to);
    let mut order: Vec<usize> = (0..from.len()).collect();
    order.sort_by(|&a, &b| first[a].total_cmp(&first[b]));
    let (kept_from, kept_to): (Vec<[f32; 2]>, Vec<[f32; 2]>) =
        order[..kept(from.len(), trim)].iter().map(|&i| (from[i], to[i])).unzip();
    Homography::fit_least_squares(&kept_from, &kept_to)
}

/// The four points that lie near one plane on a face: both eyes and both mouth corners.
pub fn planar_points(l: &Landmarks) -> [[f32; 2]; 4] {
    [l[0], l[1], l[3], l[4]]
}

/// Distance between the eyes, in pixels.
pub fn eye_distance(l: &Landmarks) -> f32 {
    (l[1][0] - l[0][0]).hypot(l[1][1] - l[0][1])
}

/// `v` turned by the face's roll, so that x runs along its eye line and y down its middle.
fn unrolled(l: &Landmarks, v: [f32; 2]) -> [f32; 2] {
    let angle = (l[1][1] - l[0][1]).atan2(l[1][0] - l[0][0]);
    let (s, c) = angle.sin_cos();
    [v[0] * c + v[1] * s, -v[0] * s + v[1] * c]
}

/// The size a face's offsets are measured in: the mean of the eye distance and the
/// eye-to-mouth distance (one shrinks when the head turns, the other when it nods).
pub fn face_scale(l: &Landmarks) -> f32 {
    let eyes = [(l[0][0] + l[1][0]) / 2.0, (l[0][1] + l[1][1]) / 2.0];
    let mouth = [(l[3][0] + l[4][0]) / 2.0, (l[3][1] + l[4][1]) / 2.0];
    (eye_distance(l) + (mouth[0] - eyes[0]).hypot(mouth[1] - eyes[1])) / 2.0
}

/// Where the nose tip sits against the centre of the eyes and mouth corners, in face
/// units ([`face_scale`]), along the eye line (x, toward the image's right) and down the
/// face (y). About (0, 0.1) for a frontal face; its change against the frontal frame is the
/// head's movement.
pub fn nose_offset(l: &Landmarks) -> [f32; 2] {
    let centre = planar_points(l)
        .iter()
        .fold([0.0, 0.0], |acc, p| [acc[0] + p[0] / 4.0, acc[1] + p[1] / 4.0]);
    let v = unrolled(l, [l[2][0] - centre[0], l[2][1] - centre[1]]);
    let scale = face_scale(l).max(1.0);
    [v[0] / scale, v[1] / scale]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A head's five points in millimetres (x right in the image, y down, z toward the
    /// camera), from average adult proportions: eyes 63 mm apart, mouth corners 50 mm apart
    /// 70 mm below the eyes, nose tip 40 mm below the eyes and 22 mm in front of their plane
    /// (the mouth corners sit 8 mm behind it, as on a real face).
    pub(crate) const HEAD: [[f32; 3]; 5] = [
        [-31.5, 0.0, 0.0],
        [31.5, 0.0, 0.0],
        [0.0, 40.0, 22.0],
        [-25.0, 70.0, -8.0],
        [25.0, 70.0, -8.0],
    ];

    /// The head turned by `yaw` (positive: toward the image's right, the person's own left)
    /// and `pitch` (positive: chin up) about a centre 80 mm behind the eyes, seen by a
    /// pinhole camera (focal 600 px) from `distance` mm.
    pub(crate) fn project(
        points: &[[f32; 3]; 5],
        yaw: f32,
        pitch: f32,
        distance: f32,
    ) -> Landmarks {
        let (sy, cy) = yaw.to_radians().sin_cos();
        let (sp, cp) = pitch.to_radians().sin_cos();
        points.map(|[x, y, z]| {
            let z = z + 80.0;
            // Yaw about the vertical axis: +z (toward the camera) turns toward +x.
            let (x, z) = (x * cy + z * sy, -x * sy + z * cy);
            // Pitch about the horizontal axis: +z turns toward -y (up in the image).
            let (y, z) = (y * cp - z * sp, y * sp + z * cp);
            let depth = distance - (z - 80.0);
            [320.0 + 600.0 * x / depth, 240.0 + 600.0 * y / depth]
        })
    }

    /// The same five points printed flat (z = 0), the print turned like a head.
    pub(crate) fn flat() -> [[f32; 3]; 5] {
        HEAD.map(|[x, y, _]| [x, y, -80.0])
    }

    #[test]
    fn a_homography_maps_its_own_points_and_refuses_a_line() {
        let from = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let to = [[5.0, 5.0], [25.0, 7.0], [22.0, 30.0], [4.0, 26.0]];
        let h = Homography::fit(&from, &to).unwrap();
        for (p, q) in from.iter().zip(&to) {
            let r = h.apply(*p).unwrap();
            assert!((r[0] - q[0]).abs() < 1e-3 && (r[1] - q[1]).abs() < 1e-3, "{r:?} {q:?}");
        }
        let line = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        assert!(Homography::fit(&line, &to).is_none());
    }

    /// Points over a head's face (a paraboloid 150 mm wide and 40 mm deep, with a nose 25 mm
    /// high) or, `flat`, the same points on a plane, in the frame of [`HEAD`].
    pub(crate) fn cloud(flat: bool) -> Vec<[f32; 3]> {
        let mut points = Vec::new();
        for j in 0..9 {
            for i in 0..9 {
                let (x, y) = (-60.0 + 15.0 * i as f32, -30.0 + 13.0 * j as f32);
                let r2 = (x / 75.0).powi(2) + ((y - 35.0) / 95.0).powi(2);
                let nose =
                    25.0 * (-(x / 12.0).powi(2) / 2.0 - ((y - 32.0) / 18.0).powi(2) / 2.0).exp();
                let z = if flat { 0.0 } else { 40.0 * (1.0 - r2) - 30.0 + nose };
                points.push([x, y, z]);
            }
        }
        points
    }

    /// `points` turned and seen like [`project`]'s.
    pub(crate) fn project_all(
        points: &[[f32; 3]],
        yaw: f32,
        pitch: f32,
        distance: f32,
    ) -> Vec<[f32; 2]> {
        points.iter().map(|&p| project(&[p; 5], yaw, pitch, distance)[0]).collect()
    }

    /// Where the nose tip went off the plane of the face's other points, in eye distances,
    /// for a head (or, `flat`, a picture of one) 500 mm away turned to (yaw, pitch) and 50 mm
    /// nearer, as a person leaning in.
    pub(crate) fn nose_miss(flat: bool, yaw: f32, pitch: f32) -> [f32; 2] {
        nose_miss_at(flat, yaw, pitch, 450.0)
    }

    pub(crate) fn nose_miss_at(flat: bool, yaw: f32, pitch: f32, distance: f32) -> [f32; 2] {
        let c = cloud(flat);
        let iod = eye_distance(&project(&HEAD, 0.0, 0.0, 500.0));
        let moved = project_all(&c, yaw, pitch, distance);
        let plane = fit_plane(&project_all(&c, 0.0, 0.0, 500.0), &moved).unwrap();
        let tip = if flat { [0.0, 40.0, 0.0] } else { HEAD[2] };
        let before = project_all(&[tip], 0.0, 0.0, 500.0)[0];
        let after = project_all(&[tip], yaw, pitch, distance)[0];
        let predicted = plane.apply(before).unwrap();
        [(after[0] - predicted[0]) / iod, (after[1] - predicted[1]) / iod]
    }

    #[test]
    fn a_turning_head_moves_its_nose_off_the_face_plane_a_flat_picture_does_not() {
        for (yaw, pitch) in [(12.0, 0.0), (-20.0, 0.0), (0.0, 12.0), (0.0, -20.0)] {
            let head = nose_miss(false, yaw, pitch);
            // Toward the image's right for the person's left, up for chin up.
            let along = head[0] * yaw.signum() - head[1] * pitch.signum();
            assert!(along > 0.06, "head {yaw} {pitch}: {head:?}");
            let print = nose_miss(true, yaw * 2.0, pitch * 2.0);
            assert!(print[0].hypot(print[1]) < 1e-3, "print {yaw} {pitch}: {print:?}");
        }
        let still = nose_miss_at(false, 0.0, 0.0, 500.0);
        assert!(still[0].hypot(still[1]) < 1e-4);
    }

    #[test]
    fn a_few_slipped_points_do_not_bend_the_plane() {
        let c = cloud(true);
        let from = project_all(&c, 0.0, 0.0, 500.0);
        let mut to = project_all(&c, 25.0, 10.0, 400.0);
        let exact = to.clone();
        for p in to.iter_mut().step_by(12) {
            p[0] += 9.0;
        }
        let plane = fit_plane(&from, &to).unwrap();
        for (p, q) in from.iter().zip(&exact) {
            let r = plane.apply(*p).unwrap();
            assert!((r[0] - q[0]).hypot(r[1] - q[1]) < 0.05, "{r:?} {q:?}");
        }
        assert!(fit_plane(&from[..7], &to[..7]).is_none());
    }

    #[test]
    fn the_nose_offset_follows_the_turn_not_the_distance_or_roll() {
        let frontal = nose_offset(&project(&HEAD, 0.0, 0.0, 500.0));
        let near = nose_offset(&project(&HEAD, 0.0, 0.0, 300.0));
        assert!((frontal[0] - near[0]).abs() < 0.01 && (frontal[1] - near[1]).abs() < 0.03);
        let left = nose_offset(&project(&HEAD, 20.0, 0.0, 500.0));
        let up = nose_offset(&project(&HEAD, 0.0, 20.0, 500.0));
        assert!(left[0] - frontal[0] > 0.15, "{left:?} {frontal:?}");
        assert!(frontal[1] - up[1] > 0.1, "{up:?} {frontal:?}");
        // A rolled face: the same offset.
        let l = project(&HEAD, 20.0, 0.0, 500.0);
        let (s, c) = 0.3f32.sin_cos();
        let rolled = l.map(|[x, y]| [x * c - y * s, x * s + y * c]);
        let r = nose_offset(&rolled);
        assert!((r[0] - left[0]).abs() < 1e-3 && (r[1] - left[1]).abs() < 1e-3);
        // A flat print turned 30°: the nose offset hardly moves.
        let print = flat();
        let flat_frontal = nose_offset(&project(&print, 0.0, 0.0, 500.0));
        let flat_turned = nose_offset(&project(&print, 30.0, 0.0, 500.0));
        assert!((flat_turned[0] - flat_frontal[0]).abs() < 0.03, "{flat_turned:?}");
    }
}
