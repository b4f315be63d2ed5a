// A minimal Lambda runtime loop for aws-cdk-lib's own custom-resource handler,
// so `make bench` can start it the way Lambda starts a function: fetch the next
// event from the Runtime API ($AWS_LAMBDA_RUNTIME_API), call CDK's entry point
// (__entrypoint__.js, which calls the reader in index.js and PUTs the response),
// post the result, repeat.
//
//   node driver.js HANDLER_DIR
//
// CDK's entry point sends its PUT with `https` and drops the URL's port; the
// benchmark's receiver is on loopback, on a port of its own, plain HTTP
// (loopback figures) or TLS behind a relay (cross-region figures). So the one
// thing replaced is the entry point's own hook for sending that request
// (`external.sendHttpRequest`): the same PUT, to the host, port and scheme of
// the event's ResponseURL (a TLS one trusted through NODE_EXTRA_CA_CERTS).
'use strict';
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const entry = require(path.resolve(process.argv[2], '__entrypoint__.js'));
let responseUrl = new URL('http://127.0.0.1/');

entry.external.sendHttpRequest = (options, body) =>
  new Promise((resolve, reject) => {
    const client = responseUrl.protocol === 'https:' ? https : http;
    const port = Number(responseUrl.port) || (client === https ? 443 : 80);
    const req = client.request(
      { ...options, hostname: responseUrl.hostname, port },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

function call(method, route, body) {
  return new Promise((resolve, reject) => {
    const [host, port] = api.split(':');
    const req = http.request(
      { host, port, method, path: `/2018-06-01/runtime/${route}` },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  for (;;) {
    const next = await call('GET', 'invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    const event = JSON.parse(next.body);
    responseUrl = new URL(event.ResponseURL);
    const context = {
      awsRequestId: id,
      getRemainingTimeInMillis: () => Number(next.headers['lambda-runtime-deadline-ms']) - Date.now(),
    };
    try {
      await entry.handler(event, context);
      await call('POST', `invocation/${id}/response`, 'null');
    } catch (err) {
      await call('POST', `invocation/${id}/error`, JSON.stringify({ errorMessage: String(err) }));
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
