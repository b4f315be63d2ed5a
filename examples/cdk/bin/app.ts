#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ClientAppStack } from '../lib/client-app-stack';
import { DomainStack } from '../lib/domain-stack';
import { EdgeStack } from '../lib/edge-stack';

const app = new App();

function context(key: string, fallback?: string): string {
  const value: unknown = app.node.tryGetContext(key) ?? fallback;
  if (value === undefined || value === null || value === '') {
    throw new Error(`missing context value "${key}" (set it in cdk.json or pass -c ${key}=...)`);
  }
  return String(value);
}

// Fixed account and regions: synth needs no credentials and makes no lookups.
const account = context('account');
const edgeEnv = { account, region: 'us-east-1' };
const appEnv = { account, region: context('appRegion', 'ap-northeast-1') };

const zoneName = context('zoneName');
const domainName = context('domainName');

// Refresh value for the custom resources. CloudFormation calls a custom resource
// only when its properties change; a new value on each deploy makes it pick up
// the newest edge version. Pass -c deployId=<commit id> for reproducible
// templates; without it every synth uses the current time.
const deployId = context('deployId', Date.now().toString());

// No crossRegionReferences anywhere: the stacks share no tokens.
const edge = new EdgeStack(app, 'EdgeStack', {
  env: edgeEnv,
  functionName: context('edgeFunctionName'),
  loginUrl: `https://${domainName}/login`,
});

const domain = new DomainStack(app, 'DomainStack', {
  env: edgeEnv,
  zoneName,
  domainName,
});

const client = new ClientAppStack(app, 'ClientAppStack', {
  env: appEnv,
  serviceTokenExport: context('serviceTokenExport'),
  sourceRegion: 'us-east-1',
  edgeFunctionName: context('edgeFunctionName'),
  domainStackName: 'DomainStack',
  zoneName,
  domainName,
  deployId,
});

// Deploy order only (cdk deploy --all): this creates no export.
client.addStackDependency(edge, 'reads the newest AuthFunction version');
client.addStackDependency(domain, 'reads the certificate and hosted zone outputs');
