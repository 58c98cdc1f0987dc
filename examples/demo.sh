#!/usr/bin/env bash
# The README demo: a fresh database in ./demo-db, a real schema, a batch of houseplants, reads, a SQL query,
# the project's own docs ingested and searched (offline MiniLM embeddings).
set -euo pipefail
cd "$(dirname "$0")/.."
DB=./demo-db
rm -rf "$DB"
export P8_DB_PATH="$DB"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step rem init
step rem schema add examples/plant.schema.yaml
step rem insert plant --batch < examples/plants.jsonl
step rem count plant
step rem lookup "Monstera Deliciosa" "Snake Plant"
ID=$(rem --format jsonl lookup "Pothos" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
step rem get "$ID"
step rem update "$ID" '{"water_every_days": 8}'
step rem --format json get "$ID"
step rem schema list --category user
step rem query "SELECT name, family, water_every_days FROM plant WHERE light = 'low' ORDER BY water_every_days"
step rem ingest docs --glob '*.md'
step rem count resources
step rem search "how do I export a table to Parquet" --schema resources --top-k 3
step rem search "crash safety of writes" --hybrid --top-k 3
echo
echo "demo database left in $DB (try: P8_DB_PATH=$DB rem schema show plant)"
