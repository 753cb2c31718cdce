//! Voice guidance for a customer who cannot read the screen: each screen's instruction and each
//! live hint spoken in the session's language, offline, from prompts synthesised ahead of time
//! (`facematch-lab voice`, Debian's espeak-ng) into `assets/voice/<code>/`. Playing never blocks the
//! screen ([`super::speaker`]); hints are paced so that a person can follow them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::flow::Screen;
use super::language::{document_name, message_ids, Language};
use super::speaker::Speaker;
use crate::domain::DocumentType;
use crate::tr;

/// A new hint is not spoken sooner than this after the last prompt started (or ended, for a
/// screen's instruction): the customer hears each one through.
pub const HINT_GAP: Duration = Duration::from_millis(3000);
/// The same hint again, when the customer has not yet done it, no sooner than this.
pub const HINT_REPEAT: Duration = Duration::from_secs(10);

/// One thing the kiosk can say: a message of the catalogues, or a template of them with a
/// document type's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prompt {
    template: &'static str,
    document: Option<&'static str>,
}

impl Prompt {
    /// A whole message (an English message id).
    pub const fn say(message: &'static str) -> Prompt {
        Prompt { template: message, document: None }
    }

    /// A template with one `{}` for a document type's name.
    pub fn about(template: &'static str, document: DocumentType) -> Prompt {
        Prompt { template, document: Some(document_name(document)) }
    }

    /// The words in `language`.
    pub fn text(&self, language: Language) -> String {
        let name = self.document.map(|d| language.translate(d).to_string());
        language.format(self.template, name.as_slice())
    }

    /// The prompt's file in `dir` for `language`: named by its English words, so that the
    /// file of every language is found the same way.
    pub fn file(&self, dir: &Path, language: Language) -> PathBuf {
        let english = self.text(Language::English);
        let mut slug: String = english
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        slug.truncate(40);
        let hash = hex::encode(&Sha256::digest(english.as_bytes())[..4]);
        dir.join(language.code()).join(format!("{slug}-{hash}.wav"))
    }
}

/// Every prompt the kiosk can ask for: each message of the catalogues without a placeholder,
/// and the document screens' instructions for each document type.
pub fn all_prompts() -> Vec<Prompt> {
    let mut prompts: Vec<Prompt> =
        message_ids().filter(|m| !m.contains("{}")).map(Prompt::say).collect();
    for document in DocumentType::ALL {
        prompts.push(Prompt::about(FRONT, document));
        prompts.push(Prompt::about(BACK, document));
    }
    prompts.sort_by_key(|p| (p.template, p.document));
    prompts
}

const FRONT: &str = tr!("Show the front of your {}");
const BACK: &str = tr!("Show the back of your {}");

/// What a screen says when it opens (nothing on the staff screens, the welcome screen speaks
/// only once a language is chosen, the result screen speaks its verdict when it arrives).
pub fn screen_prompts(
    screen: Screen,
    document: DocumentType,
    testing: bool,
    colours: bool,
) -> Vec<Prompt> {
    match screen {
        Screen::Consent => {
            let mut p = vec![
                Prompt::say(tr!("Your consent")),
                Prompt::say(tr!("We will take a photo of your face and of your ID document, and compare them on this machine to confirm it is you. The photos are stored encrypted and deleted after the retention period. You can say no: nothing will be stored.")),
            ];
            if colours {
                p.push(Prompt::say(tr!("During your photo the screen changes colour slowly. If flashing light troubles you, tell a member of staff: they can turn it off.")));
            }
            if testing {
                p.push(Prompt::say(tr!("This kiosk is being tested: the video of your head movements is also kept, for the bank's own testing.")));
            }
            p
        }
        Screen::DocumentType => vec![Prompt::say(tr!("Which document do you have?"))],
        Screen::Selfie => vec![Prompt::say(tr!("Look at the camera"))],
        Screen::DocumentFront => vec![Prompt::about(FRONT, document)],
        Screen::DocumentBack => vec![Prompt::about(BACK, document)],
        Screen::Processing => vec![Prompt::say(tr!("Comparing your face with your document."))],
        Screen::Welcome | Screen::Result | Screen::OperatorPin | Screen::Operator => Vec::new(),
    }
}

