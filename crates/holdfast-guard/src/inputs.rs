//! Reading one side of a comparison: a template file (JSON or YAML), a CDK `cdk.out` folder
//! (its stacks from `manifest.json`, nested stages included) or a Serverless `.serverless/`
//! folder. A deployed stack (`stack:NAME`) is read by [`crate::deployed`].

use crate::template::{self, Template};
use holdfast_core::exit::{Classify, Outcome};
use std::path::{Path, PathBuf};

/// One stack's template.
#[derive(Debug, Clone)]
pub struct StackTemplate {
    /// The stack's name (CDK artifact id, the Serverless service, or the file's stem).
    pub name: String,
    /// Where it was read from, for messages and SARIF locations.
    pub file: String,
    pub template: Template,
    /// Read from a deployed stack: its parameter defaults are the deployed values, which
    /// `--parameters` (meant for the side about to be deployed) must not override.
    pub deployed: bool,
}

/// Why a side could not be read. Exit code 2: nothing was judged.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Classify for InputError {
    /// A side that cannot be read or is not a template is bad input: nothing was judged.
    fn outcome(&self) -> Outcome {
        match self {
            InputError::Read { .. } | InputError::Invalid { .. } => Outcome::Usage,
        }
    }
}

fn invalid(path: &Path, message: impl Into<String>) -> InputError {
    InputError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads a template file, a `cdk.out` folder or a `.serverless` folder.
///
/// A deployed stack (`stack:NAME`) is read through the CloudFormation API, which is async:
/// [`crate::deployed::CloudFormation::load`]. Here it is an error that says so.
pub fn load_side(spec: &str) -> Result<Vec<StackTemplate>, InputError> {
    if crate::deployed::stack_name(spec).is_some() {
        return Err(invalid(
            Path::new(spec),
            "a deployed stack is read through the CloudFormation API (holdfast_guard::deployed), \
             not as a path: `holdfast guard diff` takes it as OLD or NEW; for a file whose name \
             starts with `stack:`, write ./stack:…",
        ));
    }
    let path = Path::new(spec);
    if path.is_dir() {
        if path.join("manifest.json").is_file() {
            let mut stacks = Vec::new();
            load_cdk(path, &mut stacks, 0)?;
            if stacks.is_empty() {
                return Err(invalid(
                    path,
                    "the CDK cloud assembly has no CloudFormation stacks",
                ));
            }
            return Ok(stacks);
        }
        let serverless = path.join("cloudformation-template-update-stack.json");
        if serverless.is_file() {
            let name = serverless_name(path).unwrap_or_else(|| "serverless".into());
            return Ok(vec![load_file(&serverless, name)?]);
        }
        return Err(invalid(
            path,
            "is a folder but neither a CDK cloud assembly (manifest.json) nor a Serverless .serverless folder (cloudformation-template-update-stack.json)",
        ));
    }
    let name = path
        .file_stem()
        .map(|s| {
            s.to_string_lossy()
                .trim_end_matches(".template")
                .to_string()
        })
        .unwrap_or_else(|| spec.to_string());
    Ok(vec![load_file(path, name)?])
}

/// Reads and parses one template file.
pub fn load_file(path: &Path, name: String) -> Result<StackTemplate, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let template = template::load(&text).map_err(|e| invalid(path, e.to_string()))?;
    Ok(StackTemplate {
        name,
        file: path.display().to_string(),
        template,
        deployed: false,
    })
}

fn read_json(path: &Path) -> Result<serde_json::Value, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| invalid(path, format!("line {}: {e}", e.line())))
}

