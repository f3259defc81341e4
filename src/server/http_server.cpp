#include "server/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace trinity::server {
namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point after_ms(int64_t ms) {
  return Clock::now() + std::chrono::milliseconds(ms);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

enum class ConnState {
  kHead,     // waiting for or reading a request head
  kBody,     // reading the body of admitted work
  kDiscard,  // reading and dropping the body of a request answered from the loop
  kWrite,    // writing a response from the loop
  kWorker,   // a worker owns the connection (not in epoll)
  kLinger,   // write side shut: draining what the client still sends, then close
};

struct Conn {
  uint64_t id = 0;
  int fd = -1;
  ConnState state = ConnState::kHead;
  uint32_t events = 0;  // registered epoll interest; 0 when not registered
  bool peer_closed = false;
  std::string in;   // bytes read and not consumed yet
  std::string out;  // the response being written from the loop
  size_t out_off = 0;
  int reply_status = 0;
  bool close_after_write = false;
  bool discard_after_write = false;
  HttpRequest req;
  bool head_started = false;
  Clock::time_point started;   // first byte of the current request
  Clock::time_point deadline;  // of the current state
  Clock::time_point body_deadline;
  std::optional<ChunkedDecoder> chunked;
  int64_t body_left = 0;
  int64_t lingered = 0;
  bool refused = false;  // over max_connections: only lingers
  HttpWork work;
  std::shared_ptr<void> ticket;  // the work's admission
};

// Writes a worker's response on the (non-blocking) socket, waiting in poll() for room.
class SocketWriter final : public ResponseWriter {
 public:
  SocketWriter(int fd, const HttpRequest& req, int64_t timeout_ms, std::shared_ptr<void> ticket)
      : fd_(fd), req_(req), timeout_ms_(timeout_ms), ticket_(std::move(ticket)) {}

  bool send(const HttpReply& reply) override {
    if (state_ != kNone) return false;
    close_ = reply.close || !req_.keep_alive;
    status_ = reply.status;
    std::string bytes = serialize_response_head(reply.status, reply.headers,
                                                static_cast<int64_t>(reply.body.size()), !close_,
                                                req_.minor_version);
    if (req_.method != "HEAD") bytes += reply.body;
    release_ticket();
    state_ = write_all(bytes) ? kDone : kFailed;
    return state_ == kDone;
  }
  bool begin_stream(int status, const HttpHeaders& headers) override {
    if (state_ != kNone) return false;
    chunked_ = req_.minor_version >= 1;
    close_ = !req_.keep_alive || !chunked_;
    status_ = status;
    const std::string head = serialize_response_head(
        status, headers, chunked_ ? kChunkedBody : kCloseDelimited, !close_, req_.minor_version);
    state_ = write_all(head) ? kStreaming : kFailed;
    return state_ == kStreaming;
  }
  bool write(std::string_view data) override {
    if (state_ != kStreaming) return false;
    if (data.empty()) return true;
    if (!write_all(chunked_ ? http_chunk(data) : std::string(data))) state_ = kFailed;
    return state_ == kStreaming;
  }
  bool finish() override {
    if (state_ != kStreaming) return false;
    release_ticket();
    state_ = !chunked_ || write_all(http_chunk({})) ? kDone : kFailed;
    return state_ == kDone;
  }
  int status() const override { return status_; }
  void set_log_note(std::string note) override { note_ = std::move(note); }
  void release_ticket() override { ticket_.reset(); }
  const std::string& note() const { return note_; }
  // The response went out whole and the connection can carry the next request.
  bool reusable() const { return state_ == kDone && !close_; }

 private:
  bool write_all(std::string_view data) {
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        const int r = ::poll(&p, 1, static_cast<int>(timeout_ms_));
        if (r <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) return false;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return false;
      }
    }
    return true;
  }

  enum State { kNone, kStreaming, kDone, kFailed };
  int fd_;
  const HttpRequest& req_;
  int64_t timeout_ms_;
  State state_ = kNone;
  bool chunked_ = false;
  bool close_ = false;
  int status_ = 0;
  std::string note_;
  std::shared_ptr<void> ticket_;
};

