//! `facematch liveness check | eval`: the kiosk's liveness logic over folders of frames, so
//! anyone can test it without a camera (README "Liveness"); `facematch-lab liveness generate`
//! writes synthetic sets in the layout `eval` reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use image::RgbImage;
use serde::Serialize;

use super::args::{LivenessArgs, LivenessCheckArgs, LivenessCommand, LivenessEvalArgs};
use super::{load_engine, print_json};
use crate::camera::is_picture_file;
use crate::contract::{ErrorBody, ErrorCode};
use crate::inference::Engine;
use crate::liveness::flash::FlashSequence;
use crate::liveness::{check, Challenge, Report};
use crate::record::attempt::AttemptJson;

/// Runs the subcommand; returns the exit code.
pub fn run(args: LivenessArgs) -> i32 {
    let result = match args.command {
        LivenessCommand::Check(c) => return check_cmd(&c),
        LivenessCommand::Eval(e) => eval_cmd(&e),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("facematch: {e:#}");
            2
        }
    }
}

fn check_cmd(args: &LivenessCheckArgs) -> i32 {
    let bad = |message: String| {
        print_json(&ErrorBody::new(ErrorCode::Malformed, message));
        2
    };
    let challenge: Challenge = match args.challenge.parse() {
        Ok(c) => c,
        Err(e) => return bad(format!("--challenge: {e}")),
    };
    if let Err(e) = frame_rate(args.fps) {
        return bad(e);
    }
    let flash = match args.flash.as_deref().map(str::parse::<FlashSequence>).transpose() {
        Ok(f) => f,
        Err(e) => return bad(format!("--flash: {e}")),
    };
    let frames = match read_frames(&args.frames) {
        Ok(f) => f,
        Err(e) => return bad(format!("{e:#}")),
    };
    let result = load_engine(&args.engine)
        .map_err(anyhow::Error::from)
        .and_then(|mut engine| run_check(&mut engine, frames, challenge, args.fps, flash));
    match result {
        Ok(report) => {
            print_json(&AttemptJson::from(&report));
            0
        }
        Err(e) => {
            log::error!("{e:#}");
            print_json(&ErrorBody::new(ErrorCode::Internal, format!("{e:#}")));
            2
        }
    }
}

fn run_check(
    engine: &mut Engine,
    frames: Vec<RgbImage>,
    challenge: Challenge,
    fps: f32,
    flash: Option<FlashSequence>,
) -> Result<Report> {
    Ok(check(&mut engine.detector, &mut engine.embedder, frames, challenge, fps, flash)?)
}

/// A frame rate both commands accept: at least one frame a second.
fn usable_rate(fps: f32) -> bool {
    fps.is_finite() && fps >= 1.0
}

/// `--fps` as both commands accept it.
fn frame_rate(fps: f32) -> Result<(), String> {
    if usable_rate(fps) {
        Ok(())
    } else {
        Err(format!("--fps must be at least 1, not {fps}"))
    }
}

/// A sessions CSV's `fps` column, held to the rule of `--fps`.
fn row_frame_rate(fps: f32, row: usize) -> Result<()> {
    if usable_rate(fps) {
        Ok(())
    } else {
        bail!("row {row}: the fps column must be at least 1, not {fps}")
    }
}

/// The JPEG and PNG frames of `dir`, in name order, decoded.
fn read_frames(dir: &Path) -> Result<Vec<RgbImage>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the frames folder {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_picture_file(p))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("no JPEG or PNG frames in {}", dir.display());
    }
    paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            let picture = crate::intake::decode(&bytes)
                .with_context(|| format!("frame {} is not a usable picture", p.display()))?;
            Ok(picture.pixels)
        })
        .collect()
}

/// One species' tally.
#[derive(Debug, Default, Serialize)]
struct Tally {
    attempts: usize,
    /// Classified live.
    accepted: usize,
    /// accepted / attempts.
    rate: f64,
    /// Clopper-Pearson upper 95 % bound on the rate.
    upper95: f64,
    /// Failure codes and how often each was given.
    reasons: BTreeMap<&'static str, usize>,
}

