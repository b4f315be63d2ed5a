// Runs one of aws-cdk-lib's own custom-resource handlers on one CloudFormation
// request, the way CDK's Lambda entry point would call it, and records what the
// handler itself returned or threw. No message here imitates the handler's.
//
//   node run-handler.js HANDLER_DIR RESULT_FILE < event.json
//
// The handler's `require("@aws-sdk/client-ssm")` is served from NODE_PATH (the
// pinned install in .tools/deadlock); AWS_ENDPOINT_URL points the SDK at moto.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const [handlerDir, resultFile] = process.argv.slice(2);
  const event = JSON.parse(fs.readFileSync(0, 'utf8'));
  const { handler } = require(path.resolve(handlerDir, 'index.js'));
  let result;
  try {
    const returned = await handler(event);
    result = { outcome: 'SUCCESS', returned: returned ?? null };
  } catch (err) {
    result = { outcome: 'FAILED', errorName: err && err.name, errorMessage: String(err && err.message) };
  }
  fs.writeFileSync(resultFile, JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
