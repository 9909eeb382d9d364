//! The gateway's HTTP routes (the original gateway's, plus a paid top-up).
//!
//! Every refusal is JSON `{"error": …}` with a status that says whose move it is: 400 for a
//! request that can never succeed as sent, 402 for a payment (with the reason as x402's
//! code, the requirements again, and a `detail` for people), 401/403 for a signature that
//! fails or belongs to someone else, 404/409 for a session that is not there or has ended,
//! 429 for too many live sessions, 502 when the chain cannot be reached.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use engram_cloud::CloudError;
use engram_cloud::tiers::Tier;
use engram_cloud::x402::{
    self, Offer, PAYMENT_REQUIRED, PAYMENT_SIGNATURE, Refusal, Verified, Version, X_PAYMENT,
};
use engram_core::auth;
use serde_json::{Map, Value, json};

use crate::chain::{Check, Outcome};
use crate::sessions::{
    Payment, Pending, Purchase, Session, State as SessionState, authorization_key,
};
use crate::{App, GatewayError, MAX_BODY_BYTES, MAX_HOURS, MAX_LIVE_PER_PAYER};

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(mine_page))
        .route("/web/{file}", get(web_asset))
        .route("/health", get(health))
        .route("/tiers", get(tiers))
        .route("/nodes", get(nodes))
        .route("/sessions", post(create))
        .route("/sessions/{id}", get(session).delete(delete))
        .route("/sessions/{id}/topup", post(topup))
        .route("/sessions/hotkey/{hotkey}", get(by_hotkey))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

/// `GET /`: the Mine page (a phone buys and watches its miner; its key stays in the page).
async fn mine_page(headers: HeaderMap) -> Response {
    engram_web::page(engram_web::Site::Gateway, "mine", &headers)
}

/// `GET /web/{file}`: the page's scripts and styles.
async fn web_asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    engram_web::asset(&name, &headers)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let live = app
        .sessions
        .lock()
        .await
        .all()
        .filter(|s| s.state.live())
        .count();
    axum::Json(json!({
        "status": "ok",
        "network": x402::caip2(app.token.chain_id),
        "asset": app.token.address,
        "pay_to": app.config.pay_to,
        "settler": app.settler.address(),
        "provider": app.provisioner.name(),
        "live_sessions": live,
    }))
    .into_response()
}

async fn tiers() -> Response {
    let tiers: Vec<Value> = Tier::ALL
        .into_iter()
        .map(|t| {
            let s = t.spec();
            json!({
                "tier": t,
                "cpu_millis": s.cpu_millis,
                "memory_mib": s.memory_mib,
                "storage_gib": s.storage_gib,
                "usdc_micros_per_hour": s.usdc_micros_per_hour,
            })
        })
        .collect();
    axum::Json(json!({"tiers": tiers, "max_hours": MAX_HOURS})).into_response()
}

async fn nodes(State(app): State<Arc<App>>) -> Response {
    let standings = crate::standings(&app).await;
    let sessions = app.sessions.lock().await;
    let nodes: Vec<Value> = sessions
        .all()
        .filter(|s| s.state == SessionState::Running)
        .filter_map(|s| {
            let m = s.miner.as_ref()?;
            Some(json!({
                "session": s.id,
                "owner": s.hotkey,
                "hotkey": m.hotkey,
                "endpoint": m.endpoint,
                "provider": m.provider,
                "tier": s.tier,
                "expires_ms": s.expires_ms,
                "alive": app.provisioner.alive(m),
                "network": standings.get(&m.hotkey),
            }))
        })
        .collect();
    axum::Json(json!({"nodes": nodes})).into_response()
}

/// A response that ends a handler early (boxed: a `Response` is large).
type Early = Box<Response>;

/// The request body as a JSON object; a body over the limit is 413 in the same JSON shape
/// as every other refusal.
fn parse_object(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, Early> {
    let body = body.map_err(|r| Box::new(error(r.status(), r.body_text())))?;
    match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        ))),
    }
}

fn hours_of(body: &Map<String, Value>) -> Result<u32, Early> {
    body.get("hours")
        .and_then(Value::as_u64)
        .and_then(|h| u32::try_from(h).ok())
        .filter(|h| (1..=MAX_HOURS).contains(h))
        .ok_or_else(|| {
            Box::new(error(
                StatusCode::BAD_REQUEST,
                format!("`hours` must be a whole number from 1 to {MAX_HOURS}"),
            ))
        })
}