/// Bona fide sessions filmed under one condition (the CSV's `condition` column).
#[derive(Debug, Default, Serialize)]
struct ConditionTally {
    attempts: usize,
    /// Classified as attacks.
    rejected: usize,
    /// rejected / attempts: the condition's BPCER.
    bpcer: f64,
    /// Clopper-Pearson upper 95 % bound on it.
    upper95: f64,
    /// Failure codes and how often each was given.
    reasons: BTreeMap<&'static str, usize>,
}

/// `liveness eval`'s answer.
#[derive(Debug, Serialize)]
struct EvalJson {
    sessions: usize,
    bona_fide: usize,
    attacks: usize,
    /// Bona fide sessions classified as attacks / bona fide sessions.
    bpcer: f64,
    bpcer_upper95: f64,
    bpcer_reasons: BTreeMap<&'static str, usize>,
    /// BPCER per filming condition, when the CSV names them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    bpcer_by_condition: BTreeMap<String, ConditionTally>,
    /// Per attack species.
    apcer: BTreeMap<String, Tally>,
    /// The worst species' APCER (ISO/IEC 30107-3 reports the maximum).
    apcer_max: f64,
    /// Replays whose shown order equals the asked one (the CSV's optional `shows` column), and
    /// the chance of that for a random replay: 1 / the number of distinct challenges.
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_order_matches: Option<usize>,
    replay_chance: f64,
    /// Median over sessions of the time per frame (detection, point tracking, the session's
    /// rules), ms: what the live preview pays for liveness and the face box together.
    frame_ms_median: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<DetailJson>,
}

#[derive(Debug, Serialize)]
struct DetailJson {
    /// The session's folder (the CSV's `frames`).
    folder: String,
    label: String,
    #[serde(flatten)]
    check: AttemptJson,
}

#[derive(Debug, serde::Deserialize)]
struct SessionRow {
    frames: String,
    challenge: String,
    label: String,
    #[serde(default)]
    shows: Option<String>,
    #[serde(default)]
    flash: Option<String>,
    /// Frames per second of this session (default: --fps).
    #[serde(default)]
    fps: Option<f32>,
    /// How the session was filmed (`liveness generate --condition`).
    #[serde(default)]
    condition: Option<String>,
}

