import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  CrossRegionParam,
  CrossRegionParameter,
  CrossRegionParameterPath,
  CrossRegionParameters,
  CrossRegionStackOutputs,
  EdgeFunctionVersion,
  Refresh,
} from '../lib';
import { appStack } from './helpers';

function crp(stack: Stack): any[] {
  return Object.values(Template.fromStack(stack).findResources('Custom::CrossRegionParam')).map((r) => r.Properties);
}

describe('typed constructs write the contract\'s properties', () => {
  it('EdgeFunctionVersion.latest is a lambda.IVersion that a Distribution takes as an edge function', () => {
    const stack = appStack();
    const version = EdgeFunctionVersion.latest(stack, 'EdgeAuth', {
      functionName: 'AuthFunction',
      edgeEventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
    });
    new cloudfront.Distribution(stack, 'D', {
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(new s3.Bucket(stack, 'B')),
        edgeLambdas: [{ eventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST, functionVersion: version }],
      },
    });
    const t = Template.fromStack(stack);
    const [id] = Object.keys(t.findResources('Custom::CrossRegionParam'));
    const dist = Object.values(t.findResources('AWS::CloudFront::Distribution'))[0];
    assert.deepEqual(dist.Properties.DistributionConfig.DefaultCacheBehavior.LambdaFunctionAssociations, [
      { EventType: 'viewer-request', LambdaFunctionARN: { 'Fn::GetAtt': [id, 'VersionArn'] } },
    ]);
    const [props] = crp(stack);
    assert.equal(props.Region, 'us-east-1');
    assert.equal(props.FunctionName, 'AuthFunction');
    assert.equal(props.EdgeEventType, 'viewer-request');
    assert.equal(props.Qualifier, undefined);
  });

  it('SSM constructs: strings as CloudFormation sends them, attributes by Data key', () => {
    const stack = appStack();
    const one = new CrossRegionParameter(stack, 'One', { region: 'us-east-1', parameterName: '/a', withDecryption: true });
    const many = new CrossRegionParameters(stack, 'Many', { region: 'us-east-1', parameters: { Pool: '/p', Domain: '/d:prod' } });
    const path = new CrossRegionParameterPath(stack, 'Path', { region: 'us-east-1', path: '/shared', recursive: false });
    const props = crp(stack);
    assert.equal(props[0].WithDecryption, 'true');
    assert.deepEqual(props[1].Parameters, { Pool: '/p', Domain: '/d:prod' });
    assert.equal(props[2].ParametersPath, '/shared');
    assert.equal(props[2].Recursive, 'false');
    const r = (v: string) => stack.resolve(v);
    assert.equal(r(one.stringValue)['Fn::GetAtt'][1], 'Value');
    assert.deepEqual(r(one.parameterVersion)['Fn::GetAtt'][1], 'ParameterVersion');
    assert.deepEqual(r(many.get('Domain'))['Fn::GetAtt'][1], 'Domain');
    assert.throws(() => many.get('Domian'), /no parameter under key 'Domian' \(keys: Pool, Domain\)/);
    assert.deepEqual(r(path.get('/shared/x'))['Fn::GetAtt'][1], '/shared/x');
  });

  it('stack outputs and function attributes', () => {
    const stack = appStack();
    const outputs = new CrossRegionStackOutputs(stack, 'Domain', { region: 'us-east-1', stackName: 'DomainStack' });
    const edge = new EdgeFunctionVersion(stack, 'Edge', { functionName: 'AuthFunction', qualifier: 'live' });
    const att = (v: string) => stack.resolve(v)['Fn::GetAtt'][1];
    assert.equal(att(outputs.getOutput('CertificateArn')), 'Outputs.CertificateArn');
    assert.equal(att(edge.versionArn), 'VersionArn');
    assert.equal(att(edge.versionNumber), 'Version');
    assert.equal(att(edge.functionArn), 'FunctionArn');
    assert.equal(att(edge.codeSha256), 'CodeSha256');
    assert.equal(crp(stack)[1].Qualifier, 'live');
  });

  it('cross-account props become RoleArn and ExternalId', () => {
    const stack = appStack();
    new CrossRegionStackOutputs(stack, 'S', {
      region: 'us-east-1', stackName: 'DomainStack', roleArn: 'arn:aws:iam::210987654321:role/R', externalId: 'x-1',
    });
    const [p] = crp(stack);
    assert.equal(p.RoleArn, 'arn:aws:iam::210987654321:role/R');
    assert.equal(p.ExternalId, 'x-1');
  });

  it('refuses at synth what can never deploy', () => {
    const stack = appStack();
    const cases: [() => unknown, RegExp][] = [
      [() => new CrossRegionParam(stack, 'A', { region: 'useast1', parameterName: '/a' }), /region 'useast1' is not an AWS region code/],
      [() => new CrossRegionParam(stack, 'B', { region: 'us-east-1' }), /name at least one source/],
      [() => new CrossRegionParam(stack, 'C', { region: 'us-east-1', parameterName: '/a', roleArn: 'arn:aws:iam::1:role/x', role: {} as any }), /role or roleArn, not both/],
      [() => new CrossRegionParam(stack, 'D', { region: 'us-east-1', parameterName: '/a', externalId: 'e' }), /externalId needs role/],
      [() => new CrossRegionParam(stack, 'E', { region: 'us-east-1', parameterName: '/a', qualifier: '1' }), /apply to functionName only/],
      [() => new CrossRegionParameters(stack, 'F', { region: 'us-east-1', parameters: {} }), /parameters is empty/],
      [() => new CrossRegionStackOutputs(stack, 'G', { region: 'us-east-1', stackName: 'S' }).getOutput(''), /needs an output key/],
    ];
    for (const [build, message] of cases) {
      assert.throws(build, message);
    }
  });
});

describe('refresh', () => {
  it('by default one value per synth, the same on every resource of the app', () => {
    const app = new App();
    const a = new Stack(app, 'A', { env: { account: '123456789012', region: 'ap-northeast-1' } });
    const b = new Stack(app, 'B', { env: { account: '123456789012', region: 'eu-west-1' } });
    new CrossRegionParameter(a, 'P', { region: 'us-east-1', parameterName: '/a' });
    new CrossRegionStackOutputs(b, 'S', { region: 'us-east-1', stackName: 'X' });
    const values = [...crp(a), ...crp(b)].map((p) => p.Refresh);
    assert.equal(values.length, 2);
    assert.ok(values[0] && !Number.isNaN(Date.parse(values[0])), `an ISO time stamp, got ${values[0]}`);
    assert.equal(values[0], values[1]);
  });

  it('onChange leaves Refresh out; withValue sets it', () => {
    const stack = appStack();
    new CrossRegionParameter(stack, 'P', { region: 'us-east-1', parameterName: '/a', refresh: Refresh.onChange() });
    new CrossRegionParameter(stack, 'Q', { region: 'us-east-1', parameterName: '/b', refresh: Refresh.withValue('abc123') });
    const [p, q] = crp(stack);
    assert.equal('Refresh' in p, false);
    assert.equal(q.Refresh, 'abc123');
    assert.throws(() => Refresh.withValue(''), /non-empty/);
  });
});
