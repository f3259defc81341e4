// The HTTP/1.1 server under `trinity serve`: one epoll event-loop thread owns every connection
// while it is idle, reading a head or a body, or being answered from the loop; a fixed pool of
// worker threads runs the slow requests (coordinator runs, routing) once their body is complete.
//
// What this buys against hostile clients (see docs/server.md, "Limits"):
//   - idle and trickling connections hold no thread: 100 slowloris connections cost 100 sockets;
//   - the whole head has a deadline (head_timeout_ms, from its first byte), not a per-read one;
//   - the handler decides on the head alone (auth, routing, admission) before any body is read,
//     so a rejected request never buffers its body, and an admitted one reads at most
//     max_body_bytes of decoded body in any framing;
//   - a rejected request's body is read and discarded (Content-Length or chunked, up to the body
//     limit), or the connection is closed: its bytes are never parsed as a next request;
//   - pipelined requests are answered in order, one at a time;
//   - beyond max_connections, a new connection gets 503 at once and is closed;
//   - TCP_NODELAY on every connection: a response leaves in one write, with no delayed-ACK stall.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "server/http_wire.h"

namespace trinity::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: an ephemeral port
  HttpLimits limits;
  int64_t head_timeout_ms = 10000;   // the whole request head, from its first byte: else 408
  int64_t idle_timeout_ms = 5000;    // keep-alive: a connection idle between requests is closed
  int64_t read_timeout_ms = 10000;   // a body that makes no progress for this long: 408
  int64_t body_timeout_ms = 30000;   // a whole body: else 408
  int64_t write_timeout_ms = 10000;  // a response write that makes no progress for this long
  int max_connections = 1024;        // open connections; more get 503 at once
  int workers = 64;                  // threads for HttpHandler work
};

// A response answered in one piece.
struct HttpReply {
  int status = 200;
  HttpHeaders headers;  // Content-Type and the like (not Content-Length/Connection)
  std::string body;
  bool close = false;  // close the connection after this response
};

// How a worker answers its request: send() once, or begin_stream(), write()..., finish().
// Every call returns false once the client is gone or a write timed out; later calls are no-ops.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual bool send(const HttpReply& reply) = 0;
  virtual bool begin_stream(int status, const HttpHeaders& headers) = 0;
  virtual bool write(std::string_view data) = 0;
  virtual bool finish() = 0;
  virtual int status() const = 0;  // 0 until a head is sent
  // Text for the access log line of this request (e.g. "run <id>").
  virtual void set_log_note(std::string note) = 0;
  // Ends the request's admission (drops HttpDispatch::ticket). send() and finish() call it
  // before their last write, so a client that sends its next request as soon as it has this
  // response finds the slot free; a stream calls it when its run is over.
  virtual void release_ticket() = 0;
};

using HttpWork = std::function<void(const HttpRequest& request, ResponseWriter& writer)>;

// The handler's decision on a request head: a reply now, or work to run once the body is in.
struct HttpDispatch {
  std::optional<HttpReply> reply;
  HttpWork work;
  std::shared_ptr<void> ticket;  // held while the work is admitted (an admission slot)
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // On the loop thread, before the body is read: must not block.
  virtual HttpDispatch dispatch(const HttpRequest& head) = 0;
  // The response for a protocol error (malformed head, limits, timeouts).
  virtual HttpReply error_reply(const HttpError& error) = 0;
  // Once per answered request, from the loop or a worker. `head` has an empty method when the
  // head could not be parsed; seconds run from the head's first byte to the response's last.
  virtual void on_response(const HttpRequest& head, int status, double seconds,
                           const std::string& note) = 0;
  // A connection refused at max_connections (answered 503).
  virtual void on_connection_refused() {}
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler* handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Status bind();   // listens; port() is known afterwards
  Status start();  // the loop and the workers
  // Waits up to grace_ms for the requests on workers to finish their responses, then closes the
  // listener and every connection (writes still in flight fail), drops queued work, and joins.
  void stop(int64_t grace_ms = 0);
  int port() const { return port_; }
  int64_t open_connections() const { return open_connections_.load(); }

  struct Impl;

 private:
  HttpServerOptions options_;
  HttpHandler* handler_;
  int port_ = -1;
  std::atomic<int64_t> open_connections_{0};
  std::unique_ptr<Impl> impl_;
};

}  // namespace trinity::server
