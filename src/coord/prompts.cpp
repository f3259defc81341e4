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

namespace {

// "### <role> (<note>)\n<routed content>\n" for one transcript message.
std::string render_message(const Message& m, const std::string& note) {
  std::string out = "\n### " + m.role;
  if (!note.empty()) {
    out += " (" + note + ")";
  } else if (m.role == "tool") {
    out += " (result of call " + m.tool_call_id + ")";
  }
  return out + "\n" + routed_content(m) + "\n";
}

// A message without native tool fields: calls in the content, a result as a user message.
Message flattened(const Message& m) {
  if (m.role == "tool")
    return Message{"user", "[tool_result " + m.tool_call_id + "]\n" + m.content};
  return Message{m.role, routed_content(m)};
}

std::string task_header(int role_id, int turn_number) {
  return "\n### Your task (turn " + std::to_string(turn_number) + ": " + role_name(role_id) +
         ")\n" + role_instruction(role_id);
}

std::vector<Message> native_worker_messages(const RolePrompts& prompts, int turn_number,
                                            const std::vector<Message>& transcript,
                                            const std::vector<std::string>& notes) {
  std::string system = prompts.system[kRoleWorker];
  std::string earlier;
  std::vector<Message> out(1);
  for (size_t i = 0; i < transcript.size(); ++i) {
    const std::string note = i < notes.size() ? notes[i] : "";
    if (note.empty()) {
      out.push_back(transcript[i]);
    } else {
      earlier += render_message(transcript[i], note);
    }
  }
  if (!earlier.empty())
    system += "\n\nThe coordinator's earlier turns in this run, oldest first:\n" + earlier +
              task_header(kRoleWorker, turn_number);
  out[0] = Message{"system", std::move(system)};
  return out;
}

}  // namespace

std::vector<Message> build_agent_messages(const RolePrompts& prompts, MessageShape shape,
                                          int role_id, int turn_number,
                                          const std::vector<Message>& transcript,
                                          const std::vector<std::string>& notes,
                                          const ToolSet* tools) {
  const int r = (role_id >= 0 && role_id < kNumRoles) ? role_id : kRoleWorker;
  if (r == kRoleWorker && tools && tools->active())
    return native_worker_messages(prompts, turn_number, transcript, notes);
  if (shape == MessageShape::kReference) {
    std::vector<Message> out{Message{"system", prompts.system[static_cast<size_t>(r)]}};
    for (const Message& m : transcript) out.push_back(flattened(m));
    return out;
  }
  std::string user = "The conversation so far, oldest first:\n";
  for (size_t i = 0; i < transcript.size(); ++i)
    user += render_message(transcript[i], i < notes.size() ? notes[i] : "");
  user += task_header(role_id, turn_number);
  return {Message{"system", prompts.system[static_cast<size_t>(r)]},
          Message{"user", std::move(user)}};
}

}  // namespace trinity::coord
