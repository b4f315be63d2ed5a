import { Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { Data } from './contract';
import { CrossRegionParam, CrossRegionReadOptions } from './resource';

/** Options of the SSM constructs. */
export interface CrossRegionSsmOptions extends CrossRegionReadOptions {
  /** Source region, where the parameters live. */
  readonly region: string;

  /**
   * Read SecureString values. The answer is then NoEcho, and the provider may
   * decrypt through SSM in the source region only.
   * @default false (a SecureString fails with a reason that says so)
   */
  readonly withDecryption?: boolean;

  /**
   * With `withDecryption`: the KMS key the SecureStrings use.
   * @default - any key of the account, through SSM in the source region only
   */
  readonly decryptionKey?: kms.IKey;
}

/** Props of `CrossRegionParameter`. */
export interface CrossRegionParameterProps extends CrossRegionSsmOptions {
  /** The parameter: `name`, `name:VERSION`, `name:LABEL` or its ARN. */
  readonly parameterName: string;
}

/** One SSM parameter of another region (or account), read at deploy time. */
export class CrossRegionParameter extends Construct {
  /** The Custom::CrossRegionParam resource. */
  public readonly resource: CrossRegionParam;

  /** The parameter's value (StringList values keep SSM's comma-joined form). */
  public readonly stringValue: string;

  /** The version of the parameter that was read. */
  public readonly parameterVersion: string;

  constructor(scope: Construct, id: string, props: CrossRegionParameterProps) {
    super(scope, id);
    this.resource = new CrossRegionParam(this, 'Resource', props);
    this.stringValue = this.resource.getData(Data.value);
    this.parameterVersion = this.resource.getData(Data.parameterVersion);
  }
}

/** Props of `CrossRegionParameters`. */
export interface CrossRegionParametersProps extends CrossRegionSsmOptions {
  /** `{ Key: 'name[:VERSION|:LABEL]' }`; each key becomes a value of `get`. */
  readonly parameters: { [key: string]: string };
}

/** Several SSM parameters of one region, read in batches at deploy time. */
export class CrossRegionParameters extends Construct {
  /** The Custom::CrossRegionParam resource. */
  public readonly resource: CrossRegionParam;

  private readonly keys: Set<string>;

  constructor(scope: Construct, id: string, props: CrossRegionParametersProps) {
    super(scope, id);
    this.resource = new CrossRegionParam(this, 'Resource', props);
    this.keys = new Set(Token.isUnresolved(props.parameters) ? [] : Object.keys(props.parameters));
  }

  /**
   * The value read for `key` (a key of `parameters`).
   * @param key a key of `parameters`
   */
  public get(key: string): string {
    if (this.keys.size > 0 && !this.keys.has(key)) {
      throw new Error(`${this.node.path}: no parameter under key '${key}' (keys: ${[...this.keys].join(', ')})`);
    }
    return this.resource.getData(key);
  }
}

/** Props of `CrossRegionParameterPath`. */
export interface CrossRegionParameterPathProps extends CrossRegionSsmOptions {
  /** Every parameter under this path is read (e.g. `/myapp/`). */
  readonly path: string;

  /**
   * Descend into sub-paths.
   * @default true
   */
  readonly recursive?: boolean;
}

/**
 * Every SSM parameter under a path of another region. The whole answer must
 * fit CloudFormation's 4 KB response: for many values, read the ones you need
 * with `CrossRegionParameters`.
 */
export class CrossRegionParameterPath extends Construct {
  /** The Custom::CrossRegionParam resource. */
  public readonly resource: CrossRegionParam;

  constructor(scope: Construct, id: string, props: CrossRegionParameterPathProps) {
    super(scope, id);
    const { path, ...rest } = props;
    this.resource = new CrossRegionParam(this, 'Resource', { ...rest, parametersPath: path });
  }

  /**
   * The value of one parameter under the path, by its full name.
   * @param name the parameter's full name, e.g. `/myapp/db/host`
   */
  public get(name: string): string {
    return this.resource.getData(name);
  }
}
