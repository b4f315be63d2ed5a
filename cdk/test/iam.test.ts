import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  CrossRegionFunctionVersion,
  CrossRegionParam,
  CrossRegionParameter,
  CrossRegionParameterPath,
  CrossRegionParameters,
  CrossRegionStackOutputs,
  EdgeFunctionVersion,
} from '../lib';
import { appStack, flat, providerStatements, resourcesOf, statementFor } from './helpers';

const P = '${AWS::Partition}';

function statements(build: (stack: ReturnType<typeof appStack>) => void): any[] {
  const stack = appStack();
  build(stack);
  return providerStatements(Template.fromStack(stack));
}

function readActions(st: any[]): string[] {
  return st.flatMap((s) => [].concat(s.Action)).filter((a: string) => !a.startsWith('logs:')).sort();
}

function environment(build: (stack: ReturnType<typeof appStack>) => void): Record<string, string> {
  const stack = appStack();
  build(stack);
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
  const vars = fn.Properties.Environment.Variables;
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, flat(v)]));
}

describe('least privilege from the props', () => {
  it('one parameter: ssm:GetParameters on exactly its ARN in the source region (selector dropped)', () => {
    const st = statements((s) => new CrossRegionParameter(s, 'P', { region: 'us-east-1', parameterName: '/myapp/edge-arn:3' }));
    assert.deepEqual(readActions(st), ['ssm:GetParameters']);
    assert.deepEqual(resourcesOf(statementFor(st, 'ssm:GetParameters')), [
      `arn:${P}:ssm:us-east-1:123456789012:parameter/myapp/edge-arn`,
    ]);
  });

  it('a map of parameters: each ARN, labels dropped, ARN references kept', () => {
    const st = statements(
      (s) =>
        new CrossRegionParameters(s, 'P', {
          region: 'eu-west-1',
          parameters: {
            Pool: '/myapp/pool-id',
            Domain: '/myapp/domain:prod',
            Plain: 'plain-name',
            ByArn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/shared/x:2',
          },
        }),
    );
    assert.deepEqual(resourcesOf(statementFor(st, 'ssm:GetParameters')).sort(), [
      `arn:${P}:ssm:eu-west-1:123456789012:parameter/myapp/domain`,
      `arn:${P}:ssm:eu-west-1:123456789012:parameter/myapp/pool-id`,
      `arn:${P}:ssm:eu-west-1:123456789012:parameter/plain-name`,
      'arn:aws:ssm:eu-west-1:123456789012:parameter/shared/x',
    ]);
  });

  it('a path: ssm:GetParametersByPath on the path and below, nothing else', () => {
    const st = statements((s) => new CrossRegionParameterPath(s, 'P', { region: 'us-east-1', path: '/myapp/' }));
    assert.deepEqual(readActions(st), ['ssm:GetParametersByPath']);
    assert.deepEqual(resourcesOf(statementFor(st, 'ssm:GetParametersByPath')), [
      `arn:${P}:ssm:us-east-1:123456789012:parameter/myapp`,
      `arn:${P}:ssm:us-east-1:123456789012:parameter/myapp/*`,
    ]);
  });

  it('kms:Decrypt only with withDecryption, through SSM of the source region', () => {
    const without = statements((s) => new CrossRegionParameter(s, 'P', { region: 'us-east-1', parameterName: '/a' }));
    assert.equal(statementFor(without, 'kms:Decrypt'), undefined);
    const st = statements((s) => new CrossRegionParameter(s, 'P', { region: 'us-east-1', parameterName: '/a', withDecryption: true }));
    const decrypt = statementFor(st, 'kms:Decrypt');
    assert.deepEqual(resourcesOf(decrypt), [`arn:${P}:kms:us-east-1:123456789012:key/*`]);
    assert.equal(flat(decrypt.Condition.StringEquals['kms:ViaService']), 'ssm.us-east-1.${AWS::URLSuffix}');
  });

  it('kms:Decrypt on the named key only, when decryptionKey is given', () => {
    const st = statements((s) => {
      const key = kms.Key.fromKeyArn(s, 'K', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
      new CrossRegionParameter(s, 'P', { region: 'us-east-1', parameterName: '/a', withDecryption: true, decryptionKey: key });
    });
    assert.deepEqual(resourcesOf(statementFor(st, 'kms:Decrypt')), [
      'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    ]);
  });

  it('a function: the three Lambda reads on that function and its versions, no iam:GetRole', () => {
    const st = statements((s) => new CrossRegionFunctionVersion(s, 'F', { region: 'us-east-1', functionName: 'AuthFunction' }));
    assert.deepEqual(readActions(st), ['lambda:GetAlias', 'lambda:GetFunctionConfiguration', 'lambda:ListVersionsByFunction']);
    assert.deepEqual(resourcesOf(statementFor(st, 'lambda:ListVersionsByFunction')), [
      `arn:${P}:lambda:us-east-1:123456789012:function:AuthFunction`,
      `arn:${P}:lambda:us-east-1:123456789012:function:AuthFunction:*`,
    ]);
  });

  it('a function by full or partial ARN: that ARN, qualifier dropped', () => {
    const full = statements((s) => new CrossRegionFunctionVersion(s, 'F', {
      region: 'us-east-1', functionName: 'arn:aws:lambda:us-east-1:210987654321:function:Auth:live',
    }));
    assert.deepEqual(resourcesOf(statementFor(full, 'lambda:GetAlias')), [
      'arn:aws:lambda:us-east-1:210987654321:function:Auth',
      'arn:aws:lambda:us-east-1:210987654321:function:Auth:*',
    ]);
    const partial = statements((s) => new CrossRegionFunctionVersion(s, 'F', { region: 'us-east-1', functionName: '210987654321:function:Auth' }));
    assert.deepEqual(resourcesOf(statementFor(partial, 'lambda:GetAlias'))[0], `arn:${P}:lambda:us-east-1:210987654321:function:Auth`);
  });

  it('an edge check adds iam:GetRole on the roles of the function\'s account', () => {
    const st = statements((s) => EdgeFunctionVersion.latest(s, 'E', { functionName: 'AuthFunction', edgeEventType: 'viewer-request' as any }));
    assert.deepEqual(resourcesOf(statementFor(st, 'iam:GetRole')), [`arn:${P}:iam::123456789012:role/*`]);
  });

  it('stack outputs: cloudformation:DescribeStacks on that stack', () => {
    const st = statements((s) => new CrossRegionStackOutputs(s, 'S', { region: 'us-east-1', stackName: 'DomainStack' }));
    assert.deepEqual(readActions(st), ['cloudformation:DescribeStacks']);
    assert.deepEqual(resourcesOf(statementFor(st, 'cloudformation:DescribeStacks')), [
      `arn:${P}:cloudformation:us-east-1:123456789012:stack/DomainStack/*`,
    ]);
  });

  it('another account: sts:AssumeRole on that role and no read of its own', () => {
    for (const how of ['role', 'roleArn'] as const) {
      const arn = 'arn:aws:iam::210987654321:role/ReadEdgeVersions';
      const st = statements((s) => {
        const role = how === 'role' ? { role: iam.Role.fromRoleArn(s, 'R', arn) } : { roleArn: arn };
        new CrossRegionParam(s, 'X', { region: 'us-east-1', functionName: 'AuthFunction', parameterName: '/a', externalId: 'ext', ...role });
      });
      assert.deepEqual(readActions(st), ['sts:AssumeRole']);
      assert.deepEqual(resourcesOf(statementFor(st, 'sts:AssumeRole')), [arn]);
    }
  });

  it('grants accumulate when several constructs share the provider, and none is "*"', () => {
    const st = statements((s) => {
      new CrossRegionParameter(s, 'A', { region: 'us-east-1', parameterName: '/a' });
      new CrossRegionParameter(s, 'B', { region: 'eu-west-1', parameterName: '/b' });
      new CrossRegionStackOutputs(s, 'S', { region: 'us-east-1', stackName: 'DomainStack' });
      EdgeFunctionVersion.latest(s, 'E', { functionName: 'AuthFunction' });
    });
    const ssm = st.filter((x) => [].concat(x.Action).includes('ssm:GetParameters' as never)).flatMap(resourcesOf).sort();
    assert.deepEqual(ssm, [
      `arn:${P}:ssm:eu-west-1:123456789012:parameter/b`,
      `arn:${P}:ssm:us-east-1:123456789012:parameter/a`,
    ]);
    assert.ok(statementFor(st, 'cloudformation:DescribeStacks'));
    assert.ok(statementFor(st, 'lambda:ListVersionsByFunction'));
    for (const s of st) {
      assert.ok(!resourcesOf(s).includes('*'), `Resource "*" in ${JSON.stringify(s)}`);
    }
  });
});

describe('the provider allow-lists follow the constructs', () => {
  it('regions, names and roles the stack reads, nothing more', () => {
    const env = environment((s) => {
      new CrossRegionParameter(s, 'A', { region: 'us-east-1', parameterName: '/myapp/a:prod' });
      new CrossRegionParameterPath(s, 'B', { region: 'eu-west-1', path: '/shared' });
      new CrossRegionFunctionVersion(s, 'F', { region: 'us-east-1', functionName: 'Auth', roleArn: 'arn:aws:iam::210987654321:role/R' });
    });
    assert.deepEqual(env, {
      CRP_ALLOWED_REGIONS: 'us-east-1,eu-west-1',
      CRP_ALLOWED_PARAMETER_PATHS: '/myapp/a,/shared',
      CRP_ALLOWED_ROLE_ARNS: 'arn:aws:iam::210987654321:role/R',
    });
  });

  it('no role may be assumed when none is named', () => {
    const env = environment((s) => new CrossRegionStackOutputs(s, 'S', { region: 'us-east-1', stackName: 'DomainStack' }));
    assert.deepEqual(env, { CRP_ALLOWED_REGIONS: 'us-east-1' });
  });
});
