// json_mini.h -- a tiny JSON reader for the test data (golden values).
//
// Enough for tests/data/*.json: objects (key order kept), arrays, numbers (parsed with strtod,
// so decimal doubles written by Python round-trip exactly), strings with the usual escapes,
// true/false/null. Errors throw std::runtime_error with the byte offset. No third-party code.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace json_mini {

struct Value {
    enum Type { Null, Bool, Number, String, Array, Object };
    Type type = Null;
    bool boolean = false;
    double number = 0.0;
    std::string str;
    std::vector<Value> arr;
    std::vector<std::pair<std::string, Value>> obj;  // insertion order kept

    bool is_null() const { return type == Null; }
    bool is_number() const { return type == Number; }
    bool is_array() const { return type == Array; }
    bool is_object() const { return type == Object; }
    bool is_string() const { return type == String; }

    bool has(const std::string& key) const {
        if (type != Object) return false;
        for (const auto& kv : obj)
            if (kv.first == key) return true;
        return false;
    }
    const Value& operator[](const std::string& key) const {
        if (type != Object) throw std::runtime_error("json: not an object (key " + key + ")");
        for (const auto& kv : obj)
            if (kv.first == key) return kv.second;
        throw std::runtime_error("json: missing key " + key);
    }
    const Value& operator[](size_t i) const {
        if (type != Array) throw std::runtime_error("json: not an array");
        if (i >= arr.size()) throw std::runtime_error("json: index out of range");
        return arr[i];
    }
    size_t size() const { return type == Array ? arr.size() : type == Object ? obj.size() : 0; }
    double num() const {
        if (type != Number) throw std::runtime_error("json: not a number");
        return number;
    }
    int64_t as_int() const {
        double d = num();
        int64_t i = static_cast<int64_t>(d);
        if (static_cast<double>(i) != d) throw std::runtime_error("json: not an integer");
        return i;
    }
    std::vector<double> as_doubles() const {
        if (type != Array) throw std::runtime_error("json: not an array of numbers");
        std::vector<double> out;
        out.reserve(arr.size());
        for (const Value& v : arr) out.push_back(v.num());
        return out;
    }
    std::vector<float> as_floats() const {
        std::vector<double> d = as_doubles();
        return std::vector<float>(d.begin(), d.end());
    }
};

class Parser {
public:
    explicit Parser(const std::string& text) : s_(text) {}

    Value parse() {
        Value v = value();
        skip_ws();
        if (pos_ != s_.size()) fail("trailing characters");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error("json: " + what + " at offset " + std::to_string(pos_));
    }
    void skip_ws() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }
    char peek() {
        skip_ws();
        if (pos_ >= s_.size()) fail("unexpected end");
        return s_[pos_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    bool literal(const char* word) {
        size_t n = std::char_traits<char>::length(word);
        if (s_.compare(pos_, n, word) == 0) {
            pos_ += n;
            return true;
        }
        return false;
    }

    Value value() {
        char c = peek();
        Value v;
        if (c == '{') {
            v.type = Value::Object;
            ++pos_;
            if (peek() == '}') {
                ++pos_;
                return v;
            }
            for (;;) {
                if (peek() != '"') fail("expected a key");
                std::string key = string_body();
                expect(':');
                v.obj.emplace_back(std::move(key), value());
                char d = peek();
                ++pos_;
                if (d == '}') break;
                if (d != ',') fail("expected ',' or '}'");
            }
        } else if (c == '[') {
            v.type = Value::Array;
            ++pos_;
            if (peek() == ']') {
                ++pos_;
                return v;
            }
            for (;;) {
                v.arr.push_back(value());
                char d = peek();
                ++pos_;
                if (d == ']') break;
                if (d != ',') fail("expected ',' or ']'");
            }
        } else if (c == '"') {
            v.type = Value::String;
            v.str = string_body();
        } else if (literal("true")) {
            v.type = Value::Bool;
            v.boolean = true;
        } else if (literal("false")) {
            v.type = Value::Bool;
        } else if (literal("null")) {
            v.type = Value::Null;
        } else if (literal("NaN")) {  // Python's json.dump writes these
            v.type = Value::Number;
            v.number = std::strtod("nan", nullptr);
        } else if (literal("Infinity")) {
            v.type = Value::Number;
            v.number = std::strtod("inf", nullptr);
        } else if (literal("-Infinity")) {
            v.type = Value::Number;
            v.number = -std::strtod("inf", nullptr);
        } else {
            const char* begin = s_.c_str() + pos_;
            char* end = nullptr;
            double d = std::strtod(begin, &end);
            if (end == begin) fail("bad value");
            pos_ += static_cast<size_t>(end - begin);
            v.type = Value::Number;
            v.number = d;
        }
        return v;
    }

    static void put_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    unsigned hex4() {
        if (pos_ + 4 > s_.size()) fail("bad \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            char h = s_[pos_++];
            v <<= 4;
            if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
            else fail("bad hex digit");
        }
        return v;
    }
    std::string string_body() {
        expect('"');
        std::string out;
        for (;;) {
            if (pos_ >= s_.size()) fail("unterminated string");
            char c = s_[pos_++];
            if (c == '"') break;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) fail("unterminated escape");
            char e = s_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 6 <= s_.size() && s_[pos_] == '\\' &&
                        s_[pos_ + 1] == 'u') {
                        pos_ += 2;
                        unsigned lo = hex4();
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    put_utf8(out, cp);
                    break;
                }
                default: fail("bad escape");
            }
        }
        return out;
    }

    const std::string& s_;
    size_t pos_ = 0;
};

inline Value parse(const std::string& text) { return Parser(text).parse(); }

inline Value parse_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("json: cannot open " + path);
    std::string text;
    char buf[1 << 16];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
    std::fclose(f);
    return parse(text);
}

}  // namespace json_mini
