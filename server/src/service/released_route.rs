//! `POST /push/released.json`: the released digests after the consumer's
//! cursor (`dnd_engine::released`), waiting up to `wait` seconds for one.

use dnd_engine::released::ReleasedRequest;

use super::*;

/// Answers a signed released request of `app`.
pub(super) async fn released_request<B: Backend>(
    state: &Arc<State<B>>,
    app: &str,
    request: hyper::Request<Incoming>,
) -> (Answer, u16) {
    let body = match read_body(state, request).await {
        Ok(body) => body,
        Err((response, status)) => {
            let (mut a, code) = platform(&response, false);
            if let Some(status) = status {
                *a.status_mut() = status;
            }
            return (a, code);
        }
    };
    let request = match ReleasedRequest::from_form(&body) {
        Ok(request) => request,
        Err(e) => return platform(&Response::from_error(&e), false),
    };
    let Some(backend) = state.apps.get(app) else {
        return (internal_error(), 1000);
    };
    match backend.released(request).await {
        None => platform(&error(404, "this service keeps no released digests"), false),
        Some(Err(response)) => platform(&response, false),
        Some(Ok(json)) => (answer(StatusCode::OK, "application/json", json), 200),
    }
}
