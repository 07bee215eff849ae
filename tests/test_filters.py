"""Filters: agreement with datatrove's filters, language ID, URL/PII/dirty words, and the phases
(re-thresholding a finished run re-decides from stored signals without recomputing them)."""

from __future__ import annotations

import json
import random

import numpy as np
import pyarrow as pa
import pytest
from filters_textgen import documents, paragraph

from curation.config import dump_config, parse_config
from curation.filters.config import FiltersConfig, split_settings
from curation.filters.explain import explain
from curation.filters.phases import run
from curation.filters.pii import mask_pii
from curation.filters.rules import decide, thresholds
from curation.filters.signals import SignalExtractor
from curation.filters.words import word_splitter
from curation.io import fs
from curation.runtime.context import RunContext
from curation.schema import get_signal, make_documents

HEURISTICS_ONLY = {k: {"enabled": False} for k in ("url", "lid", "pii", "line_ngrams", "dirty_words", "kl")}


def datatrove_decisions(texts: list[str]) -> list[str | None]:
    """datatrove's filters in FineWeb's order; the failing filter's name, None when kept."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    filters = [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(filter_no_terminal_punct=False),
               FineWebQualityFilter()]
    out = []
    for i, text in enumerate(texts):
        doc = Document(text=text, id=str(i))
        out.append(next((f.name for f in filters if f.filter(doc) is not True), None))
    return out


def test_decisions_agree_with_datatrove_filters():
    texts = documents(160, seed=7)
    cfg = FiltersConfig.model_validate(HEURISTICS_ONLY)
    docs = make_documents({"id": [str(i) for i in range(len(texts))], "text": texts})
    signed, _, _ = SignalExtractor(cfg)(docs)
    ours = decide(signed, thresholds(cfg))
    theirs = datatrove_decisions(texts)
    agree = np.mean([(a is None) == (b is None) for a, b in zip(ours, theirs)])
    assert agree >= 0.99, list(zip(ours, theirs))
    kept = sum(r is None for r in ours)
    assert 0.2 * len(texts) < kept < 0.8 * len(texts)  # the generator really mixes quality
    assert {r.split(".")[0] for r in ours if r} >= {"gopher_repetition", "gopher_quality", "c4"}


def test_words_match_datatrove_split():
    from datatrove.utils.text import split_into_words

    text = "Mr. Smith's e-mail (see below): don't stop... 3.5% of U.S. cats, #tags &c. :) end."
    assert word_splitter("en").words(text) == split_into_words(text)


def test_word_splitter_does_not_import_torch_and_leaves_it_importable():
    """spaCy's tokenizer loads without thinc's torch import (1.2 s per worker); torch still works after."""
    import subprocess
    import sys

    pytest.importorskip("torch")
    code = (
        "import sys; from curation.filters.words import word_splitter; "
        "assert word_splitter('en').words(\"don't stop.\") == ['do', \"n't\", 'stop', '.']; "
        "assert 'torch' not in sys.modules; import torch; print(int(torch.ones(3).sum()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"


LID_SENTENCES = {
    "en": ["The weather was lovely this morning, so we walked along the river to the old bridge.",
           "Please remember to bring your passport and a copy of the booking confirmation."],
    "de": ["Gestern Abend haben wir im kleinen Restaurant an der Ecke sehr gut gegessen.",
           "Die Kinder spielen nach der Schule gern im Garten hinter dem Haus."],
    "fr": ["Nous avons visité le musée du village avant de prendre le train pour Paris.",
           "Elle préfère lire un bon livre le soir plutôt que regarder la télévision."],
    "es": ["Mañana por la mañana vamos a comprar fruta fresca en el mercado central.",
           "Mi hermano trabaja en un hospital y siempre llega tarde a casa."],
    "it": ["Abbiamo passato le vacanze al mare e ogni sera mangiavamo il gelato in piazza.",
           "Il treno per Milano parte dal secondo binario tra dieci minuti."],
    "pt": ["Ontem fomos à praia com os nossos amigos e voltámos muito tarde para casa.",
           "O meu avô gosta de contar histórias sobre a sua juventude no campo."],
    "nl": ["We fietsen elke zondag langs de rivier naar het dorp van mijn grootouders.",
           "De bakker op de hoek verkoopt het lekkerste brood van de hele stad."],
    "pl": ["Wczoraj wieczorem poszliśmy do kina na nowy film o historii naszego miasta.",
           "Moja siostra uczy się grać na pianinie od trzech lat."],
    "ru": ["Вчера вечером мы долго гуляли по парку и разговаривали о нашей поездке.",
           "Моя бабушка каждое утро печёт вкусные пирожки с капустой."],
    "ja": ["昨日は友達と一緒に新しいレストランで美味しい料理を食べました。",
           "明日の朝は早く起きて、駅まで歩いて行くつもりです。"],
    "zh": ["我们昨天去公园散步，天气非常好，孩子们玩得很开心。",
           "这家书店有很多有趣的书，我每个周末都会来这里看书。"],
    "ar": ["ذهبنا أمس إلى السوق واشترينا الكثير من الفواكه والخضروات الطازجة.",
           "يحب أخي قراءة الكتب التاريخية في المساء بعد العمل."],
    "tr": ["Dün akşam arkadaşlarımla birlikte sahilde uzun bir yürüyüş yaptık.",
           "Annem her sabah bahçedeki çiçekleri sular ve kahvaltı hazırlar."],
    "sv": ["Vi åkte till landet i somras och badade i sjön varje dag.",
           "Min granne har en stor hund som älskar att springa i skogen."],
}


def test_language_id_accuracy():
    from curation.filters.lid import LanguageIdentifier

    texts = [s for sents in LID_SENTENCES.values() for s in sents]
    truth = [lang for lang, sents in LID_SENTENCES.items() for _ in sents]
    langs, scores = LanguageIdentifier().predict(texts)
    accuracy = np.mean([a == b for a, b in zip(langs, truth)])
    assert len(LID_SENTENCES) >= 10 and accuracy >= 0.95, list(zip(langs, truth))
    assert scores.min() > 0


def test_url_signals_and_decisions():
    only_url = {k: {"enabled": False} for k in FiltersConfig.model_fields if k not in ("enabled", "language", "languages", "url")}
    cfg = FiltersConfig.model_validate({**only_url, "url": {"extra_domains": ["bad-site.com"]}})
    docs = make_documents({
        "id": ["a", "b", "c", "d", "e"],
        "text": ["x"] * 5,
        "url": ["https://www.pornhub.com/view", "https://news.bad-site.com/a", "https://example.org/xxx-videos",
                "https://example.org/sexy-nude-pics", "https://example.org/gardening/roses"],
    })
    signed, _, _ = SignalExtractor(cfg)(docs)
    assert decide(signed, thresholds(cfg)) == [
        "url.domain", "url.domain", "url.banned_words", "url.soft_banned_words", None]


def test_pii_masks_public_addresses_only():
    cfg = FiltersConfig().pii
    text = "Mail jane.doe@mail.org, ask 8.8.8.8 and 93.184.216.34; router 192.168.0.1, loopback 127.0.0.1."
    masked, emails, ips = mask_pii(text, cfg)
    assert (emails, ips) == (1, 2)
    assert "jane.doe" not in masked and "8.8.8.8" not in masked and "93.184.216.34" not in masked
    assert "192.168.0.1" in masked and "127.0.0.1" in masked


def test_dirty_words_counted_and_line_ngrams_removed():
    cfg = FiltersConfig.model_validate({k: {"enabled": False} for k in ("url", "lid", "kl")})
    clean = "\n".join(paragraph(random.Random(i)) for i in range(6))
    log = "\n".join(f"2024-05-0{i} ERROR [db] connection to the primary database server failed after a timeout"
                    for i in range(1, 9))
    dirty = clean + "\nporn porn xxx porn sex sex"
    odd = "a private-use \ue000 character\nand another line \ue000 here"
    docs = make_documents({"id": ["clean", "log", "dirty", "odd"], "text": [clean, clean + "\n" + log, dirty, odd]})
    signed, _, counters = SignalExtractor(cfg)(docs)
    count = get_signal(signed, "dirty_words_count").to_pylist()
    assert count[0] == 0 and count[2] == 6
    removed = get_signal(signed, "line_ngrams_lines_removed").to_pylist()
    assert removed[0] == 0 and removed[1] == 8 and counters["line_ngrams_lines_removed"] == 8
    assert "ERROR" not in signed.column("text")[1].as_py()
    assert decide(signed, thresholds(cfg))[2] == "dirty_words.max_ratio"


def test_settings_split_into_signals_and_thresholds():
    signal, decision = split_settings(FiltersConfig())
    assert "min_words" in decision["gopher_quality"] and "min_words" not in signal["gopher_quality"]
    assert "stop_words" in signal["gopher_quality"] and signal["c4"]["min_words_per_line"] == 3


def make_run(tmp_path, texts: list[str], overrides: list[str]) -> tuple[RunContext, list[str]]:
    cfg = parse_config({"filters": {"kl": {"max_percentile": 90}}}, overrides)
    ctx = RunContext(cfg, str(tmp_path / "run"))
    parts = []
    for k in range(2):
        chunk = texts[k::2]
        table = make_documents({"id": [f"d{k}-{i}" for i in range(len(chunk))], "text": chunk,
                                "url": [f"https://site{i}.example.org/page" for i in range(len(chunk))]})
        path = str(tmp_path / "in" / f"part-{k:05d}.parquet")
        fs.write_parquet(table, path)
        parts.append(path)
    return ctx, parts


def records(ctx: RunContext) -> dict[str, dict]:
    return {r.name: r.as_dict() for r in ctx.phases}


def test_rethreshold_redecides_from_stored_signals(tmp_path):
    texts = documents(40, seed=3)
    ctx, parts = make_run(tmp_path, texts, [])
    out = run(ctx, parts)
    first = records(ctx)
    assert [first[p]["resumed_tasks"] for p in ("filters.signals", "filters.kl", "filters.decide")] == [0, 0, 0]
    kept_before = sum(fs.read_parquet(p).num_rows for p in out)
    used = fs.read_json(fs.join(ctx.work_dir("filters.decide", first["filters.decide"]["fingerprint"]),
                                "thresholds.json"))
    kl_dir = ctx.work_dir("filters.kl", first["filters.kl"]["fingerprint"])
    kl_parts = fs.listdir(kl_dir, ".parquet")
    kl = np.concatenate([get_signal(fs.read_parquet(p), "kl_divergence").to_numpy() for p in kl_parts])
    assert used["default"]["kl.max_kl"] == pytest.approx(np.percentile(kl, 90))  # resolved from the corpus on the driver

    ctx2, _ = make_run(tmp_path, texts, ["filters.gopher_quality.min_words=5", "filters.lid.min_score=0.1"])
    out2 = run(ctx2, parts)
    second = records(ctx2)
    for phase in ("filters.signals", "filters.reference", "filters.kl"):  # found finished: nothing recomputed
        assert second[phase]["fingerprint"] == first[phase]["fingerprint"]
        assert second[phase]["resumed_tasks"] == second[phase]["tasks"] == 2
    assert second["filters.decide"]["fingerprint"] != first["filters.decide"]["fingerprint"]
    assert second["filters.decide"]["resumed_tasks"] == 0
    assert sum(fs.read_parquet(p).num_rows for p in out2) > kept_before
    assert "gopher_quality.min_words" not in second["filters.decide"]["rejected"]

    ctx3, _ = make_run(tmp_path, texts, ["filters.c4.min_words_per_line=5"])  # a signal setting: recomputed
    run(ctx3, parts)
    assert records(ctx3)["filters.signals"]["resumed_tasks"] == 0


def test_run_is_deterministic_and_counts_rejects(tmp_path):
    texts = documents(30, seed=5)
    a, parts = make_run(tmp_path / "a", texts, [])
    b, parts_b = make_run(tmp_path / "b", texts, [])
    out_a, out_b = run(a, parts), run(b, parts_b)
    assert [fs.read_bytes(p) for p in out_a] == [fs.read_bytes(p) for p in out_b]
    decide_record = records(a)["filters.decide"]
    assert decide_record["in"] == 30 == decide_record["out"] + sum(decide_record["rejected"].values())
    langs = pa.concat_tables([fs.read_parquet(p) for p in out_a]).column("lang").to_pylist()
    assert set(langs) == {"en"}


GERMAN = [
    "Die Stadt liegt an einem breiten Fluss, der im Frühling oft über die Ufer tritt.\n"
    "Seit dem Mittelalter handeln die Bewohner mit Holz, Salz und Wein aus den umliegenden Tälern.\n"
    "Im alten Rathaus zeigt ein kleines Museum, wie die Brücken früher aus Stein gebaut wurden.\n"
    "Viele Familien verbringen ihre Wochenenden in den Gärten am Rand der Altstadt.\n"
    "Die Schule bietet Kurse in Geschichte an, und die Kinder besuchen jedes Jahr die Burg.\n"
    "Wer mit dem Zug kommt, erreicht den Markt in wenigen Minuten zu Fuß.",
    "Der Bäcker an der Ecke öffnet seinen Laden schon um fünf Uhr am Morgen.\n"
    "Er backt das Brot nach einem Rezept, das sein Großvater aus dem Norden mitgebracht hat.\n"
    "Die Kunden schätzen vor allem die dunklen Brötchen mit Kürbiskernen und Salz.\n"
    "Am Samstag steht eine lange Schlange vor der Tür, weil es dann auch Kuchen gibt.\n"
    "Im Winter verkauft er zusätzlich Gebäck mit Zimt, Nüssen und getrockneten Früchten.\n"
    "Seine Tochter will die Bäckerei später übernehmen und neue Sorten ausprobieren.",
]


def test_per_language_rules_keep_german_that_english_rules_drop(tmp_path):
    """Every language kept (``lid.languages: []``): English stop words drop German text; German
    overrides keep it, leave the English decisions alone, and re-threshold like any threshold."""
    texts = documents(30, seed=4) + GERMAN
    base = ["filters.lid.languages=[]", "filters.kl.max_percentile=null"]
    ctx, parts = make_run(tmp_path, texts, base)
    english_only = dict(zip(*decisions(run(ctx, parts), ctx)))
    german_ids = [i for i, text in zip(ids_of(texts), texts) if text in GERMAN]
    assert len(german_ids) == 2 and len(english_only) == len(texts)
    assert sum(r is None for r in english_only.values()) > 5  # English documents are kept
    assert all(english_only[i] == "gopher_quality.min_stop_words" for i in german_ids)

    german = base + ['filters.languages={de: {language: de, gopher_quality: {stop_words: [der, die, und, in, den, '
                     'von, zu, das]}}}']
    ctx2, _ = make_run(tmp_path, texts, german)
    with_german = dict(zip(*decisions(run(ctx2, parts), ctx2)))
    assert all(with_german[i] is None for i in german_ids)
    assert {i: r for i, r in with_german.items() if i not in german_ids} == {
        i: r for i, r in english_only.items() if i not in german_ids
    }

    ctx3, _ = make_run(tmp_path, texts, german + ["filters.languages.de.gopher_quality.min_stop_words=1000"])
    strict = dict(zip(*decisions(run(ctx3, parts), ctx3)))
    assert records(ctx3)["filters.signals"]["resumed_tasks"] == 2  # a per-language threshold: decide only
    assert all(strict[i] == "gopher_quality.min_stop_words" for i in german_ids)


def ids_of(texts: list[str]) -> list[str]:
    """The ids ``make_run`` gives ``texts`` (two parts, alternating)."""
    out = [""] * len(texts)
    for k in range(2):
        for i, pos in enumerate(range(k, len(texts), 2)):
            out[pos] = f"d{k}-{i}"
    return out


def decisions(out: list[str], ctx: RunContext) -> tuple[list[str], list[str | None]]:
    """(ids, reason or None) of every document of a filter run."""
    kept = pa.concat_tables([fs.read_parquet(p) for p in out])
    rejected = pa.concat_tables([fs.read_parquet(p) for _, p in ctx.reject_files()])
    ids = kept.column("id").to_pylist() + rejected.column("id").to_pylist()
    return ids, [None] * kept.num_rows + rejected.column("reason").to_pylist()


def test_explain_shows_signals_and_rules(tmp_path):
    texts = documents(20, seed=9)
    ctx, parts = make_run(tmp_path, texts, [])
    out = run(ctx, parts)
    run_dir = ctx.run_dir
    fs.atomic_write_bytes(fs.join(run_dir, "config.yaml"), dump_config(ctx.config).encode())
    fs.write_json(fs.join(run_dir, "manifest.json"), ctx.manifest())
    ctx.publish("docs", [(p.rsplit("/", 1)[-1], p) for p in out])
    ctx.publish("rejects", [(f"{ph}-{p.rsplit('/', 1)[-1]}", p) for ph, p in ctx.reject_files()])
    kept_id = fs.read_parquet(out[0]).column("id")[0].as_py()
    report = explain(run_dir, kept_id)
    assert report["kept"] is True and report["reason"] is None
    assert report["signals"]["gopher_quality_words"] > 0
    assert all(r["passed"] for r in report["rules"])
    rejected = pa.concat_tables([fs.read_parquet(p) for _, p in ctx.reject_files()])
    dropped = explain(run_dir, rejected.column("id")[0].as_py())
    assert dropped["kept"] is False and dropped["reason"] == rejected.column("reason")[0].as_py()
    failed = [r for r in dropped["rules"] if not r["passed"]]
    assert failed and failed[0]["rule"] == dropped["reason"]
    json.dumps(report)
    with pytest.raises(KeyError):
        explain(run_dir, "no-such-id")


def test_kl_divergence_matches_its_definition():
    from curation.filters.kl import divergences, log_reference

    log_q = log_reference(np.array([5, 3, 0, 2]), smoothing=1.0)
    q = np.array([6, 4, 1, 3]) / 14
    got = divergences(np.array([0, 2, 2, 5]), np.array([0, 1, 0, 2, 3]), np.array([3.0, 1.0, 1.0, 1.0, 2.0]), log_q)
    p0, p2 = np.array([0.75, 0.25]), np.array([0.25, 0.25, 0.5])
    assert got == pytest.approx([np.sum(p0 * np.log(p0 / q[[0, 1]])), 0.0, np.sum(p2 * np.log(p2 / q[[0, 2, 3]]))])


@pytest.mark.slow
def test_ray_workers_give_the_same_bytes(tmp_path, ray_local):
    from curation.runtime import executor

    texts = documents(24, seed=13)
    ray_ctx, parts = make_run(tmp_path / "ray", texts, [])
    on_ray = run(ray_ctx, parts)
    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    try:
        local_ctx, local_parts = make_run(tmp_path / "local", texts, [])
        local = run(local_ctx, local_parts)
    finally:
        executor.configure(use_ray=True, max_in_flight=2, progress=False)
    assert [fs.read_bytes(p) for p in on_ray] == [fs.read_bytes(p) for p in local]


def test_spacy_imports_without_torch_or_its_command_line_and_both_stay_importable():
    import subprocess
    import sys

    script = """
import sys
from curation.filters.words import WordSplitter, import_spacy
spacy = import_spacy()
assert "torch" not in sys.modules and "spacy.cli" not in sys.modules, sorted(m for m in sys.modules if "cli" in m)
assert WordSplitter().words("Don't stop (now).") == ["Do", "n't", "stop", "(", "now", ")", "."]
import spacy.cli
assert spacy.cli.info.__module__ == "spacy.cli.info" and isinstance(spacy.info(markdown=True, silent=True), str)
"""
    subprocess.run([sys.executable, "-c", script], check=True)
