import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  CrossRegionParameter,
  CrossRegionParamProvider,
  CrossRegionStackOutputs,
  EdgeFunctionVersion,
  ProviderLogLevel,
} from '../lib';
import { appStack } from './helpers';

function functions(stack: Stack): Record<string, any> {
  return Template.fromStack(stack).findResources('AWS::Lambda::Function');
}

describe('the provider function', () => {
  it('is the packaged bootstrap on provided.al2023, arm64, with its own log group', () => {
    const stack = appStack();
    new CrossRegionParameter(stack, 'P', { region: 'us-east-1', parameterName: '/myapp/x' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Architectures: ['arm64'],
      Handler: 'bootstrap',
      MemorySize: 512,
      Timeout: 120,
      LoggingConfig: {
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        SystemLogLevel: 'WARN',
        LogGroup: { Ref: Match.stringLikeRegexp('^CrossRegionParamProviderLogGroup') },
      },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    t.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
  });

  it('writes only to its own log group, and has no managed policy', () => {
    const stack = appStack();
    new CrossRegionParameter(stack, 'P', { region: 'us-east-1', parameterName: '/myapp/x' });
    const t = Template.fromStack(stack);
    const role = Object.values(t.findResources('AWS::IAM::Role'))[0];
    assert.equal(role.Properties.ManagedPolicyArns, undefined);
    const json = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    assert.match(json, /logs:CreateLogStream/);
    assert.doesNotMatch(json, /"Resource":"\*"/);
  });

  for (const n of [1, 2, 10]) {
    it(`is created once for ${n} construct(s) in a stack`, () => {
      const stack = appStack();
      for (let i = 0; i < n; i++) {
        new CrossRegionParameter(stack, `P${i}`, { region: 'us-east-1', parameterName: `/myapp/p${i}` });
      }
      const t = Template.fromStack(stack);
      t.resourceCountIs('AWS::Lambda::Function', 1);
      t.resourceCountIs('AWS::IAM::Role', 1);
      t.resourceCountIs('AWS::Logs::LogGroup', 1);
      t.resourceCountIs('Custom::CrossRegionParam', n);
      const fnId = Object.keys(functions(stack))[0];
      for (const r of Object.values(t.findResources('Custom::CrossRegionParam'))) {
        assert.deepEqual(r.Properties.ServiceToken, { 'Fn::GetAtt': [fnId, 'Arn'] });
      }
    });
  }

  it('is created once per stack, in every stack that reads', () => {
    const a = appStack('A');
    const b = new Stack(a.node.root as any, 'B', { env: { account: '123456789012', region: 'eu-west-1' } });
    new CrossRegionParameter(a, 'P', { region: 'us-east-1', parameterName: '/a' });
    new CrossRegionParameter(b, 'P', { region: 'us-east-1', parameterName: '/b' });
    assert.equal(Object.keys(functions(a)).length, 1);
    assert.equal(Object.keys(functions(b)).length, 1);
  });

  it('takes settings from the first getOrCreate of the stack, and refuses them later', () => {
    const stack = appStack();
    CrossRegionParamProvider.getOrCreate(stack, {
      memorySize: 1024,
      timeout: Duration.seconds(60),
      logRetention: logs.RetentionDays.ONE_WEEK,
      logLevel: ProviderLogLevel.DEBUG,
    });
    new CrossRegionParameter(stack, 'P', { region: 'us-east-1', parameterName: '/a' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Timeout: 60,
      LoggingConfig: Match.objectLike({ ApplicationLogLevel: 'DEBUG' }),
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    // ServiceTimeout follows the provider's timeout.
    t.hasResourceProperties('Custom::CrossRegionParam', { ServiceTimeout: '120' });
    assert.throws(() => CrossRegionParamProvider.getOrCreate(stack, { memorySize: 256 }), /already exists/);
    assert.equal(CrossRegionParamProvider.getOrCreate(stack), CrossRegionParamProvider.getOrCreate(stack));
  });

  it('sets ServiceTimeout on every resource (the Lambda timeout plus 60 s by default)', () => {
    const stack = appStack();
    new CrossRegionParameter(stack, 'P', { region: 'us-east-1', parameterName: '/a' });
    new CrossRegionParameter(stack, 'Q', { region: 'us-east-1', parameterName: '/b', serviceTimeout: Duration.minutes(10) });
    const props = Object.values(Template.fromStack(stack).findResources('Custom::CrossRegionParam')).map(
      (r) => r.Properties.ServiceTimeout,
    );
    assert.deepEqual(props.sort(), ['180', '600']);
    assert.throws(
      () => new CrossRegionParameter(stack, 'R', { region: 'us-east-1', parameterName: '/c', serviceTimeout: Duration.hours(2) }),
      /serviceTimeout must be between 1 and 3600 seconds/,
    );
  });
});

describe('serviceToken: a shared provider', () => {
  it('creates no function, role or log group and uses the token given', () => {
    const stack = appStack();
    const token = 'arn:aws:lambda:ap-northeast-1:123456789012:function:CrossRegionParam-Function';
    new CrossRegionParameter(stack, 'P', { region: 'us-east-1', parameterName: '/a', serviceToken: token });
    new CrossRegionStackOutputs(stack, 'S', { region: 'us-east-1', stackName: 'DomainStack', serviceToken: token });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Function', 0);
    t.resourceCountIs('AWS::IAM::Role', 0);
    t.resourceCountIs('AWS::Logs::LogGroup', 0);
    t.resourceCountIs('Custom::CrossRegionParam', 2);
    t.allResourcesProperties('Custom::CrossRegionParam', { ServiceToken: token, ServiceTimeout: '180' });
  });

  it('mixes with constructs that use the stack provider', () => {
    const stack = appStack();
    new CrossRegionParameter(stack, 'P', { region: 'us-east-1', parameterName: '/a', serviceToken: 'arn:aws:lambda:ap-northeast-1:123456789012:function:shared' });
    EdgeFunctionVersion.latest(stack, 'Edge', { functionName: 'AuthFunction' });
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 1);
  });
});
