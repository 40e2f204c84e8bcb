//! The custom resource response: what CloudFormation reads from the `ResponseURL` PUT (or, behind
//! the CDK provider framework, from the handler's return value).
//!
//! CloudFormation refuses a response body over 4,096 bytes, and a refused response leaves the
//! stack waiting for an hour. [`CfnResponse::to_body`] therefore always fits: `Data` holds only
//! short values (counts, versions), and a long `Reason` is cut, with its end marked.

use serde::Serialize;
use serde_json::{Map, Value};

/// CloudFormation's limit on a response body.
pub const MAX_BODY: usize = 4096;

/// SUCCESS or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Success,
    Failed,
}

/// A custom resource response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnResponse {
    pub status: Status,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub no_echo: bool,
    pub data: Map<String, Value>,
}

impl CfnResponse {
    /// The JSON body, at most [`MAX_BODY`] bytes: long data values (over 256 bytes) are
    /// dropped first, then the reason is cut, then the other data values — each dropped value
    /// named in `DataTruncated`.
    #[must_use]
    pub fn to_body(&self) -> String {
        let mut fitted = self.clone();
        let mut dropped = Vec::new();
        let over = |r: &CfnResponse| {
            serde_json::to_string(r)
                .expect("a response serializes")
                .len()
                .saturating_sub(MAX_BODY)
        };
        for only_long in [true, false] {
            while over(&fitted) > 0 {
                let largest = fitted
                    .data
                    .iter()
                    .filter(|(k, _)| k.as_str() != "DataTruncated")
                    .map(|(k, v)| (k.clone(), v.to_string().len()))
                    .filter(|(_, len)| !only_long || *len > 256)
                    .max_by_key(|(_, len)| *len);
                let Some((key, _)) = largest else { break };
                fitted.data.remove(&key);
                dropped.push(key);
                fitted
                    .data
                    .insert("DataTruncated".into(), Value::String(dropped.join(",")));
            }
            let excess = over(&fitted);
            if excess > 0 && only_long {
                cut(&mut fitted.reason, excess);
            }
        }
        let excess = over(&fitted);
        if excess > 0 {
            cut(&mut fitted.reason, excess);
        }
        if over(&fitted) > 0 {
            // Only the identifiers are left: they are CloudFormation's own and fit.
            fitted.reason.clear();
        }
        serde_json::to_string(&fitted).expect("a response serializes")
    }
}

/// Shortens `reason` by at least `excess` bytes (keeping 256 when it can), marking the cut.
fn cut(reason: &mut String, excess: usize) {
    const MARKER: &str = " … (cut to fit CloudFormation's 4,096-byte response)";
    let target = reason
        .len()
        .saturating_sub(excess + MARKER.len() + 8)
        .max(256)
        .min(reason.len());
    let target = if target + MARKER.len() >= reason.len() {
        reason.len().saturating_sub(excess + MARKER.len() + 8)
    } else {
        target
    };
    let mut keep = target;
    while !reason.is_char_boundary(keep) {
        keep -= 1;
    }
    reason.truncate(keep);
    reason.push_str(MARKER);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(reason: &str, data: Map<String, Value>) -> CfnResponse {
        CfnResponse {
            status: Status::Failed,
            reason: reason.into(),
            physical_resource_id: "holdfast-sql-migrate".into(),
            stack_id: "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/1".into(),
            request_id: "r-1".into(),
            logical_resource_id: "Migrations".into(),
            no_echo: false,
            data,
        }
    }

    #[test]
    fn a_small_response_is_kept_whole() {
        let mut data = Map::new();
        data.insert("LatestVersion".into(), "7".into());
        let body = response("V7__x.sql statement 2: 42P01", data).to_body();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["Status"], "FAILED");
        assert_eq!(v["Data"]["LatestVersion"], "7");
        assert_eq!(v["NoEcho"], false);
        assert_eq!(v["PhysicalResourceId"], "holdfast-sql-migrate");
    }

    #[test]
    fn every_response_fits_in_4096_bytes() {
        let mut data = Map::new();
        data.insert("Applied".into(), "1,".repeat(3000).into());
        data.insert("LatestVersion".into(), "1500".into());
        for reason in ["short", &"é".repeat(5000)] {
            let body = response(reason, data.clone()).to_body();
            assert!(body.len() <= MAX_BODY, "{}", body.len());
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["Data"]["LatestVersion"], "1500", "small values kept");
            assert_eq!(v["Data"]["DataTruncated"], "Applied");
        }
        let body = response(&"x".repeat(9000), Map::new()).to_body();
        assert!(body.len() <= MAX_BODY);
        assert!(body.contains("cut to fit"));
    }
}
