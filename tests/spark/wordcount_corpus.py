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

# HANDWRITTEN counted by hand, line by line (not computed): the words after lowercasing, where a
# word is a run of letters, marks and numbers. Escapes mark what looks alike: a decomposed accent
# (e + U+0301), the final sigma U+03C2 that lowercasing gives at a word's end, and the dot U+0307
# that lowercasing a dotted capital I leaves after the i.
HANDWRITTEN_COUNTS_BY_HAND = {
    # L'été à Paris, c'est l'ÉTÉ!
    "l": 2, "\u00e9t\u00e9": 2, "\u00e0": 1, "paris": 1, "c": 1, "est": 1,
    # Ça coûte 12,50 € — 12.50 EUR; ÇA COÛTE trop.
    "\u00e7a": 2, "co\u00fbte": 2, "12": 2, "50": 2, "eur": 1, "trop": 1,
    # Cafe\u0301 or café? CAFÉ, cafe\u0301 and CAFE\u0301.
    "cafe\u0301": 3, "caf\u00e9": 2, "or": 1, "and": 1,
    # Straße STRASSE straße; Ärger über Öl, ÜBER öl.
    "stra\u00dfe": 2, "strasse": 1, "\u00e4rger": 1, "\u00fcber": 2, "\u00f6l": 2,
    # snake_case_name hyphen-ated don't DON'T it’s «quoted» (paren) [brackets]
    "snake": 1, "case": 1, "name": 1, "hyphen": 1, "ated": 1, "don": 2, "t": 2, "it": 1, "s": 1,
    "quoted": 1, "paren": 1, "brackets": 1,
    # ΟΔΟΣ οδός Σίσυφος ΣΊΣΥΦΟΣ; İstanbul ISTANBUL ıi
    "\u03bf\u03b4\u03bf\u03c2": 1, "\u03bf\u03b4\u03cc\u03c2": 1,
    "\u03c3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2": 2,
    "i\u0307stanbul": 1, "istanbul": 1, "\u0131i": 1,
    # 2024 2nd ²³ ½ Ⅻ ٣٤ 四十二 १२३ ４２
    "2024": 1, "2nd": 1, "\u00b2\u00b3": 1, "\u00bd": 1, "\u217b": 1, "\u0663\u0664": 1,
    "\u56db\u5341\u4e8c": 1, "\u0967\u0968\u0969": 1, "\uff14\uff12": 1,
    # नमस्ते दुनिया; Привет, МИР мир! مرحبا<tab>world<tab>tabs
    "\u0928\u092e\u0938\u094d\u0924\u0947": 1, "\u0926\u0941\u0928\u093f\u092f\u093e": 1,
    "\u043f\u0440\u0438\u0432\u0435\u0442": 1, "\u043c\u0438\u0440": 2,
    "\u0645\u0631\u062d\u0628\u0627": 1, "world": 1, "tabs": 1,
    # emoji 🙂 end🙂less x²y mix3d W0RDS
    "emoji": 1, "end": 1, "less": 1, "x\u00b2y": 1, "mix3d": 1, "w0rds": 1,
    # last line without newline
    "last": 1, "line": 1, "without": 1, "newline": 1,
}
