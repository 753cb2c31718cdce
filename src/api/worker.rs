//! The inference thread: owns the [`Engine`] (TFLite interpreters are not
//! thread-safe) and answers match jobs sent from async handlers, so inference
//! never blocks the executor.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};

use tokio::sync::oneshot;

use super::ApiError;
use crate::answer::{answer, RequestBytes};
use crate::contract::{ErrorCode, MatchAnswer};
use crate::inference::Engine;
use crate::verify::{MatchParams, Verification};

/// The pictures and parameters of one match.
pub struct Job {
    /// Selfie bytes.
    pub src: Vec<u8>,
    /// Front bytes.
    pub front: Vec<u8>,
    /// Back bytes.
    pub back: Option<Vec<u8>>,
    /// Validated parameters.
    pub params: MatchParams,
}

/// What the worker answers.
pub type JobResult = Result<(MatchAnswer, Option<Verification>), ApiError>;

/// A handle to the inference thread.
#[derive(Clone)]
pub struct InferenceWorker {
    jobs: SyncSender<(Job, oneshot::Sender<JobResult>)>,
}

impl InferenceWorker {
    /// Starts the thread with `engine`; at most `queue` jobs wait.
    pub fn start(mut engine: Engine, queue: usize) -> InferenceWorker {
        let (jobs, inbox) = sync_channel::<(Job, oneshot::Sender<JobResult>)>(queue);
        std::thread::Builder::new()
            .name("inference".into())
            .spawn(move || {
                for (job, reply) in inbox {
                    let bytes = RequestBytes {
                        src: &job.src,
                        front: &job.front,
                        back: job.back.as_deref(),
                    };
                    let result =
                        answer(&mut engine.detector, &mut engine.embedder, bytes, job.params)
                            .map_err(ApiError::from);
                    // The client may have gone away; nothing to do then.
                    let _ = reply.send(result);
                }
            })
            .expect("spawning the inference thread");
        InferenceWorker { jobs }
    }

    /// Runs `job` on the inference thread.
    ///
    /// # Errors
    /// 4292 when the queue is full, 5001 when the thread is gone.
    pub async fn run(&self, job: Job) -> JobResult {
        let (tx, rx) = oneshot::channel();
        match self.jobs.try_send((job, tx)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError {
                    code: ErrorCode::ApiRateLimit,
                    details: "the device is busy: too many matches waiting".into(),
                })
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal("the inference thread stopped"))
            }
        }
        rx.await.unwrap_or_else(|_| Err(ApiError::internal("the inference thread stopped")))
    }
}
