import { CfnOutput, CustomResource, Fn, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Where the distribution's edge version ARN comes from. */
export type EdgeVersionSource =
  /** A token of EdgeStack (us-east-1) with crossRegionReferences: the story's starting point. */
  | { readonly kind: 'strong-reference'; readonly versionArn: string }
  /** Custom::CrossRegionParam, read at deploy time: the way out. */
  | {
      readonly kind: 'provider';
      readonly serviceTokenExport: string;
      readonly functionName: string;
      /** Pins the version during the switch (the one the reference delivered). */
      readonly qualifier?: string;
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
 * EdgeStack and a `Custom::CrossRegionExportReader` here; with the provider
 * there is neither. The example's ClientAppStack is the complete "after".
 */
export class StoryClientStack extends Stack {
  constructor(scope: Construct, id: string, props: StoryClientStackProps) {
    super(scope, id, props);

    const source = props.edgeVersion;
    let versionArn: string;
    if (source.kind === 'strong-reference') {
      versionArn = source.versionArn;
    } else {
      const properties: Record<string, string> = {
        Region: 'us-east-1',
        FunctionName: source.functionName,
        EdgeEventType: 'viewer-request',
        Refresh: source.refresh,
      };
      if (source.qualifier !== undefined) {
        properties.Qualifier = source.qualifier;
      }
      const edgeAuth = new CustomResource(this, 'EdgeAuth', {
        serviceToken: Fn.importValue(source.serviceTokenExport),
        resourceType: 'Custom::CrossRegionParam',
        properties,
      });
      versionArn = edgeAuth.getAttString('VersionArn');
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
            functionVersion: lambda.Version.fromVersionArn(this, 'EdgeAuthVersion', versionArn),
          },
        ],
      },
    });

    new CfnOutput(this, 'DistributionDomainName', { value: distribution.distributionDomainName });
  }
}
