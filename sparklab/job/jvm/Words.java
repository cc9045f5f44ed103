/*
 * sparklab WordCount: the word rule as a Spark SQL function in the JVM, case mapping included.
 *
 * The rule: lowercase the text as Spark's lower() does, then a word is a maximal run of code points
 * whose Unicode general category is a letter (L*), a mark (M*) or a number (N*). That is
 * JAVA_WORD_PATTERN in wordcount_app.py, "[\p{L}\p{M}\p{N}]+", whose category classes
 * java.util.regex answers with Character.getType, the table used below. Spark's lower() (4.0,
 * UTF8_BINARY, ICU case mappings on) lowercases a row that is all ASCII with the ASCII rule and any
 * other row with ICU's UCharacter.toLowerCase(String) in the JVM's default locale.
 *
 * This class gets the row as it is read and does both steps in one pass over its chars:
 * - ASCII: a table gives the lowered char, or 0 for a separator;
 * - other code points: ICU's own simple lowercase mapping (UCharacter.toLowerCase(int)), read from
 *   tables made once per JVM, then Character.getType of the lowered code point;
 * - the code points that ICU lowercases to more than one code point in the root locale (U+0130,
 *   the dotted capital I, to "i" and U+0307): ICU's own full mapping, found when the tables are made;
 * - U+03A3, the capital sigma, whose lowercase depends on the text around it: the final form when
 *   a cased letter comes before it and none after it, case-ignorable code points skipped both ways
 *   (Unicode's Final_Sigma, which ICU applies; ICU's own Cased and Case_Ignorable properties);
 * - any row when the default locale has lowercase rules of its own (Turkish, Azeri, Lithuanian),
 *   and any code point the tables cannot hold (none in ICU 76; beyond the Basic Multilingual Plane
 *   checked as met): the row is lowercased whole by
 *   UCharacter.toLowerCase(String), exactly as Spark's lower() does, then split.
 * tests/spark/test_wordcount_app.py compares the words with Python's for every code point the JVM
 * knows; tests/unit/test_word_splitter.py compares this class with Spark's lowercase followed by the
 * plain split for every code point in several contexts and locales.
 *
 * What it saves: Spark's lower() decodes each non-ASCII row from UTF-8, maps it with ICU and encodes
 * it again before the splitter decodes it once more; and the regular-expression engine on every row.
 *
 * Built from this source by sparklab/job/splitter.py with the local JDK; registered by the
 * application under the name in JVM_WORDS_FUNCTION.
 */
package sparklab.wordcount;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.lang.UProperty;
import com.ibm.icu.util.ULocale;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.api.java.UDF1;

public final class Words implements UDF1<String, String[]> {
    private static final long serialVersionUID = 2L;
    private static final String[] NONE = new String[0];
    private static final int WORD_TYPES = (1 << Character.UPPERCASE_LETTER)
        | (1 << Character.LOWERCASE_LETTER) | (1 << Character.TITLECASE_LETTER)
        | (1 << Character.MODIFIER_LETTER) | (1 << Character.OTHER_LETTER)
        | (1 << Character.NON_SPACING_MARK) | (1 << Character.ENCLOSING_MARK)
        | (1 << Character.COMBINING_SPACING_MARK)
        | (1 << Character.DECIMAL_DIGIT_NUMBER) | (1 << Character.LETTER_NUMBER)
        | (1 << Character.OTHER_NUMBER);
    /** Languages whose lowercase rules differ from the root locale's (ICU's case locales). */
    private static final String[] OWN_LOWERCASE = {"tr", "az", "lt", "tur", "aze", "lit"};
    private static final int CAPITAL_SIGMA = 0x3A3;
    // Table entries besides a lowered char: noncharacters, never the lowercase of a code point in a word.
    private static final char SEPARATOR = 0;
    private static final char WHOLE_ROW = 0xFFFF;
    private static final char MAPPED = 0xFFFE;  // lowercases to a string: Tables.MAPPED_TO
    private static final char SIGMA = 0xFDD0;

    static boolean inWord(int codePoint) {
        return ((WORD_TYPES >>> Character.getType(codePoint)) & 1) != 0;
    }

    /** Per BMP code point: its lowered char when in a word, SEPARATOR, or one of the markers. */
    private static final class Tables {
        static final char[] BMP = new char[0x10000];
        static final Map<Integer, String> MAPPED_TO = new HashMap<>();

        static {
            for (int c = 0; c < 0x10000; c++) {
                int lower = UCharacter.toLowerCase(c);
                String full = full(c, lower);
                if (c == CAPITAL_SIGMA) {
                    BMP[c] = SIGMA;
                } else if (full != null) {
                    MAPPED_TO.put(c, full);
                    BMP[c] = MAPPED;
                } else if (lower > 0xFFFF) {
                    BMP[c] = WHOLE_ROW;
                } else if (Character.isSurrogate((char) c)) {
                    BMP[c] = SEPARATOR;  // a pair is looked up as one code point; a lone one separates
                } else {
                    BMP[c] = inWord(lower) ? (char) lower : SEPARATOR;
                }
            }
        }

