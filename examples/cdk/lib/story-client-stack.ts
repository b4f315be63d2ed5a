import { CfnOutput, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EdgeFunctionVersion, Refresh } from 'cdk-cross-region-param';
import { Construct } from 'constructs';

/** Where the distribution's edge version comes from. */
export type EdgeVersionSource =
  /** A token of EdgeStack (us-east-1) with crossRegionReferences: the story's starting point. */
  | { readonly kind: 'strong-reference'; readonly versionArn: string }
  /**
   * cdk-cross-region-param's EdgeFunctionVersion (Custom::CrossRegionParam,
   * served by the provider function the library adds to this stack), read at
   * deploy time: the way out.
   */
  | {
      readonly kind: 'provider';
      readonly functionName: string;
      /** Pins the version during the switch (the one the reference delivered). */
      readonly qualifier?: string;
      /** Refresh.withValue: a new value makes CloudFormation ask the provider again. */
      readonly refresh: string;
    };

export interface StoryClientStackProps extends StackProps {
  readonly edgeVersion: EdgeVersionSource;
}

/**
 * The ap-northeast-1 stack of the story in its two shapes, for the deadlock
 * reproduction and the migration it plays (`make deadlock`, bin/deadlock.ts).
 *
 * With a strong reference CDK adds a `Custom::CrossRegionExportWriter` to
 * EdgeStack and a `Custom::CrossRegionExportReader` here; with the library
 * there is neither, and nothing is imported. The example's ClientAppStack is
 * the complete "after".
 */
export class StoryClientStack extends Stack {
  constructor(scope: Construct, id: string, props: StoryClientStackProps) {
    super(scope, id, props);

    const source = props.edgeVersion;
    let edgeVersion: lambda.IVersion;
    if (source.kind === 'strong-reference') {
      edgeVersion = lambda.Version.fromVersionArn(this, 'EdgeAuthVersion', source.versionArn);
    } else {
      edgeVersion = new EdgeFunctionVersion(this, 'EdgeAuth', {
        functionName: source.functionName,
        qualifier: source.qualifier,
        edgeEventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
        refresh: Refresh.withValue(source.refresh),
      }).version;
    }

    const bucket = new s3.Bucket(this, 'ContentBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        edgeLambdas: [
          {
            eventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
            functionVersion: edgeVersion,
          },
        ],
      },
    });

    new CfnOutput(this, 'DistributionDomainName', { value: distribution.distributionDomainName });
  }
}
