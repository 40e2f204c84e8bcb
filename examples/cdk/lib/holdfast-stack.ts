// Holdfast's Lambda function applying the SQL migrations of ../layer/migrations during every
// deploy that changes them, as a CloudFormation custom resource (`SqlMigrate`). See ../README.md.
import { CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';

/** `aurora`: Aurora Serverless v2 through the Data API; `instance`: RDS PostgreSQL in the VPC. */
export type DatabaseKind = 'aurora' | 'instance';

export interface HoldfastExampleStackProps extends StackProps {
  readonly database: DatabaseKind;
  /** `holdfast migrate fingerprint --dir layer/migrations`. */
  readonly fingerprint: string;
  /** Holdfast's Lambda package (`bootstrap.zip`, from scripts/package-lambda). */
  readonly lambdaZip: string;
  /** The layer's folder: its `migrations/` ends up in /opt/migrations. */
  readonly layerDir: string;
}

/** The database's name inside the cluster or instance. */
const DATABASE_NAME = 'app';

export class HoldfastExampleStack extends Stack {
  constructor(scope: Construct, id: string, props: HoldfastExampleStackProps) {
    super(scope, id, props);

    // Isolated subnets only: nothing here needs the internet, so no NAT gateway.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
    const isolated: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    // The migrations travel as a layer: Lambda extracts it under /opt, so the files of
    // layer/migrations/ are read from /opt/migrations.
    const migrations = new lambda.LayerVersion(this, 'MigrationsLayer', {
      code: lambda.Code.fromAsset(props.layerDir),
      compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
      compatibleArchitectures: [lambda.Architecture.X86_64],
      description: `SQL migrations (fingerprint ${props.fingerprint})`,
    });

    const functionProps: lambda.FunctionProps = {
      description: 'Holdfast: SQL migrations as a CloudFormation custom resource',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      architecture: lambda.Architecture.X86_64,
      code: lambda.Code.fromAsset(props.lambdaZip),
      layers: [migrations],
      memorySize: 256,
      // Room for the migrations of one deploy (Lambda's maximum is 15 minutes). Holdfast caps
      // its lock wait and each statement by what is left of this, so a slow statement is
      // stopped and reported (FAILED) before Lambda stops the function; a migration that needs
      // longer belongs in a run of `holdfast migrate up` of its own, outside the deploy.
      timeout: Duration.minutes(10),
      logGroup: new logs.LogGroup(this, 'HoldfastLogs', {
        retention: logs.RetentionDays.THREE_MONTHS,
      }),
    };

    let fn: lambda.Function;
    let database: Record<string, unknown>;
    let dependsOn: Construct;

    if (props.database === 'aurora') {
      // Aurora Serverless v2 with the Data API: the function calls rds-data over HTTPS, so it
      // stays outside the VPC and needs no NAT gateway, security group or endpoint.
      // The master credentials, generated into Secrets Manager (username, password, and once
      // attached host, port, dbname, engine): the Data API signs in with them. The secret
      // outlives the stack like the final snapshot does, since a cluster restored from that
      // snapshot keeps the password (`holdfast guard check --stage prod` asks for this).
      const secret = new rds.DatabaseSecret(this, 'DatabaseSecret', { username: 'app_admin' });
      secret.applyRemovalPolicy(RemovalPolicy.RETAIN);
      const cluster = new rds.DatabaseCluster(this, 'Database', {
        engine: rds.DatabaseClusterEngine.auroraPostgres({
          version: rds.AuroraPostgresEngineVersion.VER_16_6,
        }),
        writer: rds.ClusterInstance.serverlessV2('Writer'),
        serverlessV2MinCapacity: 0.5,
        serverlessV2MaxCapacity: 4,
        vpc,
        vpcSubnets: isolated,
        credentials: rds.Credentials.fromSecret(secret),
        defaultDatabaseName: DATABASE_NAME,
        enableDataApi: true,
        storageEncrypted: true,
        backup: { retention: Duration.days(14) },
        // Deleting the stack (or replacing the cluster) keeps a final snapshot, and deletion
        // protection refuses the delete until it is switched off on purpose.
        removalPolicy: RemovalPolicy.SNAPSHOT,
        deletionProtection: true,
      });
      fn = new lambda.Function(this, 'Holdfast', functionProps);
      // rds-data:* on the cluster and read access to its secret.
      cluster.grantDataApiAccess(fn);
      database = {
        DataApi: {
          ResourceArn: cluster.clusterArn,
          SecretArn: cluster.secret!.secretArn,
          Database: DATABASE_NAME,
        },
      };
      // The whole cluster construct, writer instance included: the Data API answers only once
      // an instance is up.
      dependsOn = cluster;
    } else {
      // The DatabaseSecretArn form: an RDS PostgreSQL instance whose master password RDS
      // keeps in Secrets Manager. Such a secret holds only username and password, so Host,
      // Port, DatabaseName and Engine come as properties.
      const instance = new rds.DatabaseInstance(this, 'Database', {
        engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_5 }),
        instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
        vpc,
        vpcSubnets: isolated,
        credentials: rds.Credentials.fromUsername('app_admin'),
        manageMasterUserPassword: true,
        databaseName: DATABASE_NAME,
        allocatedStorage: 20,
        storageType: rds.StorageType.GP3,
        storageEncrypted: true,
        backupRetention: Duration.days(14),
        removalPolicy: RemovalPolicy.SNAPSHOT,
        deletionProtection: true,
      });
      // The function runs in the VPC to reach the instance. From isolated subnets it needs an
      // endpoint for Secrets Manager (the secret) and one for S3: CloudFormation's ResponseURL
      // is a pre-signed S3 URL, and without a route to it the stack waits for an hour.
      vpc.addInterfaceEndpoint('SecretsManager', {
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets: isolated,
      });
      vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
      fn = new lambda.Function(this, 'Holdfast', { ...functionProps, vpc, vpcSubnets: isolated });
      instance.connections.allowDefaultPortFrom(fn, 'Holdfast migrations');
      instance.secret!.grantRead(fn);
      database = {
        DatabaseSecretArn: instance.secret!.secretArn,
        Host: instance.dbInstanceEndpointAddress,
        Port: instance.dbInstanceEndpointPort,
        DatabaseName: DATABASE_NAME,
        Engine: 'postgres',
      };
      dependsOn = instance;
    }

    // A direct custom resource: Holdfast's function answers CloudFormation's ResponseURL
    // itself, so no provider framework is needed (it works behind one too).
    const schema = new CustomResource(this, 'SchemaMigrations', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::HoldfastSqlMigrate',
      properties: {
        Operation: 'SqlMigrate',
        ...database,
        MigrationsPath: '/opt/migrations',
        // Changes exactly when a migration is added, removed or edited: that, and only that,
        // makes CloudFormation send an Update, which applies the pending migrations.
        Fingerprint: props.fingerprint,
      },
    });
    schema.node.addDependency(dependsOn);

    // Fn::GetAtt on the resource's Data.
    new CfnOutput(this, 'SchemaVersion', {
      description: 'The newest migration version applied by the last deploy',
      value: schema.getAttString('LatestVersion'),
    });
    new CfnOutput(this, 'MigrationsApplied', {
      description: 'How many migrations the last deploy applied',
      value: schema.getAttString('AppliedCount'),
    });
    new CfnOutput(this, 'HoldfastFunction', { value: fn.functionName });
  }
}
