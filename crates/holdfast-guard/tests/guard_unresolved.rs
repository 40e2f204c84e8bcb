//! Unresolved values compared symbolically: written the same over the same inputs, they are
//! equal; a deployed stack's masked parameter is not the value a deploy will give.

use holdfast_guard::config::GuardSettings;
use holdfast_guard::engine::{self, Request};
use holdfast_guard::inputs::StackTemplate;
use holdfast_guard::rules::Policy;
use holdfast_guard::template;
use holdfast_report::guard::{Action, GuardReport};
use std::collections::{BTreeMap, HashMap};

const TABLE: &str = r#"
Parameters:
  Secret:
    Type: String
    NoEcho: true
Resources:
  Ledger:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      TableName: !Sub "ledger-${Secret}"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"#;

fn stack(deployed: bool) -> StackTemplate {
    StackTemplate {
        name: "App".into(),
        file: "template.yaml".into(),
        template: template::load(TABLE).expect("the template loads"),
        deployed,
    }
}

fn diff(old: StackTemplate, new: StackTemplate, parameters: &[(&str, &str)]) -> GuardReport {
    let request = Request {
        stage: None,
        policy: Policy::for_stage(None, GuardSettings::default()),
        parameters: parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        allow: BTreeMap::new(),
        stack_pairs: Vec::new(),
    };
    engine::diff(&[old], &[new], &request).expect("the stacks pair")
}

fn ledger_action(report: &GuardReport) -> Option<Action> {
    report
        .changes
        .iter()
        .find(|c| c.logical_id == "Ledger")
        .map(|c| c.action)
}

#[test]
fn the_same_unresolved_expression_in_two_files_is_unchanged() {
    let report = diff(stack(false), stack(false), &[]);
    assert_eq!(ledger_action(&report), None, "{:?}", report.changes);
    assert_eq!(report.summary.blocking, 0);
}

#[test]
fn a_deployed_masked_value_is_not_the_value_of_the_deploy() {
    // The deployed stack's NoEcho value is masked: the deploy may pass another one.
    for parameters in [&[][..], &[("Secret", "x")][..]] {
        let report = diff(stack(true), stack(false), parameters);
        assert_eq!(
            ledger_action(&report),
            Some(Action::Unknown),
            "{parameters:?}: {:?}",
            report.changes
        );
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.rule == "stateful-unprovable" && f.logical_id == "Ledger"),
            "{:?}",
            report.findings
        );
    }
}

#[test]
fn a_deployed_stack_compared_with_itself_is_unchanged() {
    let report = diff(stack(true), stack(true), &[]);
    assert_eq!(ledger_action(&report), None, "{:?}", report.changes);
}
