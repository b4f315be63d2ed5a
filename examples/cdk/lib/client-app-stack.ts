import { CfnOutput, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CrossRegionStackOutputs, EdgeFunctionVersion, Refresh } from 'cdk-cross-region-param';
import { Construct } from 'constructs';

export interface ClientAppStackProps extends StackProps {
  /** Region of the edge function, certificate and hosted zone. */
  readonly sourceRegion: string;
  readonly edgeFunctionName: string;
  readonly domainStackName: string;
  readonly zoneName: string;
  readonly domainName: string;
  /**
   * When the values are read again: a commit id for reproducible templates
   * (`-c deployId=...`); without it, on every deploy.
   */
  readonly refresh?: Refresh;
}

/**
 * ap-northeast-1: S3, Cognito and CloudFront.
 *
 * Every us-east-1 value arrives through cdk-cross-region-param's constructs,
 * read at deploy time by the provider function the library adds to this
 * stack. This stack references no other stack's resources and imports
 * nothing, so CDK creates no export and no Custom::CrossRegionExportReader
 * (nor a writer in EdgeStack), and a new edge version never blocks a deploy.
 */
export class ClientAppStack extends Stack {
  constructor(scope: Construct, id: string, props: ClientAppStackProps) {
    super(scope, id, props);

    // The newest published AuthFunction version, checked at deploy against the
    // Lambda@Edge restrictions for viewer requests.
    const edgeAuth = new EdgeFunctionVersion(this, 'EdgeAuth', {
      region: props.sourceRegion,
      functionName: props.edgeFunctionName,
      edgeEventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
      refresh: props.refresh,
    });

    const domainOutputs = new CrossRegionStackOutputs(this, 'DomainOutputs', {
      region: props.sourceRegion,
      stackName: props.domainStackName,
      refresh: props.refresh,
    });

    const certificate = acm.Certificate.fromCertificateArn(
      this,
      'Certificate',
      domainOutputs.getOutput('CertificateArn'),
    );
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: domainOutputs.getOutput('HostedZoneId'),
      zoneName: props.zoneName,
    });

    const bucket = new s3.Bucket(this, 'ContentBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'myapp SPA behind Lambda@Edge authentication',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      domainNames: [props.domainName],
      certificate,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        edgeLambdas: [
          {
            eventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
            functionVersion: edgeAuth.version,
          },
        ],
      },
    });

    new route53.ARecord(this, 'AliasRecord', {
      zone,
      recordName: props.domainName,
      target: route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(distribution)),
    });

    const userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    userPool.addDomain('LoginDomain', {
      cognitoDomain: { domainPrefix: `myapp-login-${this.account}` },
    });
    const client = userPool.addClient('WebClient', {
      generateSecret: false,
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [`https://${props.domainName}/`],
        logoutUrls: [`https://${props.domainName}/`],
      },
    });

    new CfnOutput(this, 'DistributionDomainName', { value: distribution.distributionDomainName });
    new CfnOutput(this, 'EdgeFunctionVersionArn', { value: edgeAuth.versionArn });
    new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: client.userPoolClientId });
    new CfnOutput(this, 'ContentBucketName', { value: bucket.bucketName });
  }
}
