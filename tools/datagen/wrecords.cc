#include <cstring>

#include "datagen/datagen.h"
#include "dstream/error.h"

namespace dstream::datagen {
namespace {

constexpr uint64_t kMaxTabulated = uint64_t{1} << 24;

void checkVocab(uint64_t vocab) {
  if (vocab == 0 || vocab > kWMaxVocab) {
    throw Error(ErrorCode::kInvalidArgument,
                "W-records vocabulary size " + std::to_string(vocab) +
                    " is out of range; use 1.." + std::to_string(kWMaxVocab));
  }
}

}  // namespace

void vocabWord(uint64_t idx, char* out) noexcept {
  // 128-bit product keeps the formula exact for every idx, not only idx < 2^32.
  unsigned __int128 wide = static_cast<unsigned __int128>(idx) * 2654435761u + 12345u;
  auto v = static_cast<uint64_t>(wide % kWMaxVocab);
  for (int i = kWWordLetters - 1; i >= 0; --i) {
    out[i] = static_cast<char>('a' + v % 26);
    v /= 26;
  }
}

std::string vocabWord(uint64_t idx) {
  std::string word(kWWordLetters, 'a');
  vocabWord(idx, word.data());
  return word;
}

WRecords::WRecords(uint64_t vocab) : vocab_(vocab) {
  checkVocab(vocab);
  if (vocab <= kMaxTabulated) {
    table_.resize(vocab * kWWordLetters);
    for (uint64_t i = 0; i < vocab; ++i) vocabWord(i, table_.data() + i * kWWordLetters);
  }
}

void WRecords::write(uint64_t r, char* out) const noexcept {
  for (std::size_t j = 0; j < kWWordsPerRecord; ++j) {
    uint64_t idx = splitmix64(r * kWWordsPerRecord + j) % vocab_;
    char* word = out + j * (kWWordLetters + 1);
    if (!table_.empty()) {
      std::memcpy(word, table_.data() + idx * kWWordLetters, kWWordLetters);
    } else {
      vocabWord(idx, word);
    }
    word[kWWordLetters] = ' ';
  }
  out[kWRecordBytes - 1] = '\n';
}

void WRecords::append(std::string& out, uint64_t first, uint64_t n) const {
  std::size_t at = out.size();
  out.resize(at + n * kWRecordBytes);
  for (uint64_t i = 0; i < n; ++i) write(first + i, out.data() + at + i * kWRecordBytes);
}

void writeWRecord(uint64_t r, uint64_t vocab, char* out) {
  checkVocab(vocab);
  for (std::size_t j = 0; j < kWWordsPerRecord; ++j) {
    char* word = out + j * (kWWordLetters + 1);
    vocabWord(splitmix64(r * kWWordsPerRecord + j) % vocab, word);
    word[kWWordLetters] = ' ';
  }
  out[kWRecordBytes - 1] = '\n';
}

void appendWRecords(std::string& out, uint64_t first, uint64_t n, uint64_t vocab) {
  WRecords(vocab).append(out, first, n);
}

}  // namespace dstream::datagen
