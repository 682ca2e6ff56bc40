#!/usr/bin/env python3
# tests/fuzz/make_seeds.py - write the seed corpora of the fuzz targets
#
# Seeds are small, real examples: the fixtures and examples of the Check
# suites, and protobuf messages encoded here by hand from
# proto/sentinel/v1/event.proto (so no protobuf package is needed). Run it
# from the repository root after a change to the wire schema or the
# fixtures; it rewrites tests/fuzz/corpus/ and the result is committed.
import glob
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    return varint(num << 3 | wire) + payload


def vint(num, n):
    return field(num, 0, varint(n))


def blob(num, data):
    if isinstance(data, str):
        data = data.encode()
    return field(num, 2, varint(len(data)) + data)


def dbl(num, x):
    return field(num, 1, struct.pack("<d", x))


def case_event(eid, site, source, region, cond, onset, report_ms, count=1,
               revision=0, age=-1, sex=0, lab=0):
    m = blob(1, eid) + (vint(2, revision) if revision else b"")
    m += blob(3, site) + vint(4, source) + blob(5, region) + blob(6, cond)
    if onset is not None:
        m += vint(7, onset) + vint(8, 1)
    m += vint(9, report_ms) + vint(10, count) + vint(11, age)
    return m + vint(12, sex) + vint(13, lab)


EVENTS = [
    case_event("EV-2026-000123", "bj-h001", 2, "110105", "ILI", 20780,
               1795597200000, 3, 2, 34, 2, 1),
    case_event("e1", "s1", 1, "110105", "A00", None, 1795597200000),
    case_event("ph-77", "ph-0042", 3, "310101", "diarrhoea", 20779,
               1795500000000, 120),
]


def evidence(key, cond, region, source, site, det, day, obs, exp, ub, score):
    return (blob(1, key) + blob(2, cond) + blob(3, region) + vint(4, source)
            + blob(5, site) + blob(6, det) + vint(7, day) + dbl(8, obs)
            + dbl(9, exp) + dbl(10, ub) + dbl(11, score))


def alert(rule, level, cond, region, day, raised, rows, summary):
    m = blob(1, rule + "|" + cond + "|" + region) + blob(2, rule)
    m += vint(3, level) + blob(4, cond) + blob(5, region) + vint(6, day)
    m += vint(7, raised)
    for r in rows:
        m += blob(8, r)
    return m + blob(9, summary)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy_files(target, pattern, transform=None):
    for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
        with open(path, "rb") as f:
            data = f.read()
        write(target, os.path.basename(path), transform(data) if transform else data)


JSON_EVENT = ('{"event_id":"EV-2026-000123","revision":2,"site_id":"bj-h001",'
              '"source":"fever_clinic","region":"110105","condition":"ILI",'
              '"onset_date":"2026-11-23","report_time":"2026-11-25T09:30:00+08:00",'
              '"count":3,"age_years":34,"sex":"female","lab_confirmed":true}')
JSON_MIN = ('{"event_id":"e1","site_id":"s1","source":"hospital",'
            '"region":"110105","condition":"A00",'
            '"report_time":"2026-11-25T08:00:00Z"}')
JSON_NULLS = ('{"event_id":"e2","onset_date":null,"age_years":null,'
              '"sex":null,"lab_confirmed":null,"condition":"fever",'
              '"report_time":"2026-11-21T09:00:00Z"}')
LINE_A = ('{"event_id":"e1","condition":"ili","onset_date":"2026-11-20",'
          '"report_time":"2026-11-21T08:00:00+08:00","sex":"female",'
          '"age_years":34}')
LINE_B = ('{"event_id":"e2","site_id":"F0009","source":"fever_clinic",'
          '"region":"110108","condition":"fever",'
          '"report_time":"2026-11-21T09:00:00Z","count":3}')
CSV_A = ("Case No,Patient Name,Diagnosis,Onset,Reported,Sex,Age\n"
         "C-1,Li Si,ili,20/11/2026,2026-11-21T08:00:00+08:00,F,34\n"
         "C-2,Wang Wu,fever,21/11/2026,22/11/2026,m,\n")
CSV_B = ("\xEF\xBB\xBF\"Case No\";Diagnosis;Onset;Reported;Sex;Age\r\n"
         "\"C;1\";\"fever \"\"high\"\"\";01/02/2026;01/02/2026;;\r\n"
         "\"C\n2\";ili;01/02/2026;01/02/2026;;5\r\n\r\n"
         "C-3;rash;01/02/2026;01/02/2026;u;7")
