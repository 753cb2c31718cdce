//! The HTTP edge in process: requests go straight into the API's router
//! (`tower::ServiceExt::oneshot`), with the real store, models and inference
//! thread, and no socket. The process-level tests (api.rs) cover the server itself.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use facematch::api::limits::Limits;
use facematch::api::worker::InferenceWorker;
use facematch::api::{router, AppState};
use facematch::inference::{models, Engine, RuntimeOptions};
use facematch::store::{LocalStore, Store};
use std::sync::Arc;
use tower::ServiceExt;

use crate::util::face;

struct Api {
    state: AppState,
    store: Arc<LocalStore>,
    token: String,
    _dir: tempfile::TempDir,
}

impl Api {
    fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("api.db"), None).unwrap();
        let token = store.add_token("bank").unwrap();
        let engine = Engine::load(&models::locate_dir(None), RuntimeOptions::default()).unwrap();
        let store = Arc::new(LocalStore::new(store));
        let state =
            AppState::new(store.clone(), InferenceWorker::start(engine, 4), Limits::default())
                .unwrap();
        Api { state, store, token, _dir: dir }
    }

    /// Sends one request through a fresh router; returns the status, the answer JSON and
    /// the verification id header.
    async fn send(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, serde_json::Value, Option<String>) {
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let id = response
            .headers()
            .get("x-facematch-verification")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, json, id)
    }

    fn upload(&self, name: &str, bytes: &[u8]) -> Request<Body> {
        self.upload_with_key(name, bytes, None)
    }

    fn upload_with_key(&self, name: &str, bytes: &[u8], key: Option<&str>) -> Request<Body> {
        let boundary = "facematch-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut request = Request::post("/api/v1/public/media/image/multipart")
            .header(header::AUTHORIZATION, format!("Basic {}", self.token))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.body(Body::from(body)).unwrap()
    }

    fn match_request(&self, json: serde_json::Value) -> Request<Body> {
        self.match_with_key(json, None)
    }

    fn match_with_key(&self, json: serde_json::Value, key: Option<&str>) -> Request<Body> {
        let mut request = Request::post("/api/v2/public/facex/match")
            .header(header::AUTHORIZATION, format!("Basic {}", self.token))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.body(Body::from(json.to_string())).unwrap()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn upload_and_match_through_the_router_are_answered_and_logged() {
    runtime().block_on(async {
        let api = Api::new();
        let mut ids = Vec::new();
        for (who, n) in [("barack_obama", 1), ("barack_obama", 2)] {
            let bytes = std::fs::read(face(who, n)).unwrap();
            let (status, answer, _) = api.send(api.upload("photo.jpg", &bytes)).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            assert_eq!(answer["originalName"], "photo.jpg");
            ids.push(answer["_id"].as_str().unwrap().to_string());
        }
        let request = serde_json::json!({
            "src": ids[0], "targetFront": ids[1], "type": "PASSPORT", "threshold": 85
        });
        let (status, answer, id) = api.send(api.match_request(request)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "FACE_MATCHED");
        assert!(answer["targetFrontMatch"].as_f64().unwrap() >= 85.0);
        let store = api.store.lock();
        let log = store.list_verifications(5).unwrap();
        assert_eq!(log.len(), 1, "the decision is in the log before it is answered");
        assert_eq!(Some(log[0].id.to_string()), id);
    });
}

#[test]
fn refusals_carry_the_contracts_codes() {
    runtime().block_on(async {
        let api = Api::new();
        let code = |v: &serde_json::Value| v["code"].as_u64();

        let unauthenticated = Request::post("/api/v2/public/facex/match")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let (status, answer, _) = api.send(unauthenticated).await;
        assert_eq!((status, code(&answer)), (StatusCode::UNAUTHORIZED, Some(4016)), "{answer}");

        let bad_threshold = serde_json::json!({
            "src": "MX1", "targetFront": "MX2", "type": "GOV", "threshold": 101
        });
        let (status, answer, _) = api.send(api.match_request(bad_threshold)).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some(4001)));
        assert!(answer["details"].as_str().unwrap().contains("outside 1-100"), "{answer}");

        let bad_type = serde_json::json!({
            "src": "MX1", "targetFront": "MX2", "type": "AADHAAR", "threshold": 85
        });
        let (_, answer, _) = api.send(api.match_request(bad_type)).await;
        assert!(answer["details"].as_str().unwrap().contains("is not one of UIDAI"), "{answer}");

        let unknown_media = serde_json::json!({
            "src": "MX1", "targetFront": "MX2", "type": "GOV", "threshold": 85
        });
        let (status, answer, _) = api.send(api.match_request(unknown_media)).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some(4001)), "{answer}");

        let (status, answer, _) = api.send(api.upload("notes.txt", b"not a picture")).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some(4007)), "{answer}");

        let nowhere = Request::get("/api/v2/nowhere").body(Body::empty()).unwrap();
        let (status, answer, _) = api.send(nowhere).await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some(4001)), "{answer}");
        assert!(api.store.lock().list_verifications(5).unwrap().is_empty());
    });
}

