//! What the person is asked to do: a few head movements in a random order.

use std::fmt;
use std::str::FromStr;

/// One head movement, in the person's own terms. On a raw (unmirrored) camera frame,
/// `Left` moves the nose toward the image's right, `Right` toward its left, `Up` (chin up)
/// toward its top, `Down` toward its bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The person turns their head to their own left.
    Left,
    /// The person turns their head to their own right.
    Right,
    /// Chin up.
    Up,
    /// Chin down.
    Down,
}

impl Direction {
    /// All four, in a fixed order.
    pub const ALL: [Direction; 4] =
        [Direction::Left, Direction::Right, Direction::Up, Direction::Down];

    /// The lowercase word used on the command line, in CSV files and in the log.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Left => "left",
            Direction::Right => "right",
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    /// The unit vector the nose moves along in a raw frame (x to the image's right, y down).
    pub fn in_frame(self) -> [f32; 2] {
        match self {
            Direction::Left => [1.0, 0.0],
            Direction::Right => [-1.0, 0.0],
            Direction::Up => [0.0, -1.0],
            Direction::Down => [0.0, 1.0],
        }
    }

    /// How far `movement` (x to the image's right, y down) goes this way: its component along
    /// [`Direction::in_frame`].
    pub fn along(self, movement: [f32; 2]) -> f32 {
        let d = self.in_frame();
        movement[0] * d[0] + movement[1] * d[1]
    }

    /// The direction whose [`Direction::in_frame`] points most along `movement`.
    pub fn of(movement: [f32; 2]) -> Direction {
        Direction::ALL
            .into_iter()
            .max_by(|a, b| a.along(movement).total_cmp(&b.along(movement)))
            .unwrap_or(Direction::Left)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A word that is not one of the four movements.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown movement {0:?}: use left, right, up or down")]
pub struct UnknownMovement(pub String);

impl FromStr for Direction {
    type Err = UnknownMovement;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Direction::ALL
            .into_iter()
            .find(|d| d.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| UnknownMovement(s.to_string()))
    }
}

/// The movements asked in one session, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge(pub Vec<Direction>);

/// How many movements the kiosk asks for.
pub const STEPS: usize = 3;

impl Challenge {
    /// `STEPS` movements drawn from `random` (any source of uniform 64-bit numbers), with no
    /// movement asked twice in a row: 4 × 3 × 3 = 36 equally likely challenges, so a replayed
    /// video of one fixed order passes one time in 36.
    pub fn draw(mut random: impl FnMut() -> u64) -> Challenge {
        let mut steps: Vec<Direction> = Vec::with_capacity(STEPS);
        while steps.len() < STEPS {
            let d = Direction::ALL[(random() % 4) as usize];
            if steps.last() != Some(&d) {
                steps.push(d);
            }
        }
        Challenge(steps)
    }

    /// A challenge drawn from the operating system's random source (the kiosk's).
    pub fn random() -> Challenge {
        Challenge::draw(os_random)
    }

    /// How many distinct challenges [`Challenge::draw`] makes: 1 / this is the chance that a
    /// replay of one recorded order matches.
    pub fn variety() -> u32 {
        4 * 3u32.pow(STEPS as u32 - 1)
    }
}

/// A number from the operating system's random source (what the kiosk draws its challenges
/// and screen colours from).
pub(super) fn os_random() -> u64 {
    getrandom::u64().unwrap_or_else(|_| clock_random())
}

/// Only if the OS random source fails: the clock's nanoseconds (still unpredictable enough to
/// a person holding up a video; the failure is logged).
fn clock_random() -> u64 {
    log::warn!("the OS random source failed; drawing the liveness challenge from the clock");
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()) ^ d.as_secs())
        .unwrap_or(0)
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = self.0.iter().map(|d| d.name()).collect();
        f.write_str(&words.join(" "))
    }
}

/// A challenge that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadChallenge {
    /// No movement at all.
    #[error("the challenge names no movement")]
    Empty,
    /// A word that is not a movement.
    #[error(transparent)]
    Unknown(#[from] UnknownMovement),
}

impl FromStr for Challenge {
    type Err = BadChallenge;

    /// Movements separated by spaces or commas: `"left up right"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let steps = s
            .split([' ', ','])
            .filter(|w| !w.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Direction>, _>>()?;
        if steps.is_empty() {
            return Err(BadChallenge::Empty);
        }
        Ok(Challenge(steps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn parses_and_prints_the_command_line_form() {
        let c: Challenge = "left, up right".parse().unwrap();
        assert_eq!(c.0, vec![Direction::Left, Direction::Up, Direction::Right]);
        assert_eq!(c.to_string(), "left up right");
        assert_eq!("".parse::<Challenge>(), Err(BadChallenge::Empty));
        assert!(matches!("left sideways".parse::<Challenge>(), Err(BadChallenge::Unknown(_))));
    }

    #[test]
    fn draws_every_one_of_the_36_challenges_and_never_repeats_a_step() {
        let mut state = 7u64;
        let mut seen = HashSet::new();
        for _ in 0..5000 {
            let c = Challenge::draw(|| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                state >> 33
            });
            assert_eq!(c.0.len(), STEPS);
            assert!(c.0.windows(2).all(|w| w[0] != w[1]), "{c}");
            seen.insert(c.to_string());
        }
        assert_eq!(seen.len() as u32, Challenge::variety());
    }

    #[test]
    fn a_movement_is_named_by_where_the_nose_went_in_the_raw_frame() {
        assert_eq!(Direction::of([0.2, 0.01]), Direction::Left);
        assert_eq!(Direction::of([-0.2, 0.05]), Direction::Right);
        assert_eq!(Direction::of([0.03, -0.2]), Direction::Up);
        assert_eq!(Direction::of([0.0, 0.2]), Direction::Down);
    }
}
