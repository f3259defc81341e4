// The official `openai` npm package reading tool calls from `trinity serve --pool mock`:
// chat.completions.create and responses.create, streaming and not, then the tool result sent
// back and the answer that quotes it.
//
//   node tests/node/openai_tools_test.mjs BASE_URL [NODE_MODULES_DIR]
//
// Exit code 0 = pass, 1 = fail, 77 = skip (the package is not installed or predates the
// Responses API).
import { setUp, check, finish } from './openai_setup.mjs';

const { OpenAI, version, client } = setUp('openai_tools_test.mjs', { needsResponses: true });

// The mock Worker calls the first tool with a string `command`/`cmd` property with this.
const args = JSON.stringify({ command: 'echo trinity-tool-$((40+2))' });
const bash = {
  type: 'function',
  function: {
    name: 'bash', description: 'Run a shell command',
    parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
  },
};
const user = { role: 'user', content: 'Run the marker command.' };

// 1. Chat Completions, non-streaming.
const chat = await client.chat.completions.create({ model: 'trinity', messages: [user], tools: [bash] });
const call = chat.choices[0].message.tool_calls?.[0];
check(chat.choices[0].finish_reason === 'tool_calls', `chat: finish_reason ${chat.choices[0].finish_reason}`);
check(call?.type === 'function' && call.function.name === 'bash' && call.function.arguments === args,
      `chat: tool call ${JSON.stringify(call)}`);
check(typeof call?.id === 'string' && call.id.length > 0, 'chat: the call has an id');

// 2. Chat Completions, streaming: the SDK's accumulating helper and the raw deltas.
const runner = client.beta?.chat?.completions?.stream
  ? client.beta.chat.completions.stream({ model: 'trinity', messages: [user], tools: [bash] })
  : client.chat.completions.stream({ model: 'trinity', messages: [user], tools: [bash] });
const final = await runner.finalChatCompletion();
const scall = final.choices[0].message.tool_calls?.[0];
check(final.choices[0].finish_reason === 'tool_calls', 'chat stream: finish_reason tool_calls');
check(scall?.function?.name === 'bash' && scall.function.arguments === args && scall.id?.length > 0,
      `chat stream: accumulated tool call ${JSON.stringify(scall)}`);

// 3. The tool result back; the answer quotes it.
const second = await client.chat.completions.create({
  model: 'trinity',
  tools: [bash],
  messages: [user, { role: 'assistant', content: null, tool_calls: [call] },
    { role: 'tool', tool_call_id: call.id, content: 'trinity-tool-42\n' }],
});
check(second.choices[0].finish_reason === 'stop' && second.choices[0].message.content.includes('trinity-tool-42'),
      `chat: answer after the tool result "${second.choices[0].message.content}"`);

// 4. Responses, non-streaming.
const fn = { type: 'function', name: 'bash', description: 'Run a shell command', parameters: bash.function.parameters };
const resp = await client.responses.create({ model: 'trinity', input: 'Run the marker command.', tools: [fn] });
const item = resp.output.find((o) => o.type === 'function_call');
check(item?.name === 'bash' && item.arguments === args && item.call_id?.length > 0 && item.id?.length > 0,
      `responses: function_call item ${JSON.stringify(item)}`);

// 5. Responses, streaming: events and the final response.
const stream = await client.responses.create({ model: 'trinity', input: 'Run the marker command.', tools: [fn], stream: true });
let argDeltas = '';
let done = null;
let completed = null;
for await (const ev of stream) {
  if (ev.type === 'response.function_call_arguments.delta') argDeltas += ev.delta;
  if (ev.type === 'response.output_item.done') done = ev.item;
  if (ev.type === 'response.completed') completed = ev.response;
}
check(argDeltas === args, 'responses stream: argument deltas reassemble the arguments');
check(done?.type === 'function_call' && done.arguments === args, 'responses stream: output_item.done has the whole call');
check(completed?.id?.startsWith('resp_') && completed.usage?.total_tokens > 0, 'responses stream: completed with id and usage');

// 6. The function_call_output back; the answer quotes it.
const back = await client.responses.create({
  model: 'trinity',
  tools: [fn],
  input: [{ role: 'user', content: 'Run the marker command.' }, item,
    { type: 'function_call_output', call_id: item.call_id, output: 'trinity-tool-42\n' }],
});
check(back.output_text.includes('trinity-tool-42'), `responses: answer after the output "${back.output_text}"`);

finish(version);