#[test]
fn a_key_reused_for_another_request_is_refused_not_answered() {
    runtime().block_on(async {
        let api = Api::new();
        let photo = |who, n| std::fs::read(face(who, n)).unwrap();
        let mut ids = Vec::new();
        for (who, n) in [("barack_obama", 1), ("barack_obama", 2), ("sundar_pichai", 1)] {
            let (_, answer, _) =
                api.send(api.upload(&format!("{who}{n}.jpg"), &photo(who, n))).await;
            ids.push(answer["_id"].as_str().unwrap().to_string());
        }
        let first = serde_json::json!({
            "src": ids[0], "targetFront": ids[1], "type": "PASSPORT", "threshold": 85
        });
        let (status, answer, id) = api.send(api.match_with_key(first.clone(), Some("K"))).await;
        assert_eq!((status, answer["status"].as_str()), (StatusCode::OK, Some("FACE_MATCHED")));
        // The same request again: the same answer, from the log.
        let (status, again, id_again) = api.send(api.match_with_key(first, Some("K"))).await;
        assert_eq!((status, &again, &id_again), (StatusCode::OK, &answer, &id));
        // The same key for someone else's selfie, another type and threshold: refused.
        let other = serde_json::json!({
            "src": ids[2], "targetFront": ids[1], "type": "DL", "threshold": 99
        });
        let (status, refused, _) = api.send(api.match_with_key(other, Some("K"))).await;
        assert_eq!((status, refused["code"].as_u64()), (StatusCode::BAD_REQUEST, Some(4001)));
        assert!(refused["details"].as_str().unwrap().contains("another request"), "{refused}");
        assert_ne!(refused["status"], "FACE_MATCHED");

        // Uploads: the same key with another picture is refused too.
        let (status, a, _) =
            api.send(api.upload_with_key("a.jpg", &photo("joe_biden", 1), Some("U"))).await;
        assert_eq!(status, StatusCode::OK, "{a}");
        let (_, same, _) =
            api.send(api.upload_with_key("a.jpg", &photo("joe_biden", 1), Some("U"))).await;
        assert_eq!(same["_id"], a["_id"]);
        let (status, refused, _) =
            api.send(api.upload_with_key("a.jpg", &photo("joe_biden", 2), Some("U"))).await;
        assert_eq!((status, refused["code"].as_u64()), (StatusCode::BAD_REQUEST, Some(4001)));
        assert!(refused["details"].as_str().unwrap().contains("another request"), "{refused}");
    });
}

#[test]
fn only_json_is_json_and_a_wrong_method_gets_the_contracts_error() {
    runtime().block_on(async {
        let api = Api::new();
        let body =
            serde_json::json!({"src": "MX1", "targetFront": "MX2", "type": "GOV", "threshold": 85});
        let request = Request::post("/api/v2/public/facex/match")
            .header(header::AUTHORIZATION, format!("Basic {}", api.token))
            .header(header::CONTENT_TYPE, "application/jsonx")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, answer, _) = api.send(request).await;
        assert_eq!((status, answer["code"].as_u64()), (StatusCode::BAD_REQUEST, Some(4001)));
        assert!(answer["details"].as_str().unwrap().contains("Content-Type"), "{answer}");

        let request = Request::get("/api/v2/public/facex/match").body(Body::empty()).unwrap();
        let (status, answer, _) = api.send(request).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer["code"].as_u64(), Some(4001), "a contract error body: {answer}");
        assert!(answer["details"].as_str().unwrap().contains("does not take GET"), "{answer}");
    });
}
