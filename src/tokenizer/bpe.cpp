#include "tokenizer/bpe.h"

#include <algorithm>

#include "tokenizer/pre_tokenizer.h"

namespace trinity::tok {

namespace {

struct MergeCandidate {
  int32_t rank;
  int32_t pos;
  int32_t new_id;
  // std heap is a max-heap: "greater" = lower rank, then lower position.
  bool operator<(const MergeCandidate& o) const {
    if (rank != o.rank) return rank > o.rank;
    return pos > o.pos;
  }
};

// Per-thread scratch buffers: no allocation per word once they have grown.
struct Scratch {
  std::vector<BpeModel::Symbol> symbols;
  std::vector<MergeCandidate> heap;
};
thread_local Scratch t_scratch;

Result<std::pair<std::string, std::string>> parse_merge(const Json& m, size_t index) {
  std::string ctx = "model.merges[" + std::to_string(index) + "]";
  if (m.is_string()) {
    const std::string& s = m.get_ref<const std::string&>();
    size_t sp = s.find(' ');
    if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
      return parse_error(ctx + ": expected \"a b\" (two tokens separated by one space), got \"" +
                         s + "\"");
    }
    return std::make_pair(s.substr(0, sp), s.substr(sp + 1));
  }
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    return std::make_pair(m[0].get<std::string>(), m[1].get<std::string>());
  }
  return parse_error(ctx + ": expected a string \"a b\" or a pair [\"a\", \"b\"]");
}

}  // namespace

