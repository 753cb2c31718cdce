//! The screen as a light source: during the challenge the screen shows a sequence of colours
//! drawn for this attempt, and the face in the frames must answer it. The kiosk shows them
//! (`kiosk::liveness_step`); `liveness check --flash` and `liveness eval` decide recorded
//! frames.
//!
//! - **In time**: the face's colour follows the drawn sequence, at a latency measured from the
//!   frames themselves. A recording, a splice of recorded clips or a feed made before the
//!   sequence was drawn shows another sequence, or none.
//! - **In space** (measured and kept in the evidence, not decided on): how much less of the
//!   screen's light the sides of the face, and its top and bottom, return than its middle. On
//!   the generated heads the figure is too noisy to tell a head from a flat print
//!   (docs/liveness.md), so the movement test alone answers "a head or a picture".
//!
//! What it cannot tell: a print or a card held up reflects the screen's colours in time as a
//! face does (the movement test refuses them), and a rigid mask reflects them too: its
//! material's colour divides out of the ratios used here.
//!
//! Safe to look at: each colour is held at least [`MIN_HOLD`] seconds, so the screen changes at
//! most twice a second, under WCAG 2.3.1's three flashes a second.

use std::fmt;
use std::str::FromStr;

use image::RgbImage;

use crate::domain::FaceBox;

/// The shortest a colour is held, seconds: at most 1 / this changes a second over the screen.
pub const MIN_HOLD: f32 = 0.5;
/// The longest a colour is held, seconds (the holds are drawn between the two, in tenths).
pub const MAX_HOLD: f32 = 0.9;
/// Colours in a sequence: about 11 s, longer than a brisk challenge.
pub const STEPS: usize = 16;
/// The most colours a sequence read from text may have.
pub const MAX_STEPS: usize = 64;
/// The camera's latency searched for, seconds: from the screen's change to the frame that
/// shows it (a webcam's exposure, transfer and queue).
pub const MAX_LATENCY: f32 = 0.35;
/// How closely the face's colour must follow the sequence (correlation of its chromaticity
/// with the screen's) for the flash to count as seen. In a noise-free model of a face lit by
/// another attempt's colours (a recording), 8 of 50,000 new sequences reached it over 6 s
/// (highest 0.869) and none over 8 s or 10 s (`flash::chance`, docs/liveness.md).
pub const MIN_CORRELATION: f32 = 0.8;
/// Under this change of the face's chromaticity per unit of the screen's (natural log), the
/// screen's light is too faint on the face to tell anything: the room's light drowns it, or
/// the face is far, or what is in front of the camera gives off its own light.
pub const MIN_GAIN: f32 = 0.01;
/// Frames needed inside the sequence to decide.
pub const MIN_SAMPLES: usize = 20;
/// Changes of colour those frames must span: a few seconds' worth (over fewer, a recording
/// under other colours follows by chance too often).
pub const MIN_CHANGES: usize = 6;

/// A colour the screen shows: one or two channels strong, the rest dim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tint {
    /// Red.
    Red,
    /// Green.
    Green,
    /// Blue.
    Blue,
    /// Cyan (green and blue).
    Cyan,
    /// Magenta (red and blue).
    Magenta,
    /// Yellow (red and green).
    Yellow,
}

impl Tint {
    /// All six.
    pub const ALL: [Tint; 6] =
        [Tint::Red, Tint::Green, Tint::Blue, Tint::Cyan, Tint::Magenta, Tint::Yellow];

    /// The colour as the screen draws it (sRGB).
    pub fn srgb(self) -> [u8; 3] {
        let (hi, lo) = (255, 72);
        match self {
            Tint::Red => [hi, lo, lo],
            Tint::Green => [lo, hi, lo],
            Tint::Blue => [lo, lo, hi],
            Tint::Cyan => [lo, hi, hi],
            Tint::Magenta => [hi, lo, hi],
            Tint::Yellow => [hi, hi, lo],
        }
    }

    /// The light it gives per channel, linear, full channel = 1.
    pub fn light(self) -> [f32; 3] {
        self.srgb().map(linear)
    }

    fn letter(self) -> char {
        ['r', 'g', 'b', 'c', 'm', 'y'][self as usize]
    }

