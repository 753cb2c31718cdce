//! The inference thread: owns the [`Engine`] (a compiled model runs from its own
//! buffers, one request at a time) and answers match jobs sent from async handlers, so inference
//! never blocks the executor. Jobs arrive decoded: decoding runs on the blocking pool, so a
//! picture that is slow to decode holds only its own request.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

use tokio::sync::oneshot;

use super::ApiError;
use crate::answer::{answer_decoded, DecodedRequest};
use crate::contract::MatchAnswer;
use crate::inference::Engine;
use crate::verify::{MatchParams, Verification};

/// The pictures and parameters of one match.
pub struct Job {
    /// The request's pictures, decoded.
    pub pictures: DecodedRequest,
    /// Validated parameters.
    pub params: MatchParams,
    /// The request's place among those holding pictures ([`super::MATCHES_IN_MEMORY`]),
    /// given back when the job, pictures and all, is dropped.
    pub holding: tokio::sync::OwnedSemaphorePermit,
}

/// What the worker answers.
pub type JobResult = Result<(MatchAnswer, Option<Verification>), ApiError>;

/// A handle to the inference thread.
#[derive(Clone)]
pub struct InferenceWorker {
    jobs: SyncSender<(Job, oneshot::Sender<JobResult>)>,
    panics: Arc<AtomicU64>,
}

impl InferenceWorker {
    /// Starts the thread with `engine`; at most `queue` jobs wait.
    pub fn start(mut engine: Engine, queue: usize) -> InferenceWorker {
        InferenceWorker::start_with(queue, move |job| {
            answer_decoded(&mut engine.detector, &mut engine.embedder, &job.pictures, job.params)
                .map_err(ApiError::from)
        })
    }

    /// Starts the thread running `run` for each job. A job that panics is answered 5001 and
    /// counted; the thread goes on with the next job.
    pub fn start_with(
        queue: usize,
        mut run: impl FnMut(&Job) -> JobResult + Send + 'static,
    ) -> InferenceWorker {
        let (jobs, inbox) = sync_channel::<(Job, oneshot::Sender<JobResult>)>(queue);
        let panics = Arc::new(AtomicU64::new(0));
        let counted = panics.clone();
        std::thread::Builder::new()
            .name("inference".into())
            .spawn(move || {
                for (job, reply) in inbox {
                    if reply.is_closed() {
                        // Its request timed out or its client left while it waited: no one to
                        // answer, and its pictures are given back at once.
                        continue;
                    }
                    let result = std::panic::catch_unwind(AssertUnwindSafe(|| run(&job)))
                        .unwrap_or_else(|_| {
                            let n = counted.fetch_add(1, Ordering::Relaxed) + 1;
                            log::error!("serve: a match panicked ({n} since start); answered 5001");
                            Err(ApiError::internal("the match could not be processed"))
                        });
                    // The client may have gone away; nothing to do then.
                    let _ = reply.send(result);
                }
            })
            .expect("spawning the inference thread");
        InferenceWorker { jobs, panics }
    }

    /// Jobs that panicked since the thread started.
    pub fn panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
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
                return Err(ApiError::busy("too many matches waiting", 1))
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal("the inference thread stopped"))
            }
        }
        rx.await.unwrap_or_else(|_| Err(ApiError::internal("the inference thread stopped")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{ErrorCode, InvalidFileResponse, MatchStatus};
    use crate::domain::{DocumentType, Picture, PictureFormat};
    use crate::matching::Threshold;

    #[test]
    fn a_panicking_job_is_a_5001_and_the_thread_goes_on() {
        let worker = InferenceWorker::start_with(4, |job| {
            assert!(job.pictures.src.width() > 1, "a bug in the pipeline");
            Ok((
                MatchAnswer::InvalidFile(InvalidFileResponse {
                    valid: false,
                    src_valid: true,
                    target_front_valid: None,
                    target_back_valid: None,
                    status: MatchStatus::InvalidFileFormat,
                    message: "fine".into(),
                }),
                None,
            ))
        });
        let picture = |side: u32| Picture {
            pixels: image::RgbImage::new(side, side),
            format: PictureFormat::Png,
        };
        let places = Arc::new(tokio::sync::Semaphore::new(2));
        let job = |side: u32| Job {
            pictures: DecodedRequest { src: picture(side), front: picture(200), back: None },
            params: MatchParams { doc_type: DocumentType::Gov, threshold: Threshold::DEFAULT },
            holding: places.clone().try_acquire_owned().unwrap(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let failed = runtime.block_on(worker.run(job(1))).expect_err("the panic is an error");
        assert_eq!(failed.code, ErrorCode::Internal);
        assert!(runtime.block_on(worker.run(job(200))).is_ok(), "the next job is answered");
        assert_eq!(worker.panics(), 1);
    }
}
