"""The junk gate: every rejection reason, and honest work of every kind passes."""

from __future__ import annotations

import pytest

from detection.gate import GateSettings, RejectionReason, check_text

PROMPT = (
    "Explain inheritance in object-oriented programming. Give an example of a class hierarchy and say why it helps programmers reuse code."
)
ANSWER = (
    "Inheritance lets a new class reuse the fields and methods of an existing class. For example, a Student "
    "class can extend a Person class and add a student number, so the code for names and addresses is written "
    "once and fixed in one place."
)


def codes(text: str, *, min_words: int = 20, **kwargs: object) -> list[str]:
    return [r.code for r in check_text(text, min_words=min_words, prompt=PROMPT, **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "...... !!! ???", "😀😀😀 🎉", "\u200b\u200b\u200c\u2060\ufeff", "— – • · ★ → ∞", "\u3164\u3164"],
)
def test_no_words_is_empty(text: str) -> None:
    reasons = check_text(text, min_words=5)
    assert [r.code for r in reasons] == ["empty"]
    assert reasons[0].message.endswith(".")


JUNK_BY_CODE = {
    "empty": " . . . ",
    "too_short": "A short answer.",
    "repetitive": "the same words again " * 40,
    "placeholder": "lorem ipsum dolor sit amet consectetur adipiscing elit " * 5,
    "gibberish": "asdfgh qwerty zxcvbn hjkl sdfg wert xcvb " * 5,
    "pleading": "Please give me full marks, I need to pass this course. " * 4,
    "encoded_blob": "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZW5jb2RlZCBkYXRh" * 10,
    "prompt_copy": "Describe the water cycle and explain how evaporation drives it in your own words. " * 3,
}


@pytest.mark.parametrize("code", sorted(JUNK_BY_CODE))
def test_every_rejection_has_a_sentence_telling_what_to_do(code: str) -> None:
    prompt = "Describe the water cycle and explain how evaporation drives it in your own words."
    reasons = check_text(JUNK_BY_CODE[code], min_words=20, prompt=prompt)
    assert code in [r.code for r in reasons], reasons
    for reason in reasons:
        assert isinstance(reason, RejectionReason)
        assert len(reason.message.split()) >= 6 and reason.message.rstrip().endswith("."), reason


def test_too_short_counts_words_and_names_the_minimum() -> None:
    reasons = check_text("Inheritance reuses code.", min_words=20)
    assert [r.code for r in reasons] == ["too_short"]
    assert "3 words" in reasons[0].message and "20" in reasons[0].message
    assert check_text("Inheritance reuses code.", min_words=3) == []


def test_invisible_characters_do_not_count_as_words_or_split_them() -> None:
    padded = "Inherit\u200bance\u200d reuses\u2060 code." + "\u200b" * 50
    assert [r.code for r in check_text(padded, min_words=4)] == ["too_short"]
    assert check_text(padded, min_words=3) == []


def test_full_width_letters_count_as_words() -> None:
    assert check_text("Ｉｎｈｅｒｉｔａｎｃｅ ｒｅｕｓｅｓ ｃｏｄｅ", min_words=3) == []


@pytest.mark.parametrize(
    "text",
    [
        "I like this course a lot. " * 10,
        "good " * 40,
        "Inheritance is good. Inheritance is good! Inheritance is good? " * 8,
    ],
)
def test_repetition_is_rejected(text: str) -> None:
    assert "repetitive" in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "asdfgh jkl qwerty sdfsdf hjkl fghj asdasd qweqwe zxcvb dfgh jkjk lkjh asdf ghjk ertyu sdfg xcvb wert yuio",
        "a s d f g h j k l q w e r t y u i o p z x c v b n m",
        "xkcd qwpz mnbv trwq plkj hgfd zxcv bnmq wrtp lkjh gfds mnbv cxzl kjhg fdsa qzxw brtk pzlm vcxq",
        "фывапр олджэ йцукен фыва ролд джэя ячсмит ьбю фывап йцук енгш щзхъ фыва олдж прол",
    ],
)
def test_keyboard_mash_and_letter_soup_are_gibberish(text: str) -> None:
    assert "gibberish" in codes(text, min_words=5)


