import { ArnFormat, CustomResource, Duration, Reference, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { Prop, RESOURCE_TYPE } from './contract';
import { ReadGrant } from './grant';
import { CrossRegionParamProvider } from './provider';
import { Refresh } from './refresh';

/** Options every construct of this library takes. */
export interface CrossRegionReadOptions {
  /**
   * Assume this role before reading (another account). The provider's role
   * gets `sts:AssumeRole` on it and nothing else for this read; the role must
   * trust the provider's role (`CrossRegionParamProvider.role`).
   * @default - read with the provider's own role
   */
  readonly role?: iam.IRole;

  /**
   * The same as `role`, as an ARN.
   * @default - read with the provider's own role
   */
  readonly roleArn?: string;

  /**
   * External id for the assumed role.
   * @default - none
   */
  readonly externalId?: string;

  /**
   * When CloudFormation asks the provider to read again.
   * @default Refresh.everyDeploy()
   */
  readonly refresh?: Refresh;

  /**
   * Force NoEcho on the response (values hidden from DescribeStackEvents).
   * @default false (true for SecureString reads)
   */
  readonly noEcho?: boolean;

  /**
   * An existing provider's ServiceToken (for instance the SAM template's
   * `<stack>-ServiceToken` export, shared by a team). Its configuration then
   * decides what may be read, and no provider is created in this stack.
   * @default - the stack's own provider (CrossRegionParamProvider)
   */
  readonly serviceToken?: string;

  /**
   * How long CloudFormation waits for the provider's answer (ServiceTimeout).
   * @default - the provider's timeout plus 60 seconds (180 seconds with a serviceToken)
   */
  readonly serviceTimeout?: Duration;
}

/** Every property of the Custom::CrossRegionParam contract, typed. */
export interface CrossRegionParamProps extends CrossRegionReadOptions {
  /** Source region, where the values live (e.g. us-east-1). */
  readonly region: string;

  /**
   * One SSM parameter: `name`, `name:VERSION`, `name:LABEL` or its ARN.
   * Data: `Value`, `ParameterVersion`.
   * @default - none
   */
  readonly parameterName?: string;

  /**
   * SSM parameters by Data key: `{ DataKey: 'name[:VERSION|:LABEL]' }`.
   * @default - none
   */
  readonly parameters?: { [dataKey: string]: string };

  /**
   * Every SSM parameter under this path; Data keys are the full names.
   * @default - none
   */
  readonly parametersPath?: string;

  /**
   * With `parametersPath`: descend into sub-paths.
   * @default true
   */
  readonly recursive?: boolean;

  /**
   * Read SecureString values (the answer is then NoEcho).
   * @default false
   */
  readonly withDecryption?: boolean;

  /**
   * With `withDecryption`: the KMS key of the SecureStrings, so that the
   * provider may decrypt with that key only.
   * @default - any key of the account, through SSM in the source region only
   */
  readonly decryptionKey?: kms.IKey;

  /**
   * A Lambda function (name, partial or full ARN): its newest published
   * version, or `qualifier`'s. Data: `VersionArn`, `Version`, `FunctionArn`,
   * `CodeSha256`.
   * @default - none
   */
  readonly functionName?: string;

  /**
   * With `functionName`: an alias name or version number.
   * @default - the highest-numbered published version
   */
  readonly qualifier?: string;

  /**
   * With `functionName`: check at deploy that the version can serve this
   * Lambda@Edge event (every violation is listed in the failure reason).
   * @default - no check
   */
  readonly edgeEventType?: cloudfront.LambdaEdgeEventType;

  /**
   * A stack's outputs (name or stack ARN). Data: `Outputs.<OutputKey>`.
   * @default - none
   */
  readonly stackName?: string;
}

/**
 * A Custom::CrossRegionParam resource: reads values from another region (or
 * account) at deploy time. The typed constructs (`CrossRegionParameter`,
 * `EdgeFunctionVersion`, ...) are built on it; use it directly to combine
 * sources in one resource.
 */
export class CrossRegionParam extends CustomResource {
  /** The region the values are read from. */
  public readonly region: string;

  constructor(scope: Construct, id: string, props: CrossRegionParamProps) {
    validate(scope, id, props);
    const provider = props.serviceToken === undefined ? CrossRegionParamProvider.getOrCreate(scope) : undefined;
    const serviceToken = props.serviceToken ?? provider!.serviceToken;
    const timeout = props.serviceTimeout ?? (provider ? provider.timeout.plus(Duration.seconds(60)) : Duration.seconds(180));
    super(scope, id, {
      serviceToken,
      resourceType: RESOURCE_TYPE,
      serviceTimeout: timeout,
      properties: properties(props),
    });
    this.region = props.region;
    if (provider !== undefined) {
      provider._allow(grantFor(Stack.of(this), props));
    }
  }

  /**
   * A Data value of the answer, by key (`Fn::GetAtt`).
   * @param key a Data key: `Value`, `VersionArn`, `Outputs.CertificateArn`, a key of `parameters`, ...
   */
  public getData(key: string): string {
    return this.getAttString(key);
  }

  /**
   * A Data value as a Reference.
   * @param key a Data key
   */
  public getDataReference(key: string): Reference {
    return this.getAtt(key);
  }
}

function properties(props: CrossRegionParamProps): { [key: string]: unknown } {
  const out: { [key: string]: unknown } = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) {
      out[key] = value;
    }
  };
  const bool = (value?: boolean) => (value === undefined ? undefined : value ? 'true' : 'false');
  set(Prop.region, props.region);
  set(Prop.parameterName, props.parameterName);
  set(Prop.parameters, props.parameters);
  set(Prop.parametersPath, props.parametersPath);
  set(Prop.recursive, bool(props.recursive));
  set(Prop.withDecryption, bool(props.withDecryption));
  set(Prop.functionName, props.functionName);
  set(Prop.qualifier, props.qualifier);
  set(Prop.edgeEventType, props.edgeEventType);
  set(Prop.stackName, props.stackName);
  set(Prop.roleArn, roleArnOf(props));
  set(Prop.externalId, props.externalId);
  set(Prop.noEcho, props.noEcho ? 'true' : undefined);
  set(Prop.refresh, (props.refresh ?? Refresh.everyDeploy()).value);
  return out;
}