/// What the welcome screen says once a customer chose a language: what the kiosk does.
pub fn welcome_prompts() -> Vec<Prompt> {
    vec![
        Prompt::say(tr!("Verify your identity")),
        Prompt::say(tr!(
            "We compare your face with the photo on your ID card. It takes about a minute."
        )),
    ]
}

/// The voice of one kiosk: where the prompts are, whether it speaks, what it last said.
pub struct Voice {
    dir: PathBuf,
    speaker: Box<dyn Speaker>,
    /// The operator's choice (`kiosk --voice`), which each session starts with.
    default_on: bool,
    on: bool,
    /// The last hint and when it was said; when the prompt playing now ends.
    last_hint: Option<(String, Instant)>,
    busy_until: Option<Instant>,
    /// Every prompt asked for, in English, oldest first (the headless tests read it).
    pub asked: Vec<String>,
}

impl Voice {
    /// A voice playing the prompts of `dir` through `speaker`, on or off for each new session.
    pub fn new(dir: PathBuf, speaker: Box<dyn Speaker>, default_on: bool) -> Voice {
        Voice {
            dir,
            speaker,
            default_on,
            on: default_on,
            last_hint: None,
            busy_until: None,
            asked: Vec::new(),
        }
    }

    /// Whether it speaks in this session.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// The customer's speaker button: on or off for the rest of the session.
    pub fn set_on(&mut self, on: bool) {
        self.on = on;
        if !on {
            self.speaker.stop();
        }
    }

    /// A new customer: the operator's choice again, nothing said yet.
    pub fn next_customer(&mut self) {
        self.set_on(self.default_on);
        self.last_hint = None;
    }

    /// Says `prompts` one after the other now, cutting off whatever was playing (a new
    /// screen's instruction matters more than the last one's).
    pub fn say(&mut self, prompts: &[Prompt], language: Language, now: Instant) {
        if !self.on || prompts.is_empty() {
            return;
        }
        let files: Vec<PathBuf> = prompts.iter().map(|p| p.file(&self.dir, language)).collect();
        self.asked.extend(prompts.iter().map(|p| p.text(Language::English)));
        let length: Duration = files.iter().map(|f| wav_length(f)).sum();
        self.busy_until = Some(now + length);
        self.last_hint = None;
        self.speaker.play(&files);
    }

    /// A live hint (a message id): said if it is new and the last prompt is done and
    /// [`HINT_GAP`] old, or if it is the same one [`HINT_REPEAT`] later.
    pub fn hint(&mut self, message: &'static str, language: Language, now: Instant) {
        if !self.on || message.is_empty() || self.busy_until.is_some_and(|t| now < t) {
            return;
        }
        let due = match &self.last_hint {
            None => true,
            Some((last, at)) if last == message => now.duration_since(*at) >= HINT_REPEAT,
            Some((_, at)) => now.duration_since(*at) >= HINT_GAP,
        };
        if due {
            self.say(&[Prompt::say(message)], language, now);
            self.last_hint = Some((message.to_string(), now));
        }
    }

    /// Why the voice cannot be heard (no audio device, no player, missing prompts), for the
    /// operator; `None` while it works.
    pub fn problem(&mut self) -> Option<String> {
        self.speaker.problem()
    }
}

/// How long a prompt plays, from its WAV header alone (zero for a file that cannot be read,
/// which the speaker reports): asked on the UI thread for every prompt, so the samples are
/// not read.
pub fn wav_length(file: &Path) -> Duration {
    hound::WavReader::open(file).map_or(Duration::ZERO, |wav| {
        let rate = f64::from(wav.spec().sample_rate.max(1));
        Duration::from_secs_f64(f64::from(wav.duration()) / rate)
    })
}

