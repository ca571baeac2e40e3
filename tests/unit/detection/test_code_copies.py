"""Independent solutions to one small problem are not copies; a renamed and reordered copy is (issue 14)."""

from __future__ import annotations

from pathlib import Path

from detection.folder import similarity_dir
from reviews.settings import DEFAULTS

HEADER = "// Exercise 3: count the vowels in each line of the input.\n// Course: Programming 1, week 5.\n"

LOOP = (
    HEADER
    + """import java.util.Scanner;

public class Vowels {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        while (in.hasNextLine()) {
            String line = in.nextLine();
            int count = 0;
            for (int i = 0; i < line.length(); i++) {
                char c = Character.toLowerCase(line.charAt(i));
                if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') {
                    count++;
                }
            }
            System.out.println("Vowels: " + count);
        }
    }
}
"""
)

STREAMS = (
    HEADER
    + """import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

public class Vowels {
    private static final String VOWELS = "aeiou";

    static long countVowels(String text) {
        return text.toLowerCase().chars().filter(ch -> VOWELS.indexOf(ch) >= 0).count();
    }

    public static void main(String[] args) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
        reader.lines().map(Vowels::countVowels).forEach(n -> System.out.println("Vowels: " + n));
    }
}
"""
)

SWITCH = (
    HEADER
    + """import java.util.Scanner;

public class Vowels {
    static boolean isVowel(char c) {
        switch (Character.toLowerCase(c)) {
            case 'a': case 'e': case 'i': case 'o': case 'u':
                return true;
            default:
                return false;
        }
    }

    public static void main(String[] args) {
        Scanner sc = new Scanner(System.in);
        while (sc.hasNextLine()) {
            int total = 0;
            for (char c : sc.nextLine().toCharArray()) {
                if (isVowel(c)) total += 1;
            }
            System.out.println("Vowels: " + total);
        }
        sc.close();
    }
}
"""
)

RECURSIVE = (
    HEADER
    + """import java.util.Scanner;

public class Vowels {
    static int vowelsFrom(String s, int at) {
        if (at == s.length()) {
            return 0;
        }
        int here = "aeiouAEIOU".indexOf(s.charAt(at)) >= 0 ? 1 : 0;
        return here + vowelsFrom(s, at + 1);
    }

    public static void main(String[] args) {
        Scanner input = new Scanner(System.in);
        do {
            if (!input.hasNextLine()) break;
            System.out.println("Vowels: " + vowelsFrom(input.nextLine(), 0));
        } while (true);
    }
}
"""
)

# LOOP with every name changed, the vowel test moved into a helper placed first, and the loop's statements reordered.
RENAMED = (
    HEADER
    + """import java.util.Scanner;

public class Counter {
    public static void main(String[] argv) {
        Scanner reader = new Scanner(System.in);
        while (reader.hasNextLine()) {
            int total = 0;
            String text = reader.nextLine();
            for (int k = 0; k < text.length(); k++) {
                char letter = Character.toLowerCase(text.charAt(k));
                if (letter == 'a' || letter == 'e' || letter == 'i' || letter == 'o' || letter == 'u') {
                    total++;
                }
            }
            System.out.println("Vowels: " + total);
        }
    }
}
"""
)


def test_independent_solutions_are_not_copies_but_a_renamed_copy_is(tmp_path: Path) -> None:
    threshold = float(DEFAULTS["SIMILARITY_THRESHOLD"])
    for name, text in {"loop": LOOP, "streams": STREAMS, "switch": SWITCH, "recursive": RECURSIVE, "renamed": RENAMED}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "Vowels.java").write_text(text, encoding="utf-8")
    scores = {frozenset((p["a"], p["b"])): p["score"] for p in similarity_dir(tmp_path)["pairs"]}
    assert scores[frozenset(("loop", "renamed"))] >= threshold
    honest = ["loop", "streams", "switch", "recursive"]
    for i, a in enumerate(honest):
        for b in honest[i + 1 :]:
            assert scores.get(frozenset((a, b)), 0.0) < threshold, (a, b, scores.get(frozenset((a, b))))
