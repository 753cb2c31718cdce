//! How a generated liveness session is filmed and how briskly its person moves: the cheap
//! webcams and the people a bank branch really has (`liveness generate --condition`). A
//! condition changes the camera (frame rate, resolution, noise, compression, light), the
//! pace (how long a turn takes, how long a person waits between steps) or the head (turning on
//! a neck); `clean` is the generator's own camera, pace and head.

use std::fmt;
use std::str::FromStr;

use image::{imageops, Rgb, RgbImage};

use crate::synthetic_card::Rng;
use facematch::liveness::flash::{linear, srgb};

/// How long a person takes for each part of a movement, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// From the centre out to the movement's peak: one of four evenly spaced values from
    /// `.0` to `.1`, drawn per movement (and the same back).
    pub out: (f32, f32),
    /// Held at the peak.
    pub hold: f32,
    /// Still at the centre between one movement and the next.
    pub pause: f32,
}

/// The generator's own pace: out in 0.47-0.67 s, held 0.2 s, a pause of 0.27 s.
pub const USUAL_PACE: Pace = Pace { out: (7.0 / 15.0, 10.0 / 15.0), hold: 0.2, pause: 4.0 / 15.0 };

/// One way of filming and moving, named as `sessions.csv`'s `condition` column names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionCondition {
    /// The name (`clean`, `fps8`, ...).
    pub name: &'static str,
    /// Frames per second.
    pub fps: f32,
    /// Frame size, pixels (the scene is drawn at 640×480 and scaled down to it).
    pub size: (u32, u32),
    /// Gaussian sensor noise added on top of the generator's own, standard deviation in grey
    /// levels.
    pub noise: f32,
    /// The JPEG quality the frames are written at.
    pub jpeg_quality: u8,
    /// Share of the scene's light that reaches the sensor (1: as drawn; 0.25: two stops
    /// darker, with the gain's noise of [`DIM_GAIN_NOISE`] on top).
    pub light: f32,
    /// How the person moves.
    pub pace: Pace,
    /// How far behind the face's surface the head turns, in eye distances: 0 is the
    /// generator's own head, a relief turning inside an outline that stays put; a head on a
    /// neck turns about an axis some way behind its face ([`NECK`]), so the whole head, its
    /// outline too, also moves across the room behind it.
    pub neck: f32,
}

/// Where a head on a neck turns about, eye distances behind the face's surface (the axis
/// through the top of the spine, about 9-10 cm behind a face whose eyes are 6.3 cm apart).
pub const NECK: f32 = 1.5;

/// The gain noise of a camera in dim light, standard deviation in grey levels.
pub const DIM_GAIN_NOISE: f32 = 4.0;

const CLEAN: SessionCondition = SessionCondition {
    name: "clean",
    fps: 15.0,
    size: (640, 480),
    noise: 0.0,
    jpeg_quality: 90,
    light: 1.0,
    pace: USUAL_PACE,
    neck: 0.0,
};

/// All five faults of a cheap webcam at once.
const WEBCAM: SessionCondition = SessionCondition {
    name: "webcam",
    fps: 8.0,
    size: (320, 240),
    noise: 10.0,
    jpeg_quality: 40,
    light: 0.25,
    ..CLEAN
};

impl SessionCondition {
    /// The generator's own camera and pace.
    pub const CLEAN: SessionCondition = CLEAN;

