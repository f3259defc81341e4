// `trinity artifact verify` and `trinity artifact fetch` end to end, against a local
// cpp-httplib server (no internet): pin mismatch, a corrupted download, --offline, HF_TOKEN never
// printed.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"

namespace trinity {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& p) {
  auto r = read_file(p);
  return r.ok() ? *r : std::string("<missing " + p + ">");
}
const std::string kGolden = std::string(TRINITY_TEST_DATA_DIR) + "/golden";

int sh(const std::string& cmd, std::string* out) {
  const std::string file =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_trinity_artifact_cli_out.txt";
  const int rc = std::system((cmd + " >'" + file + "' 2>&1").c_str());
  *out = slurp(file);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(ArtifactCli, ExportPinServeFetchVerify) {
  const std::string root =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_trinity_artifact_cli";
  fs::remove_all(root);
  const std::string bundle = root + "/bundle", dest = root + "/dest";
  const std::string bin = std::string("'") + TRINITY_BINARY + "'";
  std::string log;
  ASSERT_EQ(sh(bin + " export --base '" + kGolden + "/model_f32' --vector '" + kGolden +
                   "/router_vector.npy' --out '" + bundle + "'",
               &log),
            0)
      << log;
  // Pin every file of the bundle.
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& e : fs::recursive_directory_iterator(bundle))
    if (e.is_regular_file())
      files.push_back(
          {fs::relative(e.path(), bundle).string(), *sha256_file_hex(e.path().string())});
  std::string manifest_sha;
  std::string list;
  for (const auto& [p, s] : files) {
    if (p == "manifest.json") manifest_sha = s;
    list +=
        std::string(list.empty() ? "" : ",") + "{\"path\":\"" + p + "\",\"sha256\":\"" + s + "\"}";
  }
  const std::string pin = root + "/pin.json";
  ASSERT_TRUE(write_file_atomic(pin,
                                "{\"version\":1,\"repo_id\":\"me/b\",\"revision\":\"v1\","
                                "\"manifest_sha256\":\"" +
                                    manifest_sha + "\",\"files\":[" + list + "]}")
                  .ok());
  ASSERT_EQ(sh(bin + " artifact verify --artifact '" + bundle + "' --pin '" + pin + "'", &log), 0)
      << log;

  httplib::Server srv;
  bool corrupt = false;
  srv.Get(R"(/datasets/me/b/resolve/v1/(.+))",
          [&](const httplib::Request& req, httplib::Response& res) {
            if (req.get_header_value("Authorization") != "Bearer tok_do_not_print") {
              res.status = 401;
              return;
            }
            auto data = read_file(bundle + "/" + std::string(req.matches[1]));
            if (!data.ok()) {
              res.status = 404;
              return;
            }
            std::string body = *data;
            if (corrupt && std::string(req.matches[1]).find("0003_") != std::string::npos)
              body[100] ^= 1;
            res.set_content(body, "application/octet-stream");
          });
  const int port = srv.bind_to_any_port("127.0.0.1");
  std::thread th([&] { srv.listen_after_bind(); });
  while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string ep = "http://127.0.0.1:" + std::to_string(port);
  const std::string fetch = "HF_TOKEN=tok_do_not_print " + bin + " artifact fetch --pin '" + pin +
                            "' --dest '" + dest + "' --endpoint " + ep;
  corrupt = true;
  EXPECT_EQ(sh(fetch, &log), 2) << log;
  EXPECT_NE(log.find("sha256"), std::string::npos) << log;
  EXPECT_EQ(log.find("tok_do_not_print"), std::string::npos);
  bool any_0003 = false;
  for (const auto& e : fs::recursive_directory_iterator(dest))
    any_0003 |= e.path().filename().string().find("0003_") != std::string::npos;
  EXPECT_FALSE(any_0003) << "a wrong file was left behind";
  corrupt = false;
  ASSERT_EQ(sh(fetch, &log), 0) << log;
  EXPECT_EQ(log.find("tok_do_not_print"), std::string::npos);
  ASSERT_EQ(sh(bin + " artifact fetch --offline --pin '" + pin + "' --dest '" + dest + "'", &log),
            0)
      << log;
  ASSERT_EQ(sh(bin + " artifact verify --artifact '" + dest + "' --pin '" + pin + "'", &log), 0)
      << log;
  srv.stop();
  th.join();
  // Tamper with the fetched head: verify names it.
  {
    std::fstream s(dest + "/router_head.safetensors",
                   std::ios::in | std::ios::out | std::ios::binary);
    s.seekp(-3, std::ios::end);
    s.put('\x01');
  }
  EXPECT_EQ(sh(bin + " artifact verify --artifact '" + dest + "'", &log), 2);
  EXPECT_NE(log.find("router_head.safetensors"), std::string::npos) << log;
  EXPECT_EQ(sh(bin + " artifact fetch --offline --pin '" + pin + "' --dest '" + dest + "'", &log),
            2);
  EXPECT_NE(log.find("mismatch"), std::string::npos) << log;
}

TEST(EnvCheck, RequirementsAndArtifactCompleteness) {
  const std::string bin = std::string("'") + TRINITY_BINARY + "'";
  std::string log;
  ASSERT_EQ(sh(bin + " env check", &log), 0) << log;
  EXPECT_NE(log.find("\ntrinity env check: ok\n"), std::string::npos) << log;
  EXPECT_NE(log.find("profile   : mock_tiny"), std::string::npos) << log;
  EXPECT_EQ(sh(bin + " env check --require artifact", &log), 1);
  EXPECT_NE(log.find("required artifact: --require artifact needs --artifact DIR"),
            std::string::npos)
      << log;
  EXPECT_EQ(sh(bin + " env check --require gpu", &log), 2) << log;

  const std::string d = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_env_bundle";
  fs::remove_all(d);
  ASSERT_EQ(sh(bin + " export --base '" + kGolden + "/model_bf16' --vector '" + kGolden +
                   "/router_vector.safetensors' --out '" + d + "'",
               &log),
            0)
      << log;
  ASSERT_EQ(
      sh(bin + " env check --artifact '" + d + "' --require artifact --require cpu --json", &log),
      0)
      << log;
  Json j = Json::parse(log);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["artifact"]["status"], "complete");
  EXPECT_EQ(j["artifact"]["tensors"], 9);
  fs::remove(d + "/router_head.safetensors");
  EXPECT_EQ(sh(bin + " env check --artifact '" + d + "' --require artifact", &log), 1);
  EXPECT_NE(log.find("required artifact: "), std::string::npos) << log;
  EXPECT_NE(log.find("router_head.safetensors"), std::string::npos) << log;
  fs::remove_all(d);
}

}  // namespace
}  // namespace trinity
