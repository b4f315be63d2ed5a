import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { Data } from './contract';
import { CrossRegionParam, CrossRegionReadOptions } from './resource';

/** Props of `CrossRegionFunctionVersion`. */
export interface CrossRegionFunctionVersionProps extends CrossRegionReadOptions {
  /** Region of the function. */
  readonly region: string;

  /** The function: name, partial ARN or full ARN. */
  readonly functionName: string;

  /**
   * An alias name or version number.
   * @default - the highest-numbered published version (never $LATEST)
   */
  readonly qualifier?: string;

  /**
   * Check at deploy that the version can serve this Lambda@Edge event: region
   * us-east-1, x86_64, a supported runtime, no environment variables, no VPC,
   * no layers, the size and time limits of the event, a role trusted by
   * edgelambda.amazonaws.com. Every violation is listed in the failure reason.
   * @default - no check
   */
  readonly edgeEventType?: cloudfront.LambdaEdgeEventType;
}

/**
 * A published version of a Lambda function in another region, resolved at
 * deploy time: each deploy picks up the newest version, and nothing is
 * exported, so the function's stack stays free to publish new ones.
 */
export class CrossRegionFunctionVersion extends Construct {
  /** The Custom::CrossRegionParam resource. */
  public readonly resource: CrossRegionParam;

  /** The version, usable wherever CDK takes a `lambda.IVersion` (e.g. `edgeLambdas`). */
  public readonly version: lambda.IVersion;

  /** The qualified ARN of the version. */
  public readonly versionArn: string;

  /** The version number. */
  public readonly versionNumber: string;

  /** The function's unqualified ARN. */
  public readonly functionArn: string;

  /** The version's CodeSha256. */
  public readonly codeSha256: string;

  constructor(scope: Construct, id: string, props: CrossRegionFunctionVersionProps) {
    super(scope, id);
    this.resource = new CrossRegionParam(this, 'Resource', props);
    this.versionArn = this.resource.getData(Data.versionArn);
    this.versionNumber = this.resource.getData(Data.version);
    this.functionArn = this.resource.getData(Data.functionArn);
    this.codeSha256 = this.resource.getData(Data.codeSha256);
    this.version = lambda.Version.fromVersionArn(this, 'Version', this.versionArn);
  }
}

/** Props of `EdgeFunctionVersion`. */
export interface EdgeFunctionVersionProps extends CrossRegionReadOptions {
  /** The function: name, partial ARN or full ARN. */
  readonly functionName: string;

  /**
   * Region of the function (Lambda@Edge functions live in us-east-1).
   * @default 'us-east-1'
   */
  readonly region?: string;

  /**
   * An alias name or version number.
   * @default - the highest-numbered published version (never $LATEST)
   */
  readonly qualifier?: string;

  /**
   * The event the version will serve; checked at deploy against the
   * Lambda@Edge restrictions (see `CrossRegionFunctionVersionProps.edgeEventType`).
   * @default - no check
   */
  readonly edgeEventType?: cloudfront.LambdaEdgeEventType;
}

/**
 * The newest published version of a Lambda@Edge function, for a CloudFront
 * distribution in any region.
 *
 * ```ts
 * edgeLambdas: [{
 *   eventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
 *   functionVersion: EdgeFunctionVersion.latest(this, 'Auth', {
 *     functionName: 'AuthFunction',
 *     edgeEventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
 *   }),
 * }]
 * ```
 */
export class EdgeFunctionVersion extends CrossRegionFunctionVersion {
  /**
   * The newest published version (or `qualifier`'s), as a `lambda.IVersion`.
   *
   * @param scope parent construct
   * @param id construct id
   * @param props the function and the Lambda@Edge event to check
   */
  public static latest(scope: Construct, id: string, props: EdgeFunctionVersionProps): lambda.IVersion {
    return new EdgeFunctionVersion(scope, id, props).version;
  }

  constructor(scope: Construct, id: string, props: EdgeFunctionVersionProps) {
    super(scope, id, { ...props, region: props.region ?? 'us-east-1' });
  }
}
