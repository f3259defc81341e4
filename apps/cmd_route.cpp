// trinity route: one routing decision for a conversation.
#include <chrono>
#include <cstdio>

#include "cli_common.h"
#include "router/open_router.h"

namespace trinity::cli {

namespace {

struct Options {
  RouterSource src;
  std::string messages_file, prompt;
  bool json = false;
};

void print_readable(const RouteDecision& d, const Router& r, double open_ms, double route_ms) {
  std::printf("route (profile %s, backend %s)\n", r.profile().c_str(), r.backend_label().c_str());
  std::printf("  agent slot %d  %-42s margin %.6f\n", d.agent_id, agent_label(d.agent_id),
              d.agent_margin.value_or(0.0));
  std::printf("  role       %d  %-42s margin %.6f\n", d.role_id, role_name(d.role_id),
              d.role_margin.value_or(0.0));
  std::printf("  agent logits:");
  for (int i = 0; i < kNumAgents; ++i) std::printf(" %.6f", d.logit(i));
  std::printf("\n  role logits: ");
  for (int i = kNumAgents; i < kNumAgents + kNumRoles; ++i) std::printf(" %.6f", d.logit(i));
  std::printf("\n  tokens %lld   transcript_hash %s\n  route_hash %s\n",
              static_cast<long long>(d.token_count), d.transcript_hash.c_str(),
              d.route_hash.c_str());
  std::printf("  load %.1f ms, route %.2f ms\n", open_ms, route_ms);
}

int run(const Options& o) {
  const std::string cmd = "route";
  if (o.messages_file.empty() == o.prompt.empty())
    return report_error(cmd,
                        invalid_argument("give exactly one of --messages FILE or --prompt STR"));
  auto messages = load_messages(o.messages_file, o.prompt);
  if (!messages.ok()) return report_error(cmd, messages.status());
  auto t0 = std::chrono::steady_clock::now();
  StageTimes load;
  auto router = open_router(o.src, &load);
  if (!router.ok()) return report_error(cmd, router.status());
  auto t1 = std::chrono::steady_clock::now();
  auto d = (*router)->route(*messages);
  if (!d.ok()) return report_error(cmd, d.status());
  auto t2 = std::chrono::steady_clock::now();
  if (o.json) {
    OrderedJson j = d->to_json();
    j["load_ms"] = load.to_json();
    j["route_ms"] = std::chrono::duration<double, std::milli>(t2 - t1).count();
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    print_readable(*d, **router, std::chrono::duration<double, std::milli>(t1 - t0).count(),
                   std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  return kExitOk;
}

}  // namespace

Result<std::vector<Message>> load_messages(const std::string& messages_file,
                                           const std::string& text) {
  if (!messages_file.empty()) return load_messages_file(messages_file);
  return std::vector<Message>{{"user", text}};
}

void add_router_source_options(CLI::App* sub, RouterSource& src) {
  sub->add_option("--base", src.base, "Base Qwen3 checkpoint directory (HF format)");
  auto* art =
      sub->add_option("--artifact", src.artifact, "Adapted bundle directory (manifest.json)");
  auto* vec = sub->add_option("--vector", src.vector, "Router vector (.npy or .safetensors)");
  art->excludes(vec);
  sub->add_option("--profile", src.profile,
                  "Runtime profile: cpu (default), reference, cuda, or mock_tiny (no model)");
  sub->add_option("--tokenizer", src.tokenizer, "Tokenizer directory (default: --base)");
  sub->add_option("--threads", src.threads, "Compute threads (default: all cores)");
  sub->add_option("--prefix-cache-mb", src.prefix_cache_mb, "KV prefix cache budget in MB");
  sub->add_option("--layer", src.layer, "SVF layer for --vector (default: num_hidden_layers - 2)");
  add_cache_options(sub, src.cache);
}

void register_route(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("route", "Route one conversation: agent slot, role, margins");
  add_router_source_options(sub, o->src);
  auto* msg = sub->add_option("--messages", o->messages_file,
                              "JSON array of {role, content} (system|user|assistant)");
  auto* pr = sub->add_option("--prompt", o->prompt, "A single user message");
  msg->excludes(pr);
  sub->add_flag("--json", o->json,
                "Print one JSON object: agent_id, role_id, role_name, agent_label, agent_logits, "
                "role_logits, agent_margin, role_margin, token_count, transcript_hash, route_hash");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
