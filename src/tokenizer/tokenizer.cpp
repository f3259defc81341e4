#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <exception>

#include "core/file_util.h"
#include "core/json.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/unicode.h"

namespace trinity::tok {

namespace {

// Per-thread scratch buffers for encode (no allocation once grown).
struct EncodeScratch {
  std::vector<Segment> raw_segments;
  std::vector<Segment> norm_segments;
  std::string normalized;
};
thread_local EncodeScratch t_encode;

std::string type_of(const Json& j) {
  auto it = j.find("type");
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool bool_field(const Json& j, const char* key, bool def) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}

// normalizer: null, NFC, or a Sequence of NFC.
Result<bool> parse_normalizer(const Json& root) {
  auto it = root.find("normalizer");
  if (it == root.end() || it->is_null()) return false;
  if (!it->is_object()) return parse_error("normalizer: expected an object or null");
  std::string type = type_of(*it);
  if (type == "NFC") return true;
  if (type == "Sequence") {
    auto list = it->find("normalizers");
    if (list == it->end() || !list->is_array()) {
      return parse_error("normalizer.normalizers: expected an array");
    }
    bool nfc = false;
    for (size_t i = 0; i < list->size(); ++i) {
      std::string t = (*list)[i].is_object() ? type_of((*list)[i]) : std::string();
      if (t != "NFC") {
        return unsupported("normalizer.normalizers[" + std::to_string(i) + "].type \"" + t +
                           "\" is not supported (only NFC)");
      }
      nfc = true;
    }
    return nfc;
  }
  return unsupported("normalizer.type \"" + type + "\" is not supported (only NFC)");
}

Status check_byte_level(const Json& bl, const std::string& ctx, bool want_regex) {
  if (bool_field(bl, "add_prefix_space", false)) {
    return unsupported(ctx + ".add_prefix_space=true is not supported");
  }
  if (bool_field(bl, "use_regex", true) != want_regex) {
    return unsupported(ctx + ".use_regex must be " + (want_regex ? "true" : "false"));
  }
  return ok_status();
}

// pre_tokenizer: Sequence[Split(Regex, Isolated), ByteLevel(use_regex=false)] or
// ByteLevel(use_regex=true) (the GPT-2 regex).
Result<SplitPattern> parse_pre_tokenizer(const Json& root) {
  TRINITY_ASSIGN_OR_RETURN(const Json* pt, json_field(root, "pre_tokenizer", "tokenizer.json"));
  if (!pt->is_object()) return unsupported("pre_tokenizer: null/non-object is not supported");
  std::string type = type_of(*pt);
  if (type == "ByteLevel") {
    TRINITY_RETURN_IF_ERROR(check_byte_level(*pt, "pre_tokenizer", true));
    return SplitPattern::kGpt2;
  }
  if (type != "Sequence") {
    return unsupported("pre_tokenizer.type \"" + type +
                       "\" is not supported (only Sequence[Split, ByteLevel] or ByteLevel)");
  }
  auto list = pt->find("pretokenizers");
  if (list == pt->end() || !list->is_array() || list->size() != 2 || !(*list)[0].is_object() ||
      !(*list)[1].is_object()) {
    return unsupported("pre_tokenizer.pretokenizers must be [Split, ByteLevel]");
  }
  const Json& split = (*list)[0];
  const Json& bl = (*list)[1];
  if (type_of(split) != "Split") {
    return unsupported("pre_tokenizer.pretokenizers[0].type \"" + type_of(split) +
                       "\" is not supported (only Split)");
  }
  if (type_of(bl) != "ByteLevel") {
    return unsupported("pre_tokenizer.pretokenizers[1].type \"" + type_of(bl) +
                       "\" is not supported (only ByteLevel)");
  }
  TRINITY_RETURN_IF_ERROR(check_byte_level(bl, "pre_tokenizer.pretokenizers[1]", false));
  auto behavior = split.find("behavior");
  if (behavior == split.end() || !behavior->is_string() || *behavior != "Isolated") {
    return unsupported("pre_tokenizer.pretokenizers[0].behavior must be \"Isolated\"");
  }
  if (bool_field(split, "invert", false)) {
    return unsupported("pre_tokenizer.pretokenizers[0].invert=true is not supported");
  }
  auto pattern = split.find("pattern");
  if (pattern == split.end() || !pattern->is_object() || !pattern->contains("Regex") ||
      !(*pattern)["Regex"].is_string()) {
    return unsupported("pre_tokenizer.pretokenizers[0].pattern must be {\"Regex\": ...}");
  }
  std::string regex = (*pattern)["Regex"].get<std::string>();
  std::optional<SplitPattern> p = split_pattern_from_regex(regex);
  if (!p) {
    return unsupported(
        "pre_tokenizer.pretokenizers[0].pattern.Regex is not a supported split "
        "regex (Qwen2/Qwen3, Llama 3 or GPT-2): " +
        regex);
  }
  return *p;
}

Result<std::shared_ptr<const Tokenizer>> build(const Json& root);

}  // namespace

Result<std::shared_ptr<const Tokenizer>> Tokenizer::load(const std::string& path) {
  std::string file = is_directory(path) ? join_path(path, "tokenizer.json") : path;
  TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(file));
  return load_from_json_text(text, file);
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::load_from_json_text(std::string_view json_text,
                                                                        const std::string& what) {
  try {
    TRINITY_ASSIGN_OR_RETURN(Json root, parse_json(std::string(json_text), what));
    if (!root.is_object()) return parse_error(what + ": expected a JSON object");
    auto built = build(root);
    if (!built.ok()) return built.status().with_context(what);
    return built;
  } catch (const std::exception& e) {
    return parse_error(what + ": " + e.what());
  }
}

namespace {

Result<std::shared_ptr<const Tokenizer>> build(const Json& root) {
  for (const char* key : {"truncation", "padding"}) {
    auto it = root.find(key);
    if (it != root.end() && !it->is_null()) {
      return unsupported(std::string(key) + " must be null (not supported)");
    }
  }
  TRINITY_ASSIGN_OR_RETURN(bool nfc, parse_normalizer(root));
  TRINITY_ASSIGN_OR_RETURN(SplitPattern pattern, parse_pre_tokenizer(root));
  {
    TRINITY_ASSIGN_OR_RETURN(const Json* dec, json_field(root, "decoder", "tokenizer.json"));
    if (!dec->is_object() || type_of(*dec) != "ByteLevel") {
      return unsupported("decoder.type \"" + (dec->is_object() ? type_of(*dec) : dec->dump()) +
                         "\" is not supported (only ByteLevel)");
    }
  }
  TRINITY_ASSIGN_OR_RETURN(const Json* model_json, json_field(root, "model", "tokenizer.json"));
  TRINITY_ASSIGN_OR_RETURN(BpeModel model, BpeModel::from_json(*model_json));
  TRINITY_ASSIGN_OR_RETURN(std::vector<AddedToken> added, parse_added_tokens(root));
  return Tokenizer::build_from_parts(std::move(model), pattern, nfc, std::move(added));
}

}  // namespace

namespace {

// The bytes each id contributes to a decode: added tokens' content, or the vocabulary string
// mapped back through the byte-level alphabet.
struct OwnedDecodeTable {
  std::string bytes;
  std::vector<uint32_t> off;
  std::vector<uint8_t> known;
};

}  // namespace

DecodeTable Tokenizer::derive_decode_table(const Tokenizer& t) {
  auto own = std::make_shared<OwnedDecodeTable>();
  const size_t limit = t.vocab_size_;
  own->off.assign(limit + 1, 0);
  own->known.assign(limit, 0);
  own->bytes.reserve(t.bpe_.vocab_bytes());
  for (size_t id = 0; id < limit; ++id) {
    own->off[id] = static_cast<uint32_t>(own->bytes.size());
    const int32_t idx = t.added_index_by_id_[id];
    const std::optional<std::string_view> tok =
        idx >= 0 ? std::optional<std::string_view>(t.added_[static_cast<size_t>(idx)].content)
                 : t.bpe_.id_to_token(static_cast<int32_t>(id));
    if (!tok) continue;
    own->known[id] = 1;
    own->bytes += ByteLevelDecoder::token_bytes(*tok);
  }
  own->off[limit] = static_cast<uint32_t>(own->bytes.size());
  DecodeTable d{own->bytes, own->off, own->known, nullptr};
  d.owner = std::move(own);
  return d;
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::build_from_parts(
    BpeModel model, SplitPattern pattern, bool nfc, std::vector<AddedToken> added,
    std::optional<DecodeTable> decode) {
  std::shared_ptr<Tokenizer> t(new Tokenizer(std::move(model), pattern));
  t->nfc_ = nfc;
  // Added tokens: later entries with the same content replace earlier ones.
  std::vector<AddedToken> raw, norm;
  std::vector<std::string> raw_pat, norm_pat;
  size_t limit = t->bpe_.id_limit();
  for (const AddedToken& a : added) {
    if (a.content.empty()) continue;
    t->added_to_id_[a.content] = a.id;
    limit = std::max(limit, static_cast<size_t>(a.id) + 1);
    if (a.normalized) {
      std::string pat = a.content;
      if (nfc) TRINITY_RETURN_IF_ERROR(NfcNormalizer::normalize(a.content, &pat));
      norm.push_back(a);
      norm_pat.push_back(std::move(pat));
    } else {
      raw.push_back(a);
      raw_pat.push_back(a.content);
    }
  }
  t->vocab_size_ = limit;
  t->added_index_by_id_.assign(limit, -1);
  for (size_t i = 0; i < added.size(); ++i) {
    if (!added[i].content.empty())
      t->added_index_by_id_[static_cast<size_t>(added[i].id)] = static_cast<int32_t>(i);
  }
  t->added_ = std::move(added);
  t->raw_matcher_ = AddedTokenMatcher(std::move(raw), std::move(raw_pat));
  t->normalized_matcher_ = AddedTokenMatcher(std::move(norm), std::move(norm_pat));

  if (decode) {
    if (decode->off.size() != limit + 1 || decode->known.size() != limit ||
        decode->off[limit] != decode->bytes.size())
      return parse_error("decode table does not match the vocabulary");
    t->decode_ = std::move(*decode);
  } else {
    t->decode_ = derive_decode_table(*t);
  }
  return std::shared_ptr<const Tokenizer>(std::move(t));
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  TRINITY_RETURN_IF_ERROR(encode_into(text, &ids));
  return ids;
}

Status Tokenizer::encode_into(std::string_view text, std::vector<int32_t>* ids) const {
  if (std::optional<size_t> bad = find_invalid_utf8(text)) {
    return invalid_argument("invalid UTF-8 at byte " + std::to_string(*bad));
  }
  if (text.empty()) return ok_status();
  if (raw_matcher_.empty()) {
    encode_normalized(text, ids);
    return ok_status();
  }
  // encode_normalized uses the other scratch buffers only.
  std::vector<Segment>& segs = t_encode.raw_segments;
  segs.clear();
  raw_matcher_.split(text, &segs);
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment s = segs[i];
    if (s.id >= 0) {
      ids->push_back(s.id);
    } else {
      encode_normalized(text.substr(s.begin, s.end - s.begin), ids);
    }
  }
  return ok_status();
}

void Tokenizer::encode_normalized(std::string_view text, std::vector<int32_t>* ids) const {
  std::string_view norm = text;
  if (nfc_ && !NfcNormalizer::quick_check(text)) {
    std::string& buf = t_encode.normalized;
    // utf8proc only fails on invalid input or allocation failure; text was validated.
    Status st = NfcNormalizer::normalize(text, &buf);
    TRINITY_CHECK(st.ok(), st.message().c_str());
    norm = buf;
  }
  if (normalized_matcher_.empty()) {
    encode_pretokens(norm, ids);
    return;
  }
  std::vector<Segment>& segs = t_encode.norm_segments;
  segs.clear();
  normalized_matcher_.split(norm, &segs);
  for (const Segment& s : segs) {
    if (s.id >= 0) {
      ids->push_back(s.id);
    } else {
      encode_pretokens(norm.substr(s.begin, s.end - s.begin), ids);
    }
  }
}

void Tokenizer::encode_pretokens(std::string_view text, std::vector<int32_t>* ids) const {
  splitter_.for_each(text, [&](std::string_view piece) {
    if (!PretokenCache::cacheable(piece)) {
      bpe_.encode_word(piece, ids);
      return;
    }
    uint64_t h = PretokenCache::hash(piece);
    if (cache_.lookup(piece, h, ids)) return;
    size_t before = ids->size();
    bpe_.encode_word(piece, ids);
    cache_.insert(piece, h, ids->data() + before, ids->size() - before);
  });
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= vocab_size_ ||
        !decode_.known[static_cast<size_t>(id)]) {
      continue;
    }
    const uint32_t b = decode_.off[static_cast<size_t>(id)];
    bytes.append(decode_.bytes.data() + b, decode_.off[static_cast<size_t>(id) + 1] - b);
  }
  return ByteLevelDecoder::finish(bytes);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto it = added_to_id_.find(token);
  if (it != added_to_id_.end()) return it->second;
  return bpe_.token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_size_) return std::string();
  int32_t idx = added_index_by_id_[static_cast<size_t>(id)];
  if (idx >= 0) return added_[static_cast<size_t>(idx)].content;
  const std::optional<std::string_view> tok = bpe_.id_to_token(id);
  return tok ? std::string(*tok) : std::string();
}

bool Tokenizer::is_special(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_size_) return false;
  int32_t idx = added_index_by_id_[static_cast<size_t>(id)];
  return idx >= 0 && added_[static_cast<size_t>(idx)].special;
}

}  // namespace trinity::tok