    fn of_letter(letter: char) -> Option<Tint> {
        Tint::ALL.into_iter().find(|t| t.letter() == letter)
    }
}

/// The colours of one attempt, in order, each with how long it is held (seconds, in tenths),
/// from the attempt's start.
#[derive(Debug, Clone, PartialEq)]
pub struct FlashSequence(pub Vec<(Tint, f32)>);

impl FlashSequence {
    /// [`STEPS`] colours drawn from `random` (uniform 64-bit numbers), never the same twice in
    /// a row, each held between [`MIN_HOLD`] and [`MAX_HOLD`] seconds in tenths.
    pub fn draw(mut random: impl FnMut() -> u64) -> FlashSequence {
        let holds = ((MAX_HOLD - MIN_HOLD) * 10.0).round() as u64 + 1;
        let mut steps: Vec<(Tint, f32)> = Vec::with_capacity(STEPS);
        while steps.len() < STEPS {
            let tint = Tint::ALL[(random() % Tint::ALL.len() as u64) as usize];
            if steps.last().is_some_and(|(last, _)| *last == tint) {
                continue;
            }
            steps.push((tint, MIN_HOLD + (random() % holds) as f32 / 10.0));
        }
        FlashSequence(steps)
    }

    /// A sequence drawn from the operating system's random source (the kiosk's, per attempt).
    pub fn random() -> FlashSequence {
        FlashSequence::draw(super::challenge::os_random)
    }

    /// How long the whole sequence lasts, seconds.
    pub fn seconds(&self) -> f32 {
        self.0.iter().map(|(_, s)| s).sum()
    }

    /// How long after the start a face must have been seen for the colours to be decided:
    /// past the [`MIN_CHANGES`]-th change of colour and the longest latency searched (the
    /// whole sequence, when that is shorter).
    pub fn seconds_to_decide(&self) -> f32 {
        let changes: f32 = self.0.iter().take(MIN_CHANGES).map(|(_, hold)| hold).sum();
        (changes + MAX_LATENCY + 0.15).min(self.seconds())
    }

    /// The colour shown at `t` seconds from the start, and how far `t` is from the nearest
    /// change of colour (seconds); None outside the sequence.
    pub fn at(&self, t: f32) -> Option<(Tint, f32)> {
        let mut start = 0.0;
        for (tint, hold) in &self.0 {
            if t >= start && t < start + hold {
                return Some((*tint, (t - start).min(start + hold - t)));
            }
            start += hold;
        }
        None
    }

    /// The most changes of colour in any one second (WCAG 2.3.1 allows under three flashes),
    /// counting the first colour coming on and the screen going back at the end.
    pub fn changes_per_second(&self) -> usize {
        let mut changes = vec![0.0];
        let mut at = 0.0;
        for (_, hold) in &self.0 {
            at += hold;
            changes.push(at);
        }
        changes
            .iter()
            .map(|&from| changes.iter().filter(|&&c| c >= from && c < from + 1.0 - 1e-4).count())
            .max()
            .unwrap_or(0)
    }
}

impl fmt::Display for FlashSequence {
    /// `r0.6 g0.5 b0.8 ...`: each colour's letter and its hold in seconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> =
            self.0.iter().map(|(t, s)| format!("{}{s:.1}", t.letter())).collect();
        f.write_str(&words.join(" "))
    }
}

/// A flash sequence that could not be read: the word at fault (empty for no colour at all, or
/// for more than [`MAX_STEPS`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "flash sequence: {0:?} is not a colour (r, g, b, c, m or y) held 0.5-0.9 s in tenths, e.g. \
     r0.6 (1 to 64 of them)"
)]
pub struct BadFlash(pub String);

