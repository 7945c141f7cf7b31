"""Compare a book CSV written by `mmkit book` with LOBSTER's own orderbook file.

usage: python examples/compare_lobster_book.py LOBSTER.zip BOOK.csv
"""
import sys

from mmkit.verify import compare_lobster

c = compare_lobster(sys.argv[1], sys.argv[2])
print(f"LOBSTER orderbook check: {c.rows:,} rows x {c.levels} levels compared, "
      f"{c.mismatched_rows} mismatched rows" +
      ("" if c.first_mismatch < 0 else f" (first at row {c.first_mismatch})"))
sys.exit(1 if c.mismatched_rows else 0)