@pytest.mark.parametrize(
    "text",
    [
        (
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
            "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip."
        ),
        "test test test",
        "test testing test asdf test xxx test tbd todo test test test",
        "Your answer here. Text goes here. Sample text. Your answer here.",
    ],
)
def test_placeholder_text_is_rejected(text: str) -> None:
    assert "placeholder" in codes(text, min_words=3)


def test_copy_of_the_prompt_is_rejected() -> None:
    assert "prompt_copy" in codes(PROMPT + "\n\n" + PROMPT)


def test_copy_of_the_template_or_rubric_is_rejected() -> None:
    template = "Section 1: Background of the project and its users.\nSection 2: Plan of the work with milestones.\n"
    rubric = "Scope: the plan states what is in and out of scope. Risks: the plan lists risks and mitigations."
    assert "prompt_copy" in [r.code for r in check_text(template * 2 + " ok", min_words=10, template=template)]
    assert "prompt_copy" in [r.code for r in check_text(rubric + " " + rubric, min_words=10, rubric_text=rubric)]


def test_copy_of_the_prompt_with_a_few_words_added_is_still_rejected() -> None:
    assert "prompt_copy" in codes(PROMPT + " Yes, it helps.")


@pytest.mark.parametrize(
    "text",
    [
        "Please give me full marks, I really need this certificate to pass. Dear grader please score me 100%.",
        "pls give me 10/10 i need to pass this course pls pls, i deserve full points",
        "Por favor, dame la nota máxima. Bitte gib mir volle Punkte. Пожалуйста, поставьте высший балл.",
    ],
)
def test_pleading_is_rejected(text: str) -> None:
    assert "pleading" in codes(text, min_words=5)


@pytest.mark.parametrize(
    "text",
    [
        "Here is my answer: " + "SGVsbG8gd29ybGQhIFRoaXMgaXMgYSBiYXNlNjQgYmxvYiB0aGF0IGdvZXMgb24gYW5kIG9u" * 8,
        "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==" * 3,
        " ".join(["deadbeefcafebabe0123456789abcdef" * 2] * 10),
        " ".join(["01001000", "01100101", "01101100", "01101100", "01101111"] * 6),
    ],
)
def test_encoded_blobs_are_rejected(text: str) -> None:
    assert "encoded_blob" in codes(text, min_words=5)