function roleArnOf(props: CrossRegionReadOptions): string | undefined {
  return props.role?.roleArn ?? props.roleArn;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const SOURCES: (keyof CrossRegionParamProps)[] = ['parameterName', 'parameters', 'parametersPath', 'functionName', 'stackName'];

/** Synth-time checks of what can be checked before deploy (literal values only). */
function validate(scope: Construct, id: string, props: CrossRegionParamProps): void {
  const where = `${scope.node.path}/${id}`;
  const fail = (message: string): never => {
    throw new Error(`${where}: ${message}`);
  };
  if (!Token.isUnresolved(props.region) && !REGION.test(props.region)) {
    fail(`region '${props.region}' is not an AWS region code (e.g. us-east-1)`);
  }
  if (!SOURCES.some((k) => props[k] !== undefined)) {
    fail('name at least one source: parameterName, parameters, parametersPath, functionName or stackName');
  }
  if (props.role !== undefined && props.roleArn !== undefined) {
    fail('give role or roleArn, not both');
  }
  if (props.externalId !== undefined && roleArnOf(props) === undefined) {
    fail('externalId needs role or roleArn');
  }
  if (props.parameters !== undefined && !Token.isUnresolved(props.parameters) && Object.keys(props.parameters).length === 0) {
    fail('parameters is empty');
  }
  for (const [key, value] of Object.entries(props.parameters ?? {})) {
    if (key === '' || value === '') {
      fail(`parameters: empty key or name ('${key}': '${value}')`);
    }
  }
  if (props.recursive !== undefined && props.parametersPath === undefined) {
    fail('recursive applies to parametersPath only');
  }
  if (props.decryptionKey !== undefined && !props.withDecryption) {
    fail('decryptionKey applies with withDecryption: true only');
  }
  if ((props.qualifier !== undefined || props.edgeEventType !== undefined) && props.functionName === undefined) {
    fail('qualifier and edgeEventType apply to functionName only');
  }
  if (props.serviceTimeout !== undefined) {
    const s = props.serviceTimeout.toSeconds();
    if (s < 1 || s > 3600) {
      fail(`serviceTimeout must be between 1 and 3600 seconds, not ${s}`);
    }
  }
}

/** The provider role's statements and allow-list entries for one read, from its props. */
function grantFor(stack: Stack, props: CrossRegionParamProps): ReadGrant {
  const roleArn = roleArnOf(props);
  if (roleArn !== undefined) {
    // Every read then happens as that role: the provider's own role only
    // needs to assume it.
    return {
      region: props.region,
      parameterPaths: ssmAllowList(props),
      roleArn,
      statements: [
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [roleArn] }),
      ],
    };
  }
  const region = props.region;
  const statements: iam.PolicyStatement[] = [];
  const names = [props.parameterName, ...Object.values(props.parameters ?? {})].filter(
    (n): n is string => n !== undefined,
  );
  if (names.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameters'],
        resources: names.map((n) => parameterArn(stack, region, n)),
      }),
    );
  }
  if (props.parametersPath !== undefined) {
    const pathArn = parameterArn(stack, region, props.parametersPath.replace(/\/+$/, '') || '/');
    statements.push(
      new iam.PolicyStatement({
        actions: ['ssm:GetParametersByPath'],
        resources: [pathArn, `${pathArn}/*`],
      }),
    );
  }
  if (props.withDecryption) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [
          props.decryptionKey?.keyArn ??
            stack.formatArn({ service: 'kms', region, resource: 'key', resourceName: '*' }),
        ],
        conditions: { StringEquals: { 'kms:ViaService': `ssm.${region}.${stack.urlSuffix}` } },
      }),
    );
  }
  if (props.functionName !== undefined) {
    const fn = functionArn(stack, region, props.functionName);
    statements.push(
      new iam.PolicyStatement({
        actions: ['lambda:ListVersionsByFunction', 'lambda:GetFunctionConfiguration', 'lambda:GetAlias'],
        resources: [fn, `${fn}:*`],
      }),
    );
    if (props.edgeEventType !== undefined) {
      // The function's execution role is only known at deploy time, so no
      // single role can be named here: any role of the function's account.
      statements.push(
        new iam.PolicyStatement({
          actions: ['iam:GetRole'],
          resources: [stack.formatArn({ service: 'iam', region: '', account: accountOfFunction(stack, props.functionName), resource: 'role', resourceName: '*' })],
        }),
      );
    }
  }
  if (props.stackName !== undefined) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['cloudformation:DescribeStacks'],
        resources: [stackArn(stack, region, props.stackName)],
      }),
    );
  }
  return { region, parameterPaths: ssmAllowList(props), statements };
}

