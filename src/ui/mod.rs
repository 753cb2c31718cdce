//! The kiosk's screen: the Slint UI from `ui/app.slint` and the adapter between
//! it, the session state machine ([`crate::kiosk::flow`]) and the kiosk's worker
//! thread ([`crate::kiosk::worker`]). The only module that imports slint; it
//! holds no rule of its own.
//!
//! Threads: the UI thread runs Slint and the [`Flow`]; the worker grabs frames
//! from the active source, detects faces, computes guidance and runs the
//! verification. Messages go both ways over channels; the UI drains its channel
//! in [`Controller::pump`] (a 30 ms timer in the running kiosk, called directly by
//! headless tests). The worker handles one frame at a time, so stale frames are
//! never queued.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbImage;
use slint::{ComponentHandle, Rgb8Pixel, SharedPixelBuffer};

pub use crate::kiosk::worker::{spawn_worker, FromWorker, ToWorker, WorkerConfig};

use crate::camera::CameraSpec;
use crate::domain::{DocumentType, FaceBox};
use crate::kiosk::flow::{Effect, Event, Flow, Screen, Shot, CUSTOMER_STEPS};
use crate::kiosk::language::{document_name, Language};
use crate::kiosk::liveness_step::{ChallengeView, FlashShow};
use crate::kiosk::pin::{PinGate, PinRefusal};
use crate::kiosk::settings::{self, OperatorChoices};
use crate::kiosk::speaker::Aplay;
use crate::kiosk::voice::{self, Prompt, Voice};
use crate::liveness::{flash, Direction};
use crate::matching::Threshold;
use crate::tr;

mod opening;
mod whole_screen;

slint::include_modules!();

/// The kiosk window, built but not yet shown (tests render it headless).
///
/// # Errors
/// When Slint has no usable platform.
pub fn init() -> Result<AppWindow, slint::PlatformError> {
    AppWindow::new()
}

/// The kiosk's settings as the screen needs them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Document type preselected for new sessions.
    pub doc_type: DocumentType,
    /// Seconds without a touch before a session is dropped.
    pub idle_timeout: Duration,
    /// The operator PIN's stored hash and the device's secret (None: no operator screen).
    pub operator_pin: Option<crate::kiosk::pin::StaffPin>,
    /// Match threshold.
    pub threshold: Threshold,
    /// The selfie camera, shown and changed on the operator screen.
    pub camera: CameraSpec,
    /// Where the operator's choices are saved (None: they last until the kiosk stops).
    pub settings_file: Option<PathBuf>,
    /// Where wrong staff PINs and the lock-out are kept (None: they last until the kiosk stops).
    pub pin_state_file: Option<PathBuf>,
    /// The language each session starts in (the customer may choose another on the welcome
    /// screen; the next session starts in this one again).
    pub language: Language,
    /// Whether each session starts with voice guidance on (the customer's speaker button
    /// turns it off or on for the session).
    pub voice: bool,
    /// The ALSA device the prompts play on (None: the default).
    pub audio_device: Option<String>,
    /// The screen shows colours during the liveness challenge on this kiosk (staff can turn
    /// them off for one customer).
    pub screen_colours: bool,
}

/// Connects the window to a session and a worker.
pub struct Controller {
    window: slint::Weak<AppWindow>,
    flow: RefCell<Flow>,
    pin: RefCell<String>,
    gate: RefCell<PinGate>,
    threshold: Cell<Threshold>,
    /// The operator's default language, and the session's.
    default_language: Cell<Language>,
    language: Cell<Language>,
    camera: RefCell<CameraSpec>,
    cameras: RefCell<Vec<CameraSpec>>,
    settings_file: Option<PathBuf>,
    to_worker: Sender<ToWorker>,
    from_worker: Receiver<FromWorker>,
    last_frame: RefCell<Option<Arc<RgbImage>>>,
    last_touch: RefCell<Instant>,
    idle_timeout: Duration,
    /// Previews shown so far (the frame-rate figure).
    pub previews: RefCell<u64>,
    /// `Watch` messages sent to the worker: previews carry the worker's count, and one from
    /// another visit of a screen is dropped.
    visits: Cell<u64>,
    /// Voice guidance, and the screen whose instruction it last said.
    voice: RefCell<Voice>,
    voiced_screen: Cell<Option<Screen>>,
    /// The worker thread has stopped: no session can go on until the kiosk is restarted.
    worker_down: Cell<bool>,
    /// The kiosk shows colours during the challenge ([`Settings::screen_colours`]).
    kiosk_colours: bool,
    /// Staff's switch: the colours on for the next customer (set back on after a session).
    colours_for_customer: Cell<bool>,
    /// The colours of the running attempt, painted on each pump.
    flash: RefCell<Option<FlashShow>>,
    /// When the page's colour last changed, and whether it changed to a colour.
    flash_changed: Cell<(Instant, bool)>,
}

