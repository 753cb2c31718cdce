//! `facematch-lab voice`: synthesises every voice prompt of the kiosk in every language with
//! Debian's espeak-ng, offline, into the folder the kiosk plays them from (README "Languages
//! and voice"). Written to a new folder and swapped in whole, so a stale prompt never stays.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::args::VoiceArgs;
use facematch::kiosk::language::Language;
use facematch::kiosk::voice::{all_prompts, Prompt};

/// espeak-ng's voice for each language.
fn espeak_voice(language: Language) -> &'static str {
    match language {
        Language::English => "en-gb",
        Language::Hindi => "hi",
        Language::Tamil => "ta",
        Language::Bengali => "bn",
    }
}

/// Runs the command.
///
/// # Errors
/// espeak-ng is missing or fails, or the folder cannot be written.
pub fn run(args: &VoiceArgs) -> Result<()> {
    let prompts = all_prompts();
    let fresh = with_suffix(&args.out, ".new");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).with_context(|| format!("clearing {}", fresh.display()))?;
    }
    let jobs: Vec<(Language, Prompt)> =
        Language::ALL.iter().flat_map(|l| prompts.iter().map(move |p| (*l, *p))).collect();
    for language in Language::ALL {
        std::fs::create_dir_all(fresh.join(language.code()))
            .with_context(|| format!("creating {}", fresh.display()))?;
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<&[(Language, Prompt)]> = jobs.chunks(jobs.len().div_ceil(threads)).collect();
    let synthesised = std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                scope.spawn(|| chunk.iter().try_for_each(|(l, p)| speak(args, &fresh, *l, p)))
            })
            .collect();
        for handle in handles {
            handle.join().map_err(|_| anyhow::anyhow!("a synthesis thread panicked"))??;
        }
        Ok(())
    });
    if let Err(e) = synthesised {
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(e);
    }
    let old = with_suffix(&args.out, ".old");
    if args.out.exists() {
        std::fs::rename(&args.out, &old)
            .with_context(|| format!("moving {} aside", args.out.display()))?;
    }
    std::fs::rename(&fresh, &args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    eprintln!(
        "voice: {} prompts in each of {} languages written to {}",
        prompts.len(),
        Language::ALL.len(),
        args.out.display()
    );
    Ok(())
}

/// Synthesises one prompt in one language.
fn speak(args: &VoiceArgs, dir: &Path, language: Language, prompt: &Prompt) -> Result<()> {
    let file = prompt.file(dir, language);
    let synthesised = with_suffix(&file, ".espeak");
    let status = Command::new(&args.espeak)
        .args(["-v", espeak_voice(language), "-s", "150", "-w"])
        .arg(&synthesised)
        .arg("--")
        .arg(prompt.text(language))
        .status()
        .with_context(|| format!("running {} (Debian package espeak-ng)", args.espeak))?;
    if !status.success() {
        bail!("{} failed ({status}) on {:?}", args.espeak, prompt.text(language));
    }
    halve_rate(&synthesised, &file)?;
    std::fs::remove_file(&synthesised)
        .with_context(|| format!("removing {}", synthesised.display()))
}

/// Writes `from` (espeak-ng's 22 050 Hz mono) at half the rate, each pair of samples averaged:
/// half the size, and speech keeps what matters below 5.5 kHz.
fn halve_rate(from: &Path, to: &Path) -> Result<()> {
    let mut reader =
        hound::WavReader::open(from).with_context(|| format!("reading {}", from.display()))?;
    let spec = reader.spec();
    if spec.channels != 1
        || spec.bits_per_sample != 16
        || spec.sample_format != hound::SampleFormat::Int
    {
        bail!("{}: expected 16-bit mono PCM from espeak-ng, got {spec:?}", from.display());
    }
    let samples: Vec<i16> = reader.samples::<i16>().collect::<Result<_, _>>()?;
    let half = hound::WavSpec { sample_rate: spec.sample_rate / 2, ..spec };
    let mut writer =
        hound::WavWriter::create(to, half).with_context(|| format!("writing {}", to.display()))?;
    for pair in samples.chunks(2) {
        let sum: i32 = pair.iter().map(|&s| i32::from(s)).sum();
        writer.write_sample((sum / pair.len() as i32) as i16)?;
    }
    writer.finalize()?;
    Ok(())
}

/// `path` with `suffix` appended to its file name (`assets/voice` → `assets/voice.new`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