// Repeatedly merges the adjacent pair of lowest (rank, position). This is the order the
// heap loop below produces: a queued entry whose pair changed can only carry the same new id
// if it is the same pair (symbols only grow to the right), so skipped entries never differ.
void BpeModel::merge_short(std::vector<Symbol>& sym, std::vector<int32_t>* out) const {
  int32_t ids[kShortWord];
  int32_t ranks[kShortWord];  // ranks[i]: pair (i, i+1); INT32_MAX if no merge
  int32_t news[kShortWord];
  size_t n = sym.size();
  for (size_t i = 0; i < n; ++i) ids[i] = sym[i].id;
  auto rank_at = [&](size_t i) {
    if (const MergeEntry* m = find_merge(ids[i], ids[i + 1])) {
      ranks[i] = m->rank;
      news[i] = m->new_id;
    } else {
      ranks[i] = INT32_MAX;
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) rank_at(i);
  while (n > 1) {
    size_t best = 0;
    int32_t best_rank = ranks[0];
    for (size_t i = 1; i + 1 < n; ++i) {
      if (ranks[i] < best_rank) {
        best_rank = ranks[i];
        best = i;
      }
    }
    if (best_rank == INT32_MAX) break;
    ids[best] = news[best];
    for (size_t i = best + 1; i + 1 < n; ++i) {
      ids[i] = ids[i + 1];
      ranks[i] = ranks[i + 1];
      news[i] = news[i + 1];
    }
    --n;
    if (best + 1 < n) rank_at(best);
    if (best > 0) rank_at(best - 1);
  }
  out->insert(out->end(), ids, ids + n);
}

Status BpeModel::add_merge(int32_t a, int32_t b, int32_t rank, int32_t new_id) {
  uint64_t key = pair_key(a, b);
  size_t mask = merges_.size() - 1;
  size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
  while (merges_[i].key != kEmpty) {
    if (merges_[i].key == key) break;  // duplicate pair: the last one wins, as in `tokenizers`
    i = (i + 1) & mask;
  }
  merges_[i] = MergeEntry{key, rank, new_id};
  return ok_status();
}

Result<BpeModel> BpeModel::from_json(const Json& model) {
  if (!model.is_object()) return parse_error("model: expected a JSON object");
  if (auto it = model.find("type"); it != model.end()) {
    if (!it->is_string() || it->get<std::string>() != "BPE") {
      return unsupported("model.type " + it->dump() + " is not supported (only \"BPE\")");
    }
  }
  BpeModel bpe;
  auto opt_string = [&](const char* key) -> Result<std::string> {
    auto it = model.find(key);
    if (it == model.end() || it->is_null()) return std::string();
    if (!it->is_string()) return parse_error(std::string("model.") + key + ": expected a string");
    return it->get<std::string>();
  };
  auto opt_bool = [&](const char* key) -> Result<bool> {
    auto it = model.find(key);
    if (it == model.end() || it->is_null()) return false;
    if (!it->is_boolean()) return parse_error(std::string("model.") + key + ": expected a bool");
    return it->get<bool>();
  };
  TRINITY_ASSIGN_OR_RETURN(std::string prefix, opt_string("continuing_subword_prefix"));
  TRINITY_ASSIGN_OR_RETURN(std::string suffix, opt_string("end_of_word_suffix"));
  if (!prefix.empty()) return unsupported("model.continuing_subword_prefix must be empty");
  if (!suffix.empty()) return unsupported("model.end_of_word_suffix must be empty");
  TRINITY_ASSIGN_OR_RETURN(bool byte_fallback, opt_bool("byte_fallback"));
  if (byte_fallback) return unsupported("model.byte_fallback=true is not supported");
  if (auto it = model.find("dropout"); it != model.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() != 0.0) {
      return unsupported("model.dropout must be null (BPE dropout is not supported)");
    }
  }
  TRINITY_ASSIGN_OR_RETURN(bpe.fuse_unk_, opt_bool("fuse_unk"));
  TRINITY_ASSIGN_OR_RETURN(bpe.ignore_merges_, opt_bool("ignore_merges"));

  // Vocabulary.
  TRINITY_ASSIGN_OR_RETURN(const Json* vocab, json_field(model, "vocab", "model"));
  if (!vocab->is_object()) return parse_error("model.vocab: expected an object {token: id}");
  bpe.token_to_id_.reserve(vocab->size());
  int64_t max_id = -1;
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer()) {
      return parse_error("model.vocab[\"" + it.key() + "\"]: id must be an integer");
    }
    int64_t id = it.value().get<int64_t>();
    // Ids index dense tables: allow some sparsity, not arbitrary (fuzzed) magnitudes.
    const int64_t id_cap = 4 * static_cast<int64_t>(vocab->size()) + 65536;
    if (id < 0 || id >= id_cap) {
      return parse_error("model.vocab[\"" + it.key() + "\"]: id " + std::to_string(id) +
                         " out of range [0, " + std::to_string(id_cap) + ")");
    }
    max_id = std::max(max_id, id);
    bpe.token_to_id_[it.key()] = static_cast<int32_t>(id);
  }
  bpe.id_to_token_.assign(static_cast<size_t>(max_id + 1), std::string());
  bpe.has_id_.assign(static_cast<size_t>(max_id + 1), 0);
  for (const auto& [token, id] : bpe.token_to_id_) {
    bpe.id_to_token_[static_cast<size_t>(id)] = token;
    bpe.has_id_[static_cast<size_t>(id)] = 1;
  }
  const ByteLevelAlphabet& alpha = ByteLevelAlphabet::get();
  for (int b = 0; b < 256; ++b) {
    std::string ch = alpha.encode(std::string(1, static_cast<char>(b)));
    auto it = bpe.token_to_id_.find(ch);
    bpe.byte_id_[b] = it == bpe.token_to_id_.end() ? -1 : it->second;
  }
  TRINITY_ASSIGN_OR_RETURN(std::string unk, opt_string("unk_token"));
  if (!unk.empty()) {
    auto it = bpe.token_to_id_.find(unk);
    if (it == bpe.token_to_id_.end()) {
      return parse_error("model.unk_token \"" + unk + "\" is not in the vocabulary");
    }
    bpe.unk_id_ = it->second;
  }

  // Merges: rank = position in the list.
  TRINITY_ASSIGN_OR_RETURN(const Json* merges, json_field(model, "merges", "model"));
  if (!merges->is_array()) return parse_error("model.merges: expected an array");
  size_t cap = 16;
  while (cap < merges->size() + merges->size() / 2) cap *= 2;  // load factor <= 2/3
  bpe.merges_.assign(cap, MergeEntry{kEmpty, 0, 0});
  std::string joined;
  for (size_t r = 0; r < merges->size(); ++r) {
    TRINITY_ASSIGN_OR_RETURN(auto pair, parse_merge((*merges)[r], r));
    auto ia = bpe.token_to_id_.find(pair.first);
    auto ib = bpe.token_to_id_.find(pair.second);
    joined = pair.first + pair.second;
    auto ic = bpe.token_to_id_.find(joined);
    std::string ctx = "model.merges[" + std::to_string(r) + "]: ";
    if (ia == bpe.token_to_id_.end())
      return parse_error(ctx + "\"" + pair.first + "\" not in vocab");
    if (ib == bpe.token_to_id_.end())
      return parse_error(ctx + "\"" + pair.second + "\" not in vocab");
    if (ic == bpe.token_to_id_.end()) return parse_error(ctx + "\"" + joined + "\" not in vocab");
    TRINITY_RETURN_IF_ERROR(
        bpe.add_merge(ia->second, ib->second, static_cast<int32_t>(r), ic->second));
  }
  return bpe;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  auto it = token_to_id_.find(token);
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() ||
      !has_id_[static_cast<size_t>(id)]) {
    return nullptr;
  }
  return &id_to_token_[static_cast<size_t>(id)];
}

