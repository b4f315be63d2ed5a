import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

export interface EdgeStackProps extends StackProps {
  /** Name of the viewer-request function; the app stack finds it by this name. */
  readonly functionName: string;
  /** Where viewers without a session are sent (Lambda@Edge has no env vars). */
  readonly loginUrl: string;
  /**
   * Optional marker written into the function's code. Changing it changes the
   * code, so CDK publishes a new version: the "edge code change" of the
   * deadlock reproduction (`make deadlock`).
   */
  readonly codeRevision?: string;
}

/**
 * us-east-1: the Lambda@Edge function and its published version.
 *
 * Nothing here is exported. The newest version's ARN is also written to SSM
 * (same region, so no reference crosses stacks) for readers that prefer
 * `ParameterName` over `FunctionName`.
 */
export class EdgeStack extends Stack {
  /** The published version CloudFront runs (a new one for every code change). */
  public readonly version: lambda.IVersion;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);

    const role = new iam.Role(this, 'AuthFunctionRole', {
      assumedBy: new iam.CompositePrincipal(
        new iam.ServicePrincipal('lambda.amazonaws.com'),
        new iam.ServicePrincipal('edgelambda.amazonaws.com'),
      ),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'),
      ],
    });

    const fn = new lambda.Function(this, 'AuthFunction', {
      functionName: props.functionName,
      description: 'Viewer-request check in front of the app distribution',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.X86_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline(viewerRequestSource(props.loginUrl, props.codeRevision)),
      memorySize: 128,
      timeout: Duration.seconds(5),
      role,
      // Keep every published version when a newer one replaces it: CloudFront
      // still runs (and replicates) the old one until the distribution has
      // moved, and Lambda refuses to delete a replicated version. With the
      // default policy each update would try that delete.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });

    // currentVersion publishes a new version whenever the code or configuration
    // changes: exactly the value that used to deadlock the export.
    const version = fn.currentVersion;
    this.version = version;

    new ssm.StringParameter(this, 'EdgeVersionArnParameter', {
      parameterName: '/myapp/edge-version-arn',
      description: 'ARN of the published AuthFunction version (read cross-region, never exported)',
      stringValue: version.functionArn,
    });

    new CfnOutput(this, 'AuthFunctionVersionArn', { value: version.functionArn });
  }
}

function viewerRequestSource(loginUrl: string, revision?: string): string {
  const marker = revision === undefined ? '' : `// revision ${revision}\n`;
  return `'use strict';
${marker}
// Passes requests that carry a session cookie, redirects the others to the login
// page. A real app verifies the Cognito token here (e.g. with cognito-at-edge).
const LOGIN_URL = ${JSON.stringify(loginUrl)};

function hasSession(headers) {
  const cookies = (headers.cookie || []).map((h) => h.value).join(';');
  return cookies.split(';').some((c) => c.trim().startsWith('session='));
}

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (hasSession(request.headers)) {
    return request;
  }
  return {
    status: '302',
    statusDescription: 'Found',
    headers: {
      location: [{ key: 'Location', value: LOGIN_URL }],
      'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
    },
  };
};
`;
}