fn eval_cmd(args: &LivenessEvalArgs) -> Result<()> {
    frame_rate(args.fps).map_err(anyhow::Error::msg)?;
    let base = args.sessions.parent().unwrap_or(Path::new("."));
    let mut reader = csv::Reader::from_path(&args.sessions)
        .with_context(|| format!("reading {}", args.sessions.display()))?;
    let rows: Vec<SessionRow> = reader
        .deserialize()
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}: columns frames,challenge,label", args.sessions.display()))?;
    // Every row's rate is checked before the models load and the first session is evaluated.
    for (i, row) in rows.iter().enumerate() {
        row_frame_rate(row.fps.unwrap_or(args.fps), i + 2)?;
    }
    let mut engine = load_engine(&args.engine)?;
    let mut bona_fide = Tally::default();
    let mut species: BTreeMap<String, Tally> = BTreeMap::new();
    let mut conditions: BTreeMap<String, ConditionTally> = BTreeMap::new();
    let mut details = Vec::new();
    let mut replay_matches: Option<usize> = None;
    let mut report_rows = Vec::new();
    let mut frame_ms = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let challenge: Challenge =
            row.challenge.parse().with_context(|| format!("row {}: challenge", i + 2))?;
        let flash = row.flash.as_deref().filter(|f| !f.trim().is_empty());
        let flash = flash
            .map(str::parse::<FlashSequence>)
            .transpose()
            .with_context(|| format!("row {}: flash", i + 2))?;
        let fps = row.fps.unwrap_or(args.fps);
        let frames = read_frames(&base.join(&row.frames))?;
        let started = std::time::Instant::now();
        let report = run_check(&mut engine, frames, challenge.clone(), fps, flash)?;
        frame_ms.push(started.elapsed().as_secs_f64() * 1000.0 / report.frames.max(1) as f64);
        let tally = if row.label == "bona_fide" {
            &mut bona_fide
        } else {
            species.entry(row.label.clone()).or_default()
        };
        tally.attempts += 1;
        if report.live() {
            tally.accepted += 1;
        }
        if let Err(f) = report.outcome {
            *tally.reasons.entry(f.code()).or_default() += 1;
        }
        let condition = row.condition.as_deref().filter(|c| !c.trim().is_empty());
        if let (Some(condition), "bona_fide") = (condition, row.label.as_str()) {
            let c = conditions.entry(condition.to_string()).or_default();
            c.attempts += 1;
            if let Err(f) = report.outcome {
                c.rejected += 1;
                *c.reasons.entry(f.code()).or_default() += 1;
            }
        }
        if row.label == "video_replay" {
            if let Some(shows) = &row.shows {
                let same = shows.parse::<Challenge>().is_ok_and(|s| s == challenge);
                *replay_matches.get_or_insert(0) += usize::from(same);
            }
        }
        let verdict = report.outcome.err().map_or("live".to_string(), |f| f.code().to_string());
        eprintln!(
            "liveness eval: {}/{} {} {}: {verdict}",
            i + 1,
            rows.len(),
            row.label,
            row.frames
        );
        report_rows.push([
            row.frames.clone(),
            row.label.clone(),
            challenge.to_string(),
            report.live().to_string(),
            verdict,
            format!("{:.3}", report.parallax),
        ]);
        if args.details {
            details.push(DetailJson {
                folder: row.frames.clone(),
                label: row.label.clone(),
                check: AttemptJson::from(&report),
            });
        }
    }
    if let Some(dir) = &args.report {
        write_report(dir, &report_rows)?;
    }
    // Bona fide: a rejection is the error, so the rate counts rejections.
    let rejected = bona_fide.attempts - bona_fide.accepted;
    for t in species.values_mut() {
        t.rate = rate(t.accepted, t.attempts);
        t.upper95 = upper95(t.accepted, t.attempts);
    }
    for c in conditions.values_mut() {
        c.bpcer = rate(c.rejected, c.attempts);
        c.upper95 = upper95(c.rejected, c.attempts);
    }
    let apcer_max = species.values().map(|t| t.rate).fold(0.0, f64::max);
    print_json(&EvalJson {
        sessions: rows.len(),
        bona_fide: bona_fide.attempts,
        attacks: rows.len() - bona_fide.attempts,
        bpcer: rate(rejected, bona_fide.attempts),
        bpcer_upper95: upper95(rejected, bona_fide.attempts),
        bpcer_reasons: bona_fide.reasons,
        bpcer_by_condition: conditions,
        apcer: species,
        apcer_max,
        replay_order_matches: replay_matches,
        replay_chance: 1.0 / f64::from(Challenge::variety()),
        frame_ms_median: median(&mut frame_ms),
        details,
    });
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).map_or(0.0, |m| (m * 100.0).round() / 100.0)
}

fn rate(k: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        k as f64 / n as f64
    }
}

/// The exact (Clopper-Pearson) upper 95 % bound for `k` successes in `n` trials: the p at
/// which seeing `k` or fewer has probability 2.5 %. For k = 0 that is 1 - 0.025^(1/n), about
/// 3.7 / n (the "rule of three" is the one-sided 95 % form).
fn upper95(k: usize, n: usize) -> f64 {
    if n == 0 || k >= n {
        return 1.0;
    }
    let at_most_k = |p: f64| -> f64 {
        // Binomial CDF, by the recurrence on the probability mass.
        let mut term = (1.0 - p).powi(n as i32);
        let mut sum = term;
        for i in 0..k {
            term *= (n - i) as f64 / (i + 1) as f64 * p / (1.0 - p);
            sum += term;
        }
        sum
    };
    let (mut lo, mut hi) = (k as f64 / n as f64, 1.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if at_most_k(mid) > 0.025 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (hi * 10_000.0).round() / 10_000.0
}

fn write_report(dir: &Path, rows: &[[String; 6]]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let header = ["frames", "label", "challenge", "live", "reason", "parallax"];
    super::write_csv(&dir.join("sessions.csv"), header, rows)
}

#[cfg(test)]
mod tests {
    use super::upper95;

    #[test]
    fn clopper_pearson_bounds_match_published_values() {
        // 0 of 150: 1 - 0.025^(1/150) = 0.0243; 1 of 10: 0.4450; 5 of 10: 0.8129.
        assert!((upper95(0, 150) - 0.0243).abs() < 1e-4, "{}", upper95(0, 150));
        assert!((upper95(1, 10) - 0.4450).abs() < 1e-4, "{}", upper95(1, 10));
        assert!((upper95(5, 10) - 0.8129).abs() < 1e-4, "{}", upper95(5, 10));
    }
}