CSV_C = ("Case No,Diagnosis,Onset,Reported,Sex,Age\n"
         "C-9,A00.1,19/11/2026,20/11/2026,f,61\n"
         "C-10,,19/11/2026,20/11/2026,x,-3\n")


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    for i, ev in enumerate(EVENTS):
        write("event_decode", "event%d.pb" % i, ev)
    write("event_json", "example.json", JSON_EVENT)
    write("event_json", "minimal.json", JSON_MIN)
    write("event_json", "nulls.json", JSON_NULLS)
    write("event_json", "personal.json", '{"event_id":"e","name":"Zhang San"}')
    copy_files("config", "tests/common/configs/*.yaml")
    copy_files("config", "deploy/*.yaml")
    row = evidence("ILI|110105|fever_clinic", "ILI", "110105", 2, "",
                   "ears-c2", 20780, 17, 6.2, 11.3, 4.1)
    row2 = evidence("ILI|110108|pharmacy", "ILI", "110108", 3, "ph-1",
                    "farrington", 20780, 40, float("nan"), 30.5, 2.0)
    write("alert", "alert.pb", alert("multi-source", 2, "ILI", "110105", 20780,
                                     1795657899000, [row, row2],
                                     "ILI above baseline in 2 sources"))
    write("alert", "alert.json", (
        '{"alert_key":"multi-source|ILI|110105","level":"yellow",'
        '"rule":"multi-source","condition":"ILI","region":"110105",'
        '"day":"2026-11-24","raised":"2026-11-25T13:51:39.000Z",'
        '"summary":"ILI above baseline","evidence":[{"series_key":'
        '"ILI|110105|fever_clinic","condition":"ILI","region":"110105",'
        '"source":"fever_clinic","site_id":"","detector":"ears-c2",'
        '"day":"2026-11-24","observed":17,"expected":6.2,'
        '"upperbound":11.3,"score":null}]}'))
    batch = blob(1, "bj-h001") + vint(2, 1) + b"".join(blob(3, e) for e in EVENTS)
    write("batch", "batch.pb", blob(1, batch + vint(4, 0x5EED)))
    write("batch", "ack.pb", blob(2, blob(1, "bj-h001") + vint(2, 3)))
    write("batch", "heartbeat.pb", blob(3, blob(1, "bj-h001") + vint(2, 3)
                                        + vint(3, 1795657899000)))
    write("feed_json", "two.jsonl", LINE_A + "\n" + LINE_B + "\n")
    write("feed_json", "blank_lines.jsonl", "\r\n" + LINE_A + "\r\n\n  \n" + LINE_B)
    write("feed_json", "mixed.jsonl", LINE_A + '\n{"event_id":"e9",\n'
          '{"event_id":"e3","name":"Zhang San"}\n'
          '{"event_id":"e4","colour":"red"}\n' + LINE_B + "\n")
    write("feed_csv", "export.csv", CSV_A)
    write("feed_csv", "quoted.csv", CSV_B)
    write("feed_csv", "codes.csv", CSV_C)
    copy_files("hl7", "tests/collectors/hl7/*.hl7")
    copy_files("mllp", "tests/collectors/hl7/*.hl7",
               lambda m: b"\x0b" + m + b"\x1c\x0d")
    with open(os.path.join(ROOT, "tests/collectors/hl7/a01.hl7"), "rb") as f:
        a01 = f.read()
    write("mllp", "stream.bin", b"junk\x0b" + a01 + b"\x1c\x0d\x0b" + a01[:40]
          + b"\x0b" + a01 + b"\x1c\x0d")
    api = [("list", b"\0GET /alerts?limit=5\n"),
           ("show", b"\0GET /alerts/1\n"),
           ("ack", b'\0POST /alerts/1/ack\n{"by":"li.wei",'
                   b'"note":"checking with the lab"}'),
           ("verify", b'\0POST /alerts/2/verify\n{"by":"li.wei",'
                      b'"outcome":"confirmed","grade":"II",'
                      b'"note":"cluster confirmed"}'),
           ("no_token", b"\1GET /alerts\n"),
           ("wrong_token", b'\2POST /alerts/1/ack\n{"by":"x"}')]
    for name, data in api:
        write("http_api", name, data)


if __name__ == "__main__":
    main()
