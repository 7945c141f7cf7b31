#!/usr/bin/env bash
# Real-data tour: inspect, convert and replay the real LOBSTER GOOG level-10 sample, write its book
# and check it against LOBSTER's own orderbook file.
set -euo pipefail
cd "$(dirname "$0")/.."
MMKIT=.venv/bin/mmkit
D="${MMKIT_DATA_DIR:-../shared/data}"
GOOG="$D/lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
if [ ! -f "$GOOG" ]; then
  echo "demo: $GOOG not found; set MMKIT_DATA_DIR to the real-data directory" >&2
  exit 1
fi
mkdir -p runs/demo
$MMKIT inspect "$GOOG"
$MMKIT convert "$GOOG" --out runs/demo/goog10.mmk
$MMKIT book runs/demo/goog10.mmk --depth 10 --every 1 --csv runs/demo/goog10_book.csv
$MMKIT verify "$GOOG"
$MMKIT bench replay "$GOOG" --repeat 5
