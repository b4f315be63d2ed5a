#!/usr/bin/env node
// The story's stacks at every step of docs/migrating.md, for `make deadlock`
// (scripts/deadlock.py). One synth writes them all, one CDK Stage per step
// (cdk.out/assembly-<Step>/), with the stack names of the story:
//
//   npx cdk synth --app 'npx ts-node --prefer-ts-exts bin/deadlock.ts' -o cdk.out.deadlock
//
//   Stuck1, Stuck2    crossRegionReferences, edge code revision 1 and 2 (the stuck deploy)
//   Switch            ClientAppStack reads the version with cdk-cross-region-param's
//                     EdgeFunctionVersion (its own provider function, no import),
//                     qualifier pinned; EdgeStack as synthesized alongside (no writer)
//   Unpinned          the same without qualifier
//   Edge2..Edge4      edge code revisions 2, 3, 4 after the migration
//
// EdgeStack is the example's own. Do not deploy the Stuck shapes.
import { App, Stage } from 'aws-cdk-lib';
import { EdgeStack } from '../lib/edge-stack';
import { EdgeVersionSource, StoryClientStack } from '../lib/story-client-stack';

const app = new App();
const account = String(app.node.tryGetContext('account') ?? '123456789012');
const functionName = String(app.node.tryGetContext('edgeFunctionName') ?? 'AuthFunction');
// The version the strong reference delivered when the switch happens.
const pinnedVersion = String(app.node.tryGetContext('pinnedEdgeVersion') ?? '1');

interface Step {
  readonly revision: string;
  readonly strong: boolean;
  readonly qualifier?: string;
}

const steps: Record<string, Step> = {
  Stuck1: { revision: '1', strong: true },
  Stuck2: { revision: '2', strong: true },
  Switch: { revision: '1', strong: false, qualifier: pinnedVersion },
  Unpinned: { revision: '1', strong: false },
  Edge2: { revision: '2', strong: false },
  Edge3: { revision: '3', strong: false },
  Edge4: { revision: '4', strong: false },
};

for (const [name, step] of Object.entries(steps)) {
  const stage = new Stage(app, name);
  const edge = new EdgeStack(stage, 'EdgeStack', {
    stackName: 'EdgeStack',
    env: { account, region: 'us-east-1' },
    crossRegionReferences: step.strong,
    functionName,
    loginUrl: 'https://app.example.com/login',
    codeRevision: step.revision,
  });
  const edgeVersion: EdgeVersionSource = step.strong
    ? { kind: 'strong-reference', versionArn: edge.version.functionArn }
    : {
        kind: 'provider',
        functionName,
        qualifier: step.qualifier,
        refresh: `${name}-revision-${step.revision}`,
      };
  new StoryClientStack(stage, 'ClientAppStack', {
    stackName: 'ClientAppStack',
    env: { account, region: 'ap-northeast-1' },
    crossRegionReferences: step.strong,
    edgeVersion,
  });
}