fn offer(app: &App, tier: Tier, hours: u32, path: &str, description: String) -> Offer {
    Offer {
        token: app.token.clone(),
        pay_to: app.config.pay_to,
        amount: tier.price(hours),
        max_timeout_s: app.config.max_timeout_s,
        resource: format!("{}{path}", app.public_url),
        description,
    }
}

/// 402: the offer again, the reason in both wire generations, and the failed settlement
/// (when a payment was tried) in the response header of its generation.
fn payment_required(
    offer: &Offer,
    tried: Option<Version>,
    refusal: Option<Refusal>,
    detail: &str,
) -> Response {
    let reason = refusal.map_or("payment required", Refusal::code);
    let mut body = offer.required_v1(reason);
    body["detail"] = json!(detail);
    let mut resp = (StatusCode::PAYMENT_REQUIRED, axum::Json(body)).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&offer.required_v2_header(reason)) {
        h.insert(PAYMENT_REQUIRED, v);
    }
    if let Some(version) = tried {
        let settled = x402::settlement_header(
            version,
            offer.token.chain_id,
            None,
            offer.amount,
            None,
            refusal,
        );
        if let Ok(v) = HeaderValue::from_str(&settled) {
            h.insert(version.response_header(), v);
        }
    }
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE"),
    );
    resp
}

/// A settled payment and what it bought.
struct Paid {
    version: Version,
    session: Session,
    header: String,
}

/// The verified payment of a recorded in-flight settlement (it was checked when it came in;
/// the clock has moved since, so only its shape is read again).
pub(crate) fn decode_verified(version: Version, p: &Pending) -> Option<Verified> {
    match x402::parse(version, &p.header) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(error = %e, key = %p.key, "a recorded settlement does not decode");
            None
        }
    }
}

/// Turns a mined settlement into what it bought (once: a second call finds it applied),
/// and starts the miner when the session needs one. The session, whoever applied it.
pub(crate) async fn apply(
    app: &Arc<App>,
    key: &str,
    purchase: &Purchase,
    hours: u32,
    payment: &Verified,
    transaction: [u8; 32],
) -> Option<Session> {
    let record = Payment {
        authorization: key.to_string(),
        transaction: format!("0x{}", hex::encode(transaction)),
        payer: payment.authorization.from,
        amount: payment.authorization.value.to_string(),
        hours,
        at_ms: engram_os::now_ms(),
    };
    let now = engram_os::now_ms();
    let applied = app
        .sessions
        .lock()
        .await
        .settle(key, purchase, hours, record.clone(), now);
    match applied {
        Ok(Some((session, start))) => {
            if start {
                tokio::spawn(crate::provision(app.clone(), session.id.clone()));
            }
            Some(session)
        }
        Ok(None) => app.sessions.lock().await.get(purchase.id()).cloned(),
        Err(e) => {
            // Paid but not recorded: the pending record stays, and the care loop retries.
            tracing::error!(transaction = %record.transaction, error = %e, "a settled payment was not saved");
            None
        }
    }
}

/// A 5xx: the detail goes to the log, the client gets what it can act on.
fn unavailable(status: StatusCode, what: &str, e: &GatewayError) -> Response {
    tracing::error!(error = %e, "{what}");
    error(status, format!("{what}; try again later"))
}

/// 202: sent, not seen mined yet; the session (or its hours) comes once it is.
fn pending(purchase_id: &str, transaction: &str) -> Early {
    Box::new(
        (
            StatusCode::ACCEPTED,
            axum::Json(json!({
                "status": Refusal::SettlementPending.code(),
                "transaction": transaction,
                "session": purchase_id,
                "detail": "the payment was sent and is not mined yet; the session starts (or the hours are added) once it is: follow GET /sessions/{session}",
            })),
        )
            .into_response(),
    )
}

