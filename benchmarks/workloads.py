"""Reply workloads shared by the browser benchmarks.

The benchmark apps run in another process (a kernel, `nbchat serve`), so they embed this
module's source (`inspect.getsource`) instead of importing it.
"""

import re


def markdown_tokens(target: int = 2000, sections: int = 10) -> list[str]:
    """About `target` tokens of markdown: `sections` × (heading, prose, lists, code block)."""
    sentence = ("This part explains the topic with `inline code`, a [link](https://example.com) "
                "and *emphasis*, the way a model's answer would. ")
    tokens: list[str] = []
    for repeat in range(1, 50):
        parts = [
            f"## Section {i}\n\n" + sentence * repeat + f"**Point {i}** ends here.\n\n"
            "- first point about the topic\n- second point, with **bold** text\n"
            "- third point\n  - a nested point\n\n1. step one\n2. step two\n3. step three\n\n"
            f"```python\ndef function_{i}(values: list[int]) -> int:\n    total = 0\n"
            "    for value in values:\n        if value % 2 == 0:\n            total += value * 2\n"
            "        else:\n            total -= value\n"
            f"    return total  # section {i}\n```\n\n"
            for i in range(1, sections + 1)
        ]
        tokens = re.findall(r"\S+|\s+", "".join(parts))
        if len(tokens) >= target:
            return tokens
    return tokens
