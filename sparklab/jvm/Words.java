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
 * - the code points whose lowercase in the root locale is not that simple mapping (U+0130, which
 *   lowercases to two code points, and any other that ICU maps to a string, found when the tables
 *   are made) or depends on the text around it (U+03A3, the capital sigma: final or not), and any
 *   row when the default locale has its own lowercase rules (Turkish, Azeri, Lithuanian): the row
 *   is lowercased whole by UCharacter.toLowerCase(String), exactly as Spark's lower() does, then
 *   split.
 * tests/spark/test_wordcount_app.py compares the words with Python's for every code point the JVM
 * knows; tests/unit/test_word_splitter.py compares this class with Spark's lowercase followed by the
 * plain split for every code point in several contexts and locales.
 *
 * What it saves: Spark's lower() decodes each non-ASCII row from UTF-8, maps it with ICU and encodes
 * it again before the splitter decodes it once more; and the regular-expression engine on every row.
 *
 * Built from this source by sparklab/word_splitter.py with the local JDK; registered by the
 * application under the name in JVM_WORDS_FUNCTION.
 */
package sparklab.wordcount;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.lang.UProperty;
import com.ibm.icu.util.ULocale;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Locale;
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
    private static final char SEPARATOR = 0;
    private static final char WHOLE_ROW = 0xFFFF;  // a noncharacter: never a lowered code point here

    static boolean inWord(int codePoint) {
        return ((WORD_TYPES >>> Character.getType(codePoint)) & 1) != 0;
    }

    /** Per BMP code point: its lowered char when in a word, SEPARATOR, or WHOLE_ROW. */
    private static final class Tables {
        static final char[] BMP = new char[0x10000];
        static final int[] SPECIAL_SUPPLEMENTARY;

        static {
            for (int c = 0; c < 0x10000; c++) {
                int lower = UCharacter.toLowerCase(c);
                if (c == 0x3A3 || lower > 0xFFFF || lower == WHOLE_ROW || !simple(c, lower)) {
                    BMP[c] = WHOLE_ROW;
                } else if (Character.isSurrogate((char) c)) {
                    BMP[c] = SEPARATOR;  // a pair is looked up as one code point; a lone one separates
                } else {
                    BMP[c] = inWord(lower) ? (char) lower : SEPARATOR;
                }
            }
            int[] special = new int[16];
            int count = 0;
            for (int c = 0x10000; c <= Character.MAX_CODE_POINT; c++) {
                if (!simple(c, UCharacter.toLowerCase(c))) {
                    special = count == special.length ? Arrays.copyOf(special, count * 2) : special;
                    special[count++] = c;
                }
            }
            SPECIAL_SUPPLEMENTARY = Arrays.copyOf(special, count);
        }

        /** Whether the root locale lowercases {@code c} alone to its simple mapping {@code lower}. */
        private static boolean simple(int c, int lower) {
            if (!UCharacter.hasBinaryProperty(c, UProperty.CHANGES_WHEN_LOWERCASED)) {
                return lower == c;
            }
            String full = UCharacter.toLowerCase(ULocale.ROOT, new String(Character.toChars(c)));
            return full.equals(new String(Character.toChars(lower)));
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

    /** The words of {@code text}, lowercased as Spark's lower() does, in order; null for null. */
    @Override
    public String[] call(String text) {
        if (text == null) {
            return null;
        }
        int length = text.length();
        char[] word = new char[length];
        ArrayList<String> words = null;
        int size = 0;
        boolean checkedLocale = false;
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
                if (!checkedLocale) {
                    if (!rootLowercase()) {
                        return split(UCharacter.toLowerCase(text));
                    }
                    checkedLocale = true;
                    bmp = Tables.BMP;
                }
                lower = bmp[c];
                if (lower == WHOLE_ROW) {
                    return split(UCharacter.toLowerCase(text));
                }
                if (Character.isHighSurrogate(c) && at + 1 < length && Character.isLowSurrogate(text.charAt(at + 1))) {
                    int codePoint = Character.toCodePoint(c, text.charAt(at + 1));
                    if (Arrays.binarySearch(Tables.SPECIAL_SUPPLEMENTARY, codePoint) >= 0) {
                        return split(UCharacter.toLowerCase(text));
                    }
                    int lowered = UCharacter.toLowerCase(codePoint);
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
