"""Upper limits of what a hospital may bill (configuration data, documented in
docs/settlement-window.md). They keep impossible amounts — a typo of a few extra digits —
out of settlements and clearing, and keep every figure far inside what the engine
computes exactly.

| limit | value |
|---|---|
| quantity of one fee line | 10,000 |
| unit price | 1,000,000.00 yuan |
| amount of one fee line (quantity × unit price) | 5,000,000.00 yuan |
| total of one encounter's active fee lines | 20,000,000.00 yuan |
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

MAX_QUANTITY: Final = Decimal("10000")
MAX_UNIT_PRICE: Final = Decimal("1000000.00")
MAX_LINE_AMOUNT: Final = Decimal("5000000.00")
MAX_ENCOUNTER_TOTAL: Final = Decimal("20000000.00")