constexpr size_t kReadChunk = 64 << 10;
constexpr int64_t kLingerMs = 2000;

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions o;
  HttpHandler* h = nullptr;
  std::atomic<int64_t>* open_count = nullptr;
  int listen_fd = -1, epoll_fd = -1, wake_fd = -1;
  std::thread loop;
  std::vector<std::thread> workers;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> active_jobs{0};  // queued or running on a worker

  // Loop thread only.
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns;
  uint64_t next_id = 1;
  int lingering_refused = 0;
  bool accept_paused = false;
  Clock::time_point accept_resume;
  Clock::time_point next_sweep;

  // Work queue (loop -> workers) and returned connections (workers -> loop).
  std::mutex mu;
  std::condition_variable cv;
  struct Job {
    Conn* conn;
    HttpWork work;
    std::shared_ptr<void> ticket;
  };
  std::deque<Job> jobs;
  bool workers_stop = false;
  std::mutex ret_mu;
  std::vector<std::pair<Conn*, bool>> returned;

  // --- epoll bookkeeping ---
  void set_interest(Conn& c, uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    if (events == 0) {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    } else {
      ::epoll_ctl(epoll_fd, c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
    }
    c.events = events;
  }
  void update_interest(Conn& c) {
    switch (c.state) {
      case ConnState::kWrite:
        return set_interest(c, static_cast<uint32_t>(EPOLLOUT));
      case ConnState::kWorker:
        return set_interest(c, 0);
      default:
        return set_interest(c, c.peer_closed ? 0u : static_cast<uint32_t>(EPOLLIN));
    }
  }

  void close_conn(Conn& c) {
    set_interest(c, 0);
    ::close(c.fd);
    if (c.refused) {
      lingering_refused -= 1;
    } else {
      open_count->fetch_sub(1);
    }
    conns.erase(c.id);  // destroys c (and any work it held, releasing its admission)
  }

  void linger(Conn& c) {
    ::shutdown(c.fd, SHUT_WR);
    c.state = ConnState::kLinger;
    c.in.clear();
    c.work = nullptr;
    c.ticket.reset();
    c.deadline = after_ms(kLingerMs);
    update_interest(c);
  }

  // --- responses written from the loop ---
  void queue_reply(Conn& c, const HttpReply& reply, bool close) {
    c.close_after_write = close;
    c.reply_status = reply.status;
    c.out = serialize_response_head(reply.status, reply.headers,
                                    static_cast<int64_t>(reply.body.size()), !close,
                                    c.req.minor_version);
    if (c.req.method != "HEAD") c.out += reply.body;
    c.out_off = 0;
    c.state = ConnState::kWrite;
    c.deadline = after_ms(o.write_timeout_ms);
  }
  void queue_error(Conn& c, const HttpError& e) {
    c.work = nullptr;
    c.ticket.reset();
    if (!c.head_started) c.started = Clock::now();
    queue_reply(c, h->error_reply(e), true);
  }
  // Writes what the socket takes; true when the response is out (or the connection is gone).
  bool flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        c.deadline = after_ms(o.write_timeout_ms);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        update_interest(c);
        return false;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        c.close_after_write = true;
        break;
      }
    }
    h->on_response(c.req, c.reply_status, seconds_since(c.started), {});
    c.out.clear();
    c.out_off = 0;
    if (c.close_after_write) {
      linger(c);
    } else if (c.discard_after_write) {
      c.discard_after_write = false;
      c.state = ConnState::kDiscard;
      c.deadline = after_ms(o.read_timeout_ms);
    } else {
      next_request(c);
    }
    return true;
  }
  void next_request(Conn& c) {
    c.state = ConnState::kHead;
    c.head_started = false;
    c.req = HttpRequest{};
    c.deadline = after_ms(o.idle_timeout_ms);
  }

  // --- request bodies ---
  void start_body(Conn& c, bool discard) {
    c.chunked.reset();
    if (c.req.chunked) {
      c.chunked.emplace(o.limits);
      c.chunked->set_discard(discard);
    }
    c.body_left = c.req.chunked ? 0 : c.req.content_length;
    c.deadline = after_ms(o.read_timeout_ms);
    c.body_deadline = after_ms(o.body_timeout_ms);
  }
  // Moves body bytes out of c.in; true when the body is complete. Errors queue a reply.
  bool consume_body(Conn& c, bool discard) {
    if (c.chunked) {
      // A discarding decoder (start_body) appends nothing to the body.
      const size_t n = c.chunked->feed(c.in, c.req.body);
      c.in.erase(0, n);
      if (c.chunked->error()) {
        queue_error(c, *c.chunked->error());
        return false;
      }
      return c.chunked->done();
    }
    const size_t n = static_cast<size_t>(std::min<int64_t>(c.body_left, c.in.size()));
    if (!discard) c.req.body.append(c.in, 0, n);
    c.in.erase(0, n);
    c.body_left -= static_cast<int64_t>(n);
    return c.body_left == 0;
  }

  void on_head(Conn& c) {
    HttpDispatch d = h->dispatch(c.req);
    const bool has_body = c.req.chunked || c.req.content_length > 0;
    if (d.reply) {
      // Expect: 100-continue answered with a final status: the client may or may not send the
      // body (RFC 9110 10.1.1), so the connection cannot be reused.
      const bool close = d.reply->close || !c.req.keep_alive || (has_body && c.req.expect_continue);
      queue_reply(c, *d.reply, close);
      c.discard_after_write = has_body && !close;
      if (c.discard_after_write) start_body(c, true);
      c.deadline = after_ms(o.write_timeout_ms);
      return;
    }
    if (has_body && c.req.expect_continue && c.req.minor_version >= 1) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      if (::send(c.fd, kContinue, sizeof(kContinue) - 1, MSG_NOSIGNAL) !=
          static_cast<ssize_t>(sizeof(kContinue) - 1)) {
        return close_conn(c);
      }
    }
    c.work = std::move(d.work);
    c.ticket = std::move(d.ticket);
    c.state = ConnState::kBody;
    if (c.req.content_length > 0) c.req.body.reserve(static_cast<size_t>(c.req.content_length));
    start_body(c, false);
  }

  void to_worker(Conn& c) {
    c.state = ConnState::kWorker;
    update_interest(c);
    std::lock_guard<std::mutex> lock(mu);
    active_jobs.fetch_add(1);
    jobs.push_back(Job{&c, std::move(c.work), std::move(c.ticket)});
    c.work = nullptr;
    c.ticket.reset();
    cv.notify_one();
  }

  // Drives a connection as far as its buffered bytes allow. May destroy c.
  void advance(Conn& c) {
    for (;;) {
      switch (c.state) {
        case ConnState::kHead: {
          if (c.in.empty()) {
            if (c.peer_closed) return close_conn(c);
            return update_interest(c);
          }
          if (!c.head_started) {
            c.head_started = true;
            c.started = Clock::now();
            c.deadline = after_ms(o.head_timeout_ms);
          }
          HeadParse p = parse_request_head(c.in, o.limits);
          if (p.kind == HeadParse::kIncomplete) {
            if (c.peer_closed) return close_conn(c);
            return update_interest(c);
          }
          if (p.kind == HeadParse::kError) {
            queue_error(c, p.error);
            break;
          }
          c.in.erase(0, p.consumed);
          c.req = std::move(p.request);
          const uint64_t id = c.id;
          on_head(c);
          if (!conns.count(id)) return;  // closed (c is gone)
          break;
        }
        case ConnState::kBody:
          if (consume_body(c, false)) return to_worker(c);
          if (c.state != ConnState::kBody) break;  // an error reply was queued
          if (c.peer_closed) return close_conn(c);
          return update_interest(c);
        case ConnState::kDiscard:
          if (consume_body(c, true)) {
            next_request(c);
            break;
          }
          if (c.state != ConnState::kDiscard) break;
          if (c.peer_closed) return close_conn(c);
          return update_interest(c);
        case ConnState::kWrite:
          if (!flush(c)) return;
          break;
        case ConnState::kLinger:
          if (c.peer_closed) return close_conn(c);
          return update_interest(c);
        case ConnState::kWorker:
          return;
      }
    }
  }

  // Reads what is there (one chunk: level-triggered epoll calls again). May destroy c.
  void on_readable(Conn& c) {
    char buf[kReadChunk];
    const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      c.peer_closed = true;
      if (n < 0 || c.state == ConnState::kLinger) return close_conn(c);
    } else if (c.state == ConnState::kLinger) {
      c.lingered += n;
      if (c.lingered > o.limits.max_body_bytes + static_cast<int64_t>(o.limits.max_head_bytes))
        return close_conn(c);
      return;
    } else {
      c.in.append(buf, static_cast<size_t>(n));
      if (c.state == ConnState::kBody || c.state == ConnState::kDiscard)
        c.deadline = after_ms(o.read_timeout_ms);
    }
    advance(c);
  }

  void accept_all() {
    for (int i = 0; i < 256; ++i) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop polling the listener for a moment instead of spinning.
          ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
          accept_paused = true;
          accept_resume = after_ms(100);
          return;
        }
        continue;  // ECONNABORTED, EINTR, ...
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      auto c = std::make_unique<Conn>();
      c->id = next_id++;
      c->fd = fd;
      c->deadline = after_ms(o.idle_timeout_ms);
      Conn& ref = *c;
      if (open_count->load() >= o.max_connections) {
        h->on_connection_refused();
        if (lingering_refused >= o.max_connections) {
          ::close(fd);
          continue;
        }
        ref.refused = true;
        lingering_refused += 1;
        conns.emplace(ref.id, std::move(c));
        ref.started = Clock::now();
        queue_reply(ref, h->error_reply({503, "too many connections; retry later"}), true);
        flush(ref);
        continue;
      }
      open_count->fetch_add(1);
      conns.emplace(ref.id, std::move(c));
      update_interest(ref);
    }
  }

  void take_returned() {
    uint64_t v;
    while (::read(wake_fd, &v, sizeof(v)) > 0) {
    }
    std::vector<std::pair<Conn*, bool>> back;
    {
      std::lock_guard<std::mutex> lock(ret_mu);
      back.swap(returned);
    }
    for (auto& [c, reusable] : back) {
      if (!reusable) {
        linger(*c);
        continue;
      }
      next_request(*c);
      advance(*c);  // pipelined requests already buffered
    }
  }

  void sweep(Clock::time_point now) {
    if (accept_paused && now >= accept_resume) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = 0;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
      accept_paused = false;
    }
    std::vector<Conn*> expired;
    for (auto& [id, c] : conns) {
      if (c->state == ConnState::kWorker) continue;
      const bool body = c->state == ConnState::kBody || c->state == ConnState::kDiscard;
      if (now >= c->deadline || (body && now >= c->body_deadline)) expired.push_back(c.get());
    }
    for (Conn* c : expired) {
      switch (c->state) {
        case ConnState::kHead:
          if (!c->head_started) {
            close_conn(*c);  // idle keep-alive connection
            continue;
          }
          [[fallthrough]];
        case ConnState::kBody:
        case ConnState::kDiscard:
          queue_error(*c, {408, "request timed out"});
          advance(*c);
          break;
        default:  // a client that does not read, or a finished linger
          if (c->state == ConnState::kWrite)
            h->on_response(c->req, c->reply_status, seconds_since(c->started), {});
          close_conn(*c);
      }
    }
  }

  void run_loop() {
    epoll_event evs[128];
    while (!stopping.load()) {
      const int n = ::epoll_wait(epoll_fd, evs, 128, 100);
      for (int i = 0; i < n; ++i) {
        const uint64_t id = evs[i].data.u64;
        if (id == 0) {
          accept_all();
        } else if (id == UINT64_MAX) {
          take_returned();
        } else {
          auto it = conns.find(id);
          if (it == conns.end()) continue;  // closed earlier in this batch
          Conn& c = *it->second;
          if (c.state == ConnState::kWrite) {
            advance(c);
          } else {
            on_readable(c);
          }
        }
      }
      const auto now = Clock::now();
      if (now >= next_sweep) {
        sweep(now);
        next_sweep = now + std::chrono::milliseconds(50);
      }
    }
  }

  void worker_main() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return workers_stop || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      Conn& c = *job.conn;
      SocketWriter writer(c.fd, c.req, o.write_timeout_ms, std::move(job.ticket));
      try {
        job.work(c.req, writer);
      } catch (...) {
      }
      if (writer.status() == 0) writer.send(h->error_reply({500, "internal server error"}));
      job.work = nullptr;
      writer.release_ticket();
      h->on_response(c.req, writer.status(), seconds_since(c.started), writer.note());
      {
        std::lock_guard<std::mutex> lock(ret_mu);
        returned.emplace_back(&c, writer.reusable() && !stopping.load());
      }
      active_jobs.fetch_sub(1);
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t w = ::write(wake_fd, &one, sizeof(one));
    }
  }

  void shutdown_all() {
    for (auto& [id, c] : conns)
      if (c->state == ConnState::kWorker) ::shutdown(c->fd, SHUT_RDWR);  // writes fail now
    {
      std::lock_guard<std::mutex> lock(mu);
      workers_stop = true;
      jobs.clear();  // queued work is dropped, releasing its admission
    }
    cv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
    for (auto& [id, c] : conns) ::close(c->fd);
    conns.clear();
    open_count->store(0);
    ::close(listen_fd);
    listen_fd = -1;
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler* handler)
    : options_(std::move(options)), handler_(handler), impl_(std::make_unique<Impl>()) {
  impl_->o = options_;
  impl_->h = handler_;
  impl_->open_count = &open_connections_;
}