impl FromStr for FlashSequence {
    type Err = BadFlash;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let steps = s
            .split_whitespace()
            .map(|w| {
                let bad = || BadFlash(w.to_string());
                let mut chars = w.chars();
                let tint = chars.next().and_then(Tint::of_letter).ok_or_else(bad)?;
                let hold: f32 = chars.as_str().parse().map_err(|_| bad())?;
                // In tenths, as drawn: the evidence writes the sequence that was decided on.
                let tenths = (hold * 10.0).round();
                if (hold * 10.0 - tenths).abs() > 1e-3
                    || !(MIN_HOLD * 10.0..=MAX_HOLD * 10.0).contains(&tenths)
                {
                    return Err(bad());
                }
                Ok((tint, tenths / 10.0))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if steps.is_empty() || steps.len() > MAX_STEPS {
            return Err(BadFlash(String::new()));
        }
        Ok(FlashSequence(steps))
    }
}

/// Rows and columns of the grid the face is measured on.
const GRID: usize = 4;

/// One frame's face as the flash check sees it: the mean linear light of each channel in each
/// cell of a grid over the face's skin (between the brows and the chin, inside the cheeks).
#[derive(Debug, Clone, Copy)]
struct Sample {
    t: f32,
    cells: [[f32; 3]; GRID * GRID],
}

/// The face's answer to the screen over an attempt, frame by frame.
#[derive(Debug, Clone, Default)]
pub struct FlashTrace {
    samples: Vec<Sample>,
}

impl FlashTrace {
    /// Adds the frame taken `t` seconds after the sequence started, whose face is `face`. A
    /// face partly outside the frame (a cell of the grid with no pixel) is not measured.
    pub fn observe(&mut self, frame: &RgbImage, face: &FaceBox, t: f32) {
        let (x0, y0) = (face.x + 0.15 * face.w, face.y + 0.2 * face.h);
        let (cw, ch) = (0.7 * face.w / GRID as f32, 0.75 * face.h / GRID as f32);
        // Pixel ranges clipped to the frame (an odd box costs no more than the frame).
        let span = |from: f32, to: f32, size: u32| {
            let clip = |v: f32| v.clamp(0.0, size as f32) as u32;
            clip(from)..clip(to)
        };
        let mut cells = [[0.0f32; 3]; GRID * GRID];
        for (i, cell) in cells.iter_mut().enumerate() {
            let (gx, gy) = ((i % GRID) as f32, (i / GRID) as f32);
            let xs = span(x0 + gx * cw, x0 + (gx + 1.0) * cw, frame.width());
            let ys = span(y0 + gy * ch, y0 + (gy + 1.0) * ch, frame.height());
            let (mut sum, mut n) = ([0.0f32; 3], 0u32);
            for y in ys.step_by(2) {
                for x in xs.clone().step_by(2) {
                    let p = frame.get_pixel(x, y);
                    for c in 0..3 {
                        sum[c] += linear(p[c]);
                    }
                    n += 1;
                }
            }
            if n == 0 {
                return;
            }
            *cell = sum.map(|s| s / n as f32);
        }
        self.samples.push(Sample { t, cells });
    }

    /// The time of the last frame observed, seconds from the start.
    pub fn last_seen(&self) -> Option<f32> {
        self.samples.last().map(|s| s.t)
    }

    /// Frames observed.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// No frame observed.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// Why the face's answer to the colours refuses an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashRefusal {
    /// Too few frames with a face inside the sequence.
    TooShort,
    /// The screen's light was too faint on the face to tell.
    TooFaint,
    /// The face's colour changed, but not with the sequence drawn for this attempt.
    NotFollowed,
}

/// What the flash showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashVerdict {
    /// The face answered the sequence.
    Answered,
    /// Too few frames with a face inside the sequence.
    TooShort,
    /// The face's colour hardly changed at all: less than a face taking up the screen's
    /// colours at [`MIN_GAIN`] would show.
    TooFaint,
    /// The face's colour changed, but not with the sequence drawn for this attempt.
    NotFollowed,
}

impl FlashVerdict {
    /// Why this verdict refuses the attempt; None when the face answered.
    pub fn refusal(self) -> Option<FlashRefusal> {
        match self {
            FlashVerdict::Answered => None,
            FlashVerdict::TooShort => Some(FlashRefusal::TooShort),
            FlashVerdict::TooFaint => Some(FlashRefusal::TooFaint),
            FlashVerdict::NotFollowed => Some(FlashRefusal::NotFollowed),
        }
    }

    /// A stable snake_case code for JSON and reports.
    pub fn code(self) -> &'static str {
        match self {
            FlashVerdict::Answered => "answered",
            FlashVerdict::TooShort => "too_short",
            FlashVerdict::TooFaint => "too_faint",
            FlashVerdict::NotFollowed => "not_followed",
        }
    }
}

