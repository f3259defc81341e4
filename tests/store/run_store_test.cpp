// The run store on SQLite (a temp file) and on PostgreSQL (a throw-away cluster started by
// scripts/pg_temp.sh): the same behaviour checked on both backends.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "store/migrations.h"
#include "store/run_capture.h"
#include "store/run_store.h"

namespace trinity::store {
namespace {

std::string temp_dir(const std::string& tag) {
  std::string tmpl = "/tmp/trinity-store-" + tag + "-XXXXXX";
  char* d = mkdtemp(tmpl.data());
  EXPECT_NE(d, nullptr);
  return tmpl;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t n = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

// One PostgreSQL cluster for the whole test program (started on first use).
struct PgCluster {
  std::string dir, uri, error;
  PgCluster() {
    dir = temp_dir("pg");
    const std::string cmd = "bash " TRINITY_SOURCE_DIR "/scripts/pg_temp.sh start " + dir + " " +
                            std::to_string(free_port()) + " 2>" + dir + ".err";
    FILE* f = popen(cmd.c_str(), "r");
    char buf[512] = {0};
    if (f && std::fgets(buf, sizeof(buf), f)) uri = buf;
    const int rc = f ? pclose(f) : -1;
    while (!uri.empty() && (uri.back() == '\n' || uri.back() == '\r')) uri.pop_back();
    if (rc != 0 || uri.empty()) error = "pg_temp.sh start failed (rc " + std::to_string(rc) + ")";
  }
  ~PgCluster() {
    std::system(("bash " TRINITY_SOURCE_DIR "/scripts/pg_temp.sh stop " + dir).c_str());
    std::filesystem::remove_all(dir);
    std::filesystem::remove(dir + ".err");
  }
  static PgCluster& get() {
    static PgCluster c;
    return c;
  }
};

// prefix + n (operator+ on a temporary trips GCC 12's -Wrestrict false positive).
std::string id_of(const char* prefix, int n) {
  std::string s = prefix;
  s += std::to_string(n);
  return s;
}

RunRecord sample_run(const std::string& id, int64_t created_ms) {
  RunRecord r;
  r.id = id;
  r.endpoint = "chat.completions";
  r.pool = "mock";
  r.profile = "mock_tiny";
  r.content_mode = "hash";
  r.created_ms = created_ms;
  r.request = OrderedJson{
      {"messages", OrderedJson::array({OrderedJson{{"role", "user"}, {"content", "sha256:ab"}}})}};
  return r;
}

void finish(RunRecord& r, const std::string& status) {
  r.status = status;
  r.finished_ms = r.created_ms + 40;
  r.answer = "sha256:cd";
  r.input_tokens = 12;
  r.output_tokens = 5;
  r.cost_micro_usd = 1500;
  r.elapsed_ms = 40;
  r.turns_count = 1;
  TurnRow t;
  t.turn = 1;
  t.agent_id = 3;
  t.role = "Worker";
  t.routed_role = "Verifier";
  t.agent_margin = 0.125;
  t.provider = "mock";
  t.model = "mock-agent-3";
  t.status = "ok";
  t.latency_ms = 7;
  t.input_tokens = 12;
  t.output_tokens = 5;
  t.cost_micro_usd = 1500;
  r.turns = {t};
  r.events = {OrderedJson{{"event", "route_decision"}, {"run_id", r.id}},
              OrderedJson{{"event", "run_finished"}, {"run_id", r.id}}};
}

class RunStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = temp_dir("sqlite");
      spec_ = "sqlite:" + dir_ + "/sub/runs.db";
    } else {
      PgCluster& pg = PgCluster::get();
      ASSERT_TRUE(pg.error.empty()) << pg.error;
      // A fresh schema per test: drop everything the previous test made.
      auto conn = open_postgres(pg.uri);
      ASSERT_TRUE(conn.ok()) << conn.status().message();
      ASSERT_TRUE((*conn)
                      ->exec("DROP TABLE IF EXISTS run_events, run_turns, runs, replicas, "
                             "schema_migrations")
                      .ok());
      spec_ = pg.uri;
    }
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<RunStore> open(const std::string& owner, int64_t lease_ms = 30000) {
    StoreOptions o;
    o.owner = owner;
    o.lease_ms = lease_ms;
    auto s = open_run_store(spec_, o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::string dir_, spec_;
};

TEST_P(RunStoreTest, BeginFinishGetRoundTrip) {
  auto store = open("host:1");
  ASSERT_TRUE(store);
  RunRecord r = sample_run("0123456789abcdef", 1'700'000'000'000);
  ASSERT_TRUE(store->begin_run(r).ok());
  auto got = store->get_run(r.id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->status, "running");
  EXPECT_EQ((*got)->owner, "host:1");
  EXPECT_FALSE((*got)->finished_ms.has_value());

  finish(r, "accepted");
  ASSERT_TRUE(store->finish_run(r).ok());
  got = store->get_run(r.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  const RunRecord& g = **got;
  EXPECT_EQ(g.status, "accepted");
  EXPECT_EQ(g.finished_ms, r.created_ms + 40);
  EXPECT_EQ(g.answer, "sha256:cd");
  EXPECT_EQ(g.request, r.request);
  EXPECT_EQ(g.cost_micro_usd, 1500);
  ASSERT_EQ(g.turns.size(), 1u);
  EXPECT_EQ(g.turns[0].agent_id, 3);
  EXPECT_EQ(g.turns[0].agent_margin, 0.125);
  EXPECT_FALSE(g.turns[0].role_margin.has_value());
  EXPECT_EQ(g.turns[0].routed_role, "Verifier");
  ASSERT_EQ(g.events.size(), 2u);
  EXPECT_EQ(g.events[1]["event"], "run_finished");
  const OrderedJson j = g.to_json(true);
  EXPECT_EQ(j["usage"]["total_tokens"], 17);
  EXPECT_DOUBLE_EQ(j["cost_usd"].get<double>(), 0.0015);

  auto missing = store->get_run("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  // Finishing a run that was never begun is an error, and writes nothing.
  RunRecord ghost = sample_run("ghost", 1);
  finish(ghost, "accepted");
  EXPECT_FALSE(store->finish_run(ghost).ok());
  auto events = store->run_events("ghost");
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

TEST_P(RunStoreTest, KeysetPaginationIsCompleteAndOrdered) {
  auto store = open("host:1");
  ASSERT_TRUE(store);
  // 23 runs, several sharing a timestamp (the id breaks the tie).
  for (int i = 0; i < 23; ++i) {
    RunRecord r = sample_run(id_of("run", 100 + i), 1000 + i / 3);
    ASSERT_TRUE(store->begin_run(r).ok());
    finish(r, i % 2 ? "accepted" : "failed");
    ASSERT_TRUE(store->finish_run(r).ok());
  }
  RunQuery q;
  q.limit = 5;
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto p = store->list_runs(q);
    ASSERT_TRUE(p.ok()) << p.status().message();
    for (const RunRecord& r : p->runs) seen.push_back(r.id);
    if (!p->next_cursor) break;
    q.cursor = p->next_cursor;
  }
  ASSERT_EQ(seen.size(), 23u);
  for (int i = 0; i < 23; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], id_of("run", 122 - i));

  RunQuery f;
  f.status = "accepted";
  f.since_ms = 1004;
  f.limit = 100;
  auto p = store->list_runs(f);
  ASSERT_TRUE(p.ok());
  for (const RunRecord& r : p->runs) {
    EXPECT_EQ(r.status, "accepted");
    EXPECT_GE(r.created_ms, 1004);
  }
  EXPECT_EQ(p->runs.size(), 5u);  // runs 113,115,...,121 (created 1004..1007)
  EXPECT_FALSE(p->next_cursor.has_value());

  RunQuery bad;
  bad.cursor = "12.x'; DROP TABLE runs; --";
  EXPECT_FALSE(store->list_runs(bad).ok());
}

TEST_P(RunStoreTest, RestartMarksOnlyItsOwnAndExpiredRunsInterrupted) {
  auto a = open("host:a");
  auto b = open("host:b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->begin_run(sample_run("a_running", 10)).ok());
  ASSERT_TRUE(b->begin_run(sample_run("b_running", 11)).ok());
  RunRecord done = sample_run("a_done", 12);
  ASSERT_TRUE(a->begin_run(done).ok());
  finish(done, "unverified");
  ASSERT_TRUE(a->finish_run(done).ok());

  // Replica a restarts (killed): its running run is interrupted; b's, whose lease is live, not.
  a.reset();
  auto a2 = open("host:a");
  ASSERT_TRUE(a2);
  auto marked = a2->recover(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count(),
                            true);
  ASSERT_TRUE(marked.ok()) << marked.status().message();
  EXPECT_EQ(*marked, 1);
  EXPECT_EQ((*a2->get_run("a_running"))->status, "interrupted");
  EXPECT_EQ((*a2->get_run("b_running"))->status, "running");
  EXPECT_EQ((*a2->get_run("a_done"))->status, "unverified");

  // b's lease expires (b died for good): any replica's sweep interrupts its runs.
  const int64_t later = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() +
                        60'000;
  ASSERT_TRUE(a2->renew_lease(later).ok());
  marked = a2->recover(later, false);
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 1);
  EXPECT_EQ((*a2->get_run("b_running"))->status, "interrupted");
}

TEST_P(RunStoreTest, RetentionDeletesOldFinishedRunsOnly) {
  auto store = open("host:1");
  ASSERT_TRUE(store);
  for (int i = 0; i < 4; ++i) {
    RunRecord r = sample_run(id_of("old", i), 100 + i);
    ASSERT_TRUE(store->begin_run(r).ok());
    if (i < 3) {
      finish(r, "accepted");
      ASSERT_TRUE(store->finish_run(r).ok());
    }
  }
  RunRecord fresh = sample_run("fresh", 5000);
  ASSERT_TRUE(store->begin_run(fresh).ok());
  finish(fresh, "accepted");
  ASSERT_TRUE(store->finish_run(fresh).ok());
  auto n = store->delete_before(1000);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 3);
  EXPECT_FALSE(store->get_run("old0")->has_value());
  EXPECT_TRUE(store->get_run("old3")->has_value());  // still running: kept
  EXPECT_TRUE(store->get_run("fresh")->has_value());
  EXPECT_TRUE(store->run_events("old0")->empty());
}

TEST_P(RunStoreTest, ConcurrentOpensMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      StoreOptions o;
      o.owner = id_of("host:", i);
      if (open_run_store(spec_, o).ok()) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  auto store = open("host:x");
  ASSERT_TRUE(store);
  // One row per migration, whoever applied it.
  std::unique_ptr<SqlConnection> conn = GetParam() == "sqlite"
                                            ? std::move(open_sqlite(spec_.substr(7))).value()
                                            : std::move(open_postgres(spec_)).value();
  auto rows = conn->query("SELECT COUNT(*), MAX(version) FROM schema_migrations", {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0][0], std::to_string(migrations().size()));
  EXPECT_EQ((*rows)[0][1], std::to_string(latest_schema_version()));
  // A schema newer than this binary is refused.
  ASSERT_TRUE(conn->query("INSERT INTO schema_migrations (version, name, applied_ms) VALUES "
                          "(9999, 'future', 0)",
                          {})
                  .ok());
  StoreOptions o;
  o.owner = "host:old";
  auto old = open_run_store(spec_, o);
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("newer than this binary"), std::string::npos);
}

TEST_P(RunStoreTest, ConcurrentWritersLoseNothing) {
  auto store = open("host:1");
  ASSERT_TRUE(store);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        RunRecord r = sample_run(id_of("w", t * 100 + i), 1 + i);
        if (!store->begin_run(r).ok()) ++failures;
        finish(r, "accepted");
        if (!store->finish_run(r).ok()) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  RunQuery q;
  q.limit = 1000;
  auto p = store->list_runs(q);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->runs.size(), 200u);
}

INSTANTIATE_TEST_SUITE_P(Backends, RunStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

TEST(RunStoreSpec, BadSpecsAreClearErrors) {
  StoreOptions o;
  o.owner = "h:1";
  auto r = open_run_store("mysql://x", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected sqlite:PATH or postgres://"), std::string::npos);
  r = open_run_store("sqlite:", o);
  ASSERT_FALSE(r.ok());
  r = open_run_store("postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("postgres://u:***@127.0.0.1:1"), std::string::npos)
      << r.status().message();
  r = open_run_store("sqlite:/proc/nope/runs.db", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/proc/nope"), std::string::npos);
}

TEST(RunStoreSpec, CursorsRoundTripAndRejectGarbage) {
  int64_t t = 0;
  std::string id;
  ASSERT_TRUE(decode_cursor(encode_cursor(1700000000123, "abc_DEF-9"), &t, &id).ok());
  EXPECT_EQ(t, 1700000000123);
  EXPECT_EQ(id, "abc_DEF-9");
  for (const char* bad :
       {"", ".", "12.", ".ab", "x1.ab", "1.a b", "1.a'", "99999999999999999999.a"})
    EXPECT_FALSE(decode_cursor(bad, &t, &id).ok()) << bad;
}

TEST(RunCaptureTest, StoredRequestAndRecordFollowTheContentMode) {
  coord::Redactor redactor({"sk-secret"});
  std::vector<Message> msgs = {{"user", "hello sk-secret"}};
  OrderedJson hashed =
      stored_request(msgs, OrderedJson::object(), coord::ContentMode::kHash, redactor);
  EXPECT_EQ(hashed["messages"][0]["role"], "user");
  EXPECT_EQ(hashed["messages"][0]["content"].get<std::string>().rfind("sha256:", 0), 0u);
  OrderedJson full =
      stored_request(msgs, OrderedJson::object(), coord::ContentMode::kFull, redactor);
  EXPECT_EQ(full["messages"][0]["content"], "hello <redacted>");

  coord::RunResult r;
  r.run_id = "r1";
  r.outcome = "accepted";
  r.answer = "42";
  coord::TurnRecord t;
  t.turn = 1;
  t.agent_id = 2;
  t.role_id = 0;
  t.routed_role_id = 2;
  t.provider = "mock";
  t.cost_micro_usd = 7;
  r.turns = {t};
  r.usage.cost_micro_usd = 7;
  std::vector<OrderedJson> events = {OrderedJson{{"event", "provider_dispatch_finished"},
                                                 {"turn", 1},
                                                 {"status", "ok"},
                                                 {"input_tokens", 9},
                                                 {"output_tokens", 4}}};
  RunRecord rec;
  rec.content_mode = "hash";
  finish_record(rec, r, events, "", redactor, 99);
  EXPECT_EQ(rec.status, "accepted");
  EXPECT_EQ(rec.answer.value_or("").rfind("sha256:", 0), 0u);
  EXPECT_EQ(rec.input_tokens, 9);
  EXPECT_EQ(rec.output_tokens, 4);
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_EQ(rec.turns[0].role, "Worker");
  EXPECT_EQ(rec.turns[0].routed_role, "Verifier");
  EXPECT_EQ(rec.turns[0].status, "ok");
  EXPECT_EQ(rec.events.size(), 1u);
  rec.content_mode = "full";
  finish_record(rec, r, {}, "", redactor, 99);
  EXPECT_EQ(rec.answer, "42");
}

}  // namespace
}  // namespace trinity::store
