"""Code snippets and mathematics, written for this project.

Math formulas are plain-text alt texts (no TeX braces), as many math sites write them; a page
uses each snippet, formula and sentence at most once.
"""

from __future__ import annotations

from curation.testing.english import lines, words

# Slots: {f} function name, {F} class name, {a} {b} collection names, {n} a record name, {k} a number.
CODE_SNIPPETS: list[str] = [
    (
        'def {f}({a}, {b}=None):\n    """Return the {n} values of {a} above {k}."""\n    if {b} is None:\n'
        "        {b} = []\n    for item in {a}:\n        if item > {k}:\n            {b}.append(item * 2)\n"
        "    return {b}\n"
    ),
    (
        "import json\n\n\ndef {f}(path):\n    with open(path) as handle:\n        data = json.load(handle)\n"
        "    return {{key: value for key, value in data.items() if value != {k}}}\n"
    ),
    "function {f}({a}) {{\n  const {b} = {a}.filter((x) => x % {k} === 0);\n  return {b}.map((x) => x * x);\n}}\n",
    "SELECT {n}, COUNT(*) AS total\nFROM {a}\nWHERE {b} > {k}\nGROUP BY {n}\nORDER BY total DESC;\n",
    (
        "class {F}:\n    def __init__(self, {a}):\n        self.{a} = {a}\n        self.count = {k}\n\n"
        "    def {f}(self):\n        self.count += 1\n        return self.{a} * self.count\n"
    ),
    (
        "#include <stdio.h>\n\nint {f}(int {a}) {{\n    int {b} = 0;\n    for (int i = 0; i < {a}; i++) {{\n"
        "        {b} += i * {k};\n    }}\n    return {b};\n}}\n"
    ),
    "$ pip install {n}-tools\n$ {n}-tools run --workers {k} --output results/\n",
    (
        'import csv\n\n\ndef {f}(path):\n    with open(path, newline="") as handle:\n'
        '        rows = list(csv.DictReader(handle))\n    return [row for row in rows if int(row["{n}"]) > {k}]\n'
    ),
    '$ git switch -c fix-{n}-{k}\n$ git commit -am "Handle empty {a}"\n$ git push origin fix-{n}-{k}\n',
    "def test_{f}():\n    {a} = list(range({k}))\n    assert {f}({a}) == sorted({a})\n",
    (
        "func {F}({a} []int) int {{\n\ttotal := 0\n\tfor _, v := range {a} {{\n\t\tif v > {k} {{\n"
        "\t\t\ttotal += v\n\t\t}}\n\t}}\n\treturn total\n}}\n"
    ),
    (
        "CREATE TABLE {n}_log (\n    id INTEGER PRIMARY KEY,\n    {b} TEXT NOT NULL,\n"
        "    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP\n);\nCREATE INDEX idx_{n}_{b} ON {n}_log ({b});\n"
    ),
    (
        "from dataclasses import dataclass\n\n\n@dataclass\nclass {F}:\n    {a}: list[int]\n    limit: int = {k}\n\n"
        "    def over_limit(self) -> list[int]:\n        return [x for x in self.{a} if x > self.limit]\n"
    ),
    "{n}:\n  workers: {k}\n  retries: 3\n  output: results/{a}\n",
    ("fn {f}({a}: &[u32]) -> u32 {{\n    {a}.iter().filter(|x| **x > {k}).sum()\n}}\n"),
]
CODE_NAMES = words("values items records rows scores nodes names events prices totals")
FUNCTION_NAMES = words("process compute load collect transform summarize merge index update")