/// The flash check's figures, kept in the attempt's evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlashReport {
    /// The verdict.
    pub verdict: FlashVerdict,
    /// Frames inside the sequence.
    pub samples: usize,
    /// The camera's latency found (seconds), where the correlation is highest.
    pub latency: f32,
    /// The face's chromaticity against the screen's, at that latency (-1 to 1).
    pub correlation: f32,
    /// The face's change of chromaticity per unit of the screen's (natural log).
    pub gain: f32,
    /// How much less light the face's sides and its top and bottom return than its middle
    /// (relative), across and along the face: evidence only, not decided on.
    pub curvature: [f32; 2],
}

/// Decides from `trace` whether the face answered `sequence`.
pub fn decide(sequence: &FlashSequence, trace: &FlashTrace) -> FlashReport {
    let mut fits: Vec<(f32, Fit)> = Vec::new();
    let mut lag = 0.0;
    while lag <= MAX_LATENCY + 1e-4 {
        fits.extend(follow(sequence, trace, lag).map(|fit| (lag, fit)));
        lag += 1.0 / 60.0;
    }
    // Frames sample the screen's changes once a frame period, so neighbouring latencies fit
    // almost equally well: the middle of the best ones is the camera's.
    let top = fits.iter().map(|(_, f)| f.correlation).fold(f32::NEG_INFINITY, f32::max);
    let near: Vec<usize> =
        (0..fits.len()).filter(|&i| fits[i].1.correlation >= top - 0.005).collect();
    let best = near.get(near.len() / 2).map(|&i| fits.swap_remove(i));
    let Some((latency, fit)) = best else {
        return FlashReport {
            verdict: FlashVerdict::TooShort,
            samples: trace.len(),
            latency: 0.0,
            correlation: 0.0,
            gain: 0.0,
            curvature: [0.0; 2],
        };
    };
    let curvature = curvature(sequence, trace, latency);
    let verdict = if fit.correlation >= MIN_CORRELATION && fit.gain >= MIN_GAIN {
        FlashVerdict::Answered
    } else if fit.spread < MIN_GAIN * fit.shown_spread {
        FlashVerdict::TooFaint
    } else {
        FlashVerdict::NotFollowed
    };
    FlashReport {
        verdict,
        samples: fit.samples,
        latency,
        correlation: fit.correlation,
        gain: fit.gain,
        curvature,
    }
}

/// How the face's chromaticity followed the screen's at one latency.
struct Fit {
    /// Frames used.
    samples: usize,
    /// Their correlation, -1 to 1.
    correlation: f32,
    /// The face's change per unit of the screen's (the regression's slope).
    gain: f32,
    /// The face's own change of chromaticity (its standard deviation, natural log), whatever
    /// caused it.
    spread: f32,
    /// The screen's (the same measure).
    shown_spread: f32,
}

/// The samples inside the sequence at `lag`, away from its changes (a frame taken while the
/// screen changed is lit by both colours), with the colour that lit each.
fn samples_lit(sequence: &FlashSequence, trace: &FlashTrace, lag: f32) -> Vec<(Tint, Sample)> {
    trace
        .samples
        .iter()
        .filter_map(|s| match sequence.at(s.t - lag) {
            Some((tint, margin)) if margin >= 0.05 => Some((tint, *s)),
            _ => None,
        })
        .collect()
}

