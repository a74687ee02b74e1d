#!/usr/bin/env python3
"""Writes the text seed inputs of fuzz/corpus/line_splitter and fuzz/corpus/json, taken from
the unit tests' inputs (tests/sources/line_splitter_test.cc, tests/json/json_test.cc) and two
lines of the lab's Meetup data. Usage: python3 fuzz/make_text_seeds.py [lab data file]"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(corpus, name, data):
    d = os.path.join(HERE, "corpus", corpus)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# Line splitter: byte 0 picks maxLineBytes (>= 240: the default 1 MiB, else 1 + b % 40),
# byte 1 seeds the chunking; the rest is the stream.
splitter = {
    "lf": b"a\nb\n",
    "crlf": b"a\r\nb\r\n",
    "cr_kept": b"a\r\r\nx\rx\n",
    "empty_lines": b"\n\na\n\n",
    "no_final_newline": b"a\nlast",
    "final_cr": b"a\nlast\r",
    "not_utf8": b"\xff\xfe\x80\ncaf\xc3\xa9\n",
    "nul": b"nul\x00byte\n",
    "mixed": b"alpha\r\n\nbeta\ngamma\r\nend",
}
for name, text in splitter.items():
    write("line_splitter", name, b"\xf0\x07" + text)
# Small limits: lines at, just over and far over the limit, with and without '\r'.
write("line_splitter", "limit_10", bytes([9, 3]) + b"aaaaaaaaaa\nbbbbbbbbbbb\nok\naaaaaaaaaa\r\n" +
      b"c" * 50 + b"\nend")
write("line_splitter", "limit_4", bytes([3, 200]) + b"123456\n1234567890\nok\nabcdefg")

# JSON: one line, optionally followed by '\n' and a path to look up.
json_lines = {
    "rsvp_small": b'{"venue":{"venue_name":"Couchbase San Francisco","lon":-122.397354,"lat":37.790005,'
                  b'"venue_id":21741962},"visibility":"public","guests":0,"member":{"member_id":8301128,'
                  b'"photo":"http:\\/\\/photos3.meetupstatic.com\\/x.jpeg","member_name":"Che Hsu"},'
                  b'"event":{"event_id":"226259580"},"group":{"group_topics":[{"urlkey":"java",'
                  b'"topic_name":"Java"},{"urlkey":"php","topic_name":"PHP"}],"group_city":"San Francisco",'
                  b'"group_lat":37.75},"flag":true,"off":false,"nothing":null}'
                  b"\ngroup.group_topics.1.topic_name",
    "spaces": b'  { "a" : [ 1 , {"b" : "x}]y"} ] , "c" : "q\\"}" , "d":-1.5e3 }  \na.1.b',
    "escapes": b'{"a":"x\\\\","b":"\\\\\\"q","o":{"k":"}\\\\"},"c":2}\no.k',
    "duplicates": b'{"k\\u0065y":1,"key":2,"x":{"a":"first","a":"second"}}\nx.a',
    "unicode": b'{"s":"\\ud83d\\ude00!","t":"caf\\u00e9","u":"a\\"b\\\\c\\nd\\te\\u0041"}\ns',
    "int_limits": b'{"n":-9223372036854775808,"m":9223372036854775807,"u":18446744073709551615}\nu',
    "floats": b'{"n":1e3,"m":1.0,"z":-0.0,"b":"true"}',
    "crlf": b'{"venue":{"venue_name":"x"}}\r',
    "truncated": b'{"venue":{"venue_name":"x"},"rsvp_id":',
    "trailing": b'{"venue":1} {"venue":2}',
    "bad_escape": b'{"venue":{},"a":"\\x"}',
    "bad_literal": b'{"venue":{},"a":tru}',
    "huge_number": b'{"venue":{},"a":123456789012345678901234567890}',
    "scalar": b'"http:\\/\\/photos3.meetupstatic.com\\/x.jpeg"',
    "array_root": b'[ 1 , {"b" : "x}]y"} , [], {}, null]\n0',
    "bad_path": b'{"a":{"b":1}}\na..b',
    "http_header": b"HTTP/1.1 200 OK",
}
for name, text in json_lines.items():
    write("json", name, text)
lab = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "data", "lab10", "meetup.data.1")
if os.path.exists(lab):
    with open(lab, "rb") as f:
        lines = f.read().split(b"\n")
    write("json", "lab_rsvp_1", lines[0] + b"\nvenue.venue_name")
    write("json", "lab_rsvp_2", lines[1] + b"\ngroup.group_topics.0.topic_name")
