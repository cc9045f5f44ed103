/*
 * Test probe for sparklab/job/jvm/Words.java, run in a plain JVM with Spark's jars on the class path.
 *
 *   java WordsProbe split LOCALE            one text per stdin line (escaped as \\uXXXX is not
 *                                           needed: UTF-8), prints the words joined by '|'
 *   java WordsProbe compare LOCALE N        every code point ICU knows (unassigned and private use
 *                                           left out) in the first N of CONTEXTS: Words against
 *                                           Spark's own lowercase (CollationAwareUTF8String, what
 *                                           lower() runs) followed by the rule's regular expression;
 *                                           prints "texts=T differ=D" and the first differences
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.catalyst.util.CollationAwareUTF8String;
import org.apache.spark.unsafe.types.UTF8String;
import sparklab.wordcount.Words;

public class WordsProbe {
    // %s is the code point; the neighbours are cased letters, case-ignorable ones, the capital
    // sigma, the capital I, the combining dot above and a letter beyond the Basic Multilingual Plane.
    static final String[] CONTEXTS = {"a%sb", "%s", "ΑΣ%s", "I%s", "%s\u0307", "Σ%s", "A%s",
        "%sA", "%sΣ", "ΑΣ%s Σ", "é%s", "x %s \uD801\uDC00"};
    static final Pattern WORD = Pattern.compile("[\\p{L}\\p{M}\\p{N}]+");

    static List<String> reference(String text) {
        String lowered = CollationAwareUTF8String.toLowerCase(UTF8String.fromString(text)).toString();
        List<String> words = new ArrayList<>();
        Matcher m = WORD.matcher(lowered);
        while (m.find()) {
            words.add(m.group());
        }
        return words;
    }

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.forLanguageTag(args[1]));
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        Words words = new Words();
        if (args[0].equals("split")) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                out.println(String.join("|", words.call(line)));
            }
            return;
        }
        int contexts = Integer.parseInt(args[2]);
        long texts = 0;
        int differ = 0;
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            int type = com.ibm.icu.lang.UCharacter.getType(c);
            if (type == Character.UNASSIGNED || type == Character.PRIVATE_USE) {
                continue;
            }
            String ch = new String(Character.toChars(c));
            for (int i = 0; i < contexts; i++) {
                // As Spark hands rows over: through UTF-8 (a lone surrogate becomes '?').
                String text = UTF8String.fromString(CONTEXTS[i].replace("%s", ch)).toString();
                List<String> expected = reference(text);
                List<String> got = Arrays.asList(words.call(text));
                texts++;
                if (!expected.equals(got) && differ++ < 10) {
                    out.println("U+" + Integer.toHexString(c) + " in " + CONTEXTS[i] + ": " + expected + " != " + got);
                }
            }
        }
        out.println("texts=" + texts + " differ=" + differ);
    }
}
