//! What invoked the function: a CloudFormation custom resource request (direct or through the
//! CDK provider framework) or a direct invocation with the operation's properties at the top
//! level (`{"Operation": "DynamoCopy", ...}`, as the Step Functions example sends).

use serde::Deserialize;
use serde_json::{Map, Value};

/// A custom resource request's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

/// How the answer reaches CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A direct custom resource: PUT the response to this pre-signed https URL.
    PutTo(String),
    /// Behind the CDK provider framework (its `ResponseURL` is a placeholder): return the
    /// response's fields; fail the invocation on failure.
    Return,
}

/// A CloudFormation custom resource request.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomResource {
    pub request_type: RequestType,
    pub answer: Answer,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    /// Absent on Create.
    pub physical_resource_id: Option<String>,
    pub properties: Map<String, Value>,
    /// Update only: the properties before the change (a rollback sends the old ones as new).
    pub old_properties: Option<Map<String, Value>>,
}

/// What invoked the function.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    CustomResource(Box<CustomResource>),
    /// A direct invocation: the properties themselves.
    Job(Map<String, Value>),
}

/// An event the function cannot act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event: {0}")]
pub struct EventError(pub String);

impl holdfast_core::exit::Classify for EventError {
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        holdfast_core::exit::Outcome::Usage
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRequest {
    request_type: RequestType,
    #[serde(rename = "ResponseURL")]
    response_url: Option<String>,
    stack_id: String,
    request_id: String,
    logical_resource_id: String,
    physical_resource_id: Option<String>,
    #[serde(default)]
    resource_properties: Map<String, Value>,
    old_resource_properties: Option<Map<String, Value>>,
}

impl Invocation {
    /// Classifies an event: a custom resource request has a `RequestType`; anything else with
    /// an `Operation` is a job.
    ///
    /// # Errors
    /// [`EventError`]: neither, or a request missing one of its fields.
    pub fn parse(event: Value) -> Result<Invocation, EventError> {
        let Value::Object(map) = event else {
            return Err(EventError("not a JSON object".into()));
        };
        if !map.contains_key("RequestType") {
            if map.contains_key("Operation") {
                return Ok(Invocation::Job(map));
            }
            return Err(EventError(
                "neither a CloudFormation custom resource request (RequestType) nor a job (Operation)"
                    .into(),
            ));
        }
        let raw: RawRequest = serde_json::from_value(Value::Object(map))
            .map_err(|e| EventError(format!("custom resource request: {e}")))?;
        let answer = match raw.response_url {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                Answer::PutTo(url)
            }
            _ => Answer::Return,
        };
        Ok(Invocation::CustomResource(Box::new(CustomResource {
            request_type: raw.request_type,
            answer,
            stack_id: raw.stack_id,
            request_id: raw.request_id,
            logical_resource_id: raw.logical_resource_id,
            physical_resource_id: raw.physical_resource_id,
            properties: raw.resource_properties,
            old_properties: raw.old_resource_properties,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(response_url: &str) -> Value {
        json!({
            "RequestType": "Update",
            "ResponseURL": response_url,
            "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/1",
            "RequestId": "r-1",
            "ResourceType": "Custom::SqlMigrate",
            "LogicalResourceId": "Migrations",
            "PhysicalResourceId": "holdfast-sql-migrate",
            "ResourceProperties": {"ServiceToken": "arn", "Operation": "SqlMigrate", "Fingerprint": "abc"},
            "OldResourceProperties": {"Operation": "SqlMigrate", "Fingerprint": "old"}
        })
    }

    #[test]
    fn a_direct_request_answers_its_url() {
        let Invocation::CustomResource(r) = Invocation::parse(request(
            "https://cloudformation-custom-resource-response.example/x?sig=1",
        ))
        .unwrap() else {
            panic!("not a custom resource")
        };
        assert_eq!(r.request_type, RequestType::Update);
        assert!(matches!(r.answer, Answer::PutTo(ref u) if u.starts_with("https://")));
        assert_eq!(r.properties["Fingerprint"], "abc");
        assert_eq!(r.old_properties.unwrap()["Fingerprint"], "old");
    }

    #[test]
    fn the_provider_framework_gets_a_return_value() {
        let Invocation::CustomResource(r) = Invocation::parse(request("...")).unwrap() else {
            panic!("not a custom resource")
        };
        assert_eq!(r.answer, Answer::Return);
    }

    #[test]
    fn a_job_is_its_properties() {
        let job = Invocation::parse(json!({"Operation": "DynamoCopy", "Source": "a"})).unwrap();
        assert!(matches!(job, Invocation::Job(ref m) if m["Source"] == "a"));
    }

    #[test]
    fn other_events_are_refused_with_the_reason() {
        for (event, expected) in [
            (json!([1]), "not a JSON object"),
            (json!({"detail": {}}), "neither a CloudFormation"),
            (json!({"RequestType": "Create"}), "missing field"),
            (
                json!({"RequestType": "Replace", "StackId": "s", "RequestId": "r", "LogicalResourceId": "l"}),
                "unknown variant",
            ),
        ] {
            let e = Invocation::parse(event).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        }
    }
}
