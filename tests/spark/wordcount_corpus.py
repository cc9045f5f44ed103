"""Test data shared by the WordCount tests."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Hand-written corpus: accents (composed and decomposed), capitals, digits, apostrophes,
# underscores, hyphens, CRLF and lone-LF line ends, empty lines, other scripts and numbers.
HANDWRITTEN = (
    "L'été à Paris, c'est l'ÉTÉ!\r\n"
    "\r\n"
    "Ça coûte 12,50 € — 12.50 EUR; ÇA COÛTE trop.\r\n"
    "Cafe\u0301 or café? CAFÉ, cafe\u0301 and CAFE\u0301.\n"
    "\n"
    "Straße STRASSE straße; Ärger über Öl, ÜBER öl.\r\n"
    "snake_case_name hyphen-ated don't DON'T it’s «quoted» (paren) [brackets]\n"
    "ΟΔΟΣ οδός Σίσυφος ΣΊΣΥΦΟΣ; İstanbul ISTANBUL ıi\r\n"
    "2024 2nd ²³ ½ Ⅻ ٣٤ 四十二 १२३ ４２\n"
    "नमस्ते दुनिया; Привет, МИР мир! مرحبا\tworld\ttabs\n"
    "emoji 🙂 end🙂less x²y mix3d W0RDS\r\n"
    "\r\n"
    "last line without newline"
)