fn load_cdk(dir: &Path, out: &mut Vec<StackTemplate>, depth: usize) -> Result<(), InputError> {
    let manifest_path = dir.join("manifest.json");
    if depth > 8 {
        return Err(invalid(
            &manifest_path,
            "nested cloud assemblies go too deep",
        ));
    }
    let manifest = read_json(&manifest_path)?;
    let Some(artifacts) = manifest.get("artifacts").and_then(|a| a.as_object()) else {
        return Err(invalid(&manifest_path, "no `artifacts` object"));
    };
    for (id, artifact) in artifacts {
        let props = artifact.get("properties");
        match artifact.get("type").and_then(|t| t.as_str()) {
            Some("aws:cloudformation:stack") => {
                let Some(file) = props
                    .and_then(|p| p.get("templateFile"))
                    .and_then(|f| f.as_str())
                else {
                    return Err(invalid(
                        &manifest_path,
                        format!("artifact `{id}` has no properties.templateFile"),
                    ));
                };
                let name = props
                    .and_then(|p| p.get("stackName"))
                    .and_then(|n| n.as_str())
                    .unwrap_or(id)
                    .to_string();
                out.push(load_file(&dir.join(file), name)?);
            }
            Some("cdk:cloud-assembly") => {
                if let Some(sub) = props
                    .and_then(|p| p.get("directoryName"))
                    .and_then(|d| d.as_str())
                {
                    load_cdk(&dir.join(sub), out, depth + 1)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The Serverless service name and stage, from `serverless-state.json` when present.
fn serverless_name(dir: &Path) -> Option<String> {
    let state = read_json(&dir.join("serverless-state.json")).ok()?;
    let service = state.pointer("/service/service").and_then(|s| s.as_str())?;
    let stage = state
        .pointer("/service/provider/stage")
        .and_then(|s| s.as_str());
    Some(match stage {
        Some(stage) => format!("{service}-{stage}"),
        None => service.to_string(),
    })
}

/// Reads parameter values from a JSON file: the CloudFormation CLI's list
/// (`[{"ParameterKey": "K", "ParameterValue": "V"}]`), a plain object (`{"K": "V"}`), or either
/// under a top-level `Parameters` key. Values are stringified as CloudFormation does.
pub fn parameters_file(
    path: &Path,
) -> Result<std::collections::HashMap<String, String>, InputError> {
    let json = read_json(path)?;
    let body = json.get("Parameters").unwrap_or(&json);
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    };
    let mut out = std::collections::HashMap::new();
    match body {
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let key = item.get("ParameterKey").and_then(|k| k.as_str());
                let value = item.get("ParameterValue").and_then(text);
                match (key, value) {
                    (Some(k), Some(v)) => {
                        out.insert(k.to_string(), v);
                    }
                    _ => {
                        return Err(invalid(
                            path,
                            format!(
                                "item {i}: expected {{\"ParameterKey\": …, \"ParameterValue\": …}}"
                            ),
                        ))
                    }
                }
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let v = text(v).ok_or_else(|| {
                    invalid(path, format!("parameter `{k}`: not a scalar or list"))
                })?;
                out.insert(k.clone(), v);
            }
        }
        _ => {
            return Err(invalid(
                path,
                "expected a list of ParameterKey/ParameterValue or an object",
            ))
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_or_invalid_side_is_bad_input() {
        let dir = std::env::temp_dir().join(format!("holdfast-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let not_a_template = dir.join("x.yaml");
        std::fs::write(&not_a_template, "Resources: [1]\n").expect("write");
        let missing = dir.join("missing.yaml");
        for spec in [&missing, &not_a_template, &dir] {
            let error = load_side(&spec.display().to_string()).expect_err("refused");
            assert_eq!(error.outcome().code(), 2, "{error}");
        }
        let error = parameters_file(&not_a_template).expect_err("not JSON");
        assert_eq!(error.outcome().code(), 2, "{error}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Why an input (a path or `stack:NAME`) could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SideError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Deployed(#[from] crate::deployed::DeployedError),
}

impl Classify for SideError {
    fn outcome(&self) -> Outcome {
        match self {
            SideError::Input(e) => e.outcome(),
            SideError::Deployed(e) => e.outcome(),
        }
    }

    fn remedy(&self) -> Option<holdfast_core::remedy::Remedy> {
        match self {
            SideError::Input(e) => e.remedy(),
            SideError::Deployed(e) => e.remedy(),
        }
    }
}

/// Reads inputs as every command that takes templates does: a path ([`load_side`]) or
/// `stack:NAME` through CloudFormation, connecting on the first such input and sharing the
/// client with the others.
#[derive(Debug)]
pub struct Sides {
    options: crate::deployed::AwsOptions,
    cloudformation: Option<crate::deployed::CloudFormation>,
}

impl Sides {
    /// Reads `stack:` inputs with these AWS options.
    #[must_use]
    pub fn new(options: crate::deployed::AwsOptions) -> Sides {
        Sides {
            options,
            cloudformation: None,
        }
    }

    /// Reads one input.
    ///
    /// # Errors
    /// [`SideError`]: the path is not a template, cdk.out or .serverless folder; the stack
    /// cannot be read.
    pub async fn load(&mut self, spec: &str) -> Result<Vec<StackTemplate>, SideError> {
        use crate::deployed::{self, CloudFormation, DeployedError};
        let Some(name) = deployed::stack_name(spec) else {
            return Ok(load_side(spec)?);
        };
        if name.is_empty() {
            return Err(DeployedError::NoName.into());
        }
        let client = match &mut self.cloudformation {
            Some(client) => client,
            None => self
                .cloudformation
                .insert(CloudFormation::connect(&self.options).await?),
        };
        Ok(vec![client.load(name).await?])
    }
}
