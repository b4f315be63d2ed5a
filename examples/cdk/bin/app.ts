#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { Refresh } from 'cdk-cross-region-param';
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

// When the cross-region values are read again. The library's default reads them
// on every deploy (a value that changes with each synth); -c deployId=<commit id>
// gives reproducible templates that still read again on each new commit.
const deployId: unknown = app.node.tryGetContext('deployId');
const refresh = deployId ? Refresh.withValue(String(deployId)) : Refresh.everyDeploy();

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
  sourceRegion: 'us-east-1',
  edgeFunctionName: context('edgeFunctionName'),
  domainStackName: 'DomainStack',
  zoneName,
  domainName,
  refresh,
});

// Deploy order only (cdk deploy --all): this creates no export.
client.addStackDependency(edge, 'reads the newest AuthFunction version');
client.addStackDependency(domain, 'reads the certificate and hosted zone outputs');