HttpServer::~HttpServer() {
  stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  if (impl_->epoll_fd >= 0) ::close(impl_->epoll_fd);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

Status HttpServer::bind() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(options_.port);
  if (const int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return io_error("cannot resolve --host " + options_.host + ": " + ::gai_strerror(rc));
  std::string why = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      impl_->listen_fd = fd;
      break;
    }
    why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (impl_->listen_fd < 0)
    return io_error("cannot listen on " + options_.host + ":" + port + ": " + why);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ok_status();
}

Status HttpServer::start() {
  Impl& s = *impl_;
  if (s.listen_fd < 0) return internal_error("HttpServer::start before bind");
  // Every connection is a descriptor: allow max_connections (+ refused ones lingering).
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  s.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  s.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.epoll_fd < 0 || s.wake_fd < 0)
    return io_error(std::string("cannot create the event loop: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.listen_fd, &ev);
  ev.data.u64 = UINT64_MAX;
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.wake_fd, &ev);
  for (int i = 0; i < std::max(1, options_.workers); ++i)
    s.workers.emplace_back([&s] { s.worker_main(); });
  s.loop = std::thread([&s] {
    s.run_loop();
    s.shutdown_all();
  });
  return ok_status();
}

void HttpServer::stop(int64_t grace_ms) {
  Impl& s = *impl_;
  if (!s.loop.joinable()) return;
  const auto deadline = after_ms(grace_ms);
  while (s.active_jobs.load() > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  s.stopping.store(true);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t w = ::write(s.wake_fd, &one, sizeof(one));
  s.loop.join();
}

}  // namespace trinity::server
