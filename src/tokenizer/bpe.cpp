#include "tokenizer/bpe.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

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

namespace {

size_t pow2_at_least(size_t n) {
  size_t cap = 16;
  while (cap < n) cap *= 2;
  return cap;
}

// The vectors behind a model built from JSON (Tables' spans point into them).
struct OwnedTables {
  std::string key_bytes;
  std::vector<BpeModel::VocabSlot> key_slots;
  std::string token_bytes;
  std::vector<uint32_t> token_off;
  std::vector<uint8_t> has_id;
  std::vector<BpeModel::MergeEntry> merges;
};

size_t key_slot(std::string_view token, size_t mask) {
  return static_cast<size_t>(XXH3_64bits(token.data(), token.size())) & mask;
}

}  // namespace

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  const size_t mask = t_.key_slots.size() - 1;
  for (size_t i = key_slot(token, mask);; i = (i + 1) & mask) {
    const VocabSlot& s = t_.key_slots[i];
    if (s.id < 0) return std::nullopt;
    if (s.len == token.size() && std::memcmp(t_.key_bytes.data() + s.off, token.data(), s.len) == 0)
      return s.id;
  }
}

std::optional<std::string_view> BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= t_.has_id.size() || !t_.has_id[static_cast<size_t>(id)])
    return std::nullopt;
  const uint32_t b = t_.token_off[static_cast<size_t>(id)],
                 e = t_.token_off[static_cast<size_t>(id) + 1];
  return std::string_view(t_.token_bytes.data() + b, e - b);
}

void BpeModel::init_byte_ids() {
  const ByteLevelAlphabet& alpha = ByteLevelAlphabet::get();
  for (int b = 0; b < 256; ++b)
    byte_id_[b] = token_to_id(alpha.encode(std::string(1, static_cast<char>(b)))).value_or(-1);
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

  // Vocabulary: the token -> id table, then id -> token (the last token of an id wins).
  TRINITY_ASSIGN_OR_RETURN(const Json* vocab, json_field(model, "vocab", "model"));
  if (!vocab->is_object()) return parse_error("model.vocab: expected an object {token: id}");
  auto own = std::make_shared<OwnedTables>();
  own->key_slots.assign(pow2_at_least(2 * vocab->size() + 1), VocabSlot{0, 0, -1, 0});
  const size_t kmask = own->key_slots.size() - 1;
  // Ids index dense tables: allow some sparsity, not arbitrary (fuzzed) magnitudes.
  const int64_t id_cap = 4 * static_cast<int64_t>(vocab->size()) + 65536;
  int64_t max_id = -1;
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer()) {
      return parse_error("model.vocab[\"" + it.key() + "\"]: id must be an integer");
    }
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= id_cap) {
      return parse_error("model.vocab[\"" + it.key() + "\"]: id " + std::to_string(id) +
                         " out of range [0, " + std::to_string(id_cap) + ")");
    }
    max_id = std::max(max_id, id);
    size_t i = key_slot(it.key(), kmask);
    while (own->key_slots[i].id >= 0) i = (i + 1) & kmask;  // JSON object keys are unique
    own->key_slots[i] =
        VocabSlot{static_cast<uint32_t>(own->key_bytes.size()),
                  static_cast<uint32_t>(it.key().size()), static_cast<int32_t>(id), 0};
    own->key_bytes += it.key();
  }
  std::vector<std::string_view> by_id(static_cast<size_t>(max_id + 1));
  own->has_id.assign(static_cast<size_t>(max_id + 1), 0);
  for (const VocabSlot& slot : own->key_slots) {
    if (slot.id < 0) continue;
    by_id[static_cast<size_t>(slot.id)] =
        std::string_view(own->key_bytes).substr(slot.off, slot.len);
    own->has_id[static_cast<size_t>(slot.id)] = 1;
  }
  for (std::string_view tok : by_id) {
    own->token_off.push_back(static_cast<uint32_t>(own->token_bytes.size()));
    own->token_bytes += tok;
  }
  own->token_off.push_back(static_cast<uint32_t>(own->token_bytes.size()));
  bpe.t_.key_bytes = own->key_bytes;
  bpe.t_.key_slots = own->key_slots;
  bpe.t_.token_bytes = own->token_bytes;
  bpe.t_.token_off = own->token_off;
  bpe.t_.has_id = own->has_id;
  bpe.init_byte_ids();
  TRINITY_ASSIGN_OR_RETURN(std::string unk, opt_string("unk_token"));
  if (!unk.empty()) {
    bpe.unk_id_ = bpe.token_to_id(unk);
    if (!bpe.unk_id_)
      return parse_error("model.unk_token \"" + unk + "\" is not in the vocabulary");
  }

  // Merges: rank = position in the list; a duplicate pair keeps the last rank, as in
  // `tokenizers`.
  TRINITY_ASSIGN_OR_RETURN(const Json* merges, json_field(model, "merges", "model"));
  if (!merges->is_array()) return parse_error("model.merges: expected an array");
  own->merges.assign(pow2_at_least(merges->size() + merges->size() / 2 + 1),
                     MergeEntry{kEmpty, 0, 0});  // load factor <= 2/3
  const size_t mmask = own->merges.size() - 1;
  std::string joined;
  for (size_t r = 0; r < merges->size(); ++r) {
    TRINITY_ASSIGN_OR_RETURN(auto pair, parse_merge((*merges)[r], r));
    const auto ia = bpe.token_to_id(pair.first), ib = bpe.token_to_id(pair.second);
    joined = pair.first + pair.second;
    const auto ic = bpe.token_to_id(joined);
    std::string ctx = "model.merges[" + std::to_string(r) + "]: ";
    if (!ia) return parse_error(ctx + "\"" + pair.first + "\" not in vocab");
    if (!ib) return parse_error(ctx + "\"" + pair.second + "\" not in vocab");
    if (!ic) return parse_error(ctx + "\"" + joined + "\" not in vocab");
    const uint64_t key = pair_key(*ia, *ib);
    size_t i = merge_slot(key, mmask);
    while (own->merges[i].key != kEmpty && own->merges[i].key != key) i = (i + 1) & mmask;
    own->merges[i] = MergeEntry{key, static_cast<int32_t>(r), *ic};
  }
  bpe.t_.merges = own->merges;
  bpe.t_.owner = std::move(own);
  return bpe;
}

void BpeModel::encode_word(std::string_view bytes, std::vector<int32_t>* out,
                           bool force_heap) const {
  if (bytes.empty()) return;
  if (ignore_merges_) {
    if (const auto id = token_to_id(ByteLevelAlphabet::get().encode(bytes))) {
      out->push_back(*id);
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
