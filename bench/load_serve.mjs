// Load generator for `trinity serve` (no dependencies beyond Node's http module).
//
//   node bench/load_serve.mjs --url http://127.0.0.1:8080 [--requests 2000] [--concurrency 64]
//        [--endpoint chat|route|stream] [--prompts-file FILE] [--api-key KEY]
//        [--ids-out FILE] [--allow-errors 1]
//
// --ids-out writes the X-Trinity-Run-Id of every valid answer, one per line (the scale test
// checks each against the run store). --allow-errors 1 exits 0 even with errors (they are
// still counted and printed).
// Keeps `concurrency` requests in flight over keep-alive connections until `requests` have
// completed; prints throughput, latency percentiles and the error count (non-200 answers,
// transport errors, or a 200 without a valid answer), then exits 1 if there was any error.
import http from 'node:http';
import fs from 'node:fs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const base = new URL(args.url || 'http://127.0.0.1:8080');
const total = Number(args.requests || 2000);
const concurrency = Number(args.concurrency || 64);
const endpoint = args.endpoint || 'chat';
const prompts = args['prompts-file']
  ? fs.readFileSync(args['prompts-file'], 'utf8').split('\n').filter((l) => l.trim() !== '')
  : ['What is 6 times 7?'];

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const headers = { 'Content-Type': 'application/json' };
if (args['api-key']) headers.Authorization = `Bearer ${args['api-key']}`;

function body(i) {
  const messages = [{ role: 'user', content: prompts[i % prompts.length] }];
  if (endpoint === 'route') return JSON.stringify({ messages });
  return JSON.stringify({ model: 'trinity', messages, stream: endpoint === 'stream' });
}

function valid(status, text) {
  if (status !== 200) return false;
  if (endpoint === 'route') return text.includes('"route_hash"');
  if (endpoint === 'stream') return text.endsWith('data: [DONE]\n\n') && !text.includes('"error"');
  try {
    return typeof JSON.parse(text).choices[0].message.content === 'string';
  } catch {
    return false;
  }
}

function once(i) {
  const path = endpoint === 'route' ? '/v1/route' : '/v1/chat/completions';
  const payload = body(i);
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(
      { host: base.hostname, port: base.port, path, method: 'POST', agent,
        headers: { ...headers, 'Content-Length': Buffer.byteLength(payload) } },
      (res) => {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          const text = Buffer.concat(parts).toString();
          resolve({ ms, ok: valid(res.statusCode, text), status: res.statusCode, text,
                    runId: res.headers['x-trinity-run-id'] || '' });
        });
      });
    req.on('error', (e) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, ok: false, status: 0, text: String(e) }));
    req.end(payload);
  });
}

const latencies = [];
const runIds = [];
const errorsByStatus = {};
let errors = 0;
let next = 0;
let firstError = '';
const start = process.hrtime.bigint();
async function worker() {
  while (next < total) {
    const i = next++;
    const r = await once(i);
    latencies.push(r.ms);
    if (r.ok && r.runId) runIds.push(r.runId);
    if (!r.ok) {
      errors += 1;
      errorsByStatus[r.status] = (errorsByStatus[r.status] || 0) + 1;
      if (!firstError) firstError = `${r.status}: ${r.text.slice(0, 300)}`;
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
console.log(JSON.stringify({
  endpoint, requests: latencies.length, concurrency, seconds: +seconds.toFixed(3),
  throughput_rps: +(latencies.length / seconds).toFixed(1),
  latency_ms: { p50: +pct(50).toFixed(2), p90: +pct(90).toFixed(2), p99: +pct(99).toFixed(2), max: +latencies[latencies.length - 1].toFixed(2) },
  errors, errors_by_status: errorsByStatus,
}));
if (firstError) console.error(`first error: ${firstError}`);
if (args['ids-out']) fs.writeFileSync(args['ids-out'], runIds.map((id) => `${id}\n`).join(''));
agent.destroy();
process.exit(errors === 0 || args['allow-errors'] === '1' ? 0 : 1);