    /// Every condition: the clean one, each webcam fault alone, all of them at once, the
    /// paces of brisk and slow people and of short and long pauses, and a head turning on a
    /// neck, filmed cleanly and by the webcam.
    pub const EVERY: [SessionCondition; 13] = [
        CLEAN,
        SessionCondition { name: "fps8", fps: 8.0, ..CLEAN },
        SessionCondition { name: "qvga", size: (320, 240), ..CLEAN },
        SessionCondition { name: "noise10", noise: 10.0, ..CLEAN },
        SessionCondition { name: "jpeg40", jpeg_quality: 40, ..CLEAN },
        SessionCondition { name: "dim", light: 0.25, ..CLEAN },
        WEBCAM,
        // A turn out and back in 0.6 s.
        SessionCondition {
            name: "brisk",
            pace: Pace { out: (0.22, 0.28), hold: 0.1, ..USUAL_PACE },
            ..CLEAN
        },
        // A turn out and back in 3 s.
        SessionCondition {
            name: "slow",
            pace: Pace { out: (1.2, 1.4), hold: 0.4, ..USUAL_PACE },
            ..CLEAN
        },
        SessionCondition { name: "pause_short", pace: Pace { pause: 0.1, ..USUAL_PACE }, ..CLEAN },
        SessionCondition { name: "pause_long", pace: Pace { pause: 2.0, ..USUAL_PACE }, ..CLEAN },
        SessionCondition { name: "neck", neck: NECK, ..CLEAN },
        SessionCondition { name: "neck_webcam", neck: NECK, ..WEBCAM },
    ];

    /// `seconds` as a whole number of frames at this condition's rate (at least one).
    pub fn frames(&self, seconds: f32) -> usize {
        ((seconds * self.fps).round() as usize).max(1)
    }

    /// A frame drawn at 640×480 as this condition's camera gives it (before JPEG, which
    /// happens where the frame is written): less light and the gain's noise, scaled down, its
    /// own noise.
    pub(crate) fn film(&self, mut frame: RgbImage, rng: &mut Rng) -> RgbImage {
        if self.light < 1.0 {
            for p in frame.pixels_mut() {
                *p = Rgb([0, 1, 2].map(|c| srgb(linear(p[c]) * self.light)));
            }
            gaussian_noise(&mut frame, rng, DIM_GAIN_NOISE);
        }
        if frame.dimensions() != self.size {
            frame = imageops::resize(&frame, self.size.0, self.size.1, imageops::Triangle);
        }
        if self.noise > 0.0 {
            gaussian_noise(&mut frame, rng, self.noise);
        }
        frame
    }
}

impl fmt::Display for SessionCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl FromStr for SessionCondition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionCondition::EVERY.into_iter().find(|c| c.name == s).ok_or_else(|| {
            let names: Vec<&str> = SessionCondition::EVERY.iter().map(|c| c.name).collect();
            format!("unknown condition {s:?} (one of {})", names.join(", "))
        })
    }
}

/// Gaussian noise of standard deviation `sigma` grey levels, drawn per pixel and channel.
fn gaussian_noise(frame: &mut RgbImage, rng: &mut Rng, sigma: f32) {
    for p in frame.pixels_mut() {
        for c in 0..3 {
            // Box-Muller.
            let u = rng.range(f32::EPSILON, 1.0);
            let v = rng.range(0.0, std::f32::consts::TAU);
            let n = sigma * (-2.0 * u.ln()).sqrt() * v.cos();
            p[c] = (f32::from(p[c]) + n).round().clamp(0.0, 255.0) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_and_an_unknown_one_is_refused() {
        for c in SessionCondition::EVERY {
            assert_eq!(c.name.parse::<SessionCondition>(), Ok(c));
        }
        assert!("vga".parse::<SessionCondition>().unwrap_err().contains("webcam"));
    }

    #[test]
    fn the_webcam_darkens_shrinks_and_adds_noise_of_the_asked_spread() {
        let grey = RgbImage::from_pixel(640, 480, Rgb([128, 128, 128]));
        let webcam: SessionCondition = "webcam".parse().unwrap();
        let filmed = webcam.film(grey.clone(), &mut Rng(5));
        assert_eq!(filmed.dimensions(), (320, 240));
        let values: Vec<f32> = filmed.pixels().map(|p| f32::from(p[1])).collect();
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        let sd =
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32).sqrt();
        // A quarter of 128's light is about 67 in sRGB; σ 10 on top of the halved gain noise.
        assert!((60.0..75.0).contains(&mean), "{mean}");
        assert!((9.0..12.0).contains(&sd), "{sd}");
        let clean = SessionCondition::CLEAN.film(grey.clone(), &mut Rng(5));
        assert_eq!(clean, grey);
    }
}