void BpeModel::encode_word(std::string_view bytes, std::vector<int32_t>* out,
                           bool force_heap) const {
  if (bytes.empty()) return;
  if (ignore_merges_) {
    auto it = token_to_id_.find(ByteLevelAlphabet::get().encode(bytes));
    if (it != token_to_id_.end()) {
      out->push_back(it->second);
      return;
    }
  }
  if (bytes.size() == 1 && byte_id_[static_cast<uint8_t>(bytes[0])] >= 0) {
    out->push_back(byte_id_[static_cast<uint8_t>(bytes[0])]);
    return;
  }
  Scratch& sc = t_scratch;
  std::vector<Symbol>& sym = sc.symbols;
  sym.clear();
  // Initial symbols: one per byte; bytes outside the vocabulary become unk (fused if asked)
  // or are dropped when there is no unk token, as in `tokenizers`.
  int32_t pending_unk_len = 0;
  auto push = [&](int32_t id, int32_t len) {
    int32_t idx = static_cast<int32_t>(sym.size());
    sym.push_back(Symbol{id, idx - 1, idx + 1, len});
  };
  for (unsigned char b : bytes) {
    int32_t id = byte_id_[b];
    if (id >= 0) {
      if (pending_unk_len > 0) push(*unk_id_, pending_unk_len);
      pending_unk_len = 0;
      push(id, 1);
    } else if (unk_id_) {
      if (pending_unk_len > 0 && !fuse_unk_) {
        push(*unk_id_, pending_unk_len);
        pending_unk_len = 0;
      }
      pending_unk_len += 1;
    }
  }
  if (pending_unk_len > 0) push(*unk_id_, pending_unk_len);
  if (sym.empty()) return;
  sym.back().next = -1;
  if (sym.size() <= kShortWord && !force_heap) {
    merge_short(sym, out);
    return;
  }

  std::vector<MergeCandidate>& heap = sc.heap;
  heap.clear();
  for (size_t i = 0; i + 1 < sym.size(); ++i) {
    if (const MergeEntry* m = find_merge(sym[i].id, sym[i + 1].id)) {
      heap.push_back(MergeCandidate{m->rank, static_cast<int32_t>(i), m->new_id});
    }
  }
  std::make_heap(heap.begin(), heap.end());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    MergeCandidate top = heap.back();
    heap.pop_back();
    Symbol& cur = sym[static_cast<size_t>(top.pos)];
    if (cur.len == 0 || cur.next == -1) continue;
    const int32_t right_pos = cur.next;
    const Symbol right = sym[static_cast<size_t>(right_pos)];
    const MergeEntry* m = find_merge(cur.id, right.id);
    if (m == nullptr || m->new_id != top.new_id) continue;  // stale entry
    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    sym[static_cast<size_t>(right_pos)].len = 0;
    if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = top.pos;
    if (cur.prev >= 0) {
      const Symbol& prev = sym[static_cast<size_t>(cur.prev)];
      if (const MergeEntry* pm = find_merge(prev.id, cur.id)) {
        heap.push_back(MergeCandidate{pm->rank, cur.prev, pm->new_id});
        std::push_heap(heap.begin(), heap.end());
      }
    }
    if (cur.next >= 0) {
      const Symbol& next = sym[static_cast<size_t>(cur.next)];
      if (const MergeEntry* nm = find_merge(cur.id, next.id)) {
        heap.push_back(MergeCandidate{nm->rank, top.pos, nm->new_id});
        std::push_heap(heap.begin(), heap.end());
      }
    }
  }
  for (const Symbol& s : sym) {
    if (s.len != 0) out->push_back(s.id);
  }
}

}  // namespace trinity::tok