/// How the face's chromaticity follows the screen's at `lag`, each detrended over time (the
/// camera's own white balance and exposure drift slowly; the screen's steps are fast).
fn follow(sequence: &FlashSequence, trace: &FlashTrace, lag: f32) -> Option<Fit> {
    let lit = samples_lit(sequence, trace, lag);
    let changes = lit.windows(2).filter(|w| w[0].0 != w[1].0).count();
    if lit.len() < MIN_SAMPLES || changes < MIN_CHANGES {
        return None;
    }
    let chroma = |rgb: [f32; 3]| {
        let [r, g, b] = rgb.map(|v| v.max(1e-4).ln());
        [r - g, b - g]
    };
    let times: Vec<f32> = lit.iter().map(|(_, s)| s.t).collect();
    let mut seen = [Vec::new(), Vec::new()];
    let mut shown = [Vec::new(), Vec::new()];
    for (tint, s) in &lit {
        let mean = face_mean(&s.cells);
        let (o, e) = (chroma(mean), chroma(tint.light()));
        for k in 0..2 {
            seen[k].push(o[k]);
            shown[k].push(e[k]);
        }
    }
    let (mut oe, mut oo, mut ee) = (0.0f32, 0.0f32, 0.0f32);
    for k in 0..2 {
        detrend(&times, &mut seen[k]);
        detrend(&times, &mut shown[k]);
        for (o, e) in seen[k].iter().zip(&shown[k]) {
            oe += o * e;
            oo += o * o;
            ee += e * e;
        }
    }
    if ee <= 0.0 {
        return None;
    }
    let n = lit.len() as f32;
    Some(Fit {
        samples: lit.len(),
        correlation: if oo > 0.0 { oe / (oo * ee).sqrt() } else { 0.0 },
        gain: oe / ee,
        spread: (oo / n).sqrt(),
        shown_spread: (ee / n).sqrt(),
    })
}

/// How much less of each colour's light the edges of the face return than its middle, across
/// (x) and along (y): the quadratic terms of a fit of the answer over the grid, relative to
/// the answer in the middle. Under light from the screen a face's sides turn away from it and
/// a flat picture's do not; measured, not yet decided on (see the module's notes).
///
/// Each cell's answer is measured where the screen changes colour, between the last frame
/// before and the first after (a fraction of a second apart, so the face has hardly moved and
/// its own colours and the room's light divide out): the change of the cell's light in each
/// channel, in natural log, per unit of change of the screen's light in that channel.
fn curvature(sequence: &FlashSequence, trace: &FlashTrace, lag: f32) -> [f32; 2] {
    let lit = samples_lit(sequence, trace, lag);
    let mut sums = [0.0f32; GRID * GRID];
    let mut count = 0usize;
    for pair in lit.windows(2) {
        let ((before, a), (after, b)) = (pair[0], pair[1]);
        if before == after || b.t - a.t > 0.3 {
            continue;
        }
        let (from, to) = (before.light(), after.light());
        for c in 0..3 {
            let step = to[c] - from[c];
            if step.abs() < 0.3 {
                continue;
            }
            for (sum, (ca, cb)) in sums.iter_mut().zip(a.cells.iter().zip(&b.cells)) {
                *sum += (cb[c].max(1e-4) / ca[c].max(1e-4)).ln() / step;
            }
            count += 1;
        }
    }
    if count < 6 {
        return [0.0; 2];
    }
    let answer: Vec<f32> = sums.iter().map(|s| s / count as f32).collect();
    // answer ≈ a + b x + c y + d x² + e y², x and y from -1 to 1 over the grid's cells.
    let coordinate = |g: usize| (2.0 * g as f32 + 1.0) / GRID as f32 - 1.0;
    let rows: Vec<[f32; 5]> = (0..GRID * GRID)
        .map(|i| {
            let (x, y) = (coordinate(i % GRID), coordinate(i / GRID));
            [1.0, x, y, x * x, y * y]
        })
        .collect();
    let Some(p) = least_squares(&rows, &answer) else { return [0.0; 2] };
    if p[0] <= 0.0 {
        return [0.0; 2];
    }
    [-p[3] / p[0], -p[4] / p[0]]
}

/// The mean of the grid's cells: the face's mean light per channel.
fn face_mean(cells: &[[f32; 3]; GRID * GRID]) -> [f32; 3] {
    let mut m = [0.0f32; 3];
    for cell in cells {
        for c in 0..3 {
            m[c] += cell[c] / (GRID * GRID) as f32;
        }
    }
    m
}

/// Removes the least-squares line over `t` from `v`.
fn detrend(t: &[f32], v: &mut [f32]) {
    let n = t.len() as f32;
    let (mt, mv) = (t.iter().sum::<f32>() / n, v.iter().sum::<f32>() / n);
    let (mut tv, mut tt) = (0.0f32, 0.0f32);
    for (ti, vi) in t.iter().zip(v.iter()) {
        tv += (ti - mt) * (vi - mv);
        tt += (ti - mt) * (ti - mt);
    }
    let slope = if tt > 0.0 { tv / tt } else { 0.0 };
    for (ti, vi) in t.iter().zip(v.iter_mut()) {
        *vi -= mv + slope * (ti - mt);
    }
}

