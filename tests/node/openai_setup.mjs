// Shared set-up of the tests/node scripts: the command line (BASE_URL [NODE_MODULES_DIR]), the
// official `openai` npm package loaded from NODE_MODULES_DIR (default .cache/npm/node_modules of
// the repository), a client, check() and the verdict. Exit code 0 = pass, 1 = fail, 2 = usage,
// 77 = skip (the package is not installed, or predates what the script needs).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));

// { OpenAI, version, client } or exits (usage, skip).
export function setUp(script, { needsResponses = false } = {}) {
  const baseURL = process.argv[2];
  const modules = process.argv[3] || path.join(here, '..', '..', '.cache', 'npm', 'node_modules');
  if (!baseURL) {
    console.error(`usage: node ${script} BASE_URL [NODE_MODULES_DIR]`);
    process.exit(2);
  }
  if (!fs.existsSync(path.join(modules, 'openai', 'package.json'))) {
    console.log(`SKIP: the openai npm package is not installed under ${modules}`);
    process.exit(77);
  }
  const require = createRequire(path.join(modules, 'placeholder.js'));
  const OpenAI = require('openai');
  const version = JSON.parse(fs.readFileSync(path.join(modules, 'openai', 'package.json'), 'utf8')).version;
  const client = new OpenAI({ baseURL, apiKey: process.env.TRINITY_TEST_API_KEY || 'unused', maxRetries: 0 });
  if (needsResponses && typeof client.responses?.create !== 'function') {
    console.log(`SKIP: openai ${version} has no client.responses (the Responses API needs openai >= 4.87)`);
    process.exit(77);
  }
  return { OpenAI, version, client };
}

let failures = 0;

export function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures += 1;
}

// Prints the verdict and exits with it.
export function finish(version) {
  console.log(`openai ${version}: ${failures === 0 ? 'PASS' : `${failures} failure(s)`}`);
  process.exit(failures === 0 ? 0 : 1);
}
