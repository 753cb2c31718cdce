//! One customer's session as a state machine: welcome → biometric consent →
//! document type → live selfie → document front → (back, or skip) → processing
//! → result → welcome. Back and cancel work everywhere except while processing;
//! a declined or cancelled session keeps no picture and stores nothing (the only
//! effect that leads to storage is [`Effect::Verify`], emitted once all pictures
//! are in).

use image::RgbImage;

use super::back_side::is_same_picture;
use crate::domain::DocumentType;

/// What the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Idle: "Verify your identity".
    Welcome,
    /// Plain-language biometric consent.
    Consent,
    /// Which document.
    DocumentType,
    /// Live selfie.
    Selfie,
    /// Document front.
    DocumentFront,
    /// Document back (optional).
    DocumentBack,
    /// Matching.
    Processing,
    /// The verdict.
    Result,
    /// Staff PIN entry.
    OperatorPin,
    /// Staff settings and the recent log.
    Operator,
}

/// How many steps a customer goes through, as "Step n of 4" counts them.
pub const CUSTOMER_STEPS: u8 = 4;

impl Screen {
    /// Which of the customer's [`CUSTOMER_STEPS`] steps this screen is: consent, document
    /// type, selfie, document (both sides); None for the others.
    pub fn step(self) -> Option<u8> {
        match self {
            Screen::Consent => Some(1),
            Screen::DocumentType => Some(2),
            Screen::Selfie => Some(3),
            Screen::DocumentFront | Screen::DocumentBack => Some(4),
            _ => None,
        }
    }
}

/// Which picture a retake is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shot {
    /// The selfie.
    Selfie,
    /// The document front.
    Front,
    /// The document back.
    Back,
}

/// Everything that can happen to a session: taps, captures, the worker's answer, the idle timer.
#[derive(Debug, Clone)]
pub enum Event {
    /// "Start" on the welcome screen.
    Start,
    /// The consent answer.
    Consent(bool),
    /// A document type was chosen.
    ChooseType(DocumentType),
    /// The current screen's picture was captured.
    Captured(RgbImage),
    /// "No back side".
    SkipBack,
    /// The verification finished (the worker recorded it).
    Verified,
    /// Retake one picture after a rejection.
    Retake(Shot),
    /// "Back".
    Back,
    /// "Cancel".
    Cancel,
    /// Nobody touched the screen for the idle time.
    Timeout,
    /// "Staff" on the welcome screen.
    OperatorRequested,
    /// The PIN was checked (by the caller, against the stored hash) and is right.
    PinAccepted,
    /// The worker that takes and verifies the pictures has stopped: no session can go on, and
    /// the screen goes to staff (from any screen, a verification in progress included).
    WorkerStopped,
}

/// What the kiosk loop must do after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Verify these pictures (and record the result).
    Verify {
        /// Document type.
        doc_type: DocumentType,
        /// Selfie.
        selfie: RgbImage,
        /// Front.
        front: RgbImage,
        /// Back, if captured.
        back: Option<RgbImage>,
    },
}

/// A session: the screen and the pictures captured so far.
#[derive(Debug, Clone)]
pub struct Flow {
    screen: Screen,
    doc_type: DocumentType,
    selfie: Option<RgbImage>,
    front: Option<RgbImage>,
    back: Option<RgbImage>,
}

impl Flow {
    /// A fresh session on the welcome screen; `doc_type` is preselected on the type screen.
    pub fn new(doc_type: DocumentType) -> Flow {
        Flow { screen: Screen::Welcome, doc_type, selfie: None, front: None, back: None }
    }

    /// The current screen.
    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// The chosen document type.
    pub fn doc_type(&self) -> DocumentType {
        self.doc_type
    }

    /// Sets the document type preselected for the next sessions (operator setting).
    pub fn set_default_doc_type(&mut self, doc_type: DocumentType) {
        self.doc_type = doc_type;
    }

    /// The front taken in this session, which the back step must not take again.
    pub fn front(&self) -> Option<&RgbImage> {
        self.front.as_ref()
    }

    /// Whether any picture is held (none after a cancel, decline or timeout).
    pub fn holds_pictures(&self) -> bool {
        self.selfie.is_some() || self.front.is_some() || self.back.is_some()
    }

    fn reset(&mut self) {
        *self = Flow::new(self.doc_type);
    }

