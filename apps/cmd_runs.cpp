// trinity runs list|show|export: the runs `trinity serve` persisted in its run store.
//   export writes JSONL in the trace schema (one event per line, runs oldest first), the format
//   `trinity fitness export` and `trinity fitness replay` read.
#include <algorithm>
#include <cstdio>

#include "cli_common.h"
#include "core/file_util.h"
#include "core/time_util.h"
#include "store/run_store.h"

namespace trinity::cli {

namespace {

struct Options {
  std::string store;
  std::string status, since;
  int limit = 20;
  int export_limit = 0;  // 0: all
  std::string id;
  std::string out;
  bool json = false;
};

Result<std::unique_ptr<store::RunStore>> open_for_reading(const Options& o) {
  const std::string spec = o.store.empty() ? store::default_store_spec() : o.store;
  if (spec.empty())
    return invalid_argument("--store: neither XDG_DATA_HOME nor HOME is set; give --store");
  if (spec.rfind("sqlite:", 0) == 0 && !file_exists(spec.substr(7)))
    return not_found("run store " + spec + ": no such file (has `trinity serve` run with it?)");
  store::StoreOptions so;
  so.owner = "cli";
  so.register_lease = false;
  so.max_connections = 1;
  return store::open_run_store(spec, so);
}

Result<store::RunQuery> query_of(const Options& o) {
  store::RunQuery q;
  if (!o.status.empty()) {
    if (!store::is_run_status(o.status))
      return invalid_argument(
          "--status: expected running, accepted, unverified, failed or "
          "interrupted");
    q.status = o.status;
  }
  if (!o.since.empty()) {
    auto ms = store::parse_since_ms(o.since);
    if (!ms.ok()) return ms.status().with_context("--since");
    q.since_ms = *ms;
  }
  if (o.limit < 1) return invalid_argument("--limit must be >= 1");
  return q;
}

int run_list(const Options& o) {
  const std::string cmd = "runs list";
  auto st = open_for_reading(o);
  if (!st.ok()) return report_error(cmd, st.status());
  auto q = query_of(o);
  if (!q.ok()) return report_error(cmd, q.status());
  q->limit = std::min(o.limit, 1000);
  auto page = (*st)->list_runs(*q);
  if (!page.ok()) return report_error(cmd, page.status());
  if (o.json) {
    OrderedJson j;
    j["store"] = (*st)->spec();
    j["data"] = OrderedJson::array();
    for (const auto& r : page->runs) j["data"].push_back(r.to_json(false));
    j["next_cursor"] = opt_json(page->next_cursor);
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-18s %-11s %-20s %-16s %5s %8s %10s %9s\n", "ID", "STATUS", "CREATED (UTC)",
              "ENDPOINT", "TURNS", "TOKENS", "COST USD", "MS");
  for (const auto& r : page->runs)
    std::printf("%-18s %-11s %-20s %-16s %5d %8lld %10.6f %9lld\n", r.id.c_str(), r.status.c_str(),
                format_utc(r.created_ms * 1000, UtcFormat::kIso8601).c_str(), r.endpoint.c_str(),
                r.turns_count, static_cast<long long>(r.input_tokens + r.output_tokens),
                static_cast<double>(r.cost_micro_usd) / 1e6, static_cast<long long>(r.elapsed_ms));
  if (page->next_cursor)
    std::printf("(more: raise --limit, or page with GET /v1/runs?cursor=%s)\n",
                page->next_cursor->c_str());
  return kExitOk;
}

int run_show(const Options& o) {
  const std::string cmd = "runs show";
  auto st = open_for_reading(o);
  if (!st.ok()) return report_error(cmd, st.status());
  auto run = (*st)->get_run(o.id);
  if (!run.ok()) return report_error(cmd, run.status());
  if (!run->has_value()) return report_error(cmd, not_found("no run with id '" + o.id + "'"));
  std::printf("%s\n", (*run)->to_json(true).dump(2).c_str());
  return kExitOk;
}

int run_export(const Options& o) {
  const std::string cmd = "runs export";
  auto st = open_for_reading(o);
  if (!st.ok()) return report_error(cmd, st.status());
  auto q = query_of(o);
  if (!q.ok()) return report_error(cmd, q.status());
  // Newest first, page by page, up to --limit runs (0 = all); written oldest first.
  std::vector<std::string> ids;
  if (o.export_limit < 0) return report_error(cmd, invalid_argument("--limit must be >= 0"));
  const size_t want = o.export_limit > 0 ? static_cast<size_t>(o.export_limit) : SIZE_MAX;
  q->limit = 500;
  while (ids.size() < want) {
    auto page = (*st)->list_runs(*q);
    if (!page.ok()) return report_error(cmd, page.status());
    for (const auto& r : page->runs)
      if (ids.size() < want && r.status != "running") ids.push_back(r.id);
    if (!page->next_cursor) break;
    q->cursor = page->next_cursor;
  }
  std::reverse(ids.begin(), ids.end());
  std::string text;
  size_t events = 0;
  for (const std::string& id : ids) {
    auto evs = (*st)->run_events(id);
    if (!evs.ok()) return report_error(cmd, evs.status());
    for (const OrderedJson& e : *evs) {
      text += e.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
      text += '\n';
      ++events;
    }
  }
  if (o.out.empty() || o.out == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    Status w = write_file_atomic(o.out, text);
    if (!w.ok()) return report_error(cmd, w);
  }
  std::fprintf(stderr, "runs export: %zu run(s), %zu event(s)%s%s\n", ids.size(), events,
               o.out.empty() || o.out == "-" ? "" : " -> ", o.out == "-" ? "" : o.out.c_str());
  return kExitOk;
}

void add_store_option(CLI::App* sub, Options& o) {
  sub->add_option("--store", o.store,
                  "Run store: sqlite:PATH or postgres://... (default: "
                  "sqlite:$XDG_DATA_HOME/trinity/runs.db, as `trinity serve`)");
}

void add_filter_options(CLI::App* sub, Options& o) {
  sub->add_option("--status", o.status,
                  "Only runs with this status: running, accepted, unverified, failed, "
                  "interrupted");
  sub->add_option("--since", o.since,
                  "Only runs created at or after this time: Unix seconds or RFC 3339 UTC "
                  "(2026-12-04T10:00:00Z)");
}

}  // namespace

void register_runs(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* runs =
      app.add_subcommand("runs", "The runs `trinity serve` persisted in its run store");
  runs->require_subcommand(1);
  CLI::App* list = runs->add_subcommand("list", "List runs, newest first");
  add_store_option(list, *o);
  add_filter_options(list, *o);
  list->add_option("--limit", o->limit, "At most this many runs (default 20, max 1000)");
  list->add_flag("--json", o->json, "Print JSON (the objects of GET /v1/runs)");
  reg.add(list, [o] { return run_list(*o); });

  CLI::App* show = runs->add_subcommand("show", "One run with its turns and trace events (JSON)");
  add_store_option(show, *o);
  show->add_option("id", o->id, "Run id")->required();
  reg.add(show, [o] { return run_show(*o); });

  CLI::App* exp = runs->add_subcommand(
      "export",
      "Finished runs' trace events as JSONL (the trace schema: `fitness export` reads it)");
  add_store_option(exp, *o);
  add_filter_options(exp, *o);
  exp->add_option("--limit", o->export_limit, "The newest N finished runs (default: all)");
  exp->add_option("--out", o->out, "Output file, written atomically (default: stdout)");
  reg.add(exp, [o] { return run_export(*o); });
}

}  // namespace trinity::cli
