// The HTML report, the text and JSON renderings, and the trace lines.
#include <gtest/gtest.h>

#include <regex>

#include "eval/render_json.h"
#include "eval/render_reference.h"
#include "eval/render_text.h"
#include "eval/report_html.h"
#include "eval/runner.h"
#include "eval_test_util.h"

namespace trinity::eval {
namespace {

using testing::make_case;
using testing::ScriptedRouter;

struct Fixture {
  std::vector<EvalCase> cases;
  EvalRun run;
  RunInfo info;
};

Fixture make_fixture(int determinism_runs = 2, long drift_after = -1) {
  Fixture f;
  f.cases = {make_case("math_<b>&\"x\"", "What is 2+2?", 0, 1),
             make_case("code_review", "Review this code", 0, 1),
             make_case("wrong_role", "plan it", 0, 2)};
  ScriptedRouter router;
  router.drift_after_calls = drift_after;
  router.drift_case_substring = "code";
  EvalOptions opt;
  opt.floors = {0.5, 2.8};  // role margin 2.5 is below the role floor
  opt.determinism_runs = determinism_runs;
  auto run = run_eval(router, f.cases, opt);
  EXPECT_TRUE(run.ok());
  f.run = std::move(run).value();
  f.info.run_id = "eval-test-1";
  f.info.started_at = "2026-01-01T00:00:00.000000Z";
  f.info.profile = "scripted";
  f.info.backend = "cpu-f32";
  f.info.cases_path = "evals/x.json";
  f.info.cases_in_file = 3;
  f.info.floors = opt.floors;
  f.info.floors_source = "flags";
  f.info.snapshot.looked_for = "fixtures/runtime_profiles/scripted/x_logits.json";
  return f;
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

TEST(EvalReport, WellFormedSelfContainedWithBarsForEveryCase) {
  Fixture f = make_fixture();
  const std::string html = render_report_html(f.run, f.info);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>\n"), std::string::npos);
  // Balanced structural tags.
  for (const char* tag : {"svg", "table", "tr", "style", "body", "head", "title", "div"}) {
    EXPECT_EQ(count(html, std::string("<") + tag + ">") + count(html, std::string("<") + tag + " "),
              count(html, std::string("</") + tag + ">"))
        << tag;
  }
  // Two charts (agent, role), one bar per case in each, a floor line in each.
  EXPECT_EQ(count(html, "<svg class=\"bars\""), 2u);
  EXPECT_EQ(count(html, "<rect class=\"bar "), 6u);
  EXPECT_EQ(count(html, "<line class=\"floor\""), 2u);
  // The role floor (2.8) is above every role margin (2.5): three red bars.
  EXPECT_EQ(count(html, "<rect class=\"bar below\""), 3u);
  // Every case id (escaped) appears, the raw markup of the odd id never does.
  EXPECT_NE(html.find("math_&lt;b&gt;&amp;&quot;x&quot;"), std::string::npos);
  EXPECT_EQ(html.find("math_<b>"), std::string::npos);
  for (const char* id : {"code_review", "wrong_role"}) EXPECT_NE(html.find(id), std::string::npos);
  // No network, no scripts.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  // Metadata, determinism and snapshot sections.
  EXPECT_NE(html.find("eval-test-1"), std::string::npos);
  EXPECT_NE(html.find("cpu-f32"), std::string::npos);
  EXPECT_NE(html.find("Stable"), std::string::npos);
  EXPECT_NE(html.find("No snapshot for profile"), std::string::npos);
}

TEST(EvalReport, ShowsDeterminismDifferences) {
  Fixture f = make_fixture(3, 3);
  ASSERT_FALSE(f.run.determinism.empty());
  const std::string html = render_report_html(f.run, f.info);
  EXPECT_NE(html.find("route_hash difference(s)"), std::string::npos);
  EXPECT_NE(html.find(f.run.determinism[0].route_hash), std::string::npos);
}

TEST(EvalText, CaseLinesHeaderAndSummary) {
  Fixture f = make_fixture();
  const std::string header = render_header(f.info, f.cases.size());
  EXPECT_NE(header.find("profile  : scripted  (backend cpu-f32)"), std::string::npos) << header;
  EXPECT_NE(header.find("snapshot : none"), std::string::npos);
  TextOptions opt;
  opt.verbose = true;
  opt.show_logits = true;
  const std::string line = render_case(f.run.results[2], 3, f.info, opt);
  EXPECT_EQ(line.rfind("[3/3] wrong_role - FAIL\n", 0), 0u) << line;
  EXPECT_NE(line.find("expected: agent 0 gpt-5 | role 2 Verifier"), std::string::npos) << line;
  EXPECT_NE(line.find("returned: agent 0 gpt-5 | role 1 Thinker | tokens 7"), std::string::npos);
  EXPECT_NE(line.find("route_hash      " + f.run.results[2].decision.route_hash),
            std::string::npos);
  EXPECT_NE(line.find("agent_logits [4.000000, 1.000000"), std::string::npos) << line;
  const std::string summary = render_summary(f.run, f.info);
  EXPECT_NE(summary.find("passed 0, failed 3 (of 3)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Thinker 3"), std::string::npos) << summary;
  EXPECT_NE(summary.find("FAILED: math_<b>&\"x\" code_review wrong_role"), std::string::npos)
      << summary;
}

TEST(EvalJson, OneObjectAndTraceLines) {
  Fixture f = make_fixture();
  OrderedJson j = eval_to_json(f.run, f.info);
  EXPECT_EQ(j["command"], "eval");
  EXPECT_EQ(j["cases"].size(), 3u);
  EXPECT_EQ(j["cases"][2]["verdict"], "FAIL");
  EXPECT_EQ(j["cases"][0]["decision"]["role_name"], "Thinker");
  EXPECT_EQ(j["summary"]["failed"], 3);
  EXPECT_EQ(j["failed_ids"].size(), 3u);
  EXPECT_EQ(j["determinism"]["runs"], 2);
  EXPECT_EQ(j["determinism"]["stable"], true);

  // --trace-out: the reference's route_decision + route_eval_result pair per case.
  const std::string trace = eval_trace_lines(f.run, f.info);
  EXPECT_EQ(count(trace, "\n"), 6u);
  size_t start = 0;
  for (int i = 0; i < 6; ++i) {
    size_t end = trace.find('\n', start);
    Json e = Json::parse(trace.substr(start, end - start));
    const CaseResult& r = f.run.results[size_t(i / 2)];
    EXPECT_EQ(e["schema_version"], 1);
    EXPECT_EQ(e["event"], i % 2 == 0 ? "route_decision" : "route_eval_result");
    EXPECT_EQ(e["run_id"], "qwen-router-prompt-eval:" + r.id);
    EXPECT_EQ(e["trace_ref"], e["run_id"]);
    EXPECT_TRUE(e["timestamp_ms"].is_number_integer());
    EXPECT_EQ(e["case_id"], r.id);
    EXPECT_EQ(e["route_hash"], r.decision.route_hash);
    if (i % 2 == 0) {
      EXPECT_EQ(e["route_path"], "qwen_router_prompt_eval");
      EXPECT_EQ(e["input_hash"], e["transcript_hash"]);
      EXPECT_EQ(e["selected_agent_id"], r.decision.agent_id);
    } else {
      EXPECT_EQ(e["status"], "fail");
      EXPECT_EQ(e["actual_role_id"], r.decision.role_id);
      EXPECT_EQ(e["eval_run_id"], "eval-test-1");
    }
    start = end + 1;
  }
}

}  // namespace
}  // namespace trinity::eval
