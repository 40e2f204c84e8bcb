// A tiny CDK app for tests/guard_cdk.rs (and holdfast-env's tests/env_cdk.rs): `cdk synth` without the cdk CLI or an AWS account.
//
//   CDK_OUTDIR=out HOLDFAST_USERS_ID=Users node app.js
//
// The stack has no `env`, so it is environment-agnostic. HOLDFAST_USERS_ID is the construct id of
// the named users table and HOLDFAST_SESSIONS_ID that of the unnamed sessions table: changing an
// id changes the table's logical ID (`Users` → `UsersV2`), which CloudFormation carries out as a
// delete and a create.
'use strict';

const { App, Stack, RemovalPolicy } = require('aws-cdk-lib');
const dynamodb = require('aws-cdk-lib/aws-dynamodb');
const lambda = require('aws-cdk-lib/aws-lambda');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');

const outdir = process.env.CDK_OUTDIR;
if (!outdir) {
  throw new Error('set CDK_OUTDIR to the folder to synthesize into');
}
const usersId = process.env.HOLDFAST_USERS_ID || 'Users';
const sessionsId = process.env.HOLDFAST_SESSIONS_ID || 'Sessions';

const app = new App({ outdir });
const stack = new Stack(app, 'UsersService', { stackName: 'users-service-prod' });

const users = new dynamodb.Table(stack, usersId, {
  tableName: 'users-service-prod-users',
  partitionKey: { name: 'userId', type: dynamodb.AttributeType.STRING },
  billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  deletionProtection: true,
  removalPolicy: RemovalPolicy.RETAIN,
});
users.addGlobalSecondaryIndex({
  indexName: 'email-index',
  partitionKey: { name: 'email', type: dynamodb.AttributeType.STRING },
});

const sessions = new dynamodb.Table(stack, sessionsId, {
  partitionKey: { name: 'sessionId', type: dynamodb.AttributeType.STRING },
  timeToLiveAttribute: 'expiresAt',
  billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  removalPolicy: RemovalPolicy.DESTROY,
});

const api = new lambda.Function(stack, 'Api', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
  environment: {
    USERS_TABLE: users.tableName,
    SESSIONS_TABLE: sessions.tableName,
  },
});
users.grantReadWriteData(api);
sessions.grantReadWriteData(api);

// HOLDFAST_STAGING_STRIPE_KEY (a fake key the env test makes up) adds a staging stack whose
// function is wired the way the env checks must catch: production's secret and parameter, and a
// payment key written into its environment.
const stagingKey = process.env.HOLDFAST_STAGING_STRIPE_KEY;
if (stagingKey) {
  const billing = new Stack(app, 'BillingStaging', { stackName: 'billing-staging' });
  const prodKeys = secretsmanager.Secret.fromSecretNameV2(billing, 'ProdKeys', 'prod/payments/stripe');
  const charge = new lambda.Function(billing, 'Charge', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
    environment: {
      STRIPE_SECRET_ARN: prodKeys.secretArn,
      API_KEYS_PARAM: '/prod/billing/api-keys',
      STRIPE_KEY: stagingKey,
      LOG_LEVEL: 'info',
    },
  });
  prodKeys.grantRead(charge);
}

app.synth();