/// The least-squares solution of `rows · p = values` (nalgebra's SVD); None when it has no
/// finite one.
fn least_squares<const N: usize>(rows: &[[f32; N]], values: &[f32]) -> Option<[f32; N]> {
    let a = nalgebra::DMatrix::from_fn(rows.len(), N, |i, j| f64::from(rows[i][j]));
    let b = nalgebra::DVector::from_fn(values.len(), |i, _| f64::from(values[i]));
    let p = a.svd(true, true).solve(&b, 1e-12).ok()?;
    let p: [f32; N] = std::array::from_fn(|i| p[i] as f32);
    p.iter().all(|v| v.is_finite()).then_some(p)
}

/// Linear light (0 to 1, clamped) as an sRGB value: [`linear`]'s inverse.
pub fn srgb(l: f32) -> u8 {
    let l = l.clamp(0.0, 1.0);
    let s = if l <= 0.003_130_8 { l * 12.92 } else { 1.055 * l.powf(1.0 / 2.4) - 0.055 };
    (s * 255.0 + 0.5) as u8
}

/// An sRGB value as linear light, 0 to 1.
pub fn linear(v: u8) -> f32 {
    let s = f32::from(v) / 255.0;
    if s <= 0.040_45 {
        s / 12.92
    } else {
        ((s + 0.055) / 1.055).powf(2.4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible source of 64-bit numbers for the tests' draws.
    pub(super) fn lcg(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 33
        }
    }

    #[test]
    fn sequences_never_repeat_a_colour_and_stay_under_three_changes_a_second() {
        for seed in 0..500 {
            let s = FlashSequence::draw(lcg(seed));
            assert_eq!(s.0.len(), STEPS);
            assert!(s.0.windows(2).all(|w| w[0].0 != w[1].0), "{s}");
            assert!(s.0.iter().all(|(_, h)| (MIN_HOLD..=MAX_HOLD + 1e-4).contains(h)), "{s}");
            assert!(s.changes_per_second() <= 2, "{s}: {}", s.changes_per_second());
            assert_eq!(s.to_string().parse::<FlashSequence>().unwrap().to_string(), s.to_string());
        }
        for bad in ["r0.6 x0.5", "r0.2", "r0.55", "g1", "b0.6s", ""] {
            assert!(bad.parse::<FlashSequence>().is_err(), "{bad:?}");
        }
        assert_eq!("c.7 m0.70".parse::<FlashSequence>().unwrap().to_string(), "c0.7 m0.7");
        assert!(["r0.5 g0.5"; MAX_STEPS / 2].join(" ").parse::<FlashSequence>().is_ok());
        assert!(["r0.5 g0.5"; MAX_STEPS / 2 + 1].join(" ").parse::<FlashSequence>().is_err());
    }

    /// A face-sized patch lit by the screen: each pixel's light is its albedo times the room's
    /// light plus the screen's times `shape(x, y)` (how much the surface there faces the
    /// screen, x and y from -1 to 1 over the patch).
    fn trace_of(
        seen: &FlashSequence,
        strength: f32,
        shape: impl Fn(f32, f32) -> f32,
    ) -> FlashTrace {
        let face = FaceBox { x: 20.0, y: 20.0, w: 160.0, h: 200.0 };
        let mut trace = FlashTrace::default();
        let mut noise = lcg(9);
        for i in 0..150 {
            let t = i as f32 / 15.0;
            // The frame shows the colour on screen 0.1 s before (the camera's latency).
            let light = seen.at(t - 0.1).map_or([0.0; 3], |(tint, _)| tint.light());
            let frame = RgbImage::from_fn(200, 240, |x, y| {
                let (u, v) = ((x as f32 - 100.0) / 80.0, (y as f32 - 120.0) / 100.0);
                let albedo = [0.55, 0.38, 0.30];
                image::Rgb([0, 1, 2].map(|c| {
                    let jitter = (noise() % 7) as f32 / 1000.0;
                    let l = albedo[c] * (0.5 + strength * light[c] * shape(u, v)) + jitter;
                    (l.clamp(0.0, 1.0).powf(1.0 / 2.2) * 255.0) as u8
                }))
            });
            trace.observe(&frame, &face, t);
        }
        trace
    }

    #[test]
    fn a_curved_face_answers_its_own_sequence_only() {
        let shown = FlashSequence::draw(lcg(1));
        let other = FlashSequence::draw(lcg(2));
        let dome = |u: f32, v: f32| (1.0 - 0.35 * u * u - 0.25 * v * v).max(0.0);
        let own = decide(&shown, &trace_of(&shown, 0.15, dome));
        assert_eq!(own.verdict, FlashVerdict::Answered, "{own:?}");
        assert!((own.latency - 0.1).abs() < 0.05, "{own:?}");
        let replay = decide(&shown, &trace_of(&other, 0.15, dome));
        assert_eq!(replay.verdict, FlashVerdict::NotFollowed, "{replay:?}");
        let dark = decide(&shown, &trace_of(&shown, 0.0, dome));
        assert_eq!(dark.verdict, FlashVerdict::TooFaint, "{dark:?}");
    }

    #[test]
    fn the_fall_off_to_the_sides_is_measured() {
        let shown = FlashSequence::draw(lcg(3));
        let plane = decide(&shown, &trace_of(&shown, 0.15, |_, _| 1.0));
        assert!(plane.curvature.iter().all(|c| c.abs() < 0.05), "{plane:?}");
        let dome = |u: f32, v: f32| 1.0 - 0.35 * u * u - 0.25 * v * v;
        let face = decide(&shown, &trace_of(&shown, 0.15, dome));
        assert!(face.curvature[0] > 0.15 && face.curvature[1] > 0.1, "{face:?}");
        assert!(face.curvature[0] > face.curvature[1], "{face:?}");
    }
}

#[cfg(test)]
mod chance {
    use super::*;

    /// A trace whose every cell is `colour(t)`, at 15 frames/s for `seconds`.
    fn uniform(seconds: f32, colour: impl Fn(f32) -> [f32; 3]) -> FlashTrace {
        let samples = (0..(seconds * 15.0) as usize)
            .map(|i| {
                let t = i as f32 / 15.0;
                Sample { t, cells: [colour(t); GRID * GRID] }
            })
            .collect();
        FlashTrace { samples }
    }

    /// How often a face lit by another attempt's colours (a recording, or clips spliced from
    /// one), as clearly as a live face is lit, follows a newly drawn sequence over `seconds`:
    /// the best correlation over the searched latencies, for `draws` pairs of sequences. A
    /// model: uniform cells, no noise, no automatic exposure, one recording started with the
    /// attempt.
    fn chance(seconds: f32, draws: usize) -> (f32, f32) {
        let mut next = super::tests::lcg(77);
        let mut highest = f32::NEG_INFINITY;
        let mut passed = 0;
        for _ in 0..draws {
            let drawn = FlashSequence::draw(&mut next);
            let recorded = FlashSequence::draw(&mut next);
            let trace = uniform(seconds, |t| {
                let l = recorded.at(t - 0.15).map_or([0.0; 3], |(tint, _)| tint.light());
                [0.3 * (1.0 + 0.1 * l[0]), 0.2 * (1.0 + 0.1 * l[1]), 0.15 * (1.0 + 0.1 * l[2])]
            });
            let correlation = decide(&drawn, &trace).correlation;
            highest = highest.max(correlation);
            passed += usize::from(correlation >= MIN_CORRELATION);
        }
        (passed as f32 / draws as f32, highest)
    }

    #[test]
    fn another_attempts_colours_follow_none_of_4000_new_sequences() {
        // The shortest generated attempt lasts about 6 s; a kiosk's is longer.
        let (rate, highest) = chance(6.0, 4000);
        assert_eq!(rate, 0.0, "highest correlation {highest}");
        assert!(highest < MIN_CORRELATION - 0.02, "{highest}");
    }

    #[test]
    #[ignore = "the figure in docs/liveness.md: cargo test --release --lib flash::chance -- --ignored --nocapture"]
    fn chance_of_another_attempts_colours() {
        for seconds in [6.0, 8.0, 10.0] {
            let (rate, highest) = chance(seconds, 50_000);
            eprintln!("{seconds} s: {rate} of 50000 followed, highest correlation {highest:.3}");
        }
    }
}