        /** The root locale's lowercase of {@code c} alone when it is not the simple mapping {@code lower}. */
        static String full(int c, int lower) {
            if (!UCharacter.hasBinaryProperty(c, UProperty.CHANGES_WHEN_LOWERCASED)) {
                return null;
            }
            String full = UCharacter.toLowerCase(ULocale.ROOT, new String(Character.toChars(c)));
            return full.equals(new String(Character.toChars(lower))) ? null : full;
        }
    }

    private static boolean rootLowercase() {
        String language = Locale.getDefault().getLanguage();
        for (String own : OWN_LOWERCASE) {
            if (own.equals(language)) {
                return false;
            }
        }
        return true;
    }

    /** Whether a cased letter comes before {@code at} (step -1) or from {@code at} on (step 1),
     *  case-ignorable code points skipped: the test of Unicode's Final_Sigma condition. */
    private static boolean casedLetter(String text, int at, int step) {
        int i = at;
        while (step < 0 ? i > 0 : i < text.length()) {
            int c = step < 0 ? text.codePointBefore(i) : text.codePointAt(i);
            i += step * Character.charCount(c);
            if (UCharacter.hasBinaryProperty(c, UProperty.CASE_IGNORABLE)) {
                continue;
            }
            return UCharacter.hasBinaryProperty(c, UProperty.CASED);
        }
        return false;
    }

    /** The words of {@code text}, lowercased as Spark's lower() does, in order; null for null. */
    @Override
    public String[] call(String text) {
        if (text == null) {
            return null;
        }
        int length = text.length();
        char[] word = new char[length];  // a lowered word; grown only by a MAPPED code point
        ArrayList<String> words = null;
        int size = 0;
        char[] bmp = null;
        for (int at = 0; at < length; at++) {
            char c = text.charAt(at);
            char lower;
            if (c < 0x80) {
                lower = (c >= 'A' && c <= 'Z') ? (char) (c + 32) : c;
                if (!((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9'))) {
                    lower = SEPARATOR;
                }
            } else {
                if (bmp == null) {
                    if (!rootLowercase()) {
                        return split(UCharacter.toLowerCase(text));
                    }
                    bmp = Tables.BMP;
                }
                lower = bmp[c];
                if (lower >= SIGMA && (lower == SIGMA || lower >= MAPPED)) {
                    if (lower == WHOLE_ROW) {
                        return split(UCharacter.toLowerCase(text));
                    }
                    if (lower == SIGMA) {
                        boolean last = casedLetter(text, at, -1) && !casedLetter(text, at + 1, 1);
                        lower = last ? '\u03C2' : '\u03C3';
                    } else {
                        String mapped = Tables.MAPPED_TO.get((int) c);
                        word = Arrays.copyOf(word, size + mapped.length() + length - at);
                        for (int i = 0; i < mapped.length(); ) {
                            int codePoint = mapped.codePointAt(i);
                            i += Character.charCount(codePoint);
                            if (inWord(codePoint)) {
                                size += Character.toChars(codePoint, word, size);
                            } else if (size > 0) {
                                words = add(words, new String(word, 0, size));
                                size = 0;
                            }
                        }
                        continue;
                    }
                } else if (Character.isHighSurrogate(c) && at + 1 < length
                           && Character.isLowSurrogate(text.charAt(at + 1))) {
                    int codePoint = Character.toCodePoint(c, text.charAt(at + 1));
                    int lowered = UCharacter.toLowerCase(codePoint);
                    if (Tables.full(codePoint, lowered) != null) {  // none in ICU 76: looked up as met
                        return split(UCharacter.toLowerCase(text));
                    }
                    at++;
                    if (inWord(lowered)) {
                        size += Character.toChars(lowered, word, size);
                    } else if (size > 0) {
                        words = add(words, new String(word, 0, size));
                        size = 0;
                    }
                    continue;
                }
            }
            if (lower != SEPARATOR) {
                word[size++] = lower;
            } else if (size > 0) {
                words = add(words, new String(word, 0, size));
                size = 0;
            }
        }
        if (size > 0) {
            words = add(words, new String(word, 0, size));
        }
        return words == null ? NONE : words.toArray(NONE);
    }

    private static ArrayList<String> add(ArrayList<String> words, String word) {
        ArrayList<String> list = words == null ? new ArrayList<>() : words;
        list.add(word);
        return list;
    }

    /** The words of text already lowercased: runs of code points in a word category. */
    static String[] split(String text) {
        ArrayList<String> words = null;
        int length = text.length();
        int at = 0;
        while (at < length) {
            int codePoint = text.codePointAt(at);
            if (!inWord(codePoint)) {
                at += Character.charCount(codePoint);
                continue;
            }
            int start = at;
            at += Character.charCount(codePoint);
            while (at < length) {
                codePoint = text.codePointAt(at);
                if (!inWord(codePoint)) {
                    break;
                }
                at += Character.charCount(codePoint);
            }
            words = add(words, text.substring(start, at));
        }
        return words == null ? NONE : words.toArray(NONE);
    }
}
