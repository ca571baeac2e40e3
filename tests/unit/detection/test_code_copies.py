"""Independent solutions to one small problem are not copies; a renamed and reordered copy is (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

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


C_HEADER = "/* Exercise 4: print the sum of the digits of every number read.\n   Programming 1, week 6. */\n"

C_MODULO = (
    C_HEADER
    + """#include <stdio.h>

int main(void) {
    long n;
    while (scanf("%ld", &n) == 1) {
        int sum = 0;
        if (n < 0) n = -n;
        while (n > 0) {
            sum += n % 10;
            n /= 10;
        }
        printf("Sum of digits: %d\\n", sum);
    }
    return 0;
}
"""
)

C_CHARS = (
    C_HEADER
    + """#include <stdio.h>
#include <ctype.h>
#include <string.h>

int main() {
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        int total = 0;
        for (size_t i = 0; i < strlen(line); i++)
            if (isdigit((unsigned char)line[i]))
                total += line[i] - '0';
        printf("Sum of digits: %d\\n", total);
    }
    return 0;
}
"""
)

C_RECURSIVE = (
    C_HEADER
    + """#include <stdlib.h>
#include <stdio.h>

static int digit_sum(long value) {
    return value == 0 ? 0 : (int)(value % 10) + digit_sum(value / 10);
}

int main(int argc, char **argv) {
    long x;
    for (;;) {
        if (scanf("%ld", &x) != 1) break;
        printf("Sum of digits: %d\\n", digit_sum(labs(x)));
    }
    return EXIT_SUCCESS;
}
"""
)

# C_MODULO renamed, the sign handled before the sum is set up, with a comment of its own.
C_COPY = (
    C_HEADER
    + """#include <stdio.h>
// my solution

int main(void) {
    long value;
    while (scanf("%ld", &value) == 1) {
        if (value < 0) value = -value;
        int acc = 0;
        while (value > 0) {
            acc += value % 10;
            value /= 10;
        }
        printf("Sum of digits: %d\\n", acc);
    }
    return 0;
}
"""
)

PY_HEADER = "# Exercise 4: print the sum of the digits of every number read.\n# Programming 1, week 6.\n"

PY_MODULO = (
    PY_HEADER
    + """import sys


def main():
    for line in sys.stdin:
        n = abs(int(line))
        total = 0
        while n > 0:
            total += n % 10
            n //= 10
        print("Sum of digits:", total)


if __name__ == "__main__":
    main()
"""
)

PY_STRINGS = (
    PY_HEADER
    + """import sys

for raw in sys.stdin.read().split():
    print("Sum of digits:", sum(int(ch) for ch in raw if ch.isdigit()))
"""
)

PY_RECURSIVE = (
    PY_HEADER
    + """def digit_sum(n):
    \"\"\"The sum of the digits of n.\"\"\"
    return 0 if n == 0 else n % 10 + digit_sum(n // 10)


while True:
    try:
        value = int(input())
    except EOFError:
        break
    print(f"Sum of digits: {digit_sum(abs(value))}")
"""
)

PY_COPY = (
    PY_HEADER
    + """import sys


def run():
    for text in sys.stdin:
        number = abs(int(text))
        result = 0
        while number > 0:
            result += number % 10
            number //= 10
        print("Sum of digits:", result)


if __name__ == "__main__":
    run()
"""
)


@pytest.mark.parametrize(
    ("extension", "honest", "copy"),
    [
        ("c", {"modulo": C_MODULO, "chars": C_CHARS, "recursive": C_RECURSIVE}, C_COPY),
        ("py", {"modulo": PY_MODULO, "strings": PY_STRINGS, "recursive": PY_RECURSIVE}, PY_COPY),
    ],
)
def test_in_c_and_python_too(tmp_path: Path, extension: str, honest: dict[str, str], copy: str) -> None:
    """Independent solutions sharing a header comment and the output message are not copies; a renamed copy of
    the first is, through the sweep ``fairpeer similarity`` runs (each folder one submission of several files)."""
    threshold = float(DEFAULTS["SIMILARITY_THRESHOLD"])
    for name, text in {**honest, "copy": copy}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / f"main.{extension}").write_text(text, encoding="utf-8")
    # A second file of the copy's own (a README is left out of a folder of source files).
    (tmp_path / "copy" / "README.md").write_text("Run it with the numbers on standard input.", encoding="utf-8")
    scores = {frozenset((p["a"], p["b"])): p["score"] for p in similarity_dir(tmp_path)["pairs"]}
    assert scores[frozenset(("modulo", "copy"))] >= threshold
    names = sorted(honest)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert scores.get(frozenset((a, b)), 0.0) < threshold, (a, b, scores.get(frozenset((a, b))))
    for other in (n for n in names if n != "modulo"):
        assert scores.get(frozenset((other, "copy")), 0.0) < threshold, (other, scores.get(frozenset((other, "copy"))))
