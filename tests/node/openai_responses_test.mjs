// The official `openai` npm package's Responses API client against `trinity serve`:
// client.responses.create non-streaming and streaming, the responses.stream() helper, and errors
// surfaced as the SDK's typed errors.
//
//   node tests/node/openai_responses_test.mjs BASE_URL [NODE_MODULES_DIR]
//
// BASE_URL is e.g. http://127.0.0.1:PORT/v1. NODE_MODULES_DIR defaults to .cache/npm/node_modules
// of the repository. Exit code 0 = pass, 1 = fail, 77 = skip: the package is not installed, or
// the installed version predates the Responses API (the message says which).
import { setUp, check, finish } from './openai_setup.mjs';

const { OpenAI, version, client } = setUp('openai_responses_test.mjs', { needsResponses: true });

const request = { model: 'trinity', instructions: 'Answer briefly.', input: 'What is the capital of France?' };

// 1. Non-streaming; output_text is computed by the SDK from the output message.
const resp = await client.responses.create({ ...request, max_output_tokens: 128 });
const answer = resp.output_text;
check(resp.object === 'response' && resp.status === 'completed', 'non-streaming: a completed response');
check(answer.startsWith('Worker answer:'), `non-streaming: output_text "${answer}"`);
check(resp.output.length === 1 && resp.output[0].type === 'message' && resp.output[0].role === 'assistant',
      'non-streaming: one assistant message item');
check(resp.usage.total_tokens === resp.usage.input_tokens + resp.usage.output_tokens && resp.usage.total_tokens > 0,
      `non-streaming: usage (${resp.usage.total_tokens} tokens)`);
check(typeof resp.trinity?.run_id === 'string' && resp.id === `resp_${resp.trinity.run_id}`,
      'non-streaming: trinity extension with run_id, id resp_<run_id>');
check(resp.max_output_tokens === 128 && resp.instructions === 'Answer briefly.', 'non-streaming: request echoed');

// 2. The same conversation as message items, as Codex sends it (developer message, input_text).
const items = await client.responses.create({
  model: 'trinity',
  input: [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Answer briefly.' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is the capital of France?' }] },
  ],
});
check(items.output_text === answer, 'message items: the same answer');

// 3. Streaming: the SDK's async iterator. trinity.progress is not an OpenAI event; the SDK
// hands it over as {event, data}.
const stream = await client.responses.create({ ...request, stream: true });
const types = [];
const sequence = [];
let streamed = '';
let completed = null;
let progress = 0;
for await (const ev of stream) {
  const type = ev.type ?? ev.event;
  const data = ev.type ? ev : ev.data;
  if (types[types.length - 1] !== type) types.push(type);
  sequence.push(data.sequence_number);
  if (type === 'trinity.progress') progress += 1;
  if (type === 'response.output_text.delta') streamed += ev.delta;
  if (type === 'response.completed') completed = ev.response;
}
const expected = ['response.created', 'response.in_progress', 'trinity.progress', 'response.output_item.added',
  'response.content_part.added', 'response.output_text.delta', 'response.output_text.done',
  'response.content_part.done', 'response.output_item.done', 'response.completed'];
check(JSON.stringify(types) === JSON.stringify(expected), `streaming: event order ${types.join(', ')}`);
check(sequence.every((n, i) => n === i), `streaming: sequence numbers 0..${sequence.length - 1}`);
check(streamed === answer, `streaming: deltas reassemble the answer ("${streamed}")`);
check(progress >= 4, `streaming: trinity.progress events (${progress})`);
check(completed?.usage?.total_tokens === resp.usage.total_tokens, 'streaming: response.completed has usage');
check(completed?.trinity?.status === 'accepted', 'streaming: response.completed has the trinity extension');

// 4. The stream helper that accumulates a final response (it sets no output_text: only
// responses.create computes that).
const helper = client.responses.stream(request);
const final = await helper.finalResponse();
check(final.status === 'completed' && final.output[0]?.content?.[0]?.text === answer,
      'stream helper: finalResponse() has the answer');

// 5. Typed errors.
try {
  await client.responses.create({ ...request, model: 'gpt-nope' });
  check(false, 'unknown model rejected');
} catch (err) {
  check(err instanceof OpenAI.NotFoundError && err.status === 404, `unknown model -> ${err.status} ${err.constructor.name}`);
}
try {
  await client.responses.create({
    model: 'trinity',
    input: [{ role: 'user', content: 'ls' }, { type: 'function_call_output', call_id: 'c1', output: 'a.txt' }],
  });
  check(false, 'a function_call_output answering no call rejected');
} catch (err) {
  check(err instanceof OpenAI.BadRequestError && /input\[1\]\.call_id 'c1' matches no earlier tool call/.test(err.message),
        `orphan function_call_output -> ${err.status} ${err.constructor.name} ${err.message}`);
}

finish(version);
