// Small text helpers for per-record code: splitting without allocating, case changes.
//
// In flatMap, split with words(line) or pieces(line, sep): lazy ranges of views into the line,
// consumed as flatMap pulls them, so a line costs no allocation. splitWords() and split()
// return the same pieces in a std::vector, for code that indexes or keeps them; in a flatMap
// over every record the vector per line is pure cost (one allocation per line).
#pragma once

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace dstream {

// The separators of words() and splitWords(): ' ', '\t', '\n', '\v', '\f', '\r' (Python's
// str.split() with no argument, on ASCII), tested with two compares.
constexpr bool isWordSeparator(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The whitespace-separated words of a string, lazily (see words()).
class Words {
 public:
  class iterator {
   public:
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(std::string_view rest) : rest_(rest) { next(); }
    std::string_view operator*() const { return word_; }
    iterator& operator++() {
      next();
      return *this;
    }
    void operator++(int) { next(); }
    bool operator==(std::default_sentinel_t) const { return done_; }

   private:
    void next() {
      std::size_t i = 0;
      while (i < rest_.size() && isWordSeparator(rest_[i])) ++i;
      if (i == rest_.size()) {
        done_ = true;
        return;
      }
      std::size_t end = i + 1;
      while (end < rest_.size() && !isWordSeparator(rest_[end])) ++end;
      word_ = rest_.substr(i, end - i);
      rest_.remove_prefix(end);
    }
    std::string_view rest_;
    std::string_view word_;
    bool done_ = false;
  };
  explicit Words(std::string_view s) : s_(s) {}
  iterator begin() const { return iterator(s_); }
  std::default_sentinel_t end() const { return {}; }

 private:
  std::string_view s_;
};

// The pieces of a string between separators, lazily (see pieces()).
class Pieces {
 public:
  class iterator {
   public:
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(std::string_view s, char separator) : rest_(s), separator_(separator) { next(); }
    std::string_view operator*() const { return piece_; }
    iterator& operator++() {
      next();
      return *this;
    }
    void operator++(int) { next(); }
    bool operator==(std::default_sentinel_t) const { return done_; }

   private:
    void next() {
      if (last_) {
        done_ = true;
        return;
      }
      std::size_t end = rest_.find(separator_);
      if (end == std::string_view::npos) {
        piece_ = rest_;
        last_ = true;
        return;
      }
      piece_ = rest_.substr(0, end);
      rest_.remove_prefix(end + 1);
    }
    std::string_view rest_;
    std::string_view piece_;
    char separator_ = ' ';
    bool last_ = false;
    bool done_ = false;
  };
  Pieces(std::string_view s, char separator) : s_(s), separator_(separator) {}
  iterator begin() const { return iterator(s_, separator_); }
  std::default_sentinel_t end() const { return {}; }

 private:
  std::string_view s_;
  char separator_;
};

// The whitespace-separated words of `s` as a lazy range of views into `s` (Python's
// str.split() with no argument): `lines.flatMap([](std::string_view l) { return words(l); })`.
inline Words words(std::string_view s) { return Words(s); }

// The pieces of `s` between separators as a lazy range of views into `s`, empty pieces kept
// (Python's str.split(sep)): "a,,b" gives "a", "", "b"; "" gives one empty piece.
inline Pieces pieces(std::string_view s, char separator) { return Pieces(s, separator); }

// pieces(s, separator) as a std::vector of views into `s`.
inline std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> out;
  for (std::string_view piece : pieces(s, separator)) out.push_back(piece);
  return out;
}

// words(s) as a std::vector of views into `s`.
inline std::vector<std::string_view> splitWords(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::string_view word : words(s)) out.push_back(word);
  return out;
}

// ASCII upper case (Python's str.upper() on ASCII text; other bytes are kept).
inline std::string toUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace dstream