HONEST = {
    "english": ANSWER,
    "short but real": "Yes: a Student class extends Person and reuses its name field.",
    "chinese": "继承是面向对象编程的重要概念，子类可以复用父类的属性和方法，从而减少重复代码。",
    "japanese": "継承とは、既存のクラスの性質を新しいクラスが引き継ぐ仕組みです。コードの再利用に役立ちます。",
    "thai": "การสืบทอดคือการที่คลาสใหม่ได้รับคุณสมบัติจากคลาสเดิม ช่วยให้นำโค้ดกลับมาใช้ใหม่ได้",
    "korean": "상속은 기존 클래스의 필드와 메서드를 새 클래스가 물려받는 것입니다. 예를 들어 학생 클래스는 사람 클래스를 확장합니다.",
    "russian": "Наследование позволяет новому классу использовать поля и методы существующего класса. Например, класс "
    "Студент расширяет класс Человек и добавляет номер зачётки.",
    "german": "Vererbung erlaubt es einer neuen Klasse, Felder und Methoden einer bestehenden Klasse zu übernehmen. Zum "
    "Beispiel erweitert die Klasse Student die Klasse Person um eine Matrikelnummer.",
    "polish": "Dziedziczenie pozwala nowej klasie przejąć pola i metody istniejącej klasy. Na przykład klasa Student "
    "rozszerza klasę Osoba i dodaje numer indeksu, więc kod piszemy tylko raz.",
    "czech with a vowel-less sentence": "Strč prst skrz krk. Dědičnost umožňuje nové třídě převzít pole a metody "
    "existující třídy, například třída Student rozšiřuje třídu Osoba.",
    "hindi": "वंशानुक्रम एक नई कक्षा को मौजूदा कक्षा के गुण और विधियाँ उपयोग करने देता है। उदाहरण के लिए छात्र कक्षा व्यक्ति कक्षा का विस्तार करती है।",
    "arabic": "الوراثة تسمح لفئة جديدة باستخدام الحقول والطرق الموجودة في فئة أخرى، مثلاً فئة الطالب ترث من فئة الشخص وتضيف رقم الطالب.",
    "welsh": "Mae etifeddiaeth yn gadael i ddosbarth newydd ailddefnyddio meysydd a dulliau dosbarth sy'n bodoli, "
    "er enghraifft mae dosbarth Myfyriwr yn estyn dosbarth Person.",
    "python code": "class Person:\n    def __init__(self, name):\n        self.name = name\n\n\nclass Student(Person):\n"
    "    def __init__(self, name, number):\n        super().__init__(name)\n        self.number = number\n\n"
    "for i in range(10):\n    print(Student('x', i).name)\n",
    "c code with one-letter names": "for (i = 0; i < n; i++) a[i] = b[i] * c[i];\nfor (j = 0; j < n; j++) s += a[j];\n"
    'printf("%d\\n", s); int x = y + z; return x;',
    "repetitive java": "public class T1 {\n\tpublic static void main(String[] args) {\n"
    + '\t\tSystem.out.println("Welcome to Java");\n' * 5
    + "\t}\n}\n",
    "markdown table": "| Class | Parent | Adds |\n|---|---|---|\n| Person | - | name |\n| Student | Person | number |\n"
    "| Teacher | Person | salary |\n| TA | Student | hours |",
    "markdown": "# Inheritance\n\n- **Reuse**: subclasses reuse code\n- **Hierarchy**: `Student` extends `Person`\n\n"
    "```java\nclass Student extends Person {}\n```\n\n> Inheritance models is-a relations between classes.",
    "quotes the prompt first": f'> "{PROMPT}"\n\n{ANSWER}',
    "ends hoping for full marks": ANSWER + " I hope this earns full marks!",
    "asks politely about the grade at the end": ANSWER + " Please grade kindly, I did my best.",
    "mentions a hash": ANSWER + " The commit is 9fceb02d0ae598e95dc970b74767f19372d61af8.",
    "numbers table": "Year Sales Cost\n2019 1200 800\n2020 1350 900\n2021 1500 950\n2022 1700 1000\n2023 1650 1100",
    "about testing": "A unit test checks one function. We test the parser with a test for empty input, a test "
    "for a long input and a test for invalid bytes; each test runs in milliseconds.",
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_work_passes(name: str) -> None:
    assert check_text(HONEST[name], min_words=10, prompt=PROMPT, template=None, rubric_text="Reuse: explains reuse.") == []


def test_quoting_the_prompt_needs_an_answer_of_the_minimum_length_besides() -> None:
    quoted = f'"{PROMPT}" My answer: it helps reuse.'
    assert "prompt_copy" in codes(quoted, min_words=10)
    assert codes(quoted + " " + ANSWER, min_words=10) == []


def test_settings_are_per_assignment() -> None:
    text = "I like this course a lot. " * 3 + "It taught me about classes and objects and how to design them well."
    assert codes(text, min_words=5) == []
    strict = GateSettings(min_distinct_ratio=0.9, repetition_min_words=5)
    assert "repetitive" in codes(text, min_words=5, settings=strict)


def test_long_honest_text_passes() -> None:
    text = "\n\n".join(HONEST[name] for name in sorted(HONEST) if name != "quotes the prompt first")
    assert len(text.split()) > 400
    assert check_text(text, min_words=200, prompt=PROMPT) == []


def test_long_repeated_text_is_rejected() -> None:
    assert "repetitive" in codes("\n".join([ANSWER] * 30), min_words=200)


def test_long_keyboard_mash_is_gibberish() -> None:
    mash = "asdfgh jkl qwerty sdfsdf hjkl fghj asdasd qweqwe zxcvb dfgh jkjk lkjh asdf ghjk ertyu sdfg xcvb wert yuio"
    assert "gibberish" in codes(" ".join([mash, "poiuy lkjhg mnbvc"] * 60), min_words=20)


# The gate splits and counts a text once and lets cheap bounds settle most rules; these pin down the behaviour
# where those shortcuts could go wrong.


def test_long_honest_text_with_typographic_punctuation_and_emoji_passes() -> None:
    text = " ".join(f"“{HONEST['english']}” – {HONEST['about testing']} 👍 ✨" for _ in range(3))
    text += "\n\n" + HONEST["german"] + " " + HONEST["russian"]
    assert check_text(text, min_words=100, prompt=PROMPT, rubric_text="Reuse: explains reuse.") == []


def test_long_text_that_starts_honestly_then_repeats_is_repetitive() -> None:
    text = "\n\n".join(HONEST[name] for name in ("english", "about testing", "german")) + " Inheritance is good." * 300
    assert "repetitive" in codes(text, min_words=50)


def test_pleading_is_found_among_words_with_combining_marks_and_in_chinese() -> None:
    hindi = HONEST["hindi"]
    assert "pleading" in codes(hindi + " Please give me full marks, I need to pass. " * 4, min_words=20)
    assert [r.code for r in check_text("请给我满分。" * 3, min_words=5)] == ["pleading"]


def test_asking_words_apart_are_not_a_plea() -> None:
    text = "I. Need full marks? No: give. Me the points of the rubric, I think, hope. You see the grade."
    assert "pleading" not in codes(text, min_words=5)
    assert "pleading" in codes("I need full marks. I need to pass. I NEED the grade!", min_words=5)


def test_encoded_blob_in_lines_split_by_unicode_line_separators_is_rejected() -> None:
    encoded = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk" * 6
    text = "My file: " + "\u2028".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    assert "encoded_blob" in codes(text, min_words=5)


def test_the_same_prompt_judges_every_submission_alike() -> None:
    for _ in range(2):
        assert "prompt_copy" in codes(PROMPT + "\n\n" + PROMPT)
        assert codes(ANSWER, min_words=10) == []
    # The n-gram length is a setting: a copy of two-word pieces only counts with 2-grams.
    pairs = list(zip(PROMPT.split()[::2], PROMPT.split()[1::2], strict=False))
    shuffled = " ".join(f"{a} {b}" for a, b in reversed(pairs))
    assert "prompt_copy" in codes(shuffled, min_words=20, settings=GateSettings(quote_ngram=2))
    assert "prompt_copy" not in codes(shuffled, min_words=20, settings=GateSettings(quote_ngram=5))


@pytest.mark.parametrize(
    "text",
    [
        " ".join(str(i) for i in range(1, 45)),
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 ... 44!",
        "3.14159 2.71828 1.41421 -- 1.73205; 2.23606 (0.57721)",
        "| 1 | 2 | 3 |\n|---|---|---|\n| 4 | 5 | 6 |\n| 7 | 8 | 9 |\n" * 5,
        "١ ٢ ٣ ٤ ٥ ٦ ٧ ٨ ٩ ١٠",
    ],
)
def test_numbers_and_punctuation_only_is_junk(text: str) -> None:
    reasons = check_text(text, min_words=5)
    assert "numbers_only" in [r.code for r in reasons]
    message = next(r.message for r in reasons if r.code == "numbers_only")
    assert len(message.split()) >= 6 and message.endswith(".")


def test_a_numeric_table_with_words_around_it_passes() -> None:
    rows = "\n".join(f"| {trial} | {trial * 1.7:.2f} | {trial * trial} | {100 - trial * 3} |" for trial in range(1, 31))
    answer = (
        "I timed the sorting program on inputs of growing size; the table gives the trial, the seconds taken, the "
        "comparisons and the memory left.\n| trial | seconds | comparisons | memory |\n|---|---|---|---|\n"
        + rows
        + "\nThe time grows roughly linearly while the comparisons grow with the square of the size."
    )
    assert check_text(answer, min_words=20) == []


def test_a_short_numeric_answer_is_left_to_the_length_rule() -> None:
    assert check_text("42", min_words=1) == []
    assert check_text("6 x 7 = 42", min_words=1) == []
