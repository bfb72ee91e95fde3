"""The README's Python quick start runs, and answers what its comments say."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_quick_start():
    text = README.read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    scope = {}
    exec(compile(block, "README.md", "exec"), scope)
    decisions = scope["decisions"]
    assert decisions.push_bits == b"\x02"
    assert decisions.to_dicts() == [
        {"userId": "alice", "push": False, "by": "user_period", "level": 5, "deferUntil": 1795388400000},
        {"userId": "dave", "push": True, "by": "subchannel_default", "level": 4},
    ]
    assert str(decisions.to_dicts()) in block.replace("\n#  ", " ").replace("# [", "[")
    assert scope["prepared"].explain("alice")["explanation"]
    assert scope["snapshot"].startswith("{")
