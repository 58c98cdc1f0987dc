"""Fuzzy lookup benchmark (SPEC §4, §16): ``lookup(key, fuzzy=True)`` over 100k key values.

Bar: p50 < 5 ms on 100k keys.

Dataset (seeded, ``--seed``): ``--keys`` distinct names in two tables, 40 % people (``"Margaret O'Neill"``,
some with a middle initial or a place, ``"Ken Tanaka (Osaka)"``) and 60 % products (brand, adjective,
material or Latin plant name, noun, sometimes a size: ``"Hartwell Matte Ceramic Planter 30 cm"``,
``"Monstera Deliciosa Variegata"``), each the table's key field, inserted with ``insert_batch`` through the
public API in a temporary directory (or ``--path``, kept and reused).

Queries: ``--queries`` names of random rows, each with 1 or 2 typos (a letter substituted, dropped,
inserted or two neighbours swapped, inside words of 3+ letters), plus the same number of nonsense strings
(random letters and digits, 4-16 characters). Figures, each the median of ``--runs`` runs (a run opens the
database afresh):

* ``build`` — the first fuzzy lookup of a fresh open (scan of the key index + the trigram index) and the
  index's memory (arrays and strings, ``FuzzyKeys.memory``) and the Python heap it added (tracemalloc);
* ``p50`` / ``p95`` of ``lookup(q, fuzzy=True)`` for the typo queries (entities read and decoded included),
  and the p50 / p95 of the CPU time the process spent on each (less sensitive to other load on the machine);
* ``hit@1`` / ``hit@10`` — the row the query came from is first / in the first 10 (a name another row
  shares counts as that row);
* ``nonsense empty`` — the share of nonsense queries that return nothing, and the score distribution of the
  best typo hit vs the best nonsense hit (what :data:`rem_db.index.fuzzy.MIN_SCORE` was chosen from);
* ``after insert`` — p50 of one ``insert`` followed by a fuzzy lookup (the lookup catches up from the WAL).

Run: ``python bench/bench_fuzzy.py [--keys 100000] [--queries 1000] [--runs 5] [--path DIR]``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import string
import tempfile
import time
import tracemalloc
from pathlib import Path

from rem_db import Database
from rem_db.index import fuzzy


def words(text: str, sep: str = " ") -> list[str]:
    return text.split(sep)


FIRST = words("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
              "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret "
              "Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin "
              "Amanda Brian Dorothy George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon "
              "Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen "
              "Brenda Larry Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory "
              "Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria "
              "Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce Henry Virginia Douglas "
              "Victoria Zachary Kelly Peter Lauren Kyle Christina Noah Joan Ethan Evelyn Jeremy Judith Walter Megan "
              "Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline Austin Martha Sean Gloria Gerald Teresa "
              "Carl Ann Harold Sara Dylan Madison Arthur Frances Lawrence Kathryn Jordan Janice Jesse Jean Bryan "
              "Abigail Billy Alice Bruce Judy Gabriel Sophia Joe Grace Logan Denise Alan Amber Juan Doris Wayne "
              "Marilyn Ralph Danielle Roy Beverly Eugene Isabella Randy Theresa Vincent Diana Russell Natalie Louis "
              "Brittany Philip Charlotte Bobby Marie Johnny Kayla Bradley Alexis Ken Yuki Hiro Aiko Wei Mei Ravi "
              "Priya Arjun Ananya Omar Fatima Ahmed Layla Ivan Olga Dmitri Elena Lars Ingrid Sven Astrid Pierre "
              "Camille Luc Amelie Giovanni Chiara Marco Giulia Pablo Lucia Diego Carmen Kwame Amara Chidi Zainab")
LAST = words("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
             "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
             "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
             "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
             "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
             "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
             "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
             "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez "
             "Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole "
             "Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens "
             "Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker "
             "Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz "
             "Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
             "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley "
             "Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham "
             "Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman "
             "Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval Tanaka Suzuki Watanabe "
             "Yamamoto Nakamura Kobayashi Wang Zhang Liu Singh Kumar Sharma Gupta Khan Ali Hassan Ivanov Petrov "
             "Johansson Larsen Nielsen Dubois Moreau Rossi Russo Bianchi Romano Okafor Mensah Adeyemi O'Neill "
             "O'Brien McCarthy Van-der-Berg De-Luca Fitzgerald")
PLACES = words("London Paris Osaka Lagos Lima Oslo Austin Denver Leeds Lyon Turin Pune Accra Quito Bergen Graz Porto "
               "Krakow Tampere Cork")
BRANDS = words("Hartwell Northwind Acme Bluestone Copperfield Evergreen Fairhaven Greyhound Ironbark Juniper Kestrel "
               "Lakeside Meridian Nordic Oakridge Pinecrest Quarry Redwood Silverline Thornbury Umbra Vantage "
               "Westbrook Yellowtail Zephyr Alder Birchwood Cedar Driftwood Emberly Foxglove Glenmore Highland Islay "
               "Jasper Kingsley Linden Maple Northgate Orchard Primrose Riverside Sterling Tidewater Upland Vireo "
               "Willow Yarrow")
ADJECTIVES = words("Classic Compact Deluxe Ergonomic Foldable Heavy-Duty Insulated Lightweight Matte Modular Organic "
                   "Portable Premium Recycled Rustic Slimline Smart Stackable Sturdy Vintage Waterproof Wireless "
                   "Adjustable Brushed Cordless Curved Glazed Hammered Handmade Quilted Reversible Rechargeable "
                   "Textured Tinted Vented Weighted")
MATERIALS = words("Bamboo Brass Ceramic Copper Cotton Glass Granite Leather Linen Marble Oak Porcelain Rattan Steel "
                  "Stainless-Steel Teak Walnut Wool Aluminium Cast-Iron Concrete Cork Enamel Felt Jute Slate")
NOUNS = words("Planter Kettle Lamp Chair Table Shelf Mug Bowl Vase Teapot Blanket Cushion Rug Basket Clock Mirror "
              "Stool Bench Desk Cabinet Skillet Saucepan Cutting-Board Knife Scissors Backpack Wallet Umbrella "
              "Thermos Lantern Speaker Headphones Keyboard Monitor-Stand Organizer Hanger Doormat Candle Diffuser "
              "Watering-Can Trowel Pruner Birdhouse Hammock Cooler Grill Tent Sleeping-Bag")
PLANTS = words("Monstera Deliciosa|Ficus Lyrata|Ficus Elastica|Sansevieria Trifasciata|Pothos Aureum|"
               "Calathea Orbifolia|"
               "Philodendron Hederaceum|Zamioculcas Zamiifolia|Strelitzia Nicolai|Alocasia Amazonica|Peperomia "
               "Obtusifolia|Aglaonema Commutatum|Dracaena Marginata|Spathiphyllum Wallisii|Chlorophytum Comosum|"
               "Hoya Carnosa|Begonia Maculata|Maranta Leuconeura|Pilea Peperomioides|Schefflera Arboricola", "|")
PLANT_NOTES = words("Variegata Albo Compacta Minor Gigantea Aurea Nana Thai-Constellation Marble-Queen Silver-Satin "
                    "Pink-Princess Green-Velvet Black-Prince Red-Star")
SIZES = words("10 cm|15 cm|20 cm|30 cm|45 cm|1 L|1.7 L|2 L|500 ml|Small|Medium|Large|XL|Set of 2|Set of 4|Mk II|"
              "Mk III|2024 Edition|Pro|Mini", "|")

PEOPLE = {"title": "bench_people", "type": "object", "description": "People (fuzzy lookup bench).",
          "properties": {"name": {"type": "string"}, "group": {"type": "integer"}}, "key_field": "name"}
PRODUCTS = {"title": "bench_products", "type": "object", "description": "Products (fuzzy lookup bench).",
            "properties": {"name": {"type": "string"}, "price": {"type": "number"}}, "key_field": "name"}
BATCH = 1000


def person(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST).replace("-", " ")
    roll = rng.random()
    if roll < 0.45:
        return f"{first} {rng.choice(string.ascii_uppercase)}. {last}"
    if roll < 0.7:
        return f"{first} {last} ({rng.choice(PLACES)})"
    return f"{first} {rng.choice(FIRST)} {last}"


def product(rng: random.Random) -> str:
    if rng.random() < 0.15:
        plant = rng.choice(PLANTS)
        return f"{plant} {rng.choice(PLANT_NOTES).replace('-', ' ')} {rng.choice(SIZES)}"
    words = [rng.choice(BRANDS), rng.choice(ADJECTIVES), rng.choice(MATERIALS), rng.choice(NOUNS)]
    if rng.random() < 0.6:
        words.append(rng.choice(SIZES))
    return " ".join(w.replace("-", " ") if n else w for n, w in enumerate(words))


def names(keys: int, seed: int) -> tuple[list[str], list[str]]:
    """``(people, products)``: ``keys`` distinct names, 40 % people."""
    rng = random.Random(seed)
    seen: set[str] = set()
    people: list[str] = []
    goods: list[str] = []
    while len(people) < keys * 2 // 5:
        name = person(rng)
        if name not in seen:
            seen.add(name)
            people.append(name)
    while len(people) + len(goods) < keys:
        name = product(rng)
        if name not in seen:
            seen.add(name)
            goods.append(name)
    return people, goods


def typo(text: str, rng: random.Random, edits: int) -> str:
    """``text`` with ``edits`` typos inside words of 3+ letters: substitute, drop, insert or swap."""
    chars = list(text)
    for _ in range(edits):
        spots = [i for i in range(1, len(chars) - 1) if chars[i].isalpha() and chars[i - 1].isalpha()
                 and chars[i + 1].isalpha()]
        if not spots:
            break
        i = rng.choice(spots)
        kind = rng.choice("sdit")
        if kind == "s":
            chars[i] = rng.choice(string.ascii_lowercase)
        elif kind == "d":
            del chars[i]
        elif kind == "i":
            chars.insert(i, rng.choice(string.ascii_lowercase))
        else:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def nonsense(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(rng.randint(4, 16)))


def load(path: Path, keys: int, seed: int) -> None:
    if (path / "CURRENT").exists():
        return
    people, goods = names(keys, seed)
    with Database(path) as db:
        db.register_schema(PEOPLE)
        db.register_schema(PRODUCTS)
        for table, rows in (("bench_people", people), ("bench_products", goods)):
            for start in range(0, len(rows), BATCH):
                chunk = rows[start:start + BATCH]
                extra = "group" if table == "bench_people" else "price"
                db.insert_batch(table, [{"name": n, extra: (start + i) % 97} for i, n in enumerate(chunk)])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def best_scores(db: Database, texts: list[str]) -> list[float]:
    """The best score each query gets with no minimum score (0.0: no candidate at all)."""
    saved, fuzzy.MIN_SCORE = fuzzy.MIN_SCORE, 0.0
    try:
        return [found[0][1] if (found := db.lookup(t, fuzzy=True, limit=1)) else 0.0 for t in texts]
    finally:
        fuzzy.MIN_SCORE = saved


def one_run(path: Path, queries: list[tuple[str, str]], junk: list[str], inserts: int) -> dict[str, float]:
    with Database(path) as db:
        t0 = time.perf_counter()
        db.lookup("warm up", fuzzy=True)
        build = time.perf_counter() - t0
        memory = db._engine.fuzzy.memory()
        tracemalloc.start()  # the Python heap of a second build (tracemalloc slows it: not timed)
        before = tracemalloc.get_traced_memory()[0]
        rebuilt = db._engine.fuzzy._build()
        heap = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        del rebuilt
        times, cpu, hit1, hit10 = [], [], 0, 0
        for query, target in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            found = db.lookup(query, fuzzy=True)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            names_found = [e["name"] for e, _ in found]
            hit1 += bool(names_found) and names_found[0] == target
            hit10 += target in names_found
        junk_empty = sum(not db.lookup(q, fuzzy=True) for q in junk)
        best_typo = best_scores(db, [q for q, _ in queries])
        best_junk = best_scores(db, junk)
        after = []
        for n in range(inserts):
            db.insert("bench_people", {"name": f"Zelda Inserted-{n} Quartermaine", "group": n})
            t0 = time.perf_counter()
            found = db.lookup(f"Zelda Insertd-{n} Quartermain", fuzzy=True, limit=1)
            after.append(time.perf_counter() - t0)
            assert found and found[0][0]["name"] == f"Zelda Inserted-{n} Quartermaine", found
        for n in range(inserts):  # leave the dataset as it was for the next run
            db.delete(db.lookup(f"Zelda Inserted-{n} Quartermaine")[0]["id"], hard=True)
    return {"build_s": build, "memory_mb": memory / 2**20, "heap_mb": heap / 2**20,
            "p50_ms": 1000 * pct(times, 0.5), "p95_ms": 1000 * pct(times, 0.95), "cpu_p50_ms": 1000 * pct(cpu, 0.5),
            "cpu_p95_ms": 1000 * pct(cpu, 0.95),
            "hit1": hit1 / len(queries), "hit10": hit10 / len(queries), "junk_empty": junk_empty / len(junk),
            "typo_best_p1": pct(best_typo, 0.01), "typo_best_p5": pct(best_typo, 0.05),
            "typo_best_p50": pct(best_typo, 0.5), "junk_best_p50": pct(best_junk, 0.5),
            "junk_best_p99": pct(best_junk, 0.99), "junk_best_max": max(best_junk),
            "after_insert_p50_ms": 1000 * pct(after, 0.5) if after else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--inserts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--path", type=Path, default=None)
    args = parser.parse_args()
    tmp = None if args.path else tempfile.mkdtemp(prefix="rem-bench-fuzzy-")
    path = args.path or Path(tmp or ".") / "db"
    try:
        t0 = time.perf_counter()
        load(path, args.keys, args.seed)
        print(f"dataset: {args.keys:,} names (40 % people, 60 % products) in {path} "
              f"({time.perf_counter() - t0:.1f} s to load or reuse)")
        people, goods = names(args.keys, args.seed)
        rng = random.Random(args.seed + 1)
        targets = rng.sample(people + goods, args.queries)
        queries = [(typo(t, rng, 1 + n % 2), t) for n, t in enumerate(targets)]
        junk = [nonsense(rng) for _ in range(args.queries)]
        runs = [one_run(path, queries, junk, args.inserts) for _ in range(args.runs)]
        print(f"load average before the runs: {os.getloadavg()[0]:.1f}")
        print(f"{args.queries} queries with 1-2 typos, {args.queries} nonsense queries, {args.runs} runs "
              f"(medians), MIN_SCORE {fuzzy.MIN_SCORE}")
        for name in runs[0]:
            values = [r[name] for r in runs]
            print(f"  {name:20} {statistics.median(values):10.4f}   (runs: {', '.join(f'{v:.4f}' for v in values)})")
        p50 = statistics.median(r["p50_ms"] for r in runs)
        print(f"bar p50 < 5 ms: {'met' if p50 < 5 else 'MISSED'} ({p50:.2f} ms)")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
