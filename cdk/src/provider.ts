import * as fs from 'fs';
import * as path from 'path';
import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { Env } from './contract';
import { ReadGrant } from './grant';

/** The construct id of the one provider per stack. */
const PROVIDER_ID = 'CrossRegionParamProvider';

/** Application log level of the provider function. */
export enum ProviderLogLevel {
  /** Errors only. */
  ERROR = 'ERROR',
  /** Warnings and errors. */
  WARN = 'WARN',
  /** One line per request (the default). */
  INFO = 'INFO',
  /** Details of every AWS call; never secret values or response URLs. */
  DEBUG = 'DEBUG',
}

/** Settings of the provider function a stack's constructs share. */
export interface CrossRegionParamProviderProps {
  /**
   * Memory of the provider function. Lambda gives CPU in proportion to memory,
   * and a cold start is mostly TLS handshakes.
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * Lambda timeout. The provider answers FAILED (saying what it was waiting
   * for) before it, so CloudFormation never waits for its own timeout.
   * @default Duration.seconds(120)
   */
  readonly timeout?: Duration;

  /**
   * How long the provider's log group keeps its logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * Application log level (logs are JSON).
   * @default ProviderLogLevel.INFO
   */
  readonly logLevel?: ProviderLogLevel;
}

/**
 * The Custom::CrossRegionParam provider of one stack: a Lambda function
 * running the prebuilt `bootstrap` shipped in this package (provided.al2023,
 * arm64), its log group and a role that may read only what the stack's
 * constructs name.
 *
 * Constructs create it on first use with `getOrCreate`; call `getOrCreate`
 * yourself first to change its settings.
 */
export class CrossRegionParamProvider extends Construct {
  /**
   * The stack's provider, created on first use.
   *
   * @param scope any construct inside the stack
   * @param props settings; only the first call of a stack may give them
   */
  public static getOrCreate(scope: IConstruct, props?: CrossRegionParamProviderProps): CrossRegionParamProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID);
    if (existing instanceof CrossRegionParamProvider) {
      if (props !== undefined && Object.keys(props).length > 0) {
        throw new Error(
          `${stack.node.path}: the CrossRegionParamProvider already exists; give its settings in the first ` +
            'CrossRegionParamProvider.getOrCreate call of the stack, before any construct that reads',
        );
      }
      return existing;
    }
    if (existing !== undefined) {
      throw new Error(`${stack.node.path}: the construct id "${PROVIDER_ID}" is taken by another construct`);
    }
    return new CrossRegionParamProvider(stack, PROVIDER_ID, props ?? {});
  }

  /** The ServiceToken of the stack's Custom::CrossRegionParam resources. */
  public readonly serviceToken: string;

  /** The provider function. */
  public readonly lambdaFunction: lambda.IFunction;

  /** The provider's execution role; its policy grows with each construct. */
  public readonly role: iam.IRole;

  /** Where the provider logs (JSON, one line per request). */
  public readonly logGroup: logs.ILogGroup;

  /** The Lambda timeout, from which each resource's ServiceTimeout follows. */
  public readonly timeout: Duration;

  private readonly regions = new Set<string>();
  private readonly parameterPaths = new Set<string>();
  private readonly roleArns = new Set<string>();

  private constructor(scope: Construct, id: string, props: CrossRegionParamProviderProps) {
    super(scope, id);
    this.timeout = props.timeout ?? Duration.seconds(120);
    const memorySize = props.memorySize ?? 512;
    if (this.timeout.toSeconds() < 10 || this.timeout.toSeconds() > 900) {
      throw new Error(`CrossRegionParamProvider: timeout must be between 10 and 900 seconds, not ${this.timeout.toSeconds()}`);
    }

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    // A role of its own rather than AWSLambdaBasicExecutionRole: that policy
    // lets the function write to any log group (Resource "*").
    const role = new iam.Role(this, 'Role', {
      description: 'Execution role of the Custom::CrossRegionParam provider (read-only)',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    logGroup.grantWrite(role);

    const fn = new lambda.Function(this, 'Function', {
      description: 'Custom::CrossRegionParam provider: reads values from other regions at deploy time',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(providerAssetDirectory()),
      memorySize,
      timeout: this.timeout,
      role,
      // Named here so that no version of aws-cdk-lib adds a log group of its own.
      logGroup,
    });
    const cfn = fn.node.defaultChild as lambda.CfnFunction;
    // Set on the L1 resource so that older aws-cdk-lib versions (without the
    // logGroup/loggingFormat props) produce the same template.
    cfn.addPropertyOverride('LoggingConfig', {
      LogFormat: 'JSON',
      ApplicationLogLevel: props.logLevel ?? ProviderLogLevel.INFO,
      SystemLogLevel: 'WARN',
      LogGroup: logGroup.logGroupName,
    });
    // The allow-lists follow what the stack's constructs read, settled at synth.
    cfn.addPropertyOverride(
      'Environment',
      Lazy.any({ produce: () => ({ Variables: this.environment() }) }),
    );

    this.lambdaFunction = fn;
    this.role = role;
    this.logGroup = logGroup;
    this.serviceToken = fn.functionArn;
  }

  /**
   * Adds `statement` to the provider role and the read's region, parameter
   * names or paths, and role to the provider's allow-lists.
   * @internal
   */
  public _allow(grant: ReadGrant): void {
    this.regions.add(grant.region);
    for (const p of grant.parameterPaths) {
      this.parameterPaths.add(p);
    }
    if (grant.roleArn !== undefined) {
      this.roleArns.add(grant.roleArn);
    }
    for (const statement of grant.statements) {
      this.role.addToPrincipalPolicy(statement);
    }
  }

  private environment(): { [name: string]: string } {
    const vars: { [name: string]: string } = {};
    vars[Env.allowedRegions] = [...this.regions].join(',');
    if (this.parameterPaths.size > 0) {
      vars[Env.allowedParameterPaths] = [...this.parameterPaths].join(',');
    }
    if (this.roleArns.size > 0) {
      vars[Env.allowedRoleArns] = [...this.roleArns].join(',');
    }
    return vars;
  }
}

/**
 * The directory holding `bootstrap`: put there when the package is packed
 * (`make cdk-package` in the repository), never built at synth.
 */
function providerAssetDirectory(): string {
  const dir = path.join(__dirname, '..', 'assets', 'provider');
  if (!fs.existsSync(path.join(dir, 'bootstrap'))) {
    throw new Error(
      `cdk-cross-region-param: the provider binary is missing (${path.join(dir, 'bootstrap')}). ` +
        'Packages from the registry carry it; in a clone of the repository run `make cdk-package` ' +
        '(or `node cdk/scripts/provider-binary.js placeholder` for tests that never deploy).',
    );
  }
  return dir;
}
