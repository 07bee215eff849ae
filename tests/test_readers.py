"""Input readers: planning, WARC/WET/ARC on real and broken files, rows formats, splitting."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curation.config import InputConfig
from curation.io.readers import RAW_SCHEMA, InputError, plan_input_tasks, read_task
from curation.testing.warc_writer import gzip_member, http_response, record_id, sha1_digest, warc_record
from curation.schema import DOCUMENT_COLUMNS, reject_counts

HTML = "<html><head><title>t</title></head><body><p>{}</p></body></html>"


def read_all(cfg: InputConfig) -> tuple[pa.Table, pa.Table, list[dict]]:
    """Every task of ``cfg``, concatenated in task order."""
    raws, rejects, counters = [], [], []
    for task in plan_input_tasks(cfg):
        raw, rej, c = read_task(task, cfg)
        assert raw.schema == RAW_SCHEMA
        assert rej.column_names == [*DOCUMENT_COLUMNS, "reason"]
        raws.append(raw)
        rejects.append(rej)
        counters.append(c)
    return pa.concat_tables(raws), pa.concat_tables(rejects), counters


def skipped(counters: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counters:
        for k, v in c.get("skipped", {}).items():
            out[k] = out.get(k, 0) + v
    return out


def response(n: int, body: bytes, ctype: str = "text/html; charset=utf-8", status: str = "200 OK", **kw) -> bytes:
    http = http_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))], body)
    return warc_record(
        "response",
        record_id("t", n),
        f"2024-03-0{1 + n % 9}T10:00:00Z",
        http,
        [("WARC-Target-URI", f"https://example.org/page/{n}"), ("Content-Type", "application/http; msgtype=response")],
        **kw,
    )


def write_warc(path: Path, records: list[bytes], gz: bool = True) -> Path:
    path.write_bytes(b"".join(gzip_member(r) if gz else r for r in records))
    return path


def page(n: int) -> bytes:
    return HTML.format(f"Page number {n} says hello. " * (n % 7 + 1)).encode()


# --- real files -------------------------------------------------------------------------------


def test_bench_pages_every_response_is_read_or_counted(shared_data: Path) -> None:
    path = shared_data / "crawl" / "bench-pages.warc.gz"
    manifest = [json.loads(line) for line in (shared_data / "crawl" / "bench-pages.manifest.jsonl").open()]
    raw, rejects, counters = read_all(InputConfig(paths=[str(path)]))
    ids = raw.column("id").to_pylist() + rejects.column("id").to_pylist()
    assert sorted(ids) == sorted(m["record_id"] for m in manifest) and len(ids) == 1163
    assert sum(c["records_read"] for c in counters) == 1163
    assert sum(c["records_other"] for c in counters) == 1  # the warcinfo
    by_id = {m["record_id"]: m for m in manifest}
    first = raw.slice(0, 1).to_pylist()[0]
    assert first["url"] == by_id[first["id"]]["url"] and first["content_kind"] == "html"
    assert first["date"] == by_id[first["id"]]["warc_date"]
    assert json.loads(first["meta"])["http_status"] == 200


def test_bench_pages_splits_equal_whole(shared_data: Path) -> None:
    path = str(shared_data / "crawl" / "bench-pages.warc.gz")
    whole, _, _ = read_all(InputConfig(paths=[path]))
    cfg = InputConfig(paths=[path], split_bytes=3_000_000)
    tasks = plan_input_tasks(cfg)
    assert len(tasks) > 8 and [t.task_id for t in tasks][:2] == ["00000-0000", "00000-0001"]
    split, _, _ = read_all(cfg)
    assert split.equals(whole)


EDGE_CASES = {  # file: (raw records, rejects by reason, other records, skipped by reason)
    "resiliparse-clipped.warc.gz": (0, {"read.truncated": 1}, 0, {}),
    "warcio-bad.arc": (0, {"read.malformed": 3}, 1, {}),
    "warcio-example-bad-non-chunked.warc.gz": (1, {}, 5, {}),
    "warcio-example-bad.warc.gz.bad": (1, {"read.http_status": 1}, 4, {}),
    "warcio-example-digest.warc": (0, {}, 4, {}),
    "warcio-example-iana.org-chunked.warc": (1, {}, 2, {}),
    "warcio-example-resource.warc.gz": (0, {}, 3, {}),
    "warcio-example-space-in-target-uri.warc.gz": (0, {}, 2, {}),
    "warcio-example-space-in-url.arc": (1, {}, 1, {}),
    "warcio-example-trunc.warc": (1, {}, 3, {"read.malformed_stream": 1}),
    "warcio-example-wget-bad-target-uri.warc.gz": (1, {}, 5, {}),
    "warcio-example-wrong-chunks.warc.gz": (1, {}, 1, {}),
    "warcio-example.arc": (1, {}, 1, {}),
    "warcio-example.arc.gz": (1, {}, 1, {}),
    "warcio-example.warc": (1, {}, 5, {}),
    "warcio-example.warc.gz": (1, {}, 5, {}),
    "warcio-post-test.warc.gz": (0, {"read.non_html": 3}, 3, {}),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_read_without_exception(shared_data: Path, name: str) -> None:
    path = shared_data / "crawl" / "edge-cases" / name
    fmt = "warc" if name.endswith(".bad") else "auto"
    raw, rejects, counters = read_all(InputConfig(paths=[str(path)], format=fmt))
    n_raw, reasons, other, skip = EDGE_CASES[name]
    assert (raw.num_rows, reject_counts(rejects), sum(c["records_other"] for c in counters)) == (n_raw, reasons, other)
    assert skipped(counters) == skip
    for row in raw.to_pylist():
        assert row["url"].startswith("http") and " " not in row["url"] and "<" not in row["url"]
        assert "</html>" in row["content"].lower() or "<html" in row["content"].lower()


def test_chunked_transfer_encoding_is_undone(shared_data: Path) -> None:
    path = shared_data / "crawl" / "edge-cases" / "warcio-example-iana.org-chunked.warc"
    raw, _, _ = read_all(InputConfig(paths=[str(path)]))
    html = raw.column("content")[0].as_py()
    assert html.lstrip().lower().startswith("<!doctype html") and html.rstrip().endswith("</html>")


def test_arc_ids_are_stable(shared_data: Path) -> None:
    path = str(shared_data / "crawl" / "edge-cases" / "warcio-example.arc")
    first, _, _ = read_all(InputConfig(paths=[path]))
    again, _, _ = read_all(InputConfig(paths=[path]))
    assert first.column("id").to_pylist() == again.column("id").to_pylist() == ["warcio-example.arc:151"]


@pytest.mark.parametrize(
    ("name", "responses"),
    [
        ("cc-sample-resiliparse-cc-main-2020-34.warc.gz", 16),
        ("cc-sample-dolma-0000.warc.gz", 22),
        ("cc-sample-dolma-0001.warc.gz", 15),
        ("cc-sample-whirlwind-cc-main-2024-22.warc.gz", 1),
    ],
)
def test_common_crawl_samples(shared_data: Path, name: str, responses: int) -> None:
    raw, rejects, counters = read_all(InputConfig(paths=[str(shared_data / "crawl" / name)]))
    assert raw.num_rows + rejects.num_rows == responses
    assert raw.num_rows >= responses - 1
    assert not skipped(counters)


def test_wet_conversion_records_are_text(shared_data: Path) -> None:
    path = shared_data / "crawl" / "cc-sample-whirlwind-cc-main-2024-22.warc.wet.gz"
    raw, rejects, counters = read_all(InputConfig(paths=[str(path)]))
    assert raw.num_rows == 1 and rejects.num_rows == 0 and counters[0]["records_other"] == 1
    row = raw.to_pylist()[0]
    assert row["content_kind"] == "text" and row["url"].startswith("http") and len(row["content"]) > 100
    assert plan_input_tasks(InputConfig(paths=[str(path)]))[0].format == "wet"


# --- generated WARCs ----------------------------------------------------------------------------


def test_payload_rules(tmp_path: Path) -> None:
    records = [
        response(0, page(0)),
        response(1, b"\x89PNG\r\n\x1a\n" + bytes(range(256)), ctype="image/png"),
        response(2, b""),
        response(3, b"<html>moved</html>", status="301 Moved Permanently"),
        response(4, HTML.format("Caf\xe9 cr\xe8me \u20ac5").encode("cp1252"), ctype="text/html; charset=windows-1252"),
        response(
            5,
            HTML.format("Gr\xfc\xdfe").encode("latin-1").replace(b"<head>", b'<head><meta charset="iso-8859-1">'),
            ctype="text/html",
        ),
        response(6, b"<html>" + b"x" * 5000 + b"</html>"),
        response(7, bytes([0xFF, 0xFE, 0x00, 0x00]) * 200, ctype="text/html"),
        response(8, page(8), status="OK OK"),
        response(9, page(9), ctype="application/octet-stream"),  # a type that says nothing: sniffed
    ]
    path = write_warc(tmp_path / "rules.warc.gz", records)
    raw, rejects, _ = read_all(InputConfig(paths=[str(path)], max_record_bytes=4000))
    reasons = dict(zip(rejects.column("id").to_pylist(), rejects.column("reason").to_pylist()))
    assert reasons == {
        record_id("t", 1): "read.non_html",
        record_id("t", 2): "read.empty",
        record_id("t", 3): "read.http_status",
        record_id("t", 6): "read.too_large",
        record_id("t", 7): "read.bad_encoding",
        record_id("t", 8): "read.malformed",
    }
    contents = dict(zip(raw.column("id").to_pylist(), raw.column("content").to_pylist()))
    assert "Caf\xe9 cr\xe8me \u20ac5" in contents[record_id("t", 4)]
    assert "Gr\xfc\xdfe" in contents[record_id("t", 5)]
    assert contents[record_id("t", 9)] == page(9).decode()
    assert raw.column("date").to_pylist()[0] == "2024-03-01T10:00:00Z"


def bare_response(n: int, html: bytes, warc_type: str | None) -> bytes:
    """A response record whose block is the page alone, no HTTP status line or headers: what
    Wayback-style exporters and some recording proxies write. ``warc_type``: the record's own
    Content-Type (None: absent; these tools write ``text/html`` or keep ``application/http``)."""
    headers = [("WARC-Target-URI", f"https://example.org/capture/{n}"), ("WARC-Payload-Digest", sha1_digest(html))]
    if warc_type:
        headers.append(("Content-Type", warc_type))
    if n % 3 == 0:
        headers.append(("WARC-Identified-Payload-Type", "text/html"))
    return warc_record("response", record_id("bare", n), "2024-03-01T10:00:00Z", html, headers)


def bare_pages() -> list[tuple[bytes, str | None]]:
    """Captures as such tools store them: some with a blank line in the markup, some on one line,
    some in a legacy charset declared only in the page, and one that is not HTML at all."""
    pages: list[tuple[bytes, str | None]] = []
    for n in range(24):
        body = f"<p>Capture {n} of the archived article, paragraph one.</p>" * (n % 3 + 1)
        page = f"<!DOCTYPE html>\n<html><head><title>Capture {n}</title></head>"
        page += ("\n\n<body>" if n % 2 else "<body>") + body + "</body></html>\n"
        data = page.encode()
        if n % 6 == 5:
            data = page.replace("paragraph", "caf\xe9 cr\xe8me").replace("<head>", '<head><meta charset="windows-1252">')
            data = data.encode("cp1252")
        pages.append((data, ["text/html", "text/html; charset=utf-8", "application/http; msgtype=response", None][n % 4]))
    return pages


def datatrove_read(folder: Path) -> list:
    from datatrove.pipeline.readers import WarcReader

    return list(WarcReader(str(folder)).run())


def test_responses_without_http_headers_are_read_and_counted(tmp_path: Path) -> None:
    pages = bare_pages()
    junk = warc_record("response", record_id("bare", "junk"), "2024-03-01T10:00:00Z", b"\x00\x01binary\x02" * 40,
                       [("WARC-Target-URI", "https://example.org/capture/junk")])
    path = write_warc(tmp_path / "wayback.warc.gz", [bare_response(n, html, t) for n, (html, t) in enumerate(pages)] + [junk])
    raw, rejects, counters = read_all(InputConfig(paths=[str(path)]))
    assert reject_counts(rejects) == {"read.non_html": 1}
    contents = dict(zip(raw.column("id").to_pylist(), raw.column("content").to_pylist()))
    legacy = [n for n, (html, _) in enumerate(pages) if b"windows-1252" in html]
    assert {rid: text for rid, text in contents.items()} == {
        record_id("bare", n): html.decode("cp1252" if n in legacy else "utf-8") for n, (html, _) in enumerate(pages)
    }
    assert sum(c.get("read.quirk.no_http_headers", 0) for c in counters) == len(pages)
    assert json.loads(raw.column("meta")[0].as_py())["quirks"] == ["read.quirk.no_http_headers"]
    theirs = datatrove_read(tmp_path)
    assert raw.num_rows >= len(theirs)


def test_encodings_already_undone_by_the_archiver(tmp_path: Path) -> None:
    def coded(n: int, body: bytes, **headers: str) -> bytes:
        extra = [("Content-Type", "text/html"), *((k.replace("_", "-"), v) for k, v in headers.items())]
        block = http_response("200 OK", extra, body)
        return warc_record("response", record_id("t", n), "2024-03-01T10:00:00Z", block,
                           [("WARC-Target-URI", f"https://example.org/{n}")])

    records = [
        coded(0, page(0), Content_Encoding="gzip"),  # header kept, body stored decoded
        coded(1, page(1), Transfer_Encoding="chunked"),
        coded(2, gzip.compress(page(2), mtime=0), Content_Encoding="gzip"),  # really compressed
        coded(3, b"\x1f\x8b broken gzip bytes that are no page", Content_Encoding="gzip"),
    ]
    raw, rejects, counters = read_all(InputConfig(paths=[str(write_warc(tmp_path / "enc.warc.gz", records))]))
    assert raw.column("content").to_pylist() == [page(n).decode() for n in range(3)]
    assert dict(zip(rejects.column("id").to_pylist(), rejects.column("reason").to_pylist())) == {
        record_id("t", 3): "read.malformed"
    }
    quirks = {k: v for c in counters for k, v in c.items() if k.startswith("read.quirk.")}
    assert quirks == {"read.quirk.not_chunked": 1, "read.quirk.not_compressed": 1}


@pytest.mark.parametrize("gz", [True, False])
def test_damaged_record_does_not_cost_the_rest(tmp_path: Path, gz: bool) -> None:
    records = [response(n, page(n)) for n in range(6)]
    records[2] = response(2, page(2), content_length="twelve")
    path = write_warc(tmp_path / ("broken.warc" + (".gz" if gz else "")), records, gz=gz)
    raw, _, counters = read_all(InputConfig(paths=[str(path)]))
    assert set(raw.column("id").to_pylist()) >= {record_id("t", n) for n in (0, 1, 3, 4, 5)}
    assert skipped(counters) == {"read.malformed_stream": 1}


@pytest.mark.parametrize("cut", [20, 150, 600])  # inside the payload, the HTTP or the WARC headers
def test_truncated_gzip_counts_the_cut_record(tmp_path: Path, cut: int) -> None:
    noise = " ".join(hashlib.sha1(str(i).encode()).hexdigest() for i in range(40)).encode()
    members = [gzip_member(response(n, HTML.format(noise.decode()).encode())) for n in range(5)]
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(b"".join(members)[:-cut])
    assert cut < len(members[-1])
    raw, rejects, _ = read_all(InputConfig(paths=[str(path)]))
    assert raw.num_rows == 4 and reject_counts(rejects) == {"read.truncated": 1}


@pytest.mark.parametrize("gz", [True, False])
def test_warc_splits_equal_whole(tmp_path: Path, gz: bool) -> None:
    records = [response(n, page(n) * (1 + n % 5)) for n in range(120)]
    path = str(write_warc(tmp_path / ("many.warc" + (".gz" if gz else "")), records, gz=gz))
    whole, _, _ = read_all(InputConfig(paths=[path]))
    for split_bytes in (1500, 7000, 33333):
        cfg = InputConfig(paths=[path], split_bytes=split_bytes)
        assert len(plan_input_tasks(cfg)) > 1
        split, _, _ = read_all(cfg)
        assert split.equals(whole) and whole.num_rows == 120


def test_single_gzip_member_is_not_split(tmp_path: Path) -> None:
    path = tmp_path / "one.warc.gz"
    path.write_bytes(gzip.compress(b"".join(response(n, page(n)) for n in range(50)), mtime=0))
    cfg = InputConfig(paths=[str(path)], split_bytes=200)
    assert len(plan_input_tasks(cfg)) == 1
    raw, _, _ = read_all(cfg)
    assert raw.num_rows == 50


# --- rows formats -------------------------------------------------------------------------------

ROWS = [
    {
        "id": f"doc-{i}",
        "text": f"Text of document {i}. " * (i % 4 + 1),
        "url": f"https://x.org/{i}",
        "date": "2024-05-01",
        "lang_hint": "en",
    }
    for i in range(200)
]


def jsonl_bytes(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def test_jsonl_records_and_rejects(tmp_path: Path) -> None:
    lines = (
        jsonl_bytes(ROWS[:3])
        + b"{not json\n"
        + b'{"id": "e", "text": "  "}\n'
        + b'{"id": "m"}\n'
        + b"[1, 2]\n\n"
        + b'{"text": "no id here"}\n'
    )
    path = tmp_path / "a.jsonl"
    path.write_bytes(lines)
    raw, rejects, _ = read_all(InputConfig(paths=[str(path)]))
    assert raw.column("id").to_pylist() == ["doc-0", "doc-1", "doc-2", f"a.jsonl:{len(lines) - 23}"]
    assert raw.column("date").to_pylist()[0] == "2024-05-01T00:00:00Z"
    assert json.loads(raw.column("meta")[0].as_py()) == {"lang_hint": "en"}
    assert set(raw.column("content_kind").to_pylist()) == {"text"}
    assert reject_counts(rejects) == {"read.bad_json": 1, "read.empty": 1, "read.malformed": 2}


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl(tmp_path: Path, suffix: str) -> None:
    rows = [{"id": str(i), "text": hashlib.sha256(str(i).encode()).hexdigest() * 2} for i in range(3000)]
    data = jsonl_bytes(rows)  # incompressible, so the stream has many blocks and a cut leaves some
    packed = gzip.compress(data, mtime=0) if suffix.endswith(".gz") else zstandard.ZstdCompressor().compress(data)
    path = tmp_path / f"rows{suffix}"
    path.write_bytes(packed)
    cfg = InputConfig(paths=[str(path)], split_bytes=100)
    assert len(plan_input_tasks(cfg)) == 1  # a compressed stream cannot be cut
    raw, _, _ = read_all(cfg)
    assert raw.column("id").to_pylist() == [r["id"] for r in rows]
    path.write_bytes(packed[: len(packed) // 2])
    raw, _, counters = read_all(cfg)
    assert 0 < raw.num_rows < len(rows) and skipped(counters) == {"read.truncated_stream": 1}


def test_jsonl_splits_equal_whole(tmp_path: Path) -> None:
    rows = [{"text": r["text"]} for r in ROWS]  # ids from byte offsets: must not depend on splits
    path = tmp_path / "big.jsonl"
    path.write_bytes(jsonl_bytes(rows))
    whole, _, _ = read_all(InputConfig(paths=[str(path)]))
    for split_bytes in (1, 97, 1000):
        cfg = InputConfig(paths=[str(path)], split_bytes=split_bytes)
        assert len(plan_input_tasks(cfg)) > 1
        split, _, _ = read_all(cfg)
        assert split.equals(whole) and whole.num_rows == len(rows)


def test_parquet_row_group_splits(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist([{"text": r["text"], "url": r["url"]} for r in ROWS]), path, row_group_size=16)
    whole, _, _ = read_all(InputConfig(paths=[str(path)]))
    assert whole.column("id").to_pylist() == [f"rows.parquet:{i}" for i in range(len(ROWS))]
    cfg = InputConfig(paths=[str(path)], split_bytes=500)
    assert len(plan_input_tasks(cfg)) > 1
    split, _, _ = read_all(cfg)
    assert split.equals(whole)


def test_html_field(tmp_path: Path) -> None:
    path = tmp_path / "pages.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": "p", "html": HTML.format("hi")}]), path)
    raw, _, _ = read_all(InputConfig(paths=[str(path)], html_field="html"))
    assert raw.column("content_kind").to_pylist() == ["html"]


def test_hf_save_to_disk(tmp_path: Path) -> None:
    import datasets

    ds = datasets.Dataset.from_list(ROWS)
    ds.save_to_disk(str(tmp_path / "ds"), num_shards=3)
    datasets.DatasetDict({"train": ds.select(range(150)), "test": ds.select(range(150, 200))}).save_to_disk(
        str(tmp_path / "dd")
    )
    tasks = plan_input_tasks(InputConfig(paths=[str(tmp_path / "ds")]))
    assert [t.task_id for t in tasks] == ["00000-0000", "00000-0001", "00000-0002"] and tasks[0].format == "hf"
    raw, _, _ = read_all(InputConfig(paths=[str(tmp_path / "ds")]))
    assert raw.column("id").to_pylist() == [r["id"] for r in ROWS]
    raw, _, _ = read_all(InputConfig(paths=[str(tmp_path / "dd")]))
    assert sorted(raw.column("id").to_pylist()) == sorted(r["id"] for r in ROWS)


# --- planning -----------------------------------------------------------------------------------


def test_planning_expands_sorts_and_detects(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.jsonl").write_bytes(jsonl_bytes(ROWS[:2]))
    (tmp_path / "sub" / "a.jsonl.gz").write_bytes(gzip.compress(jsonl_bytes(ROWS[:2])))
    (tmp_path / "sub" / "c.warc.gz").write_bytes(gzip_member(response(0, page(0))))
    (tmp_path / "README.md").write_text("not input")
    (tmp_path / "_SUCCESS").write_text("")
    tasks = plan_input_tasks(InputConfig(paths=[str(tmp_path)]))
    assert [(t.task_id, t.source, t.format) for t in tasks] == [
        ("00000-0000", "b.jsonl", "jsonl"),
        ("00001-0000", "a.jsonl.gz", "jsonl"),
        ("00002-0000", "c.warc.gz", "warc"),
    ]
    globbed = plan_input_tasks(InputConfig(paths=[str(tmp_path / "sub" / "*.gz"), str(tmp_path / "b.jsonl")]))
    assert [t.source for t in globbed] == ["b.jsonl", "a.jsonl.gz", "c.warc.gz"]


def test_missing_input_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="input not found"):
        plan_input_tasks(InputConfig(paths=[str(tmp_path / "nope.warc.gz")]))
    with pytest.raises(InputError, match="input not found"):
        plan_input_tasks(InputConfig(paths=[str(tmp_path / "*.jsonl")]))
    with pytest.raises(InputError, match="no input paths"):
        plan_input_tasks(InputConfig(paths=[]))
    (tmp_path / "mystery.bin").write_bytes(b"\x00\x01")
    with pytest.raises(InputError, match="cannot tell the format"):
        plan_input_tasks(InputConfig(paths=[str(tmp_path / "mystery.bin")]))


def test_fsspec_uri(tmp_path: Path) -> None:
    import fsspec

    mem = fsspec.filesystem("memory")
    mem.pipe("/readers-test/x.jsonl", jsonl_bytes(ROWS[:5]))
    mem.pipe("/readers-test/y.warc.gz", gzip_member(response(0, page(0))))
    cfg = InputConfig(paths=["memory://readers-test/*"])
    tasks = plan_input_tasks(cfg)
    assert [t.path for t in tasks] == ["memory:///readers-test/x.jsonl", "memory:///readers-test/y.warc.gz"]
    raw, _, _ = read_all(cfg)
    assert raw.num_rows == 6


def test_utf8_payloads_are_stored_as_they_are_and_other_charsets_as_their_text():
    """``decode_html_utf8`` gives the UTF-8 of ``decode_html``'s text; a strict UTF-8 page is its own payload."""
    from curation.io.decode import decode_html, decode_html_utf8

    page = "<html><body><p>Flüsse – 河流 ✓</p></body></html>"
    cases = {
        "utf-8": page.encode("utf-8"),
        "utf-8 with a bom": b"\xef\xbb\xbf" + page.encode("utf-8"),
        "windows-1252": "<html><body><p>Flüsse messen, ça va</p></body></html>".encode("cp1252"),
        "utf-8 with one bad byte": page.encode("utf-8").replace(b"<p>", b"<p>\xff"),
        "a real replacement character": page.replace("✓", "\ufffd").encode("utf-8"),
    }
    for name, data in cases.items():
        text, charset = decode_html(data, None)
        utf8, same_charset = decode_html_utf8(data, None)
        assert (utf8.decode("utf-8"), same_charset) == (text, charset), name
    assert decode_html_utf8(cases["utf-8"], None)[0] is cases["utf-8"]  # not encoded again
    assert decode_html_utf8(b"\x00" * 100, None) is None
