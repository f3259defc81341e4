// A real OpenAI client written by others (the official `openai` npm package) against
// `trinity serve`: a non-streaming and a streaming chat completion, model listing, and an
// error surfaced as the SDK's typed error.
//
//   node tests/node/openai_client_test.mjs BASE_URL [NODE_MODULES_DIR]
//
// BASE_URL is e.g. http://127.0.0.1:PORT/v1. NODE_MODULES_DIR defaults to .cache/npm/node_modules
// of the repository. Exit code 0 = pass, 1 = fail, 77 = the package is not installed (skip).
import { setUp, check, finish } from './openai_setup.mjs';

const { OpenAI, version, client } = setUp('openai_client_test.mjs');

const messages = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'What is the capital of France?' },
];

// 1. Non-streaming.
const completion = await client.chat.completions.create({ model: 'trinity', messages, max_tokens: 128 });
const answer = completion.choices?.[0]?.message?.content ?? '';
check(completion.object === 'chat.completion', 'non-streaming: object chat.completion');
check(completion.model === 'trinity', 'non-streaming: model trinity');
check(completion.choices[0].message.role === 'assistant', 'non-streaming: assistant message');
check(answer.startsWith('Worker answer:'), `non-streaming: answer "${answer}"`);
check(completion.choices[0].finish_reason === 'stop', 'non-streaming: finish_reason stop');
check(completion.usage.total_tokens === completion.usage.prompt_tokens + completion.usage.completion_tokens &&
        completion.usage.total_tokens > 0, 'non-streaming: usage summed');
check(typeof completion.trinity?.run_id === 'string' && completion.trinity.turns.length >= 1,
      'non-streaming: trinity extension with run_id and turns');

// 2. Streaming: the SDK's async iterator over SSE chunks.
const stream = await client.chat.completions.create({
  model: 'trinity', messages, stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let progress = 0;
let finishReason = null;
let usage = null;
let chunks = 0;
for await (const chunk of stream) {
  chunks += 1;
  if (chunk.trinity) progress += 1;
  if (chunk.usage) usage = chunk.usage;
  const choice = chunk.choices?.[0];
  if (choice?.delta?.content) streamed += choice.delta.content;
  if (choice?.finish_reason) finishReason = choice.finish_reason;
}
check(streamed === answer, `streaming: content deltas reassemble the same answer ("${streamed}")`);
check(finishReason === 'stop', 'streaming: finish_reason stop');
check(progress >= 3, `streaming: progress chunks with the trinity extension (${progress})`);
check(usage && usage.total_tokens === completion.usage.total_tokens, 'streaming: usage chunk');
check(chunks > progress + 2, `streaming: ${chunks} chunks in all`);

// 3. The stream helper that accumulates a final completion (ignores the extension chunks).
const runner = client.beta.chat.completions.stream({ model: 'trinity', messages });
const final = await runner.finalChatCompletion();
check(final.choices[0].message.content === answer, 'stream helper: finalChatCompletion');

// 4. Models and a typed error.
const models = [];
for await (const m of client.models.list()) models.push(m.id);
check(models[0] === 'trinity' && models.length >= 2, `models: ${models.join(', ')}`);
try {
  await client.chat.completions.create({ model: 'gpt-nope', messages });
  check(false, 'unknown model rejected');
} catch (err) {
  check(err instanceof OpenAI.NotFoundError && err.status === 404, `unknown model -> ${err.status} ${err.constructor.name}`);
}

finish(version);
