//! Rust errors as Python exceptions. The native layer raises a small, generic family; the
//! Python SDK (`engram.sdk`) turns each into the original SDK's exception for the method
//! that failed (an HTTP 400 on ingest is an `IngestError`, on query a `QueryError`).
//!
//! - `InvalidInput(message)` (a `ValueError`): the input breaks a protocol limit, found
//!   before anything was sent or stored.
//! - `NodeHttpError(status, message, url)`: the node refused or failed, with its message.
//! - `NodeOfflineError(url, reason)`: the node could not be reached or did not answer in
//!   time.
//! - `BadCidError(cid, url)`: the node answered a CID that does not parse.
//! - `EngramNativeError(message)`: anything else (a missing model, a store failure).
//!
//! A signer written in Python that raised is re-raised as itself.

use engram_client::ClientError;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

create_exception!(
    _engram,
    EngramNativeError,
    PyException,
    "A failure of the native layer."
);
create_exception!(
    _engram,
    InvalidInput,
    PyValueError,
    "Input that breaks a protocol limit; nothing was sent or stored."
);
create_exception!(
    _engram,
    NodeHttpError,
    EngramNativeError,
    "A node answered an error status: args (status, message, url)."
);
create_exception!(
    _engram,
    NodeOfflineError,
    EngramNativeError,
    "A node could not be reached or did not answer in time: args (url, reason)."
);
create_exception!(
    _engram,
    BadCidError,
    EngramNativeError,
    "A node answered a malformed CID: args (cid, url)."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("EngramNativeError", py.get_type::<EngramNativeError>())?;
    m.add("InvalidInput", py.get_type::<InvalidInput>())?;
    m.add("NodeHttpError", py.get_type::<NodeHttpError>())?;
    m.add("NodeOfflineError", py.get_type::<NodeOfflineError>())?;
    m.add("BadCidError", py.get_type::<BadCidError>())?;
    Ok(())
}

/// Bad input found on this side.
pub(crate) fn invalid(e: impl std::fmt::Display) -> PyErr {
    InvalidInput::new_err(e.to_string())
}

/// An error's message followed by those of its causes that it does not already say.
fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !message.contains(&next) {
            message.push_str(": ");
            message.push_str(&next);
        }
        source = s.source();
    }
    message
}

/// Any other failure, with its message (and its chain of causes).
pub(crate) fn native(e: impl std::error::Error) -> PyErr {
    EngramNativeError::new_err(chain(&e))
}

/// A client failure as the exception the Python SDK maps.
pub(crate) fn client(e: ClientError) -> PyErr {
    match e {
        ClientError::Http { status, message } => {
            NodeHttpError::new_err((status, message, String::new()))
        }
        ClientError::Transport { url, source } => NodeOfflineError::new_err((url, chain(&source))),
        ClientError::BadCid { url, cid, .. } => BadCidError::new_err((cid, url)),
        ClientError::Invalid(e) => invalid(e),
        ClientError::Engine(e) if e.is_bad_input() => invalid(e),
        ClientError::Media(e) if e.is_bad_input() => invalid(e),
        ClientError::PrivateDocument => invalid(ClientError::PrivateDocument),
        ClientError::Sign(source) => match source.downcast::<PyErr>() {
            Ok(original) => *original,
            Err(other) => EngramNativeError::new_err(format!("signing failed: {other}")),
        },
        e => native(e),
    }
}
