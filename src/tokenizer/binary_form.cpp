#include "tokenizer/binary_form.h"

#include <cstring>

#include "core/disk_cache.h"
#include "core/file_util.h"
#include "core/sha256.h"
#include "tokenizer/tokenizer.h"

namespace trinity::tok {

namespace {

constexpr char kMagic[4] = {'T', 'T', 'O', 'K'};

Status truncated() {
  return parse_error("tokenizer binary form: truncated");
}

}  // namespace

Result<uint32_t> ByteReader::u32() {
  TRINITY_ASSIGN_OR_RETURN(std::string_view b, bytes(4));
  uint32_t v;
  std::memcpy(&v, b.data(), 4);
  return v;
}

Result<int32_t> ByteReader::i32() {
  TRINITY_ASSIGN_OR_RETURN(uint32_t v, u32());
  return static_cast<int32_t>(v);
}

Result<uint8_t> ByteReader::u8() {
  TRINITY_ASSIGN_OR_RETURN(std::string_view b, bytes(1));
  return static_cast<uint8_t>(b[0]);
}

Result<std::string_view> ByteReader::bytes(size_t n) {
  if (n > data_.size() - pos_) return truncated();
  std::string_view v(reinterpret_cast<const char*>(data_.data()) + pos_, n);
  pos_ += n;
  return v;
}

Result<std::string_view> ByteReader::str() {
  TRINITY_ASSIGN_OR_RETURN(uint32_t n, u32());
  return bytes(n);
}

Status ByteReader::align8() {
  const size_t pad = (8 - pos_ % 8) % 8;
  return bytes(pad).status();
}

void put_array(std::string* out, const void* data, size_t bytes) {
  out->append((8 - out->size() % 8) % 8, '\0');
  out->append(static_cast<const char*>(data), bytes);
}

void put_u32(std::string* out, uint32_t v) {
  out->append(reinterpret_cast<const char*>(&v), 4);
}

void put_i32(std::string* out, int32_t v) {
  put_u32(out, static_cast<uint32_t>(v));
}

void put_str(std::string* out, std::string_view s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// BpeModel: flags, unk, table sizes, byte ids, then the tables of BpeModel::Tables as laid out
// in memory (each 8-byte aligned).
void BpeModel::write_binary(std::string* out) const {
  out->push_back(
      static_cast<char>((fuse_unk_ ? 1 : 0) | (ignore_merges_ ? 2 : 0) | (unk_id_ ? 4 : 0)));
  put_i32(out, unk_id_.value_or(-1));
  for (size_t n : {t_.key_bytes.size(), t_.key_slots.size(), t_.token_bytes.size(),
                   t_.has_id.size(), t_.merges.size()})
    put_u32(out, static_cast<uint32_t>(n));
  for (int32_t b : byte_id_) put_i32(out, b);
  put_array(out, t_.key_bytes.data(), t_.key_bytes.size());
  put_array(out, t_.key_slots.data(), t_.key_slots.size_bytes());
  put_array(out, t_.token_bytes.data(), t_.token_bytes.size());
  put_array(out, t_.token_off.data(), t_.token_off.size_bytes());
  put_array(out, t_.has_id.data(), t_.has_id.size());
  put_array(out, t_.merges.data(), t_.merges.size_bytes());
}

Result<BpeModel> BpeModel::read_binary(ByteReader& in, std::shared_ptr<const void> owner) {
  const Status bad = parse_error("tokenizer binary form: malformed BPE model");
  BpeModel bpe;
  TRINITY_ASSIGN_OR_RETURN(uint8_t flags, in.u8());
  TRINITY_ASSIGN_OR_RETURN(int32_t unk, in.i32());
  uint32_t n[5];
  for (uint32_t& v : n) {
    TRINITY_ASSIGN_OR_RETURN(v, in.u32());
  }
  const uint32_t n_ids = n[3];
  for (int32_t& b : bpe.byte_id_) {
    TRINITY_ASSIGN_OR_RETURN(b, in.i32());
    if (b < -1 || b >= static_cast<int64_t>(n_ids)) return bad;
  }
  Tables& t = bpe.t_;
  TRINITY_ASSIGN_OR_RETURN(t.key_bytes, in.array<char>(n[0]));
  TRINITY_ASSIGN_OR_RETURN(t.key_slots, in.array<VocabSlot>(n[1]));
  TRINITY_ASSIGN_OR_RETURN(t.token_bytes, in.array<char>(n[2]));
  TRINITY_ASSIGN_OR_RETURN(t.token_off, in.array<uint32_t>(size_t{n_ids} + 1));
  TRINITY_ASSIGN_OR_RETURN(t.has_id, in.array<uint8_t>(n_ids));
  TRINITY_ASSIGN_OR_RETURN(t.merges, in.array<MergeEntry>(n[4]));
  t.owner = std::move(owner);
  // Every lookup must terminate (a free slot exists) and stay in bounds.
  auto pow2 = [](size_t x) { return x != 0 && (x & (x - 1)) == 0; };
  if (!pow2(t.key_slots.size()) || !pow2(t.merges.size())) return bad;
  bool key_free = false, merge_free = false;
  for (const VocabSlot& sl : t.key_slots) {
    if (sl.id < 0) {
      key_free = true;
    } else if (static_cast<uint32_t>(sl.id) >= n_ids || sl.off > t.key_bytes.size() ||
               sl.len > t.key_bytes.size() - sl.off) {
      return bad;
    }
  }
  for (const MergeEntry& e : t.merges) {
    if (e.key == kEmpty) {
      merge_free = true;
      continue;
    }
    const auto a = static_cast<uint32_t>(e.key >> 32), b = static_cast<uint32_t>(e.key);
    if (a >= n_ids || b >= n_ids || e.new_id < 0 || static_cast<uint32_t>(e.new_id) >= n_ids)
      return bad;
  }
  if (!key_free || !merge_free) return bad;
  for (size_t i = 0; i < n_ids; ++i)
    if (t.token_off[i] > t.token_off[i + 1]) return bad;
  if (t.token_off[0] != 0 || t.token_off[n_ids] != t.token_bytes.size()) return bad;
  bpe.fuse_unk_ = flags & 1;
  bpe.ignore_merges_ = flags & 2;
  if (flags & 4) {
    if (unk < 0 || static_cast<uint32_t>(unk) >= n_ids) return bad;
    bpe.unk_id_ = unk;
  }
  return bpe;
}

// Layout: "TTOK" version pattern nfc | BpeModel::write_binary | n_added, then per added token:
// id, content, flags (single_word lstrip rstrip normalized special as bits 0-4).
std::string tokenizer_to_binary(const Tokenizer& t) {
  std::string out(kMagic, sizeof(kMagic));
  put_u32(&out, kTokenizerBinaryVersion);
  put_u32(&out, static_cast<uint32_t>(t.split_pattern()));
  out.push_back(t.uses_nfc() ? 1 : 0);
  t.model().write_binary(&out);
  put_u32(&out, static_cast<uint32_t>(t.added_tokens().size()));
  for (const AddedToken& a : t.added_tokens()) {
    put_i32(&out, a.id);
    put_str(&out, a.content);
    out.push_back(static_cast<char>((a.single_word ? 1 : 0) | (a.lstrip ? 2 : 0) |
                                    (a.rstrip ? 4 : 0) | (a.normalized ? 8 : 0) |
                                    (a.special ? 16 : 0)));
  }
  const DecodeTable& d = t.decode_table();
  put_u32(&out, static_cast<uint32_t>(d.bytes.size()));
  put_u32(&out, static_cast<uint32_t>(d.known.size()));
  put_array(&out, d.bytes.data(), d.bytes.size());
  put_array(&out, d.off.data(), d.off.size_bytes());
  put_array(&out, d.known.data(), d.known.size());
  return out;
}

Result<std::shared_ptr<const Tokenizer>> tokenizer_from_binary(std::span<const uint8_t> data,
                                                               std::shared_ptr<const void> owner) {
  if (!owner || reinterpret_cast<uintptr_t>(data.data()) % 8 != 0) {
    auto copy = std::make_shared<std::vector<uint64_t>>((data.size() + 7) / 8);
    if (!data.empty()) std::memcpy(copy->data(), data.data(), data.size());
    data = {reinterpret_cast<const uint8_t*>(copy->data()), data.size()};
    owner = std::move(copy);
  }
  ByteReader in(data);
  TRINITY_ASSIGN_OR_RETURN(std::string_view magic, in.bytes(sizeof(kMagic)));
  if (std::memcmp(magic.data(), kMagic, sizeof(kMagic)) != 0)
    return parse_error("tokenizer binary form: bad magic");
  TRINITY_ASSIGN_OR_RETURN(uint32_t version, in.u32());
  if (version != kTokenizerBinaryVersion)
    return parse_error("tokenizer binary form: version " + std::to_string(version));
  TRINITY_ASSIGN_OR_RETURN(uint32_t pattern, in.u32());
  if (pattern > static_cast<uint32_t>(SplitPattern::kGpt2))
    return parse_error("tokenizer binary form: unknown split pattern");
  TRINITY_ASSIGN_OR_RETURN(uint8_t nfc, in.u8());
  TRINITY_ASSIGN_OR_RETURN(BpeModel model, BpeModel::read_binary(in, owner));
  TRINITY_ASSIGN_OR_RETURN(uint32_t n_added, in.u32());
  if (n_added > data.size()) return parse_error("tokenizer binary form: added token count");
  std::vector<AddedToken> added(n_added);
  for (AddedToken& a : added) {
    TRINITY_ASSIGN_OR_RETURN(a.id, in.i32());
    TRINITY_ASSIGN_OR_RETURN(std::string_view content, in.str());
    TRINITY_ASSIGN_OR_RETURN(uint8_t flags, in.u8());
    if (a.id < 0 || a.id >= kMaxAddedTokenId)
      return parse_error("tokenizer binary form: added token id out of range");
    a.content = std::string(content);
    a.single_word = flags & 1, a.lstrip = flags & 2, a.rstrip = flags & 4;
    a.normalized = flags & 8, a.special = flags & 16;
  }
  DecodeTable decode;
  TRINITY_ASSIGN_OR_RETURN(uint32_t n_bytes, in.u32());
  TRINITY_ASSIGN_OR_RETURN(uint32_t n_ids, in.u32());
  TRINITY_ASSIGN_OR_RETURN(decode.bytes, in.array<char>(n_bytes));
  TRINITY_ASSIGN_OR_RETURN(decode.off, in.array<uint32_t>(size_t{n_ids} + 1));
  TRINITY_ASSIGN_OR_RETURN(decode.known, in.array<uint8_t>(n_ids));
  for (size_t i = 0; i < n_ids; ++i)
    if (decode.off[i] > decode.off[i + 1])
      return parse_error("tokenizer binary form: decode table");
  decode.owner = std::move(owner);
  if (!in.at_end()) return parse_error("tokenizer binary form: trailing bytes");
  return Tokenizer::build_from_parts(std::move(model), static_cast<SplitPattern>(pattern), nfc != 0,
                                     std::move(added), std::move(decode));
}

Result<std::shared_ptr<const Tokenizer>> load_tokenizer_cached(const std::string& path,
                                                               const DiskCache* cache) {
  if (!cache || !cache->enabled()) return Tokenizer::load(path);
  const std::string file = is_directory(path) ? join_path(path, "tokenizer.json") : path;
  if (!file_exists(file)) return Tokenizer::load(path);  // its error names what is missing
  TRINITY_ASSIGN_OR_RETURN(std::string sha, sha256_file_memoized(file, cache));
  if (auto e = cache->get("tokenizer", sha, kTokenizerBinaryVersion)) {
    auto t = tokenizer_from_binary({e->payload, e->size}, e->file);
    if (t.ok()) return t;
    // A verified entry that does not decode was written by a buggy build: rebuild it.
  }
  // The entry is keyed by the sha256 of exactly the bytes parsed here.
  TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(file));
  sha = sha256_hex(text);
  TRINITY_ASSIGN_OR_RETURN(auto tok, Tokenizer::load_from_json_text(text, file));
  const std::string bin = tokenizer_to_binary(*tok);
  (void)cache->put("tokenizer", sha, kTokenizerBinaryVersion,
                   {{reinterpret_cast<const uint8_t*>(bin.data()), bin.size()}});
  return tok;
}

}  // namespace trinity::tok
