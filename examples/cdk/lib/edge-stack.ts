import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

export interface EdgeStackProps extends StackProps {
  /** Name of the viewer-request function; the app stack finds it by this name. */
  readonly functionName: string;
  /** Where viewers without a session are sent (Lambda@Edge has no env vars). */
  readonly loginUrl: string;
}

/**
 * us-east-1: the Lambda@Edge function and its published version.
 *
 * Nothing here is exported. The newest version's ARN is also written to SSM
 * (same region, so no reference crosses stacks) for readers that prefer
 * `ParameterName` over `FunctionName`.
 */
export class EdgeStack extends Stack {
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
      code: lambda.Code.fromInline(viewerRequestSource(props.loginUrl)),
      memorySize: 128,
      timeout: Duration.seconds(5),
      role,
    });

    // currentVersion publishes a new version whenever the code or configuration
    // changes: exactly the value that used to deadlock the export.
    const version = fn.currentVersion;

    new ssm.StringParameter(this, 'EdgeVersionArnParameter', {
      parameterName: '/myapp/edge-version-arn',
      description: 'ARN of the published AuthFunction version (read cross-region, never exported)',
      stringValue: version.functionArn,
    });

    new CfnOutput(this, 'AuthFunctionVersionArn', { value: version.functionArn });
  }
}

function viewerRequestSource(loginUrl: string): string {
  return `'use strict';
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