/// Takes the payment of a request for `offer` and applies `purchase` once it is mined.
///
/// Runs as its own task: a client that disconnects mid-way cannot cut a settlement in half.
/// Once a transfer may have been sent, the authorization's claim is released only when the
/// chain says nothing moved; every other doubt leaves a pending record for the care loop.
async fn pay(
    app: Arc<App>,
    offer: Offer,
    headers: HeaderMap,
    purchase: Purchase,
    hours: u32,
) -> Result<Paid, Early> {
    let (version, value) = match (headers.get(PAYMENT_SIGNATURE), headers.get(X_PAYMENT)) {
        (Some(v), _) => (Version::V2, v),
        (None, Some(v)) => (Version::V1, v),
        (None, None) => {
            return Err(Box::new(payment_required(
                &offer,
                None,
                None,
                "pay with x402: sign the requirement and repeat the request with the payment header",
            )));
        }
    };
    let refused = |refusal: Refusal, detail: &str| {
        Box::new(payment_required(
            &offer,
            Some(version),
            Some(refusal),
            detail,
        ))
    };
    let Ok(header) = value.to_str() else {
        return Err(refused(
            Refusal::InvalidPayload,
            "the payment header is not ASCII",
        ));
    };
    let now_s = engram_os::now_ms() / 1000;
    let verified = match offer.verify(version, header, now_s) {
        Ok(v) => v,
        Err(CloudError::Payment { refusal, detail }) => return Err(refused(refusal, &detail)),
        Err(e) => return Err(refused(Refusal::InvalidPayload, &e.to_string())),
    };
    let auth = verified.authorization;
    if let Purchase::Create { .. } = purchase {
        let live = app.sessions.lock().await.live_paid_by(auth.from);
        if live >= MAX_LIVE_PER_PAYER {
            return Err(Box::new(error(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "{} has bought {live} live sessions, the most one payer may hold",
                    auth.from
                ),
            )));
        }
    }
    let key = authorization_key(auth.from, &auth.nonce);
    {
        let mut sessions = app.sessions.lock().await;
        match sessions.claim_authorization(&key, auth.valid_before) {
            Ok(true) => {}
            Ok(false) => {
                // The same payment again while its settlement is in flight: still pending.
                if let Some(p) = sessions.pending_of(&key) {
                    return Err(pending(p.purchase.id(), &p.transaction));
                }
                return Err(refused(
                    Refusal::NonceUsed,
                    "this authorization has paid already (a replay)",
                ));
            }
            Err(e) => {
                return Err(Box::new(unavailable(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the gateway could not record the payment",
                    &e,
                )));
            }
        }
    }
    let release = |key: String| {
        let app = app.clone();
        async move {
            if let Err(e) = app.sessions.lock().await.release_authorization(&key) {
                tracing::error!(error = %e, "releasing an unsettled authorization");
            }
        }
    };
    let record = |hash: [u8; 32]| Pending {
        key: key.clone(),
        header: header.to_string(),
        version: if version == Version::V1 { 1 } else { 2 },
        purchase: purchase.clone(),
        hours,
        transaction: format!("0x{}", hex::encode(hash)),
        valid_before: auth.valid_before,
    };
    let settled = |transaction: [u8; 32], session: Session| Paid {
        version,
        session,
        header: x402::settlement_header(
            version,
            offer.token.chain_id,
            Some(auth.from),
            auth.value,
            Some(transaction),
            None,
        ),
    };
    // Paid by a transaction already mined (ours, or someone else's): recorded as in flight
    // first, so that if applying it fails here the care loop applies it later.
    let paid_by = |transaction: [u8; 32]| {
        let app = app.clone();
        let pending_record = record(transaction);
        let (key, purchase) = (key.clone(), purchase.clone());
        async move {
            let noted = app.sessions.lock().await.add_pending(pending_record);
            let applied = match noted {
                Ok(()) => apply(&app, &key, &purchase, hours, &verified, transaction).await,
                Err(e) => {
                    tracing::error!(error = %e, "recording a settled payment");
                    None
                }
            };
            applied.ok_or_else(|| {
                Box::new(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the payment settled but is not recorded yet; the gateway retries: follow GET /sessions/{id}",
                ))
            })
        }
    };
    // What the chain says before anything is sent.
    match app.settler.check(&verified).await {
        Ok(Check::Ready) => {}
        Ok(Check::Settled { transaction }) => {
            // Submitted by someone else, and the funds reached us: it is paid.
            return paid_by(transaction).await.map(|s| settled(transaction, s));
        }
        Ok(Check::Refused(refusal)) => {
            if refusal != Refusal::NonceUsed {
                release(key).await;
            }
            let detail = match refusal {
                Refusal::NonceUsed => "the chain has this authorization as used",
                Refusal::InsufficientFunds => "the payer's balance is below the price",
                _ => "the token contract would refuse the transfer",
            };
            return Err(refused(refusal, detail));
        }
        Err(e) => {
            release(key).await;
            return Err(Box::new(unavailable(
                StatusCode::BAD_GATEWAY,
                "the chain could not be asked",
                &e,
            )));
        }
    }
    let prepared = match app.settler.prepare(&verified).await {
        Ok(p) => p,
        Err(e) => {
            // Someone may have settled it since the check (then estimating gas reverts).
            if let Ok(Check::Settled { transaction }) = app.settler.check(&verified).await {
                return paid_by(transaction).await.map(|s| settled(transaction, s));
            }
            release(key).await;
            return Err(Box::new(unavailable(
                StatusCode::BAD_GATEWAY,
                "the payment could not be prepared for the chain",
                &e,
            )));
        }
    };
    // The turn to send may have come late (settlements go one at a time).
    if engram_os::now_ms() / 1000 + x402::SETTLE_MARGIN_S > auth.valid_before {
        drop(prepared);
        release(key).await;
        return Err(refused(
            Refusal::Expired,
            "the payment's window closed before it could be sent; sign a new one",
        ));
    }
    let recorded = app.sessions.lock().await.add_pending(record(prepared.hash));
    if let Err(e) = recorded {
        drop(prepared);
        release(key).await;
        return Err(Box::new(unavailable(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the gateway could not record the payment",
            &e,
        )));
    }
    let hash = app.settler.send(prepared).await;
    let hash_hex = format!("0x{}", hex::encode(hash));
    match app.settler.wait(hash, &verified).await {
        Outcome::Settled => match apply(&app, &key, &purchase, hours, &verified, hash).await {
            Some(s) => Ok(settled(hash, s)),
            None => Err(Box::new(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the payment settled but is not recorded yet; the gateway retries: follow GET /sessions/{id}",
            ))),
        },
        Outcome::Unknown => {
            tracing::warn!(transaction = %hash_hex, "settlement not mined in time; pending");
            Err(pending(purchase.id(), &hash_hex))
        }
        outcome @ (Outcome::Reverted | Outcome::NoTransfer) => {
            // Maybe someone else submitted it first, and the funds reached us anyway.
            match app.settler.find_settlement(&verified).await {
                Ok(Some(other)) => {
                    return paid_by(other).await.map(|s| settled(other, s));
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "looking for a settlement; left to the care loop");
                    return Err(pending(purchase.id(), &hash_hex));
                }
            }
            // Nothing reached us. Free the authorization only if the chain has it unused.
            let unused = matches!(app.settler.used(&verified).await, Ok(false));
            if let Err(e) = app
                .sessions
                .lock()
                .await
                .drop_pending(&key, &hash_hex, unused)
            {
                tracing::error!(error = %e, "dropping a failed settlement");
            }
            let refusal = if outcome == Outcome::Reverted {
                Refusal::SettlementFailed
            } else {
                Refusal::TransferMismatch
            };
            Err(refused(
                refusal,
                "the token contract did not make the transfer",
            ))
        }
    }
}

