/*
 * sparklab WordCount: the word rule as a Spark SQL function in the JVM.
 *
 * A word is a maximal run of code points whose Unicode general category is a letter (L*), a mark
 * (M*) or a number (N*); the text is lowercased by Spark's own lower() before it gets here. This is
 * the rule of JAVA_WORD_PATTERN in wordcount_app.py, "[\p{L}\p{M}\p{N}]+", whose category classes
 * java.util.regex answers with Character.getType: the same table as below, so the two give the
 * same words for every code point (tests/spark/test_wordcount_app.py compares both with Python on
 * every code point the JVM knows).
 * What it saves is the regular-expression engine's matching machinery on every row.
 *
 * Built from this source by sparklab/job/splitter.py with the local JDK; registered by the
 * application under the name in JVM_WORDS_FUNCTION.
 */
package sparklab.wordcount;

import java.util.ArrayList;
import org.apache.spark.sql.api.java.UDF1;

public final class Words implements UDF1<String, String[]> {
    private static final long serialVersionUID = 1L;
    private static final String[] NONE = new String[0];
    private static final int WORD_TYPES = (1 << Character.UPPERCASE_LETTER)
        | (1 << Character.LOWERCASE_LETTER) | (1 << Character.TITLECASE_LETTER)
        | (1 << Character.MODIFIER_LETTER) | (1 << Character.OTHER_LETTER)
        | (1 << Character.NON_SPACING_MARK) | (1 << Character.ENCLOSING_MARK)
        | (1 << Character.COMBINING_SPACING_MARK)
        | (1 << Character.DECIMAL_DIGIT_NUMBER) | (1 << Character.LETTER_NUMBER)
        | (1 << Character.OTHER_NUMBER);

    static boolean inWord(int codePoint) {
        return ((WORD_TYPES >>> Character.getType(codePoint)) & 1) != 0;
    }

    /** The words of {@code text} in order; null for null, as regexp_extract_all gives. */
    @Override
    public String[] call(String text) {
        if (text == null) {
            return null;
        }
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
            if (words == null) {
                words = new ArrayList<>();
            }
            words.add(text.substring(start, at));
        }
        return words == null ? NONE : words.toArray(NONE);
    }
}