/// Where the prompts are: `FACEMATCH_VOICE`, else `voice/` beside the binary or one folder
/// up (the installed bundle), else the project's `assets/voice`.
pub fn locate_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FACEMATCH_VOICE") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().ok();
    let beside = exe.as_deref().and_then(Path::parent);
    for dir in
        [beside.map(|d| d.join("voice")), beside.and_then(Path::parent).map(|d| d.join("voice"))]
            .into_iter()
            .flatten()
    {
        if dir.join("en").is_dir() {
            return dir;
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/voice")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// What a speaker was told to play (the real one, `Aplay`, is exercised by the kiosk's
    /// headless tests and `tests/voice.rs`).
    #[derive(Default, Clone)]
    struct Heard(Rc<RefCell<Vec<Vec<PathBuf>>>>);

    impl Speaker for Heard {
        fn play(&mut self, files: &[PathBuf]) {
            self.0.borrow_mut().push(files.to_vec());
        }
        fn stop(&mut self) {}
        fn problem(&mut self) -> Option<String> {
            None
        }
    }

    #[test]
    fn files_are_named_by_the_english_words_in_each_languages_folder() {
        let p = Prompt::say("Move closer");
        let dir = Path::new("/v");
        assert_eq!(p.file(dir, Language::Hindi).parent().unwrap(), Path::new("/v/hi"));
        let name = p.file(dir, Language::Tamil).file_name().unwrap().to_owned();
        assert_eq!(p.file(dir, Language::Bengali).file_name().unwrap(), name);
        assert!(name.to_string_lossy().starts_with("move-closer-"), "{name:?}");
        let front = Prompt::about(FRONT, DocumentType::Uidai);
        assert_eq!(front.text(Language::English), "Show the front of your Aadhaar card");
        assert!(front.text(Language::Hindi).contains("आधार कार्ड"));
        assert!(all_prompts().contains(&front) && all_prompts().contains(&p));
    }

    #[test]
    fn hints_are_paced_and_screens_cut_in() {
        let heard = Heard::default();
        let mut voice = Voice::new("/v".into(), Box::new(heard.clone()), true);
        let t0 = Instant::now();
        let at = |s: f64| t0 + Duration::from_secs_f64(s);
        voice.hint("Move closer", Language::English, at(0.0));
        voice.hint("Hold still", Language::English, at(1.0)); // too soon after the last
        voice.hint("Hold still", Language::English, at(3.5));
        voice.hint("Hold still", Language::English, at(6.0)); // the same again, too soon
        voice.hint("Hold still", Language::English, at(14.0));
        assert_eq!(voice.asked, ["Move closer", "Hold still", "Hold still"]);
        voice.say(
            &screen_prompts(Screen::Selfie, DocumentType::Gov, false, true),
            Language::Hindi,
            at(15.0),
        );
        assert_eq!(heard.0.borrow().last().unwrap()[0].parent().unwrap(), Path::new("/v/hi"));
        voice.set_on(false);
        voice.hint("Move closer", Language::English, at(30.0));
        assert_eq!(voice.asked.len(), 4, "the speaker button silences it");
        voice.next_customer();
        assert!(voice.is_on(), "the next customer starts with the operator's choice");
    }

    #[test]
    fn every_customer_screen_says_something_and_staff_screens_nothing() {
        for screen in [
            Screen::Consent,
            Screen::DocumentType,
            Screen::Selfie,
            Screen::DocumentFront,
            Screen::DocumentBack,
            Screen::Processing,
        ] {
            assert!(
                !screen_prompts(screen, DocumentType::Pan, false, false).is_empty(),
                "{screen:?}"
            );
        }
        assert!(screen_prompts(Screen::Operator, DocumentType::Pan, false, true).is_empty());
        assert_eq!(screen_prompts(Screen::Consent, DocumentType::Pan, true, false).len(), 3);
        // The consent says the screen will change colour whenever it will.
        assert_eq!(screen_prompts(Screen::Consent, DocumentType::Pan, false, true).len(), 3);
        assert_eq!(screen_prompts(Screen::Consent, DocumentType::Pan, true, true).len(), 4);
    }
}
