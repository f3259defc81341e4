#include "coord/prompts.h"

namespace trinity::coord {

std::string speaker_note(int turn_number, int role_id, int agent_id) {
  return "turn " + std::to_string(turn_number) + ": " + role_name(role_id) + ", agent slot " +
         std::to_string(agent_id) + " " + agent_label(agent_id);
}

const char* role_instruction(int role_id) {
  switch (role_id) {
    case kRoleThinker:
      return "Act as the Thinker: give a plan, a decomposition or a critique of the work so far. "
             "Do not give an unchecked final answer. End with "
             "<suggestion>...</suggestion> and <suggested_role>solver or "
             "verifier</suggested_role> (solver: a Worker should act next).";
    case kRoleVerifier:
      return "Act as the Verifier: check the latest Worker answer against the user's request. "
             "Start your reply with exactly ACCEPT or REVISE, then give a short diagnosis.";
    default:
      return "Act as the Worker: produce the next concrete step toward answering the user's "
             "request, or the complete final answer if you can.";
  }
}

std::vector<Message> build_agent_messages(const RolePrompts& prompts, MessageShape shape,
                                          int role_id, int turn_number,
                                          const std::vector<Message>& transcript,
                                          const std::vector<std::string>& notes) {
  const int r = (role_id >= 0 && role_id < kNumRoles) ? role_id : kRoleWorker;
  if (shape == MessageShape::kReference) {
    std::vector<Message> out{Message{"system", prompts.system[static_cast<size_t>(r)]}};
    out.insert(out.end(), transcript.begin(), transcript.end());
    return out;
  }
  std::string user = "The conversation so far, oldest first:\n";
  for (size_t i = 0; i < transcript.size(); ++i) {
    user += "\n### " + transcript[i].role;
    if (i < notes.size() && !notes[i].empty()) user += " (" + notes[i] + ")";
    user += "\n" + transcript[i].content + "\n";
  }
  user += "\n### Your task (turn " + std::to_string(turn_number) + ": " + role_name(role_id) +
          ")\n" + role_instruction(role_id);
  return {Message{"system", prompts.system[static_cast<size_t>(r)]},
          Message{"user", std::move(user)}};
}

}  // namespace trinity::coord