# Slots: see text.math_values.
MATH_FRAMES: list[str] = lines("""
    The derivative of f(x) = {a}x^{p} is f'(x) = {ap}x^{pm}, which we can check by expanding the limit.
    If a = {a} and b = {b}, then a^2 + b^2 = {s}, so the hypotenuse is the square root of {s}.
    The sum of the first {n} natural numbers is {n} times {n1} divided by two, which gives {tri}.
    Solving {a}x + {b} = {c} gives x = {k}, and substituting back confirms it.
    The integral of x^{p} from 0 to 1 equals 1/{p1}, a direct consequence of the power rule.
    A fair die shows a {d} with probability one in six, and shows it twice in a row with probability one in thirty-six.
    A circle of radius {r} has an area of {rr} pi square units and a circumference of {r2} pi.
    Since {n} squared is {sq}, the square root of {sq} is exactly {n}.
    The greatest common divisor of {g1} and {g2} is {g}, and Euclid's algorithm finds it in a few steps.
    Doubling {a} repeatedly, {p} times over, gives {a} times 2^{p}, that is {a2p}.
    At a growth rate of {gr} percent a year, a quantity grows by a factor of about {factor} over a decade.
    The mean of {a}, {b} and {c} is {mean}, while their median is {median}.
    Choosing {kk} items out of {nn} can be done in {binom} different ways.
    The line through (0, {b}) with slope {a} crosses the horizontal axis at x = -{b}/{a}.
    In base two, the number {n} is written as {bin}.
    The sequence {seq} is arithmetic with common difference {a}, so its tenth term is {tenth}.
    For the quadratic x^2 - {sumr}x + {prodr} = 0, the roots are {r1} and {rq}, as factoring confirms.
    A 2 by 2 matrix with rows ({a}, {b}) and ({d}, {p}) has determinant {det}.
    Multiplying both sides of the equation by {a} removes the fraction without changing the solution.
    Modulo {m}, the number {big} leaves a remainder of {mod}.
""")
MATH_PROSE: list[str] = lines("""
    The idea behind the proof is easier to see with a concrete example.
    Before going further, it is worth checking the result on a simple case.
    Students often confuse the two conditions, so we state them separately.
    This step looks like a trick, but it is really just careful bookkeeping.
    Notice that the argument never uses the fact that the numbers are positive.
    A picture helps here: draw the graph and mark the points where it meets the axis.
    The same reasoning works in higher dimensions with only small changes.
    We leave the general case as an exercise, with a hint at the end of the section.
    It is a good habit to estimate the answer before computing it exactly.
    Most textbooks state this result without proof, which is a pity.
    The key observation is that both sides change in the same way.
    If the algebra feels heavy, try plugging in small values first.
    Historically, this method was in use long before anyone could justify it rigorously.
    The converse is false, and a simple counterexample shows why.
    Once you see the pattern, the formula almost writes itself.
    Rounding too early is the most common source of wrong answers here.
    We will need this identity again when we discuss series.
    Induction is the natural tool, since each case builds on the previous one.
    Keep track of the units; they catch many mistakes on their own.
    The result is elegant, but the real value lies in the method.
    A calculator confirms the value, although it cannot explain it.
    Readers who know some linear algebra will recognise the structure immediately.
    Why does this work? The short answer is symmetry.
    Try the next example yourself before reading the solution.
    In other words, the quantity we are after is the area under the curve between the two endpoints.
    A common mistake is to forget the constant of integration, which matters whenever we solve for a particular function.
    The proof splits naturally into two parts: first we show that a solution exists, then that it is unique.
    It is worth comparing this with the discrete version, where sums take the place of integrals.
    Geometrically, the determinant measures how much a linear map stretches or shrinks areas.
    Whenever a problem mentions an unknown quantity, the first job is to give it a name and write down what we know.
    Probability questions become much easier once every outcome in the sample space has been listed carefully.
    This kind of argument, working backwards from the answer, is a standard technique in competition problems.
    The formula is symmetric in its two variables, which gives a useful check on any calculation.
    Exam questions on this topic usually combine two ideas, so practise recognising each of them separately.
    A graph of the function makes the behaviour near the origin much clearer than any table of values.
    Squaring both sides can introduce solutions that do not satisfy the original equation, so always substitute back.
    Prime numbers behave irregularly in the small, yet their overall distribution follows a remarkably smooth law.
    Many proofs by contradiction begin by assuming that a smallest counterexample exists.
    With a little practice, this method becomes faster than looking the answer up in a table.
    The general statement follows once we notice that nothing in the argument depended on the particular numbers.
    Teachers often introduce this idea with coins or dice, because the outcomes are easy to count by hand.
    The notation looks intimidating at first, but each symbol stands for something quite ordinary.
    If two quantities grow at the same rate, their ratio stays constant, which is the whole point of the exercise.
    Linear equations have at most one solution in this setting, while quadratics can have two, one or none at all.
""")
MATH_FORMULAS: list[str] = lines("""
    ∫ from 0 to 1 of x^{p} dx = 1/{p1}
    e^(iπ) + 1 = 0
    a² + b² = c²
    Σ k for k = 1 to {n} equals {n}·{n1}/2 = {tri}
    f'(x) = {ap}x^{pm}
    lim (1 + 1/n)^n = e as n → ∞
    det A = ad − bc
    A = πr², and r = {r} gives A = {rr}π
    x = (−b ± √(b² − 4ac)) / 2a
    C({nn}, {kk}) = {nn}! / ({kk}! · {nk}!) = {binom}
    sin²θ + cos²θ = 1
    gcd(a, b) = gcd(b, a mod b)
    d/dx eˣ = eˣ
    (x − {r1})(x − {rq}) = x² − {sumr}x + {prodr}
""")
MATH_NOUNS = words("theorem proof lemma equation function matrix integral series identity sequence")
MATH_TITLES: list[str] = lines("""
    Understanding the {noun}: worked examples
    A gentle introduction to the {noun}
    The {noun} explained step by step
    Five exercises on the {noun}, with solutions
    Why the {noun} works
    Revision notes: the {noun}
""")
