#!/usr/bin/env python3
"""Scripted OpenAI-compatible agents on loopback, for scripts/agents_e2e.sh (python3 stdlib only).

Serves the agents of a live trinity pool (and, directly, OpenCode's Chat Completions provider):

  POST /v1/chat/completions   OpenAI format with `usage`; `stream: true` answers SSE chunks with
                              `finish_reason` (and a usage chunk when stream_options.include_usage)
  POST /v1/responses          the same answers in the Responses format (`stream: true`: the full
                              standard event sequence with ids and usage), so that the clients can
                              also be pointed at it directly (scripts/agents_e2e.sh --only direct)
  GET  /v1/models             fake-agent-0 .. fake-agent-6

What it answers, by content (never by arrival order):
  - tools offered and the last message is not a tool result: one `tool_calls` entry (id call_<n>)
    for the first function tool with a string `command` or `cmd` parameter, that parameter set to
    TOOL_COMMAND and every other required string parameter to FILLER; finish_reason "tool_calls";
  - last message a tool result: "The command printed: <tool content>";
  - otherwise: "Act as the Verifier" in the messages -> ACCEPT; "Act as the Thinker" -> a short
    plan with a suggestion; anything else -> a short text answer.
The tool command prints the marker only when a shell runs it: the request never contains
"trinity-tool-42" unless a client really executed the call and sent its output back.

  tests/agents/fake_agents.py [--host 127.0.0.1] [--port 0]
prints `fake_agents: listening on http://127.0.0.1:PORT` on stdout once listening, and one line
per request on stderr. SIGTERM / SIGINT stop it.
"""
import argparse
import itertools
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOOL_COMMAND = "echo trinity-tool-$((40+2))"
FILLER = "trinity mock tool call"
MODELS = [f"fake-agent-{i}" for i in range(7)]
_ids = itertools.count(1)
_ids_lock = threading.Lock()


def next_id():
    with _ids_lock:
        return next(_ids)


def text_of(content):
    """The text of a message's content: a string, or an array of parts with `text`."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, dict):
                t = part.get("text", part.get("content", ""))
                out.append(t if isinstance(t, str) else text_of(t))
            elif isinstance(part, str):
                out.append(part)
        return "\n".join(out)
    return str(content)


def tool_function(tool):
    """(name, parameters) of a function tool, in Chat Completions or Responses (flat) form."""
    if not isinstance(tool, dict) or tool.get("type", "function") != "function":
        return None, None
    fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
    name = fn.get("name")
    params = fn.get("parameters") if isinstance(fn.get("parameters"), dict) else {}
    return (name, params) if isinstance(name, str) else (None, None)


def shell_call(tools):
    """(name, arguments dict) for the first tool with a string `command`/`cmd`, else None."""
    for tool in tools or []:
        name, params = tool_function(tool)
        if not name:
            continue
        props = params.get("properties") if isinstance(params.get("properties"), dict) else {}
        key = next((k for k in ("command", "cmd")
                    if isinstance(props.get(k), dict) and props[k].get("type") == "string"), None)
        if key is None:
            continue
        args = {key: TOOL_COMMAND}
        for req in params.get("required") or []:
            if req not in args and isinstance(props.get(req), dict) and props[req].get("type") == "string":
                args[req] = FILLER
        return name, args
    return None


def decide(messages, tools, tool_result):
    """(kind, text or None, tool call or None). tool_result: the last item's tool output, or None."""
    if tool_result is not None:
        return "tool_result", "The command printed: " + tool_result.strip(), None
    if tools:
        call = shell_call(tools)
        if call:
            return "tool_call", None, call
    everything = "\n".join(text_of(m.get("content")) for m in messages if isinstance(m, dict))
    if "Act as the Verifier" in everything:
        return "verifier", "ACCEPT The Worker's answer is correct.", None
    if "Act as the Thinker" in everything:
        return "thinker", ("Plan: run the command the user asked for and report its output verbatim.\n"
                           "<suggestion>run it</suggestion><suggested_role>solver</suggested_role>"), None
    return "text", "Tool check done: the fake agent answered.", None


def decide_chat(body):
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    result = text_of(last.get("content")) if last.get("role") == "tool" else None
    return decide(messages, tools, result)


def decide_responses(body):
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    items = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    messages = [i for i in items if i.get("type", "message") == "message"]
    if isinstance(body.get("instructions"), str):
        messages.insert(0, {"role": "system", "content": body["instructions"]})
    last = items[-1] if items else {}
    result = None
    if last.get("type") == "function_call_output":
        out = last.get("output")
        result = out if isinstance(out, str) else text_of(out)
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    return decide(messages, tools, result)