/** The names (without `:VERSION`/`:LABEL`) and path the provider's allow-list needs. */
function ssmAllowList(props: CrossRegionParamProps): string[] {
  const out: string[] = [];
  for (const n of [props.parameterName, ...Object.values(props.parameters ?? {})]) {
    if (n !== undefined) {
      out.push(Token.isUnresolved(n) ? n : parameterNameOf(n));
    }
  }
  if (props.parametersPath !== undefined) {
    out.push(props.parametersPath);
  }
  return out;
}

/** `/a/b:3` -> `/a/b`; an SSM ARN -> its name. SSM names never contain ':'. */
function parameterNameOf(reference: string): string {
  if (reference.startsWith('arn:')) {
    const resource = reference.split(':').slice(5, 6)[0] ?? '';
    const name = resource.replace(/^parameter/, '');
    return name.startsWith('/') ? name : `/${name}`;
  }
  return reference.split(':')[0];
}

function parameterArn(stack: Stack, region: string, reference: string): string {
  if (Token.isUnresolved(reference)) {
    // A token is taken as a full path name ("/a/b"), as SSM names in paths are.
    return stack.formatArn({ service: 'ssm', region, resource: 'parameter', resourceName: '', arnFormat: ArnFormat.NO_RESOURCE_NAME }) + reference;
  }
  if (reference.startsWith('arn:')) {
    return reference.split(':').slice(0, 6).join(':');
  }
  const name = parameterNameOf(reference);
  return stack.formatArn({ service: 'ssm', region, resource: 'parameter', resourceName: name.replace(/^\//, '') });
}

function functionArn(stack: Stack, region: string, name: string): string {
  if (!Token.isUnresolved(name)) {
    const parts = name.split(':');
    if (name.startsWith('arn:')) {
      return parts.slice(0, 7).join(':');
    }
    if (parts[1] === 'function') {
      return stack.formatArn({ service: 'lambda', region, account: parts[0], resource: 'function', resourceName: parts[2], arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    }
    name = parts[0];
  }
  return stack.formatArn({ service: 'lambda', region, resource: 'function', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

function accountOfFunction(stack: Stack, name: string): string {
  if (!Token.isUnresolved(name)) {
    const parts = name.split(':');
    if (name.startsWith('arn:')) {
      return parts[4];
    }
    if (parts[1] === 'function') {
      return parts[0];
    }
  }
  return stack.account;
}

function stackArn(stack: Stack, region: string, name: string): string {
  if (!Token.isUnresolved(name) && name.startsWith('arn:')) {
    return name;
  }
  return stack.formatArn({ service: 'cloudformation', region, resource: 'stack', resourceName: `${name}/*` });
}

