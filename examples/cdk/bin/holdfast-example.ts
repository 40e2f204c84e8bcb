#!/usr/bin/env node
// The CDK app: one stack, environment-agnostic (no account, no region, no lookups), so that
// `cdk synth` runs offline. See ../README.md.
//
// Inputs (a context value wins over an environment variable):
//   holdfastFingerprint   -c holdfastFingerprint=$(holdfast migrate fingerprint --dir layer/migrations)
//                         else `holdfast migrate fingerprint` is run here (HOLDFAST_BIN or PATH)
//   holdfastLambdaZip     -c holdfastLambdaZip=PATH or HOLDFAST_LAMBDA_ZIP=PATH: Holdfast's Lambda
//                         package (default: target/lambda-package/bootstrap.zip of the repository, or
//                         $CARGO_TARGET_DIR/lambda-package/bootstrap.zip, built by scripts/package-lambda)
//   holdfastDatabase      -c holdfastDatabase=aurora (default): Aurora Serverless v2 through the
//                         RDS Data API; -c holdfastDatabase=instance: an RDS PostgreSQL instance
//                         in the VPC, reached with its RDS-managed secret (DatabaseSecretArn)
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { DatabaseKind, HoldfastExampleStack } from '../lib/holdfast-stack';

const exampleDir = path.resolve(__dirname, '..');
const repoRoot = path.resolve(exampleDir, '../..');
const layerDir = path.join(exampleDir, 'layer');
const migrationsDir = path.join(layerDir, 'migrations');

function fail(message: string): never {
  console.error(`holdfast-cdk-example: ${message}`);
  process.exit(1);
}

function setting(app: App, contextKey: string, envKey?: string): string | undefined {
  const fromContext = app.node.tryGetContext(contextKey);
  if (fromContext !== undefined && fromContext !== null && String(fromContext).trim() !== '') {
    return String(fromContext).trim();
  }
  const fromEnv = envKey ? process.env[envKey] : undefined;
  return fromEnv && fromEnv.trim() !== '' ? fromEnv.trim() : undefined;
}

/** The migration set's hash: CloudFormation sends an Update exactly when it changes. */
function fingerprint(app: App): string {
  const given = setting(app, 'holdfastFingerprint');
  if (given !== undefined) {
    if (!/^[0-9A-Za-z:_.-]+$/.test(given)) {
      fail(`context holdfastFingerprint=${given} is not a fingerprint (one word, as printed by holdfast migrate fingerprint)`);
    }
    return given;
  }
  const bin = process.env.HOLDFAST_BIN || 'holdfast';
  // `--database` only names the dialect the files are checked for; nothing connects.
  const args = ['migrate', 'fingerprint', '--dir', migrationsDir, '--database', 'postgres://localhost/app'];
  const run = spawnSync(bin, args, { encoding: 'utf8', cwd: exampleDir });
  const how =
    'pass -c holdfastFingerprint=$(holdfast migrate fingerprint --dir layer/migrations), ' +
    'or put holdfast on PATH (or set HOLDFAST_BIN to it)';
  if (run.error) {
    fail(`cannot run \`${bin} ${args.join(' ')}\` (${run.error.message}): ${how}`);
  }
  if (run.status !== 0) {
    fail(`\`${bin} ${args.join(' ')}\` failed (exit ${run.status}):\n${run.stderr.trim()}`);
  }
  const lines = run.stdout.trim().split('\n');
  if (lines.length !== 1 || lines[0].trim() === '') {
    fail(`\`${bin} migrate fingerprint\` printed ${JSON.stringify(run.stdout)}, not one line: ${how}`);
  }
  return lines[0].trim();
}

/** Holdfast's Lambda package: staged as an asset at synth time, uploaded by `cdk deploy`. */
function lambdaZip(app: App): string {
  const given = setting(app, 'holdfastLambdaZip', 'HOLDFAST_LAMBDA_ZIP');
  // Where scripts/package-lambda writes it: CARGO_TARGET_DIR (relative to the repository
  // root), else the repository's target/.
  const targetDir = path.resolve(repoRoot, process.env.CARGO_TARGET_DIR || 'target');
  const zip = given ? path.resolve(given) : path.join(targetDir, 'lambda-package/bootstrap.zip');
  if (!fs.existsSync(zip) || !fs.statSync(zip).isFile()) {
    fail(
      `Holdfast's Lambda package ${zip} does not exist: build it with scripts/package-lambda ` +
        '(it writes target/lambda-package/bootstrap.zip of the repository), or point ' +
        'HOLDFAST_LAMBDA_ZIP (or -c holdfastLambdaZip=PATH) at a bootstrap.zip',
    );
  }
  return zip;
}

function databaseKind(app: App): DatabaseKind {
  const kind = setting(app, 'holdfastDatabase') ?? 'aurora';
  if (kind !== 'aurora' && kind !== 'instance') {
    fail(`context holdfastDatabase=${kind}: use aurora (the default) or instance`);
  }
  return kind;
}

const app = new App();
new HoldfastExampleStack(app, 'HoldfastExample', {
  description: 'Holdfast example: SQL migrations run by a CloudFormation custom resource',
  database: databaseKind(app),
  fingerprint: fingerprint(app),
  lambdaZip: lambdaZip(app),
  layerDir,
  // No `env`: the stack is environment-agnostic, so synth needs no AWS account. Give it an
  // account and region (env: { account: '123456789012', region: 'eu-west-1' }) to pin it.
});
app.synth();