    fn verify(&mut self) -> Option<Effect> {
        let (Some(selfie), Some(front)) = (self.selfie.clone(), self.front.clone()) else {
            return None;
        };
        self.screen = Screen::Processing;
        Some(Effect::Verify { doc_type: self.doc_type, selfie, front, back: self.back.clone() })
    }

    /// Applies an event; returns the effect to carry out, if any. Events that make
    /// no sense on the current screen are ignored.
    pub fn handle(&mut self, event: Event) -> Option<Effect> {
        use Screen::*;
        match (self.screen, event) {
            (OperatorPin | Operator, Event::WorkerStopped) => {}
            (_, Event::WorkerStopped) => {
                self.reset();
                self.screen = OperatorPin;
            }
            (Processing, Event::Verified) => self.screen = Result,
            (Processing, _) => {}
            (Welcome, Event::Start) => self.screen = Consent,
            (Welcome, Event::OperatorRequested) => self.screen = OperatorPin,
            (OperatorPin, Event::PinAccepted) => self.screen = Operator,
            (OperatorPin | Operator, Event::Back) => self.reset(),
            (_, Event::Cancel) | (_, Event::Timeout) | (Consent, Event::Consent(false)) => {
                self.reset()
            }
            (Consent, Event::Consent(true)) => self.screen = DocumentType,
            (DocumentType, Event::ChooseType(t)) => {
                self.doc_type = t;
                self.screen = Selfie;
            }
            (Selfie, Event::Captured(p)) => {
                self.selfie = Some(p);
                // A retaken selfie goes straight back to matching with the kept document.
                if self.front.is_some() {
                    return self.verify();
                }
                self.screen = DocumentFront;
            }
            (DocumentFront, Event::Captured(p)) => {
                self.front = Some(p);
                self.screen = DocumentBack;
            }
            // The front's own picture is never its back (a scanner still showing its last page).
            (DocumentBack, Event::Captured(p))
                if self.front.as_ref().is_some_and(|f| is_same_picture(&p, f)) => {}
            (DocumentBack, Event::Captured(p)) => {
                self.back = Some(p);
                return self.verify();
            }
            (DocumentBack, Event::SkipBack) => {
                self.back = None;
                return self.verify();
            }
            (Result, Event::Retake(shot)) => {
                self.screen = match shot {
                    Shot::Selfie => Selfie,
                    Shot::Front => DocumentFront,
                    Shot::Back => DocumentBack,
                };
            }
            (Result, Event::Back) => self.reset(),
            (Consent, Event::Back) => self.screen = Welcome,
            (DocumentType, Event::Back) => self.screen = Consent,
            (Selfie, Event::Back) => self.screen = DocumentType,
            (DocumentFront, Event::Back) => self.screen = Selfie,
            (DocumentBack, Event::Back) => self.screen = DocumentFront,
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(shade: u8) -> RgbImage {
        RgbImage::from_pixel(4, 4, image::Rgb([shade, shade, shade]))
    }

    /// Runs events from a fresh session; returns the final screen and the effects.
    fn run(events: Vec<Event>) -> (Flow, Vec<Effect>) {
        let mut flow = Flow::new(DocumentType::Gov);
        let effects = events.into_iter().filter_map(|e| flow.handle(e)).collect();
        (flow, effects)
    }

    fn to_back_screen() -> Vec<Event> {
        vec![
            Event::Start,
            Event::Consent(true),
            Event::ChooseType(DocumentType::Pan),
            Event::Captured(picture(1)),
            Event::Captured(picture(2)),
        ]
    }

    #[test]
    fn a_stopped_worker_sends_any_screen_to_staff_and_forgets_the_pictures() {
        let mut events = to_back_screen();
        events.push(Event::SkipBack);
        let (mut flow, _) = run(events);
        assert_eq!(flow.screen(), Screen::Processing);
        assert_eq!(flow.handle(Event::WorkerStopped), None);
        assert_eq!(flow.screen(), Screen::OperatorPin);
        assert_eq!(flow.handle(Event::Back), None);
        assert_eq!(flow.handle(Event::Start), None);
        assert_eq!(flow.handle(Event::WorkerStopped), None);
        assert_eq!(flow.screen(), Screen::OperatorPin, "from the next customer's screen too");
        flow.handle(Event::PinAccepted);
        flow.handle(Event::WorkerStopped);
        assert_eq!(flow.screen(), Screen::Operator, "staff at work are left there");
    }

    #[test]
    fn the_happy_path_verifies_once_with_every_picture() {
        let mut events = to_back_screen();
        events.push(Event::Captured(picture(3)));
        let (mut flow, effects) = run(events);
        assert_eq!(flow.screen(), Screen::Processing);
        assert_eq!(
            effects,
            vec![Effect::Verify {
                doc_type: DocumentType::Pan,
                selfie: picture(1),
                front: picture(2),
                back: Some(picture(3))
            }]
        );
        // Taps while processing are ignored, cancel included.
        assert_eq!(flow.handle(Event::Cancel), None);
        assert_eq!(flow.screen(), Screen::Processing);
        flow.handle(Event::Verified);
        assert_eq!(flow.screen(), Screen::Result);
        flow.handle(Event::Timeout);
        assert_eq!(flow.screen(), Screen::Welcome);
        assert!(!flow.holds_pictures());
        assert_eq!(flow.doc_type(), DocumentType::Pan, "the last type stays preselected");
    }

    #[test]
    fn the_front_is_never_taken_again_as_the_back() {
        let mut events = to_back_screen();
        events.push(Event::Captured(picture(2)));
        let (mut flow, effects) = run(events);
        assert!(effects.is_empty());
        assert_eq!(flow.screen(), Screen::DocumentBack);
        assert_eq!(flow.front(), Some(&picture(2)));
        assert!(flow.handle(Event::Captured(picture(3))).is_some());
    }

    #[test]
    fn skipping_the_back_verifies_without_it() {
        let mut events = to_back_screen();
        events.push(Event::SkipBack);
        let (_, effects) = run(events);
        assert!(matches!(&effects[..], [Effect::Verify { back: None, .. }]));
    }

    #[test]
    fn decline_cancel_and_timeout_keep_nothing() {
        let check = |events: Vec<Event>| {
            let (flow, effects) = run(events);
            assert_eq!(flow.screen(), Screen::Welcome);
            assert!(effects.is_empty() && !flow.holds_pictures());
        };
        check(vec![Event::Start, Event::Consent(false)]);
        let mut cancelled = to_back_screen();
        cancelled.push(Event::Cancel);
        check(cancelled);
        let mut idle = to_back_screen();
        idle.push(Event::Timeout);
        check(idle);
    }

    #[test]
    fn back_walks_one_screen_at_a_time() {
        let (mut flow, _) = run(to_back_screen());
        let mut seen = vec![flow.screen()];
        for _ in 0..6 {
            flow.handle(Event::Back);
            seen.push(flow.screen());
        }
        use Screen::*;
        assert_eq!(
            seen,
            vec![DocumentBack, DocumentFront, Selfie, DocumentType, Consent, Welcome, Welcome]
        );
    }

    #[test]
    fn a_retaken_selfie_is_verified_again_with_the_kept_document() {
        let mut events = to_back_screen();
        events.extend([
            Event::SkipBack,
            Event::Verified,
            Event::Retake(Shot::Selfie),
            Event::Captured(picture(9)),
        ]);
        let (flow, effects) = run(events);
        assert_eq!(flow.screen(), Screen::Processing);
        assert_eq!(effects.len(), 2);
        assert!(
            matches!(&effects[1], Effect::Verify { selfie, front, .. } if *selfie == picture(9) && *front == picture(2))
        );
    }

    #[test]
    fn the_operator_screen_needs_an_accepted_pin() {
        let (flow, _) = run(vec![Event::OperatorRequested]);
        assert_eq!(flow.screen(), Screen::OperatorPin);
        let (flow, _) = run(vec![Event::OperatorRequested, Event::PinAccepted]);
        assert_eq!(flow.screen(), Screen::Operator);
        // Not from inside a customer's session, and never without the PIN.
        let (flow, _) = run(vec![Event::Start, Event::OperatorRequested, Event::PinAccepted]);
        assert_eq!(flow.screen(), Screen::Consent);
        let (flow, _) = run(vec![Event::OperatorRequested, Event::PinAccepted, Event::Back]);
        assert_eq!(flow.screen(), Screen::Welcome);
        let (flow, _) = run(vec![Event::OperatorRequested, Event::Timeout]);
        assert_eq!(flow.screen(), Screen::Welcome);
    }

    #[test]
    fn events_out_of_place_are_ignored() {
        let (flow, effects) = run(vec![
            Event::Captured(picture(1)),
            Event::SkipBack,
            Event::Verified,
            Event::Consent(true),
        ]);
        assert_eq!((flow.screen(), effects.len()), (Screen::Welcome, 0));
    }
}
