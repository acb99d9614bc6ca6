"""Write ``correction/common_passwords.txt``, the passwords a new password may not be.

The list is the 30,000 most common passwords of Mark Burnett's 10-million-password set (xato.net),
as the zxcvbn project ranks and ships them in its PyPI package
(``zxcvbn==4.5.0``, MIT, ``zxcvbn.frequency_lists``). zxcvbn is needed only to regenerate the file,
never at run time::

    python -m venv /tmp/zx && /tmp/zx/bin/pip install zxcvbn==4.5.0
    PYTHONPATH=/tmp/zx/lib/python3.11/site-packages python -m correction.tools.common_passwords
"""
from __future__ import annotations

from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "common_passwords.txt"
HEADER = ("# The 30,000 most common passwords (of the 10 million Mark Burnett published in 2015), lower-cased,\n"
          "# most common first, from zxcvbn 4.5.0 (PyPI, MIT). Made by correction/tools/common_passwords.py.\n")


def build() -> list[str]:
    """Return the list, lower-cased, without duplicates, most common first."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    seen: dict[str, None] = {}
    for password in FREQUENCY_LISTS["passwords"]:
        seen.setdefault(password.strip().lower(), None)
    return [p for p in seen if p]


if __name__ == "__main__":
    passwords = build()
    TARGET.write_text(HEADER + "\n".join(passwords) + "\n", encoding="utf-8")
    print(f"{TARGET}: {len(passwords)} passwords")