/// Runs [`pay`] as its own task (see there).
async fn pay_detached(
    app: &Arc<App>,
    offer: Offer,
    headers: HeaderMap,
    purchase: Purchase,
    hours: u32,
) -> Result<Paid, Early> {
    let task = tokio::spawn(pay(app.clone(), offer, headers, purchase, hours));
    match task.await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "a payment task failed");
            Err(Box::new(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the payment could not be processed",
            )))
        }
    }
}

fn with_settlement(status: StatusCode, body: Value, paid: &Paid) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&paid.header) {
        resp.headers_mut().insert(paid.version.response_header(), v);
    }
    resp.headers_mut().insert(
        "access-control-expose-headers",
        HeaderValue::from_static("PAYMENT-RESPONSE, X-PAYMENT-RESPONSE"),
    );
    resp
}

fn new_id() -> Result<String, Early> {
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id).map_err(|e| {
        Box::new(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            GatewayError::Randomness(e).to_string(),
        ))
    })?;
    Ok(hex::encode(id))
}

/// `POST /sessions {hotkey, tier, hours}`, paid.
async fn create(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match parse_object(body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(hotkey) = body.get("hotkey").and_then(Value::as_str) else {
        return error(StatusCode::BAD_REQUEST, "`hotkey` (SS58) is required");
    };
    if let Err(e) = engram_core::keys::ss58_decode(hotkey) {
        return error(StatusCode::BAD_REQUEST, format!("`hotkey`: {e}"));
    }
    let tier = match body
        .get("tier")
        .and_then(Value::as_str)
        .map(str::parse::<Tier>)
    {
        Some(Ok(t)) => t,
        Some(Err(e)) => return error(StatusCode::BAD_REQUEST, e.to_string()),
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "`tier` is required: lite, standard or pro",
            );
        }
    };
    let hours = match hours_of(&body) {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let offer = offer(
        &app,
        tier,
        hours,
        "/sessions",
        format!("an Engram {tier} miner for {hours} h"),
    );
    let id = match new_id() {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let purchase = Purchase::Create {
        id,
        hotkey: hotkey.to_string(),
        tier,
    };
    match pay_detached(&app, offer, headers, purchase, hours).await {
        Ok(paid) => with_settlement(StatusCode::CREATED, json!(paid.session), &paid),
        Err(r) => *r,
    }
}

/// `POST /sessions/{id}/topup {hours}`, paid: more hours for a live session.
async fn topup(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match parse_object(body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let hours = match hours_of(&body) {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let Some(s) = app.sessions.lock().await.get(&id).cloned() else {
        return error(StatusCode::NOT_FOUND, format!("no session {id}"));
    };
    if !s.state.live() {
        return error(
            StatusCode::CONFLICT,
            format!("session {id} has ended ({:?}); start a new one", s.state),
        );
    }
    let offer = offer(
        &app,
        s.tier,
        hours,
        &format!("/sessions/{id}/topup"),
        format!("{hours} more h of an Engram {} miner", s.tier),
    );
    let purchase = Purchase::Topup { id };
    match pay_detached(&app, offer, headers, purchase, hours).await {
        Ok(paid) => with_settlement(StatusCode::OK, json!(paid.session), &paid),
        Err(r) => *r,
    }
}

/// A session as shown: with whether its miner runs and, on a network, its standing there.
fn shown(app: &App, s: &Session, standings: &HashMap<String, Value>) -> Value {
    let mut v = json!(s);
    if let Some(m) = &s.miner {
        v["miner"]["alive"] = json!(app.provisioner.alive(m));
        v["miner"]["network"] = standings.get(&m.hotkey).cloned().unwrap_or(Value::Null);
    }
    v
}

async fn session(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(s) = app.sessions.lock().await.get(&id).cloned() else {
        return error(StatusCode::NOT_FOUND, format!("no session {id}"));
    };
    let standings = crate::standings(&app).await;
    axum::Json(shown(&app, &s, &standings)).into_response()
}

async fn by_hotkey(State(app): State<Arc<App>>, Path(hotkey): Path<String>) -> Response {
    if let Err(e) = engram_core::keys::ss58_decode(&hotkey) {
        return error(StatusCode::BAD_REQUEST, format!("hotkey: {e}"));
    }
    let sessions = app.sessions.lock().await.of_hotkey(&hotkey);
    let standings = crate::standings(&app).await;
    let list: Vec<Value> = sessions
        .iter()
        .map(|s| shown(&app, s, &standings))
        .collect();
    axum::Json(json!({"sessions": list})).into_response()
}

/// `DELETE /sessions/{id}`, a signed request (`hotkey`, `nonce`, `signature` in the body,
/// endpoint `sessions/{id}`) by the session's owner.
async fn delete(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match parse_object(body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let endpoint = format!("sessions/{id}");
    let signer = match auth::verify_request(&body, &endpoint) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::UNAUTHORIZED, e.to_string()),
    };
    let now = engram_os::now_ms();
    if !auth::within(signer.nonce, now, auth::REQUEST_WINDOW_MS) {
        return error(
            StatusCode::UNAUTHORIZED,
            "the request's nonce (unix ms) is not within 30 s of the gateway's clock",
        );
    }
    let Some(s) = app.sessions.lock().await.get(&id).cloned() else {
        return error(StatusCode::NOT_FOUND, format!("no session {id}"));
    };
    if s.hotkey != signer.hotkey {
        return error(
            StatusCode::FORBIDDEN,
            format!(
                "session {id} belongs to {}, not {}",
                s.hotkey, signer.hotkey
            ),
        );
    }
    if !app.replay.first_use(&signer.hotkey, signer.nonce, now) {
        return error(
            StatusCode::UNAUTHORIZED,
            "this signed request was sent already (a replay)",
        );
    }
    if !s.state.live() {
        return error(
            StatusCode::CONFLICT,
            format!("session {id} has ended already"),
        );
    }
    match crate::end(&app, &id, SessionState::Stopped, "stopped by its owner").await {
        Some(s) => axum::Json(shown(&app, &s, &HashMap::new())).into_response(),
        None => error(
            StatusCode::CONFLICT,
            format!("session {id} has ended already"),
        ),
    }
}