def tokens(s):
    return max(1, len(s) // 4)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake_agents/1"

    def log_message(self, fmt, *args):  # the one line per request is written by log()
        pass

    def log(self, what):
        sys.stderr.write(f"fake_agents: {time.strftime('%H:%M:%S')} {self.command} {self.path} {what}\n")
        sys.stderr.flush()

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.rstrip("/") == "/v1/models":
            self.send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake-agents"} for m in MODELS]})
            self.log("200 models")
        else:
            self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            self.log("404")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        path = self.path.split("?")[0].rstrip("/")
        if path not in ("/v1/chat/completions", "/v1/responses"):
            self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            self.log("404")
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError as e:
            self.send_json(400, {"error": {"message": f"bad JSON: {e}", "type": "invalid_request_error"}})
            self.log("400 bad JSON")
            return
        chat = path == "/v1/chat/completions"
        kind, text, call = decide_chat(body) if chat else decide_responses(body)
        model = body.get("model") if isinstance(body.get("model"), str) else "fake-agent"
        stream = body.get("stream") is True
        n = next_id()
        history = body.get("messages") if chat else body.get("input")
        prompt_tokens = tokens(json.dumps(history) + json.dumps(body.get("instructions") or ""))
        arguments = json.dumps(call[1]) if call else None
        completion_tokens = tokens(arguments if call else text)
        summary = (f"model={model} stream={str(stream).lower()} tools={len(body.get('tools') or [])} "
                   f"items={len(history) if isinstance(history, list) else 1} -> {kind}")
        if kind == "tool_result":
            summary += f" ({text!r})"
        elif call:
            summary += f" {call[0]}({arguments})"
        if chat:
            self.chat_answer(n, model, stream, body, text, call, arguments, prompt_tokens, completion_tokens)
        else:
            self.responses_answer(n, model, stream, text, call, arguments, prompt_tokens, completion_tokens)
        self.log("200 " + summary)

    def start_sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def chat_answer(self, n, model, stream, body, text, call, arguments, prompt_tokens, completion_tokens):
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        tool_calls = None
        if call:
            tool_calls = [{"id": f"call_{n}", "type": "function",
                           "function": {"name": call[0], "arguments": arguments}}]
        finish = "tool_calls" if call else "stop"
        cid, created = f"chatcmpl-fake{n}", int(time.time())
        if not stream:
            message = {"role": "assistant", "content": text}
            if tool_calls:
                message["tool_calls"] = tool_calls
            self.send_json(200, {"id": cid, "object": "chat.completion", "created": created, "model": model,
                                 "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                                 "usage": usage})
            return
        self.start_sse()

        def chunk(delta, finish_reason=None):
            obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
            self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")

        chunk({"role": "assistant", "content": "" if text is not None else None})
        if tool_calls:
            tc = tool_calls[0]
            chunk({"tool_calls": [{"index": 0, "id": tc["id"], "type": "function",
                                   "function": {"name": call[0], "arguments": ""}}]})
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments}}]})
        else:
            for i in range(0, len(text), 24):
                chunk({"content": text[i:i + 24]})
        chunk({}, finish)
        opts = body.get("stream_options")
        if isinstance(opts, dict) and opts.get("include_usage"):
            self.wfile.write(b"data: " + json.dumps(
                {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [], "usage": usage}).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def responses_answer(self, n, model, stream, text, call, arguments, prompt_tokens, completion_tokens):
        rid, created = f"resp_fake{n}", int(time.time())
        usage = {"input_tokens": prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": completion_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": prompt_tokens + completion_tokens}
        if call:
            item = {"id": f"fc_fake{n}", "type": "function_call", "status": "completed",
                    "call_id": f"call_{n}", "name": call[0], "arguments": arguments}
        else:
            part = {"type": "output_text", "text": text, "annotations": []}
            item = {"id": f"msg_fake{n}", "type": "message", "status": "completed", "role": "assistant",
                    "content": [part]}

        def response(status, output, usage_):
            return {"id": rid, "object": "response", "created_at": created, "status": status, "model": model,
                    "output": output, "usage": usage_, "error": None, "incomplete_details": None,
                    "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "store": False}

        if not stream:
            self.send_json(200, response("completed", [item], usage))
            return
        self.start_sse()
        seq = itertools.count(0)

        def event(type_, **fields):
            obj = {"type": type_, "sequence_number": next(seq)}
            obj.update(fields)
            self.wfile.write(f"event: {type_}\ndata: {json.dumps(obj)}\n\n".encode())

        event("response.created", response=response("in_progress", [], None))
        event("response.in_progress", response=response("in_progress", [], None))
        where = {"item_id": item["id"], "output_index": 0}
        if call:
            event("response.output_item.added", output_index=0,
                  item=dict(item, status="in_progress", arguments=""))
            event("response.function_call_arguments.delta", **where, delta=arguments)
            event("response.function_call_arguments.done", **where, arguments=arguments)
        else:
            event("response.output_item.added", output_index=0,
                  item=dict(item, status="in_progress", content=[]))
            event("response.content_part.added", **where, content_index=0,
                  part={"type": "output_text", "text": "", "annotations": []})
            for i in range(0, len(text), 24):
                event("response.output_text.delta", **where, content_index=0, delta=text[i:i + 24])
            event("response.output_text.done", **where, content_index=0, text=text)
            event("response.content_part.done", **where, content_index=0, part=item["content"][0])
        event("response.output_item.done", output_index=0, item=item)
        event("response.completed", response=response("completed", [item], usage))
        self.wfile.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown, daemon=True).start())
    host, port = srv.server_address[:2]
    print(f"fake_agents: listening on http://{host}:{port}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    srv.server_close()


if __name__ == "__main__":
    main()
