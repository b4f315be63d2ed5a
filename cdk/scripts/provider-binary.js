#!/usr/bin/env node
// The provider binary inside the package (assets/provider/bootstrap).
//
//   node scripts/provider-binary.js stage FILE   copy an arm64 Linux build (make build's bootstrap) in
//   node scripts/provider-binary.js check        refuse anything else (npm's prepack runs this)
//   node scripts/provider-binary.js placeholder  a stand-in for tests that synthesize but never deploy;
//                                                `check` refuses it, so it can never be packed
'use strict';
const fs = require('fs');
const path = require('path');

const target = path.join(__dirname, '..', 'assets', 'provider', 'bootstrap');
const PLACEHOLDER = '#!/bin/sh\n# cdk-cross-region-param placeholder: not the provider. Build it with `make cdk-package`.\nexit 1\n';

/** Why `file` is not a 64-bit little-endian ELF executable for aarch64, or null when it is. */
function problem(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    return `cannot read ${file}: ${e.code || e.message}`;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return `${file} is not a regular file`;
    const head = Buffer.alloc(20);
    fs.readSync(fd, head, 0, 20, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) return `${file} is not an ELF binary`;
    if (head[4] !== 2 || head[5] !== 1) return `${file} is not a 64-bit little-endian ELF binary`;
    if (head.readUInt16LE(18) !== 0xb7) return `${file} is not built for aarch64 (Lambda runs the provider on arm64)`;
    if ((st.mode & 0o111) === 0) return `${file} is not executable`;
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

function main(argv) {
  const [command, source] = argv;
  if (command === 'stage' && source) {
    const why = problem(source);
    if (why) throw new Error(why);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(source, target);
    fs.chmodSync(target, 0o755);
    console.log(`staged ${source} as ${path.relative(process.cwd(), target)} (${fs.statSync(target).size} bytes)`);
  } else if (command === 'check') {
    const why = problem(target);
    if (why) throw new Error(`${why}\nthe package must carry the arm64 provider: run \`make cdk-package\` from the repository root`);
    console.log(`provider binary: ${path.relative(process.cwd(), target)} (${fs.statSync(target).size} bytes, aarch64 ELF)`);
  } else if (command === 'placeholder') {
    if (!fs.existsSync(target)) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, PLACEHOLDER, { mode: 0o755 });
    }
  } else {
    throw new Error('usage: provider-binary.js stage FILE | check | placeholder');
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`provider-binary: ${e.message}`);
  process.exit(1);
}