/// What the staff screen says once the worker has stopped (staff screens are in English).
pub const WORKER_STOPPED: &str =
    "The kiosk has stopped working (its camera and face-check thread ended). Restart the kiosk.";

/// A window callback without arguments that runs `f` on the controller while it lives: the
/// window holds its callbacks, so they hold the controller weakly (no reference cycle).
fn on(c: &Rc<Controller>, f: impl Fn(&Controller) + 'static) -> impl Fn() + 'static {
    let c = Rc::downgrade(c);
    move || {
        if let Some(c) = c.upgrade() {
            f(&c);
        }
    }
}

/// [`on`] for a callback with one argument.
fn with<A>(c: &Rc<Controller>, f: impl Fn(&Controller, A) + 'static) -> impl Fn(A) + 'static {
    let c = Rc::downgrade(c);
    move |a| {
        if let Some(c) = c.upgrade() {
            f(&c, a);
        }
    }
}

impl Controller {
    /// Wires the window's callbacks to a fresh session.
    pub fn new(
        window: &AppWindow,
        to_worker: Sender<ToWorker>,
        from_worker: Receiver<FromWorker>,
        settings: Settings,
    ) -> Rc<Controller> {
        let idle_timeout = settings.idle_timeout;
        let c = Rc::new(Controller {
            window: window.as_weak(),
            flow: RefCell::new(Flow::new(settings.doc_type)),
            pin: RefCell::new(String::new()),
            gate: RefCell::new(match &settings.pin_state_file {
                Some(state) => PinGate::with_state(settings.operator_pin, state),
                None => PinGate::new(settings.operator_pin),
            }),
            threshold: Cell::new(settings.threshold),
            default_language: Cell::new(settings.language),
            language: Cell::new(settings.language),
            camera: RefCell::new(settings.camera.clone()),
            cameras: RefCell::new(vec![settings.camera.clone()]),
            settings_file: settings.settings_file,
            to_worker,
            from_worker,
            last_frame: RefCell::new(None),
            last_touch: RefCell::new(Instant::now()),
            idle_timeout,
            previews: RefCell::new(0),
            visits: Cell::new(0),
            voice: RefCell::new(Voice::new(
                voice::locate_dir(),
                Box::new(Aplay::new(settings.audio_device)),
                settings.voice,
            )),
            voiced_screen: Cell::new(None),
            worker_down: Cell::new(false),
            kiosk_colours: settings.screen_colours,
            colours_for_customer: Cell::new(true),
            flash: RefCell::new(None),
            flash_changed: Cell::new((Instant::now(), false)),
        });
        let k = window.global::<Kiosk>();
        k.on_start(on(&c, |c| c.apply(Event::Start)));
        k.on_skip_back(on(&c, |c| c.apply(Event::SkipBack)));
        k.on_back(on(&c, |c| c.apply(Event::Back)));
        k.on_cancel(on(&c, |c| c.apply(Event::Cancel)));
        k.on_done(on(&c, |c| c.apply(Event::Back)));
        k.on_capture(on(&c, |c| c.capture_pressed()));
        k.on_staff(on(&c, |c| c.apply(Event::OperatorRequested)));
        k.on_pin_clear(on(&c, |c| c.set_pin(String::new(), "")));
        k.on_pin_ok(on(&c, |c| c.check_pin()));
        k.on_next_default_type(on(&c, |c| c.next_default_type()));
        k.on_next_camera(on(&c, |c| c.next_camera()));
        k.on_next_default_language(on(&c, |c| c.next_default_language()));
        k.on_toggle_screen_colours(on(&c, |c| {
            c.colours_for_customer.set(!c.colours_for_customer.get());
            c.show_colours_choice();
        }));
        k.set_kiosk_colours(settings.screen_colours);
        let choices: Vec<LanguageChoice> = Language::ALL
            .iter()
            .map(|l| LanguageChoice {
                code: l.code().into(),
                name: l.own_name().into(),
                font: l.font_family().into(),
            })
            .collect();
        k.set_languages(slint::ModelRc::new(slint::VecModel::from(choices)));
        k.set_voice_on(settings.voice);
        k.on_toggle_voice(on(&c, |c| c.toggle_voice()));
        k.on_toggle_large_text(on(&c, |c| c.toggle_large_text()));
        k.on_choose_language(with(&c, |c, code: slint::SharedString| c.choose_language(&code)));
        k.set_camera_name(settings.camera.to_string().into());
        k.on_pin_digit(with(&c, |c, digit: i32| c.pin_digit(digit)));
        k.on_threshold_step(with(&c, |c, step: i32| {
            c.set_threshold(c.threshold.get().stepped(f64::from(step)));
        }));
        k.on_consent(with(&c, |c, given| c.apply(Event::Consent(given))));
        k.on_choose_type(with(&c, |c, choice| c.apply(Event::ChooseType(document_type(choice)))));
        k.on_retake(with(&c, |c, which| {
            c.apply(Event::Retake(match which {
                Retake::Selfie => Shot::Selfie,
                Retake::Document => Shot::Front,
            }));
        }));
        c.show_colours_choice();
        c.show_screen();
        c
    }

    /// Whether this customer's session shows the screen's colours, on the consent and staff
    /// screens.
    fn show_colours_choice(&self) {
        if let Some(window) = self.window.upgrade() {
            let on = self.kiosk_colours && self.colours_for_customer.get();
            window.global::<Kiosk>().set_screen_colours(on);
        }
    }

    /// Paints the running attempt's colour for this moment, or the usual page when none. A
    /// colour stays at least [`flash::MIN_HOLD`] whatever happens (an attempt that ends
    /// mid-hold, a screen that changes), so the page never changes more than twice a second.
    /// Only a change is set: the software renderer redraws what changed.
    fn paint_flash(&self, k: &Kiosk) {
        let now = Instant::now();
        let wanted = self.flash.borrow().as_ref().and_then(|f| f.colour_at(now));
        let wanted = wanted.map(|[r, g, b]| slint::Color::from_rgb_u8(r, g, b));
        let shown = k.get_flash_on().then(|| k.get_flash_colour());
        let (changed, held) = self.flash_changed.get();
        // Colour to colour follows the sequence, whose holds are that long already.
        let cut_short =
            wanted.is_none() && held && changed.elapsed().as_secs_f32() < flash::MIN_HOLD;
        if wanted == shown || cut_short {
            return;
        }
        self.flash_changed.set((now, wanted.is_some()));
        k.set_flash_on(wanted.is_some());
        if let Some(colour) = wanted {
            k.set_flash_colour(colour);
        }
    }

    /// Voice prompts on or off, for this session and the ones after.
    fn toggle_voice(&self) {
        let on = !self.voice.borrow().is_on();
        self.voice.borrow_mut().set_on(on);
        if let Some(window) = self.window.upgrade() {
            window.global::<Kiosk>().set_voice_on(on);
        }
    }

    /// Large text on or off.
    fn toggle_large_text(&self) {
        if let Some(window) = self.window.upgrade() {
            let k = window.global::<Kiosk>();
            k.set_large_text(!k.get_large_text());
        }
    }

    /// The customer chose the session's language (an unknown code is ignored).
    fn choose_language(&self, code: &str) {
        let Ok(language) = code.parse() else { return };
        *self.last_touch.borrow_mut() = Instant::now();
        self.language.set(language);
        self.show_screen();
        self.voice.borrow_mut().say(&voice::welcome_prompts(), language, Instant::now());
    }

    /// A PIN pad digit: added while the PIN is shorter than 8 digits.
    fn pin_digit(&self, digit: i32) {
        let mut pin = self.pin.borrow().clone();
        if let (true, Some(d)) = (pin.len() < 8, char::from_digit(digit as u32, 10)) {
            pin.push(d);
        }
        self.set_pin(pin, "");
    }

    /// The current screen.
    pub fn screen(&self) -> Screen {
        self.flow.borrow().screen()
    }

    /// The session's language.
    pub fn language(&self) -> Language {
        self.language.get()
    }

    /// Every voice prompt asked for so far, in English, oldest first.
    pub fn voice_asked(&self) -> Vec<String> {
        self.voice.borrow().asked.clone()
    }

    /// Applies a session event: updates the screen, tells the worker what to watch or verify.
    /// Back on the welcome screen, the next session starts in the operator's default language.
    pub fn apply(&self, event: Event) {
        *self.last_touch.borrow_mut() = Instant::now();
        let before = self.screen();
        let back = matches!(event, Event::Back);
        let effect = self.flow.borrow_mut().handle(event);
        if effect.is_none() && self.screen() == before {
            // Ignored (a tap out of place, the front offered as the back): the screen stays
            // as it is, its preview included.
            return;
        }
        if self.screen() == Screen::Welcome && before != Screen::Welcome {
            self.next_customer();
        }
        let session_ended = self.screen() == Screen::Welcome
            && !matches!(before, Screen::Welcome | Screen::OperatorPin | Screen::Operator)
            // Back from the consent is the same customer choosing a language again.
            && !(before == Screen::Consent && back);
        if session_ended {
            // Staff's choice of colours was for the customer whose session just ended.
            self.colours_for_customer.set(true);
            self.show_colours_choice();
        }
        if let Some(Effect::Verify { doc_type, selfie, front, back }) = effect {
            if self.to_worker.send(ToWorker::Verify { doc_type, selfie, front, back }).is_err() {
                self.worker_stopped();
                return;
            }
        }
        self.show_screen();
    }

    /// The worker has ended (a panic, or its channel closed): no screen may wait on it. Logs
    /// it once, and sends the customer's screen to staff, who must restart the kiosk.
    fn worker_stopped(&self) {
        if !self.worker_down.replace(true) {
            log::error!(
                "kiosk: the worker thread has stopped; sessions cannot go on until a restart"
            );
        }
        if !matches!(self.screen(), Screen::OperatorPin | Screen::Operator) {
            let _ = self.flow.borrow_mut().handle(Event::WorkerStopped);
            self.show_screen();
        }
        if let Some(window) = self.window.upgrade() {
            window.global::<Kiosk>().set_pin_message(WORKER_STOPPED.into());
        }
    }

    /// "Take picture": the last preview frame, except for a selfie that must come from a passed
    /// liveness challenge (the button is hidden then; this keeps the rule if it is pressed anyway).
    pub fn capture_pressed(&self) {
        let required = self.window.upgrade().is_some_and(|w| w.global::<Kiosk>().get_liveness_on());
        if self.screen() == Screen::Selfie && required {
            log::warn!("kiosk: a selfie is taken only by a passed liveness challenge");
            return;
        }
        self.capture();
    }

    /// Takes the last preview frame as the current screen's picture.
    fn capture(&self) {
        let frame = self.last_frame.borrow_mut().take();
        if let Some(frame) = frame {
            self.apply(Event::Captured(Arc::unwrap_or_clone(frame)));
        }
    }

    fn set_pin(&self, pin: String, message: &str) {
        *self.last_touch.borrow_mut() = Instant::now();
        if let Some(window) = self.window.upgrade() {
            let k = window.global::<Kiosk>();
            k.set_pin_dots("●".repeat(pin.chars().count()).into());
            k.set_pin_message(message.into());
        }
        *self.pin.borrow_mut() = pin;
    }

    /// Checks the typed PIN against the stored hash (never in the markup).
    fn check_pin(&self) {
        let pin = std::mem::take(&mut *self.pin.borrow_mut());
        match self.gate.borrow_mut().check_at(&pin, std::time::SystemTime::now()) {
            Ok(()) => {
                self.set_pin(String::new(), "");
                self.apply(Event::PinAccepted);
            }
            Err(PinRefusal::Wrong(left)) => {
                self.set_pin(String::new(), &format!("Wrong PIN ({left} tries left)"))
            }
            Err(PinRefusal::Locked(wait)) => self.set_pin(
                String::new(),
                &format!("Too many wrong PINs: wait {} s", wait.as_secs().max(1)),
            ),
            Err(PinRefusal::NotConfigured) => {
                self.set_pin(String::new(), "No staff PIN is set up on this kiosk")
            }
        }
    }

    /// Operator setting: the threshold for the next verifications.
    fn set_threshold(&self, value: Threshold) {
        self.threshold.set(value);
        let _ = self.to_worker.send(ToWorker::SetThreshold(value));
        if let Some(window) = self.window.upgrade() {
            window.global::<Kiosk>().set_threshold_value(value.percent().round() as i32);
        }
        self.remember();
    }

    /// Operator setting: the next document type in the list becomes the preselected one.
    fn next_default_type(&self) {
        let current = self.flow.borrow().doc_type();
        let i = DocumentType::ALL.iter().position(|t| *t == current).unwrap_or(0);
        self.flow
            .borrow_mut()
            .set_default_doc_type(DocumentType::ALL[(i + 1) % DocumentType::ALL.len()]);
        self.remember();
        self.show_screen();
    }

    /// Operator setting: the next language in the list becomes every session's first.
    fn next_default_language(&self) {
        let current = self.default_language.get();
        let i = Language::ALL.iter().position(|l| *l == current).unwrap_or(0);
        let next = Language::ALL[(i + 1) % Language::ALL.len()];
        self.default_language.set(next);
        self.language.set(next);
        self.remember();
        self.show_screen();
    }

    /// Operator setting: the next camera of those seen (the one configured at start, then
    /// each native camera found).
    fn next_camera(&self) {
        let next = {
            let cameras = self.cameras.borrow();
            let current = self.camera.borrow();
            let i = cameras.iter().position(|c| *c == *current).unwrap_or(0);
            cameras[(i + 1) % cameras.len().max(1)].clone()
        };
        let _ = self.to_worker.send(ToWorker::SetCamera(next.clone()));
        if let Some(window) = self.window.upgrade() {
            window.global::<Kiosk>().set_camera_name(next.to_string().into());
        }
        *self.camera.borrow_mut() = next;
        self.remember();
    }

    /// Saves the operator's choices, and says on the operator screen if that failed.
    fn remember(&self) {
        let Some(path) = &self.settings_file else { return };
        let choices = OperatorChoices {
            threshold: Some(self.threshold.get().percent()),
            doc_type: Some(self.flow.borrow().doc_type().as_str().into()),
            camera: Some(self.camera.borrow().to_string()),
            language: Some(self.default_language.get().code().into()),
        };
        let message = match settings::save(path, &choices) {
            Ok(()) => String::new(),
            Err(e) => {
                log::warn!("kiosk: the operator's choices were not saved: {e}");
                format!("Not saved, this lasts until a restart: {e}")
            }
        };
        if let Some(window) = self.window.upgrade() {
            window.global::<Kiosk>().set_operator_message(message.into());
        }
    }

    fn show_screen(&self) {
        let Some(window) = self.window.upgrade() else { return };
        let k = window.global::<Kiosk>();
        let screen = self.screen();
        k.set_screen(match screen {
            Screen::Welcome => ScreenKind::Welcome,
            Screen::Consent => ScreenKind::Consent,
            Screen::DocumentType => ScreenKind::DocType,
            Screen::Selfie => ScreenKind::Selfie,
            Screen::DocumentFront => ScreenKind::DocFront,
            Screen::DocumentBack => ScreenKind::DocBack,
            Screen::Processing => ScreenKind::Processing,
            Screen::Result => ScreenKind::Result,
            Screen::OperatorPin => ScreenKind::OperatorPin,
            Screen::Operator => ScreenKind::Operator,
        });
        self.show_language(&k, screen);
        k.set_default_type_name(self.flow.borrow().doc_type().everyday_name().into());
        k.set_default_language_name(self.default_language.get().english_name().into());
        k.set_threshold_value(self.threshold.get().percent().round() as i32);
        if screen == Screen::Operator {
            let _ = self.to_worker.send(ToWorker::Recent);
        }
        if screen != Screen::OperatorPin {
            self.pin.borrow_mut().clear();
            k.set_pin_dots("".into());
            k.set_pin_message("".into());
        }
        let language = self.language.get();
        let doc_type = self.flow.borrow().doc_type();
        k.set_doc_type_name(language.translate(document_name(doc_type)).into());
        if self.voiced_screen.replace(Some(screen)) != Some(screen) {
            let colours = k.get_liveness_on() && k.get_screen_colours();
            let prompts =
                voice::screen_prompts(screen, doc_type, k.get_capture_sessions(), colours);
            self.voice.borrow_mut().say(&prompts, language, Instant::now());
        }
        let watch = match screen {
            Screen::Selfie => Some(Shot::Selfie),
            Screen::DocumentFront => Some(Shot::Front),
            Screen::DocumentBack => Some(Shot::Back),
            _ => None,
        };
        if watch.is_some() {
            // A new capture screen starts from an empty preview, never the last screen's frame.
            self.clear_preview(&k);
            k.set_guidance("".into());
            k.set_camera_message("".into());
            k.set_challenge_arrow(Arrow::None);
            k.set_challenge_steps(0);
            k.set_challenge_staff(false);
        }
        // Colours only while an attempt of this screen runs (the worker says when).
        self.flash.borrow_mut().take();
        self.paint_flash(&k);
        if watch == Some(Shot::Selfie) {
            let _ = self.to_worker.send(ToWorker::ScreenColours(self.colours_for_customer.get()));
        }
        if watch == Some(Shot::Back) {
            if let Some(front) = self.flow.borrow().front() {
                let _ = self.to_worker.send(ToWorker::BackOf(front.clone()));
            }
        }
        self.visits.set(self.visits.get() + 1);
        let _ = self.to_worker.send(ToWorker::Watch(watch));
    }

    /// The next customer starts in the operator's default language, with normal text and the
    /// operator's voice setting.
    fn next_customer(&self) {
        self.language.set(self.default_language.get());
        let mut voice = self.voice.borrow_mut();
        voice.next_customer();
        if let Some(window) = self.window.upgrade() {
            let k = window.global::<Kiosk>();
            k.set_large_text(false);
            k.set_voice_on(voice.is_on());
        }
    }

    /// The session's language on screen: the markup's words (Slint's bundled catalogue), the
    /// font of its script and "Step n of 4" in its digits. Staff screens stay in English.
    fn show_language(&self, k: &Kiosk, screen: Screen) {
        let staff = matches!(screen, Screen::OperatorPin | Screen::Operator);
        let language = if staff { Language::English } else { self.language.get() };
        if let Err(e) = slint::select_bundled_translation(language.code()) {
            log::error!("kiosk: the {language} words cannot be shown: {e}");
        }
        k.set_language(language.code().into());
        k.set_font_family(language.font_family().into());
        let step_text =
            screen.step().map(|n| language.step_of(usize::from(n), usize::from(CUSTOMER_STEPS)));
        k.set_flow_step_text(step_text.unwrap_or_default().into());
    }

    /// Handles everything the worker sent, and the idle timeout. Returns how many messages were handled.
    pub fn pump(&self) -> usize {
        if let Some(window) = self.window.upgrade() {
            self.paint_flash(&window.global::<Kiosk>());
        }
        let mut handled = 0;
        loop {
            match self.from_worker.try_recv() {
                Ok(message) => {
                    handled += 1;
                    self.handle(message);
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.worker_stopped();
                    return handled;
                }
            }
        }
        let idle = self.last_touch.borrow().elapsed() > self.idle_timeout;
        if idle && !matches!(self.screen(), Screen::Welcome | Screen::Processing) {
            self.apply(Event::Timeout);
        } else if idle && self.screen() == Screen::Welcome {
            // A language or text size chosen and left on the welcome screen is not the next
            // customer's.
            let large = self.window.upgrade().is_some_and(|w| w.global::<Kiosk>().get_large_text());
            if large || self.language.get() != self.default_language.get() {
                self.next_customer();
                self.show_screen();
            }
            // Nor is staff's choice of colours, once that customer has gone.
            if !self.colours_for_customer.replace(true) {
                self.show_colours_choice();
            }
        }
        handled
    }

    fn handle(&self, message: FromWorker) {
        let Some(window) = self.window.upgrade() else { return };
        let k = window.global::<Kiosk>();
        match message {
            FromWorker::Preview {
                shot,
                visit,
                preview,
                full,
                face,
                guidance,
                take,
                turn_over,
                card_guide,
                challenge,
                flash,
            } => {
                if Some(shot) != self.watching() || visit != self.visits.get() {
                    return; // a frame for a screen already left
                }
                *self.flash.borrow_mut() = flash;
                self.paint_flash(&k);
                *self.previews.borrow_mut() += 1;
                k.set_preview(to_image(&preview));
                k.set_preview_face(mark(face, full.width(), full.height()));
                let language = self.language.get();
                k.set_guidance(language.translate(guidance).into());
                self.voice.borrow_mut().hint(guidance, language, Instant::now());
                k.set_card_guide(card_guide);
                show_challenge(&k, &challenge, language);
                k.set_camera_message("".into());
                k.set_can_take(!turn_over);
                k.set_turn_over(turn_over);
                // Only a frame the button may take is kept for it.
                *self.last_frame.borrow_mut() = (!turn_over).then_some(full);
                if take {
                    self.capture();
                }
            }
            FromWorker::CameraProblem { shot, message, .. } => {
                if Some(shot) == self.watching() {
                    // No picture to take while the source gives none, and no frozen frame
                    // that would look live.
                    self.clear_preview(&k);
                    let language = self.language.get();
                    k.set_camera_message(language.translate(message).into());
                    self.voice.borrow_mut().hint(message, language, Instant::now());
                }
            }
            FromWorker::Recent { rows, summary, cameras } => {
                // Every camera seen stays a choice, the one configured at start included.
                let mut choices = self.cameras.borrow_mut();
                for camera in cameras {
                    if !choices.contains(&camera) {
                        choices.push(camera);
                    }
                }
                drop(choices);
                let rows: Vec<slint::SharedString> = rows.into_iter().map(Into::into).collect();
                k.set_recent(slint::ModelRc::new(slint::VecModel::from(rows)));
                let voice = match self.voice.borrow_mut().problem() {
                    Some(problem) => format!("Voice guidance: {problem}"),
                    None => "Voice guidance: no problem seen".to_string(),
                };
                k.set_sync_summary(format!("{summary}\n{voice}").into());
            }
            FromWorker::Verified(view) => {
                k.set_selfie(to_image(&view.selfie));
                k.set_selfie_face(mark(
                    view.selfie_face,
                    view.selfie.width(),
                    view.selfie.height(),
                ));
                k.set_document(to_image(&view.document));
                k.set_document_face(mark(
                    view.document_face,
                    view.document.width(),
                    view.document.height(),
                ));
                let l = self.language.get();
                k.set_matched(view.matched);
                k.set_verdict(l.translate(view.verdict).into());
                let percent = view.percent.map(|p| l.format(tr!("Match {} %"), &[l.number(p, 1)]));
                k.set_percent(percent.unwrap_or_default().into());
                let needed = l.format(tr!("Needed: {} %"), &[l.number(view.threshold, 0)]);
                k.set_threshold_text(needed.into());
                k.set_reason(l.translate(view.reason).into());
                let said: Vec<Prompt> = [view.verdict, view.reason]
                    .into_iter()
                    .filter(|m| !m.is_empty())
                    .map(Prompt::say)
                    .collect();
                self.voice.borrow_mut().say(&said, l, Instant::now());
                k.set_can_retake_selfie(view.retake_selfie);
                k.set_can_retake_document(view.retake_document);
                self.apply(Event::Verified);
            }
        }
    }

    /// An empty preview with nothing to take: a capture screen's start, or a source that
    /// stopped giving pictures.
    fn clear_preview(&self, k: &Kiosk) {
        self.last_frame.borrow_mut().take();
        k.set_preview(slint::Image::default());
        k.set_preview_face(FaceMark::default());
        k.set_can_take(false);
        k.set_turn_over(false);
    }

    fn watching(&self) -> Option<Shot> {
        match self.screen() {
            Screen::Selfie => Some(Shot::Selfie),
            Screen::DocumentFront => Some(Shot::Front),
            Screen::DocumentBack => Some(Shot::Back),
            _ => None,
        }
    }
}

/// The contract's document type for the customer's choice.
fn document_type(choice: DocChoice) -> DocumentType {
    match choice {
        DocChoice::Uidai => DocumentType::Uidai,
        DocChoice::Pan => DocumentType::Pan,
        DocChoice::Dl => DocumentType::Dl,
        DocChoice::Voter => DocumentType::Voter,
        DocChoice::Passport => DocumentType::Passport,
        DocChoice::Gov => DocumentType::Gov,
    }
}

fn to_image(picture: &RgbImage) -> slint::Image {
    let buffer = SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(
        picture.as_raw(),
        picture.width(),
        picture.height(),
    );
    slint::Image::from_rgb8(buffer)
}

/// The liveness challenge's arrow, step and progress (all cleared when none runs).
fn show_challenge(k: &Kiosk, c: &ChallengeView, language: Language) {
    k.set_liveness_on(c.required);
    k.set_challenge_arrow(match c.direction {
        None => Arrow::None,
        Some(Direction::Left) => Arrow::Left,
        Some(Direction::Right) => Arrow::Right,
        Some(Direction::Up) => Arrow::Up,
        Some(Direction::Down) => Arrow::Down,
    });
    k.set_challenge_step(c.step as i32);
    k.set_challenge_steps(c.steps as i32);
    k.set_challenge_step_text(language.movement_of(c.step, c.steps).into());
    k.set_challenge_progress(c.progress);
    k.set_challenge_staff(c.staff);
}

fn mark(face: Option<FaceBox>, width: u32, height: u32) -> FaceMark {
    let Some(b) = face else { return FaceMark::default() };
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    FaceMark { x: b.x / w, y: b.y / h, w: b.w / w, h: b.h / h, shown: true }
}

/// Where the kiosk draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// A desktop window if there is a desktop, else straight on the screen (with `kiosk-kms`).
    Auto,
    /// A window on an X11 or Wayland desktop (winit, software renderer).
    Window,
    /// Straight on the screen through DRM/KMS with libinput touch, no desktop (a Pi).
    Kms,
}

/// Runs the kiosk until its window is closed (or, on a bare screen, until it is stopped).
///
/// # Errors
/// When the display cannot be opened (no desktop, no DRM device or no permission for
/// it) or the event loop fails.
pub fn run(
    config: WorkerConfig,
    settings: Settings,
    display: Display,
    fullscreen: bool,
) -> Result<(), slint::PlatformError> {
    let window = opening::open_window(display)?;
    if fullscreen {
        whole_screen::cover_the_monitor(&window);
    }
    let k = window.global::<Kiosk>();
    k.set_liveness_on(config.liveness != crate::kiosk::liveness_step::LivenessMode::Off);
    k.set_capture_sessions(config.capture_sessions.is_some());
    let (to_worker, from_worker, worker) = spawn_worker(config);
    let controller = Controller::new(&window, to_worker.clone(), from_worker, settings);
    let timer = slint::Timer::default();
    let pump = Rc::downgrade(&controller);
    timer.start(slint::TimerMode::Repeated, Duration::from_millis(30), move || {
        if let Some(c) = pump.upgrade() {
            c.pump();
        }
    });
    let result = window.run();
    let _ = to_worker.send(ToWorker::Quit);
    let _ = worker.join();
    result
}
