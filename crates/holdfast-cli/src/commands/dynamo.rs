//! `holdfast dynamo …`.

use super::{code, fail, CommandResult};
use crate::cli::{DynamoCommand, GlobalArgs};
use crate::output;
use holdfast_aws::AwsOptions;
use holdfast_dynamo::verify::{Dynamo, KeySpec, VerifyRequest};

impl DynamoCommand {
    pub(super) fn wants_json(&self) -> bool {
        match self {
            DynamoCommand::Verify(a) => a.json,
        }
    }
}

pub async fn run(_global: &GlobalArgs, command: &DynamoCommand) -> CommandResult {
    match command {
        DynamoCommand::Verify(args) => {
            // Flags first, before any call.
            let require_key = args
                .require_key
                .as_deref()
                .map(str::parse::<KeySpec>)
                .transpose()
                .map_err(fail)?;
            let request = VerifyRequest {
                table: args.table.clone(),
                require_key,
                require_pitr: args.require_pitr,
                wait: args.wait,
            };
            let options = AwsOptions {
                endpoint_url: args.aws.endpoint_url.clone(),
                region: args.aws.region.clone(),
                profile: args.aws.profile.clone(),
            };
            let dynamo = Dynamo::connect(&options).await.map_err(fail)?;
            let report = dynamo.verify(&request).await.map_err(fail)?;
            if args.json {
                output::print_json(&report);
            } else {
                output::print(&output::dynamo_verify_text(&report));
            }
            Ok(code(report.outcome))
        }
    }
}
