//! The kiosk's voice prompts: every prompt the kiosk can ask for exists in every language as a
//! playable WAV (made by `scripts/voice.sh`; the lab tests that `facematch-lab voice` says clearly
//! when espeak-ng is missing), and ALSA's `aplay` on a device that does not exist is reported, not a crash.

use std::time::{Duration, Instant};

use facematch::kiosk::language::Language;
use facematch::kiosk::speaker::{Aplay, Speaker};
use facematch::kiosk::voice::{all_prompts, locate_dir, wav_length, Prompt};

#[test]
fn every_prompt_exists_for_every_language() {
    let dir = locate_dir();
    let prompts = all_prompts();
    assert!(prompts.len() > 90, "{}", prompts.len());
    for language in Language::ALL {
        for prompt in &prompts {
            let file = prompt.file(&dir, language);
            let length = wav_length(&file);
            assert!(
                length > Duration::from_millis(200),
                "{language}: {} is missing or silent ({length:?}): run scripts/voice.sh",
                file.display()
            );
            let spec = hound::WavReader::open(&file).unwrap().spec();
            assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (1, 11_025, 16));
        }
    }
}

#[test]
fn no_audio_device_is_reported_for_the_operator() {
    let mut speaker = Aplay::new(Some("facematch-test-no-audio".into()));
    let file = Prompt::say("Move closer").file(&locate_dir(), Language::Hindi);
    speaker.play(&[file]);
    let started = Instant::now();
    let problem = loop {
        if let Some(problem) = speaker.problem() {
            break problem;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "aplay neither played nor failed");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(problem.starts_with("no audio output") || problem.contains("alsa-utils"), "{problem}");
    // A missing prompt is named.
    speaker.play(&[locate_dir().join("hi/no-such-prompt.wav")]);
    assert!(speaker.problem().unwrap().contains("no-such-prompt.wav"));
}
